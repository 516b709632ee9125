/**
 * Host-side, pure: turns the manifest layer's `GitGateRepo`s into what the launch pipeline writes
 * to `state/<slug>/git-gate/` (docs/architecture.md §5) and into the agent's git config
 * (docs/architecture.md §4.6). No I/O: the caller copies files, writes known_hosts, and registers
 * gitea deploy keys.
 */
import { stringify } from 'yaml';
import { BottleError } from '../errors.js';
import type { GitGateRepo, GitUser } from '../manifest/types.js';
import { HOST_KEY_TYPES, type HostKeyType } from './config.js';

export const DEFAULT_GATE_URL = 'http://git-gate:9420';

export interface RenderedGateConfig {
  /** Contents of `git-gate/config.yaml`. */
  readonly configYaml: string;
  /** `GIT_GATE_TOKEN_<n>` → host variable name (token_ref), first-appearance order, shared refs share a slot. */
  readonly tokenSlots: Readonly<Record<string, string>>;
  /** Static SSH keys to copy: absolute source → path relative to the git-gate dir (file 0600, dir 0700). */
  readonly copyFiles: ReadonlyArray<{ readonly repo: string; readonly source: string; readonly dest: string }>;
  /** Gitea repos: where the launch writes the freshly generated private key (relative path). */
  readonly generatedKeys: ReadonlyArray<{ readonly repo: string; readonly dest: string }>;
  /** Synthesised known_hosts files (relative path → contents). */
  readonly knownHosts: ReadonlyArray<{ readonly repo: string; readonly dest: string; readonly content: string }>;
}

function invalid(message: string, fix: string): BottleError {
  return new BottleError('CONFIG_INVALID', message, { fix });
}

/** `[host]:port` off port 22, bare host on 22 (ssh's known_hosts host pattern). */
export function knownHostsPattern(host: string, port: number | null): string {
  return port === null || port === 22 ? host : `[${host}]:${port}`;
}

export function hostKeyType(hostKey: string): HostKeyType | null {
  const type = hostKey.trim().split(/\s+/)[0] ?? '';
  return (HOST_KEY_TYPES as readonly string[]).includes(type) ? (type as HostKeyType) : null;
}

export function renderGateConfig(repos: readonly GitGateRepo[]): RenderedGateConfig {
  const tokenSlots: Record<string, string> = {};
  const slotByRef = new Map<string, string>();
  const copyFiles: Array<{ repo: string; source: string; dest: string }> = [];
  const generatedKeys: Array<{ repo: string; dest: string }> = [];
  const knownHosts: Array<{ repo: string; dest: string; content: string }> = [];
  const out: unknown[] = [];

  for (const repo of repos) {
    const at = `git-gate.repos.${repo.name}`;
    const entry: Record<string, unknown> = { name: repo.name, url: repo.url };
    if (repo.kind === 'ssh') {
      if (repo.hostKeys.length === 0) {
        const port = repo.port !== null && repo.port !== 22 ? `-p ${repo.port} ` : '';
        throw invalid(`${at}.host_key is required (pinned keys only)`, `fetch it with ssh-keyscan ${port}${repo.host ?? '<host>'}`);
      }
      if (!repo.key) throw invalid(`${at}.key is required for an ssh upstream`, 'add key: {provider: static, path: <file>} or {provider: gitea, provisioner_token: <HOST_VAR>}');
      if (repo.host === null) throw invalid(`${at}.url has no host`, 'use ssh://[user@]host[:port]/path');
      const types: HostKeyType[] = [];
      const lines: string[] = [];
      for (const k of repo.hostKeys) {
        const type = hostKeyType(k);
        const parts = k.trim().split(/\s+/);
        if (type === null || parts.length < 2) {
          throw invalid(`${at}.host_key has an unsupported key type`, `use one of ${HOST_KEY_TYPES.join(', ')} as printed by ssh-keyscan`);
        }
        if (!types.includes(type)) types.push(type);
        lines.push(`${knownHostsPattern(repo.host, repo.port)} ${type} ${parts[1]}`);
      }
      const keyDest = `creds/${repo.name}/id_ed25519`;
      const khDest = `creds/${repo.name}/known_hosts`;
      if (repo.key.provider === 'static') copyFiles.push({ repo: repo.name, source: repo.key.path, dest: keyDest });
      else generatedKeys.push({ repo: repo.name, dest: keyDest });
      knownHosts.push({ repo: repo.name, dest: khDest, content: lines.join('\n') + '\n' });
      entry['ssh'] = { key_file: keyDest, known_hosts_file: khDest, host_key_type: types };
    } else if (repo.kind === 'https') {
      if (repo.tokenRef !== undefined) {
        let slot = slotByRef.get(repo.tokenRef);
        if (slot === undefined) {
          slot = `GIT_GATE_TOKEN_${slotByRef.size}`;
          slotByRef.set(repo.tokenRef, slot);
          tokenSlots[slot] = repo.tokenRef;
        }
        entry['https'] = { token_env: slot };
      }
    }
    entry['policy'] = {
      read_only: repo.readOnly,
      protected_refs: [...repo.protectedRefs],
      allow_force_push: repo.allowForcePush,
      allow_delete: repo.allowDelete,
      allow_non_commit_refs: repo.allowNonCommitRefs === true,
    };
    out.push(entry);
  }
  const configYaml =
    '# Rendered by bot-bottle for the git-gate sidecar. No secret values: HTTPS tokens arrive as\n' +
    '# GIT_GATE_TOKEN_<n> in the daemon env; key paths are relative to this file.\n' +
    stringify({ version: 1, repos: out });
  return { configYaml, tokenSlots, copyFiles, generatedKeys, knownHosts };
}

/** Every spelling of an upstream URL an agent might use: with/without `.git`, scp form on 22. */
export function upstreamSpellings(repo: GitGateRepo): string[] {
  const base = repo.url.replace(/\.git\/?$/, '').replace(/\/$/, '');
  const urls = [`${base}.git`, base];
  if (repo.kind === 'ssh' && (repo.port === 22 || repo.port === null)) {
    const m = /^ssh:\/\/(?:([^@/]+)@)?([^/:]+|\[[^\]]+\])(?::22)?\/(.*)$/.exec(base);
    if (m) {
      const user = m[1] ? `${m[1]}@` : '';
      const host = m[2] as string;
      const path = m[3] as string;
      urls.push(`ssh://${user}${host}/${path}.git`, `ssh://${user}${host}/${path}`);
      urls.push(`${user}${host}:${path}.git`, `${user}${host}:${path}`);
    }
  }
  return [...new Set(urls)];
}

/**
 * The agent's git config as `[key, value]` pairs, in order. Multi-valued keys (`insteadOf`)
 * repeat, so the applier must use `git config --global --add`.
 */
export function agentGitConfig(
  repos: readonly GitGateRepo[],
  user: GitUser,
  gateUrl: string = DEFAULT_GATE_URL,
): Array<readonly [string, string]> {
  const gate = gateUrl.replace(/\/+$/, '');
  const pairs: Array<readonly [string, string]> = [];
  if (user.name) pairs.push(['user.name', user.name]);
  if (user.email) pairs.push(['user.email', user.email]);
  for (const repo of repos) {
    for (const spelling of upstreamSpellings(repo)) pairs.push([`url.${gate}/${repo.name}.git.insteadOf`, spelling]);
  }
  if (repos.length > 0) pairs.push([`http.${gate}/.proxy`, '']);
  return pairs;
}

function iniQuote(v: string): string {
  return /^[^\s"\\;#][^"\\;#]*$/.test(v) && !/\s$/.test(v) ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The same pairs as an ini `~/.gitconfig` (shape: one `[url "<gate>/<name>.git"]` section
 * with every `insteadOf`). For appliers that write the file instead of running `git config --add`.
 */
export function agentGitConfigText(pairs: ReadonlyArray<readonly [string, string]>): string {
  const sections = new Map<string, Array<[string, string]>>();
  for (const [key, value] of pairs) {
    const first = key.indexOf('.');
    const last = key.lastIndexOf('.');
    const section = key.slice(0, first);
    const sub = first === last ? null : key.slice(first + 1, last);
    const header = sub === null ? `[${section}]` : `[${section} "${sub.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"]`;
    const list = sections.get(header) ?? [];
    list.push([key.slice(last + 1), value]);
    sections.set(header, list);
  }
  let out = '';
  for (const [header, entries] of sections) {
    out += `${header}\n`;
    for (const [k, v] of entries) out += `\t${k} = ${v === '' ? '' : iniQuote(v)}\n`;
  }
  return out;
}
