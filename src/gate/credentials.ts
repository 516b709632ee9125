/**
 * Upstream credential environment for one repo (docs/configuration.md §3.5). Everything travels in
 * the environment of the gate's own git processes: never argv, never a file the agent could read,
 * never the mirror's config.
 */
import { isAbsolute, join } from 'node:path';
import type { GateRepoConfig, HostKeyType } from './config.js';

export interface CredentialContext {
  /** Directory of config.yaml; credential paths are relative to it. */
  readonly configDir: string;
  /** The daemon's GIT_GATE_TOKEN_<n> values. */
  readonly tokens: Readonly<Record<string, string>>;
  /** Bundle written at startup from GIT_GATE_UPSTREAM_CA_FILE (system roots + extra). */
  readonly caBundle?: string;
  /** GIT_GATE_RESOLVE parsed: host → ip. */
  readonly resolve?: ReadonlyMap<string, string>;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function resolvePath(ctx: CredentialContext, p: string): string {
  return isAbsolute(p) ? p : join(ctx.configDir, p);
}

/** Host-key algorithms ssh may negotiate for the pinned key types (RSA keys sign with SHA-2). */
export function hostKeyAlgorithms(types: readonly HostKeyType[]): string {
  const algs: string[] = [];
  for (const t of types) {
    if (t === 'ssh-rsa') algs.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else algs.push(t);
  }
  return [...new Set(algs)].join(',');
}

export function sshCommand(ctx: CredentialContext, ssh: NonNullable<GateRepoConfig['ssh']>): string {
  const opts = [
    '-F /dev/null',
    `-i ${shQuote(resolvePath(ctx, ssh.keyFile))}`,
    '-o IdentitiesOnly=yes',
    '-o IdentityAgent=none',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${shQuote(resolvePath(ctx, ssh.knownHostsFile))}`,
    '-o GlobalKnownHostsFile=/dev/null',
    `-o HostKeyAlgorithms=${hostKeyAlgorithms(ssh.hostKeyTypes)}`,
    '-o BatchMode=yes',
    '-o ConnectTimeout=10',
    '-o UpdateHostKeys=no',
    '-o LogLevel=ERROR',
  ];
  return `ssh ${opts.join(' ')}`;
}

/** `user:secret` as-is, a bare secret as `x-access-token:<secret>` (docs/configuration.md §3.5). */
export function basicAuthHeader(token: string): string {
  const userPass = token.includes(':') ? token : `x-access-token:${token}`;
  return `Authorization: Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
}

/** git's `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` form: config only this process tree sees. */
export function gitConfigEnv(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

export class MissingTokenError extends Error {
  readonly code = 'GATE_TOKEN_UNSET';
}

/** Environment for fetch/ls-remote/push against the repo's upstream. */
export function upstreamEnv(repo: GateRepoConfig, ctx: CredentialContext): Record<string, string> {
  const env: Record<string, string> = {};
  const cfg: Array<readonly [string, string]> = [['protocol.allow', 'never'], [`protocol.${repo.kind}.allow`, 'always']];
  if (repo.kind === 'ssh' && repo.ssh) {
    env['GIT_SSH_COMMAND'] = sshCommand(ctx, repo.ssh);
    env['GIT_SSH_VARIANT'] = 'ssh';
  }
  if (repo.kind === 'https') {
    cfg.push(['http.followRedirects', 'false'], ['http.sslVerify', 'true']);
    if (ctx.caBundle) cfg.push(['http.sslCAInfo', ctx.caBundle]);
    if (ctx.resolve) {
      const u = new URL(repo.url);
      const ip = ctx.resolve.get(u.hostname.toLowerCase());
      if (ip) cfg.push(['http.curloptResolve', `${u.hostname}:${u.port || '443'}:${ip}`]);
    }
    if (repo.https) {
      const token = ctx.tokens[repo.https.tokenEnv];
      if (token === undefined || token === '') throw new MissingTokenError(`${repo.https.tokenEnv} is not set for repo '${repo.name}'`);
      cfg.push([`http.${repo.url}.extraHeader`, basicAuthHeader(token)]);
    }
  }
  Object.assign(env, gitConfigEnv(cfg));
  return env;
}

/** `host=ip[,host=ip…]` (same form as EGRESS_RESOLVE). */
export function parseResolve(value: string | undefined): Map<string, string> | { error: string } {
  const out = new Map<string, string>();
  if (!value) return out;
  for (const part of value.split(',')) {
    const m = /^\s*([^=\s]+)=([0-9a-fA-F.:]+)\s*$/.exec(part);
    if (!m) return { error: 'GIT_GATE_RESOLVE must be host=ip[,host=ip…]' };
    out.set((m[1] as string).toLowerCase(), m[2] as string);
  }
  return out;
}
