/**
 * The sidecar-side git-gate configuration (docs/decisions/gate-config-and-credentials.md): the
 * `config.yaml` the host renders into `state/<slug>/git-gate/`. It carries no secret values and no
 * host variable names: HTTPS credentials are named by slot (`GIT_GATE_TOKEN_<n>`), key files by
 * paths relative to the file. Pure: parsing text to a value; reading the file and checking
 * credential files is the caller's.
 */
import { parse as parseYaml } from 'yaml';

export const REPO_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const TOKEN_SLOT_RE = /^GIT_GATE_TOKEN_[0-9]+$/;
export const HOST_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;
export type HostKeyType = (typeof HOST_KEY_TYPES)[number];

export interface GateRepoConfig {
  readonly name: string;
  readonly url: string;
  readonly kind: 'ssh' | 'https' | 'file';
  /** SSH only: paths relative to the config file's directory. */
  readonly ssh?: { readonly keyFile: string; readonly knownHostsFile: string; readonly hostKeyTypes: readonly HostKeyType[] };
  /** HTTPS only; absent = anonymous. */
  readonly https?: { readonly tokenEnv: string };
  readonly policy: {
    readonly readOnly: boolean;
    readonly protectedRefs: readonly string[];
    readonly allowForcePush: boolean;
    readonly allowDelete: boolean;
    /** Refs may point (after peeling) at trees and blobs (docs/decisions/gate-scan-every-object.md). */
    readonly allowNonCommitRefs: boolean;
  };
}

export interface GateConfig {
  readonly repos: readonly GateRepoConfig[];
}

export class GateConfigError extends Error {
  readonly code = 'GATE_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'GateConfigError';
  }
}

// Validated by hand, not with zod: this runs in the git-gate daemon on every bottle start, where
// loading zod cost more than the rest of the config path (docs/decisions/sidecar-bundle.md), and
// the manifest already validates this way (docs/decisions/manifest-hand-validation.md).
// Errors are "<path>: <message>"; parseGateConfig prefixes the file.
class Invalid extends Error {}

function fail(path: string, message: string): never {
  throw new Invalid(`${path || '(root)'}: ${message}`);
}

function record(v: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be a mapping');
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(path, `unknown key '${k}' (allowed: ${keys.join(', ')})`);
  return v as Record<string, unknown>;
}

function str(v: unknown, path: string, re?: RegExp, reText?: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(path, 'must be a non-empty string');
  if (re && !re.test(v)) fail(path, reText ?? `must match ${re.source}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(path, 'must be true or false');
  return v;
}

function hostKeyTypes(v: unknown, path: string): HostKeyType[] {
  const one = (x: unknown, p: string): HostKeyType => {
    if (!HOST_KEY_TYPES.includes(x as HostKeyType)) fail(p, `must be one of ${HOST_KEY_TYPES.join(', ')}`);
    return x as HostKeyType;
  };
  if (!Array.isArray(v)) return [one(v, path)];
  if (v.length === 0) fail(path, 'must list at least one host key type');
  return v.map((x, i) => one(x, `${path}.${i}`));
}

interface RawRepo {
  name: string;
  url: string;
  ssh?: { key_file: string; known_hosts_file: string; host_key_type: HostKeyType[] };
  https?: { token_env: string };
  policy: { read_only: boolean; protected_refs: string[]; allow_force_push: boolean; allow_delete: boolean; allow_non_commit_refs: boolean };
}

function repoOf(v: unknown, path: string): RawRepo {
  const r = record(v, path, ['name', 'url', 'ssh', 'https', 'policy']);
  const out: RawRepo = {
    name: str(r.name, `${path}.name`, REPO_NAME_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
    url: str(r.url, `${path}.url`),
    policy: { read_only: false, protected_refs: [], allow_force_push: false, allow_delete: false, allow_non_commit_refs: false },
  };
  if (r.ssh !== undefined) {
    const ssh = record(r.ssh, `${path}.ssh`, ['key_file', 'known_hosts_file', 'host_key_type']);
    out.ssh = {
      key_file: str(ssh.key_file, `${path}.ssh.key_file`),
      known_hosts_file: str(ssh.known_hosts_file, `${path}.ssh.known_hosts_file`),
      host_key_type: hostKeyTypes(ssh.host_key_type, `${path}.ssh.host_key_type`),
    };
  }
  if (r.https !== undefined) {
    const h = record(r.https, `${path}.https`, ['token_env']);
    out.https = { token_env: str(h.token_env, `${path}.https.token_env`, TOKEN_SLOT_RE, 'must be a GIT_GATE_TOKEN_<n> slot name') };
  }
  if (r.policy !== undefined) {
    const p = record(r.policy, `${path}.policy`, ['read_only', 'protected_refs', 'allow_force_push', 'allow_delete', 'allow_non_commit_refs']);
    const refs = p.protected_refs === undefined ? [] : p.protected_refs;
    if (!Array.isArray(refs)) fail(`${path}.policy.protected_refs`, 'must be a list');
    out.policy = {
      read_only: bool(p.read_only, `${path}.policy.read_only`),
      protected_refs: refs.map((x, i) => str(x, `${path}.policy.protected_refs.${i}`)),
      allow_force_push: bool(p.allow_force_push, `${path}.policy.allow_force_push`),
      allow_delete: bool(p.allow_delete, `${path}.policy.allow_delete`),
      allow_non_commit_refs: bool(p.allow_non_commit_refs, `${path}.policy.allow_non_commit_refs`),
    };
  }
  return out;
}

function configOf(raw: unknown): { repos: RawRepo[] } {
  const c = record(raw, '', ['version', 'repos']);
  if (c.version !== 1) fail('version', 'must be 1');
  const repos = c.repos === undefined ? [] : c.repos;
  if (!Array.isArray(repos)) fail('repos', 'must be a list');
  return { repos: repos.map((r, i) => repoOf(r, `repos.${i}`)) };
}

export function urlKind(url: string): 'ssh' | 'https' | 'file' | null {
  if (url.startsWith('ssh://')) return 'ssh';
  if (url.startsWith('https://')) return 'https';
  if (url.startsWith('file://')) return 'file';
  return null;
}

/** Parses and validates the rendered config. `file` is only used to name it in errors. */
export function parseGateConfig(text: string, file: string): GateConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new GateConfigError(`${file}: not valid YAML (${(err as Error).message.split('\n')[0]}); re-render it by relaunching the bottle`);
  }
  let parsed: { repos: RawRepo[] };
  try {
    parsed = configOf(raw);
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    throw new GateConfigError(`${file}: ${err.message}; re-render it by relaunching the bottle`);
  }
  const seen = new Set<string>();
  const repos: GateRepoConfig[] = parsed.repos.map((r, i) => {
    const where = `${file}: repos.${i}`;
    if (r.name.endsWith('.git')) throw new GateConfigError(`${where}.name: must not end in .git`);
    if (seen.has(r.name)) throw new GateConfigError(`${where}.name: '${r.name}' is declared twice`);
    seen.add(r.name);
    const kind = urlKind(r.url);
    if (kind === null) throw new GateConfigError(`${where}.url: only ssh://, https:// and file:// upstreams are supported`);
    if (kind === 'ssh' && !r.ssh) throw new GateConfigError(`${where}.ssh: an ssh upstream needs key_file, known_hosts_file and host_key_type (pinned host keys only)`);
    if (kind !== 'ssh' && r.ssh) throw new GateConfigError(`${where}.ssh: only ssh:// upstreams take ssh credentials`);
    if (kind !== 'https' && r.https) throw new GateConfigError(`${where}.https: only https:// upstreams take a token slot`);
    const repo: GateRepoConfig = {
      name: r.name,
      url: r.url,
      kind,
      ...(r.ssh
        ? {
            ssh: {
              keyFile: r.ssh.key_file,
              knownHostsFile: r.ssh.known_hosts_file,
              hostKeyTypes: r.ssh.host_key_type,
            },
          }
        : {}),
      ...(r.https ? { https: { tokenEnv: r.https.token_env } } : {}),
      policy: {
        readOnly: r.policy.read_only,
        protectedRefs: r.policy.protected_refs,
        allowForcePush: r.policy.allow_force_push,
        allowDelete: r.policy.allow_delete,
        allowNonCommitRefs: r.policy.allow_non_commit_refs,
      },
    };
    return repo;
  });
  return { repos };
}
