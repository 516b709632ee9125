/**
 * The sidecar-side git-gate configuration (docs/decisions/gate-config-and-credentials.md): the
 * `config.yaml` the host renders into `state/<slug>/git-gate/`. It carries no secret values and no
 * host variable names: HTTPS credentials are named by slot (`GIT_GATE_TOKEN_<n>`), key files by
 * paths relative to the file. Pure: parsing text to a value; reading the file and checking
 * credential files is the caller's.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

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

const policySchema = z.strictObject({
  read_only: z.boolean().default(false),
  protected_refs: z.array(z.string().min(1)).default([]),
  allow_force_push: z.boolean().default(false),
  allow_delete: z.boolean().default(false),
  allow_non_commit_refs: z.boolean().default(false),
});

const repoSchema = z.strictObject({
  name: z.string().regex(REPO_NAME_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  url: z.string().min(1),
  ssh: z
    .strictObject({
      key_file: z.string().min(1),
      known_hosts_file: z.string().min(1),
      host_key_type: z.union([z.enum(HOST_KEY_TYPES), z.array(z.enum(HOST_KEY_TYPES)).min(1)]),
    })
    .optional(),
  https: z.strictObject({ token_env: z.string().regex(TOKEN_SLOT_RE, 'must be a GIT_GATE_TOKEN_<n> slot name') }).optional(),
  policy: policySchema.default({ read_only: false, protected_refs: [], allow_force_push: false, allow_delete: false, allow_non_commit_refs: false }),
});

const configSchema = z.strictObject({
  version: z.literal(1),
  repos: z.array(repoSchema).default([]),
});

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
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue ? issue.path.join('.') : '';
    throw new GateConfigError(`${file}: ${path || '(root)'}: ${issue?.message ?? 'invalid'}; re-render it by relaunching the bottle`);
  }
  const seen = new Set<string>();
  const repos: GateRepoConfig[] = parsed.data.repos.map((r, i) => {
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
              hostKeyTypes: Array.isArray(r.ssh.host_key_type) ? r.ssh.host_key_type : [r.ssh.host_key_type],
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
