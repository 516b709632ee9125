/**
 * What the smolmachines guest gets (docs/architecture.md, smolmachines). Pure.
 *
 * The VM reaches its sidecars on the bottle's loopback alias. Names still work through the guest's
 * /etc/hosts, but the proxy URLs are rewritten to the IP literal: a proxy client that resolves
 * its proxy host itself (some runtimes ignore /etc/hosts) still lands on the only address the
 * VM's allowlist lets through.
 */
import { GUEST_HOME, GUEST_USER } from '../../plan/bottle-plan.js';

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;
const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;

export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The agent's env for one exec: base identity, the plan's env with IP-literal proxy URLs, extras. */
export function guestEnv(planEnv: Readonly<Record<string, string>>, alias: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: GUEST_PATH, HOME: GUEST_HOME, USER: GUEST_USER, LOGNAME: GUEST_USER, SHELL: '/bin/sh', LANG: 'C.UTF-8',
    ...planEnv,
  };
  for (const k of PROXY_VARS) {
    const v = env[k];
    if (v !== undefined) env[k] = v.replace(/^(https?:\/\/)egress(?=[:/]|$)/, `$1${alias}`);
  }
  for (const k of NO_PROXY_VARS) {
    const v = env[k];
    if (v !== undefined && !v.split(',').includes(alias)) env[k] = `${v},${alias}`;
  }
  return { ...env, ...extra };
}

/** The guest's /etc/hosts: the sidecar names on the alias, nothing else resolvable. */
export function guestHosts(alias: string): string {
  return `127.0.0.1 localhost\n::1 localhost\n${alias} egress git-gate supervise\n`;
}

/**
 * The CIDRs smolvm recorded for machine `name`, from `smolvm machine ls --json`; null when the
 * machine or any allowlist field is missing (the launch then fails closed). Field names are read
 * tolerantly (`allowed_cidrs`, `allow_cidrs`, `allowedCidrs`, nested under `network`) because the
 * JSON shape is not a documented contract (docs/decisions/smolmachines-cli-syntax.md).
 */
export function recordedAllowlist(lsJson: string, name: string): string[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(lsJson);
  } catch {
    return null;
  }
  const list: unknown[] = Array.isArray(doc)
    ? doc
    : doc !== null && typeof doc === 'object' && Array.isArray((doc as { machines?: unknown }).machines)
      ? ((doc as { machines: unknown[] }).machines)
      : [];
  const machine = list.find((m): m is Record<string, unknown> => m !== null && typeof m === 'object' && (m as { name?: unknown }).name === name);
  if (!machine) return null;
  const found = findCidrList(machine, 0);
  return found;
}

function findCidrList(obj: Record<string, unknown>, depth: number): string[] | null {
  for (const [k, v] of Object.entries(obj)) {
    if (/^allow(ed)?_?cidrs$/i.test(k) && Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  }
  if (depth >= 2) return null;
  for (const v of Object.values(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = findCidrList(v as Record<string, unknown>, depth + 1);
      if (inner !== null) return inner;
    }
  }
  return null;
}

/** True when the recorded allowlist is exactly the alias /32 (fail closed on anything else). */
export function allowlistTook(recorded: readonly string[] | null, alias: string): boolean {
  return recorded !== null && recorded.length === 1 && (recorded[0] === `${alias}/32` || recorded[0] === alias);
}

/** Machines bot-bottle made, from `machine ls --json` (name and whether it runs). */
export function listedMachines(lsJson: string, prefix: string): Array<{ name: string; running: boolean }> {
  let doc: unknown;
  try {
    doc = JSON.parse(lsJson);
  } catch {
    return [];
  }
  const list: unknown[] = Array.isArray(doc) ? doc : doc !== null && typeof doc === 'object' && Array.isArray((doc as { machines?: unknown }).machines) ? (doc as { machines: unknown[] }).machines : [];
  const out: Array<{ name: string; running: boolean }> = [];
  for (const m of list) {
    if (m === null || typeof m !== 'object') continue;
    const name = (m as { name?: unknown }).name;
    if (typeof name !== 'string' || !name.startsWith(prefix)) continue;
    const state = String((m as { state?: unknown; status?: unknown }).state ?? (m as { status?: unknown }).status ?? '');
    out.push({ name, running: /running/i.test(state) });
  }
  return out;
}
