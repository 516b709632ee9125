/** `git-gate` block of bottles and agents (docs/configuration.md §3.5). */
import { isAbsolute, resolve } from 'node:path';
import type { GitGateKey, GitGateRepo, GitUser } from './types.js';
import { type Ctx, checkHostVarRef, describe, expectBool, expectList, expectMap, expectString } from './check.js';
import type { PathSeg } from './front-matter.js';
import { canonicalIPv6, normalizeHost } from './host.js';
import { expandTilde } from './home.js';

export const REPO_KEYS = ['url', 'key', 'host_key', 'token_ref', 'read_only', 'protected_refs', 'allow_force_push', 'allow_delete', 'allow_non_commit_refs'] as const;
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const HOST_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

export function parseGitUser(ctx: Ctx, raw: unknown, path: readonly PathSeg[]): GitUser | undefined {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  ctx.keys(obj, path, ['name', 'email'], ctx.name(path));
  const user: { name?: string; email?: string } = {};
  if (obj.name !== undefined && obj.name !== null) {
    const n = expectString(ctx, obj.name, [...path, 'name'], { nonEmpty: true });
    if (n !== undefined) {
      if (/[\r\n<>]/.test(n)) ctx.issue([...path, 'name'], `${ctx.name([...path, 'name'])} must not contain line breaks, "<" or ">"`);
      else user.name = n.trim();
    }
  }
  if (obj.email !== undefined && obj.email !== null) {
    const e = expectString(ctx, obj.email, [...path, 'email'], { nonEmpty: true });
    if (e !== undefined) {
      if (e.split('@').length !== 2 || /[\s<>]/.test(e) || e.startsWith('@') || e.endsWith('@')) {
        ctx.issue([...path, 'email'], `${ctx.name([...path, 'email'])} must be an email address: one "@", no spaces, "<" or ">"`);
      } else user.email = e;
    }
  }
  return user;
}

/** `decodeURIComponent` that reports a malformed escape as null instead of throwing URIError. */
function strictDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

interface ParsedUrl {
  url: string;
  kind: GitGateRepo['kind'];
  host: string | null;
  port: number | null;
}

/** ssh://, scp-like, https:// or file://; scp form becomes ssh://user@host:22/path. */
export function parseRepoUrl(raw: string): ParsedUrl | { error: string } {
  const s = raw.trim();
  const scp = /^(?:([A-Za-z0-9._~-]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(s);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    const [, user, hostRaw = '', p = ''] = scp;
    const h = normalizeHost(hostRaw);
    if (!h.ok || h.kind === 'wildcard') return { error: 'has an invalid host' };
    const hostPart = h.kind === 'ipv6' ? `[${h.host}]` : h.host;
    return { url: `ssh://${user ? `${user}@` : ''}${hostPart}:22/${p.replace(/^\/+/, '')}`, kind: 'ssh', host: h.host, port: 22 };
  }
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return { error: 'is not a URL: use ssh://[user@]host[:port]/path, user@host:path, https://host/path or file:///path' };
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme === 'file') {
    if (u.host !== '' || u.username || u.password) return { error: 'must be file:///absolute/path (no host, no credentials)' };
    if (u.pathname === '/' || u.pathname === '') return { error: 'must name a path (file:///srv/mirror.git)' };
    const path = strictDecode(u.pathname);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (path === null || /[\x00-\x1f\x7f]/.test(path)) return { error: 'has a malformed percent-escape or a control character in its path' };
    return { url: `file://${path}`, kind: 'file', host: null, port: null };
  }
  if (scheme !== 'ssh' && scheme !== 'https') {
    return { error: `uses unsupported scheme "${scheme}": use ssh://, user@host:path, https:// or file://` };
  }
  if (u.password || (scheme === 'https' && u.username)) {
    return { error: 'must not contain credentials; use token_ref (https) or key (ssh)' };
  }
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const h = normalizeHost(hostname);
  if (!h.ok || h.kind === 'wildcard') return { error: 'has an invalid host' };
  if (u.search || u.hash) return { error: 'must not contain a query or fragment' };
  if (u.pathname === '/' || u.pathname === '') return { error: 'must name a repository path' };
  const port = u.port ? Number(u.port) : scheme === 'ssh' ? 22 : 443;
  const hostPart = h.kind === 'ipv6' || canonicalIPv6(h.host) ? `[${h.host}]` : h.host;
  // The user is spliced back into a URL: a decoded "@", "/" or ":" would change which host git dials.
  const userName = u.username ? strictDecode(u.username) : '';
  if (userName === null || !/^[A-Za-z0-9._~-]*$/.test(userName)) return { error: 'has an invalid user name: use letters, digits, ".", "_", "~" or "-"' };
  const user = userName ? `${userName}@` : '';
  const url = scheme === 'ssh' ? `ssh://${user}${hostPart}:${port}${u.pathname}` : `https://${hostPart}${port === 443 ? '' : `:${port}`}${u.pathname}`;
  return { url, kind: scheme, host: h.host, port };
}

function parseKey(ctx: Ctx, raw: unknown, path: PathSeg[], urlHost: string | null, opts: RepoOptions): GitGateKey | undefined {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  if (obj.provider === undefined || obj.provider === null) {
    ctx.issue(path, `${ctx.name([...path, 'provider'])} is required: one of static, gitea`);
    return undefined;
  }
  const provider = expectString(ctx, obj.provider, [...path, 'provider']);
  if (provider === undefined) return undefined;
  if (provider === 'static') {
    ctx.keys(obj, path, ['provider', 'path'], ctx.name(path));
    if (obj.path === undefined || obj.path === null) {
      ctx.issue(path, `${ctx.name([...path, 'path'])} is required with provider static (the private key file, e.g. ~/.ssh/deploy_webapp)`);
      return undefined;
    }
    const p = expectString(ctx, obj.path, [...path, 'path'], { nonEmpty: true });
    if (p === undefined) return undefined;
    const expanded = expandTilde(p, opts.userHome);
    return { provider: 'static', path: isAbsolute(expanded) ? expanded : resolve(opts.baseDir, expanded) };
  }
  if (provider === 'gitea') {
    ctx.keys(obj, path, ['provider', 'provisioner_token', 'api_url'], ctx.name(path));
    if (obj.provisioner_token === undefined || obj.provisioner_token === null) {
      ctx.issue(path, `${ctx.name([...path, 'provisioner_token'])} is required with provider gitea (a host variable holding a Gitea admin token)`);
      return undefined;
    }
    const tok = checkHostVarRef(ctx, obj.provisioner_token, [...path, 'provisioner_token']);
    let apiUrl = urlHost ? `https://${canonicalIPv6(urlHost) ? `[${urlHost}]` : urlHost}` : '';
    if (obj.api_url !== undefined && obj.api_url !== null) {
      const a = expectString(ctx, obj.api_url, [...path, 'api_url'], { nonEmpty: true });
      if (a !== undefined) {
        let ok = false;
        try {
          const u = new URL(a);
          ok = u.protocol === 'https:' && !u.username && !u.password;
        } catch {
          ok = false;
        }
        if (!ok) ctx.issue([...path, 'api_url'], `${ctx.name([...path, 'api_url'])} must be an https:// URL without credentials`);
        else apiUrl = a.replace(/\/+$/, '');
      }
    }
    if (tok === undefined) return undefined;
    return { provider: 'gitea', provisionerToken: tok, apiUrl };
  }
  ctx.issue([...path, 'provider'], `${ctx.name([...path, 'provider'])} must be one of static, gitea`);
  return undefined;
}

export interface RepoOptions {
  /** Directory of the bottle file (relative key paths). */
  readonly baseDir: string;
  readonly userHome: string;
}

export function parseRepos(ctx: Ctx, raw: unknown, path: readonly PathSeg[], opts: RepoOptions): GitGateRepo[] | undefined {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  const before = ctx.issues.length;
  const out: GitGateRepo[] = [];
  const byUrl = new Map<string, string>();
  for (const [name, value] of Object.entries(obj)) {
    const p = [...path, name];
    if (!REPO_NAME.test(name) || name.toLowerCase().endsWith('.git')) {
      ctx.issue(p, `repo name "${name}" must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$ and not end in .git (it becomes the path <name>.git at the gate)`, 'key');
      continue;
    }
    const r = expectMap(ctx, value, p);
    if (!r) continue;
    ctx.keys(r, p, REPO_KEYS, ctx.name(p), 'repo');
    if (r.url === undefined || r.url === null) {
      ctx.issue(p, `${ctx.name([...p, 'url'])} is required`);
      continue;
    }
    const urlStr = expectString(ctx, r.url, [...p, 'url'], { nonEmpty: true });
    if (urlStr === undefined) continue;
    const u = parseRepoUrl(urlStr);
    if ('error' in u) {
      ctx.issue([...p, 'url'], `${ctx.name([...p, 'url'])} ${u.error}`);
      continue;
    }
    const dup = byUrl.get(u.url);
    if (dup !== undefined) {
      ctx.issue([...p, 'url'], `${ctx.name([...p, 'url'])} is the same repository as git-gate.repos.${dup}; declare it once`);
      continue;
    }
    byUrl.set(u.url, name);
    const has = (k: string): boolean => r[k] !== undefined && r[k] !== null;
    let key: GitGateKey | undefined;
    let hostKeys: string[] = [];
    let tokenRef: string | undefined;
    if (u.kind === 'ssh') {
      if (!has('key')) ctx.issue(p, `${ctx.name([...p, 'key'])} is required for ssh repos: {provider: static, path: ~/.ssh/deploy_key} or {provider: gitea, provisioner_token: VAR}`);
      else key = parseKey(ctx, r.key, [...p, 'key'], u.host, opts);
      if (!has('host_key')) {
        const portFlag = u.port !== null && u.port !== 22 ? `-p ${u.port} ` : '';
        ctx.issue(p, `${ctx.name([...p, 'host_key'])} is required (pinned keys only); fetch it with ssh-keyscan ${portFlag}${u.host ?? ''}`);
      } else hostKeys = parseHostKeys(ctx, r.host_key, [...p, 'host_key']);
      if (has('token_ref')) ctx.issue([...p, 'token_ref'], `${ctx.name([...p, 'token_ref'])} is only for https repos; ssh repos authenticate with key`);
    } else {
      for (const k of ['key', 'host_key'] as const) {
        if (has(k)) ctx.issue([...p, k], `${ctx.name([...p, k])} is only for ssh repos; ${u.kind === 'https' ? 'https repos use token_ref' : 'file:// repos take no credentials'}`);
      }
      if (has('token_ref')) {
        if (u.kind === 'file') ctx.issue([...p, 'token_ref'], `${ctx.name([...p, 'token_ref'])} is not allowed for file:// repos`);
        else tokenRef = checkHostVarRef(ctx, r.token_ref, [...p, 'token_ref']);
      }
    }
    const bool = (k: string): boolean => (has(k) ? expectBool(ctx, r[k], [...p, k]) ?? false : false);
    const readOnly = bool('read_only');
    const allowForcePush = bool('allow_force_push');
    const allowDelete = bool('allow_delete');
    const allowNonCommitRefs = bool('allow_non_commit_refs');
    const protectedRefs: string[] = [];
    if (has('protected_refs')) {
      const list = expectList(ctx, r.protected_refs, [...p, 'protected_refs'], { what: 'ref patterns' });
      list?.forEach((v, i) => {
        const s = expectString(ctx, v, [...p, 'protected_refs', i], { nonEmpty: true });
        if (s === undefined) return;
        if (/[\s~^:?\\[]/.test(s) || s.includes('..') || s.startsWith('/') || s.endsWith('/')) {
          ctx.issue([...p, 'protected_refs', i], `${ctx.name([...p, 'protected_refs', i])} is not a ref pattern (e.g. main, refs/heads/release/*)`);
          return;
        }
        protectedRefs.push(s.startsWith('refs/') ? s : `refs/heads/${s}`);
      });
    }
    out.push({
      name,
      url: u.url,
      kind: u.kind,
      host: u.host,
      port: u.port,
      ...(key !== undefined ? { key } : {}),
      hostKeys,
      ...(tokenRef !== undefined ? { tokenRef } : {}),
      readOnly,
      protectedRefs,
      allowForcePush,
      allowDelete,
      ...(allowNonCommitRefs ? { allowNonCommitRefs } : {}),
    });
  }
  return ctx.issues.length > before ? undefined : out;
}

function parseHostKeys(ctx: Ctx, raw: unknown, path: PathSeg[]): string[] {
  const items: Array<[unknown, PathSeg[]]> = Array.isArray(raw) ? raw.map((v, i) => [v, [...path, i]]) : [[raw, path]];
  if (Array.isArray(raw) && raw.length === 0) {
    ctx.issue(path, `${ctx.name(path)} must not be empty (pinned keys only)`);
    return [];
  }
  const out: string[] = [];
  for (const [v, p] of items) {
    if (typeof v !== 'string') {
      ctx.issue(p, `${ctx.name(p)} must be a string "<type> <base64> [comment]", not ${describe(v)}`);
      continue;
    }
    const parts = v.trim().split(/\s+/);
    const [type = '', b64 = ''] = parts;
    if (!HOST_KEY_TYPES.includes(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length < 16) {
      ctx.issue(p, `${ctx.name(p)} must be "<type> <base64> [comment]" with type ${HOST_KEY_TYPES.join(', ')} (as printed by ssh-keyscan)`);
      continue;
    }
    out.push(parts.join(' '));
  }
  return out;
}
