/**
 * What the guest of a CLI-driven backend gets (smolmachines, macos-container). Pure.
 *
 * The guest reaches its sidecars at one address (smolmachines: the bottle's loopback alias;
 * macos-container: the sidecar's address on the host-only network). Names still work through the
 * guest's /etc/hosts, but the proxy URLs are rewritten to the IP literal: a proxy client that
 * resolves its proxy host itself (some runtimes ignore /etc/hosts) still lands on the only address
 * the guest may reach.
 */
import { GUEST_HOME, GUEST_USER } from '../plan/bottle-plan.js';

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;
const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;

export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The agent's env for one exec: base identity, the plan's env with IP-literal proxy URLs, extras. */
export function guestEnv(planEnv: Readonly<Record<string, string>>, sidecarAddr: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: GUEST_PATH, HOME: GUEST_HOME, USER: GUEST_USER, LOGNAME: GUEST_USER, SHELL: '/bin/sh', LANG: 'C.UTF-8',
    ...planEnv,
  };
  for (const k of PROXY_VARS) {
    const v = env[k];
    if (v !== undefined) env[k] = v.replace(/^(https?:\/\/)egress(?=[:/]|$)/, `$1${sidecarAddr}`);
  }
  for (const k of NO_PROXY_VARS) {
    const v = env[k];
    if (v !== undefined && !v.split(',').includes(sidecarAddr)) env[k] = `${v},${sidecarAddr}`;
  }
  return { ...env, ...extra };
}

/** The guest's /etc/hosts: the sidecar names on the sidecar address, nothing else resolvable. */
export function guestHosts(sidecarAddr: string): string {
  return `127.0.0.1 localhost\n::1 localhost\n${sidecarAddr} egress git-gate supervise\n`;
}

/** The guest's /etc/resolv.conf: no server (names resolve only through the proxy). */
export const GUEST_RESOLV_CONF = '# bot-bottle: no DNS resolver in this bottle; use the egress proxy\n';

