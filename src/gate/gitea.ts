/**
 * Gitea deploy keys for `key: {provider: gitea}` repos (docs/decisions/gate-gitea-keys.md), host
 * side only: a fresh ed25519 key per launch registered through the Gitea API, revoked at teardown.
 * The provisioner token value is passed in by the caller and never written anywhere or put in argv.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BottleError } from '../errors.js';
import type { GitGateRepo } from '../manifest/types.js';

export interface DeployKeyRecord {
  readonly repo: string;
  readonly title: string;
  readonly id: number;
  readonly host: string;
  readonly owner: string;
  readonly name: string;
  readonly apiUrl: string;
  /** The host variable holding the provisioner token (a name, never the value). */
  readonly provisionerToken: string;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export const DEPLOY_KEYS_FILE = 'deploy-keys.json';
export const UNREVOKED_KEYS_FILE = 'unrevoked-keys.json';

/** `owner/repo` from the last two path segments of the upstream URL (`.git` dropped). */
export function ownerAndRepo(url: string): { owner: string; name: string } | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  const parts = path.replace(/\.git\/?$/, '').split('/').filter(Boolean);
  if (parts.length < 2) return null;
  return { owner: parts[parts.length - 2] as string, name: parts[parts.length - 1] as string };
}

function keysUrl(apiUrl: string, owner: string, name: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/keys`;
}

function sshKeygen(path: string, comment: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`cannot run ssh-keygen (${e.message}); install openssh-client`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh-keygen failed: ${err.trim()}`))));
  });
}

export interface ProvisionOptions {
  readonly repo: GitGateRepo;
  readonly slug: string;
  /** The provisioner token's value (resolved by the caller from the host env). */
  readonly token: string;
  /** Absolute path where the private key is written (0600); `.pub` beside it. */
  readonly keyPath: string;
  readonly fetch?: FetchLike;
}

export async function provisionDeployKey(o: ProvisionOptions): Promise<DeployKeyRecord> {
  const key = o.repo.key;
  if (!key || key.provider !== 'gitea') throw new TypeError(`repo '${o.repo.name}' does not use key.provider gitea`);
  const at = ownerAndRepo(o.repo.url);
  if (!at || o.repo.host === null) {
    throw new BottleError('LAUNCH_FAILED', `git-gate.repos.${o.repo.name}.url has no owner/repo path for a Gitea deploy key`, {
      fix: 'use ssh://git@<host>[:port]/<owner>/<repo>.git',
    });
  }
  const doFetch: FetchLike = o.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const title = `bot-bottle-${o.slug}-${o.repo.name}`;
  const url = keysUrl(key.apiUrl, at.owner, at.name);
  const where = `${o.repo.host}/${at.owner}/${at.name}`;
  await mkdir(dirname(o.keyPath), { recursive: true, mode: 0o700 });
  for (let attempt = 1; attempt <= 2; attempt++) {
    await rm(o.keyPath, { force: true });
    await rm(`${o.keyPath}.pub`, { force: true });
    await sshKeygen(o.keyPath, title);
    await chmod(o.keyPath, 0o600);
    const pub = (await readFile(`${o.keyPath}.pub`, 'utf8')).trim();
    let res: { status: number; text(): Promise<string> };
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { authorization: `token ${o.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ title, key: pub, read_only: o.repo.readOnly }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new BottleError('LAUNCH_FAILED', `cannot reach the Gitea API at ${key.apiUrl} to register deploy key ${title} (${(err as Error).message})`, {
        fix: 'check key.api_url and the network, then relaunch',
      });
    }
    if (res.status === 422 && attempt === 1) continue; // key collision/invalid: regenerate once
    const body = await res.text().catch(() => '');
    if (res.status !== 201 && res.status !== 200) {
      const hint =
        res.status === 401 || res.status === 403
          ? `check that ${key.provisionerToken} holds a Gitea token with admin rights on ${at.owner}/${at.name}`
          : 'check the repository exists and the token can manage its deploy keys';
      throw new BottleError('LAUNCH_FAILED', `Gitea refused deploy key ${title} on ${where} (HTTP ${res.status})`, { fix: hint });
    }
    let id: unknown;
    try {
      id = (JSON.parse(body) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'number') {
      throw new BottleError('LAUNCH_FAILED', `Gitea answered deploy key ${title} on ${where} without a numeric id`, { fix: 'check key.api_url points at the Gitea API' });
    }
    return { repo: o.repo.name, title, id, host: o.repo.host, owner: at.owner, name: at.name, apiUrl: key.apiUrl, provisionerToken: key.provisionerToken };
  }
  throw new BottleError('LAUNCH_FAILED', `Gitea rejected deploy key ${title} on ${where} twice (HTTP 422)`, { fix: 'check the repository settings allow deploy keys' });
}

/** The loud teardown line (docs/architecture.md §4.8), for the CLI to print. */
export function unrevokedMessage(r: DeployKeyRecord, status: string): string {
  return `bot-bottle: ERROR: deploy key ${r.title} (id ${r.id}) on ${r.host}/${r.owner}/${r.name} was NOT revoked (${status}); revoke it by hand`;
}

/** DELETE the key; 204 or 404 is done. Anything else throws TEARDOWN_FAILED carrying the record. */
export async function revokeDeployKey(r: DeployKeyRecord, token: string, fetchImpl?: FetchLike): Promise<'revoked' | 'already_gone'> {
  const doFetch: FetchLike = fetchImpl ?? (globalThis.fetch as unknown as FetchLike);
  let status: string;
  try {
    const res = await doFetch(`${keysUrl(r.apiUrl, r.owner, r.name)}/${r.id}`, {
      method: 'DELETE',
      headers: { authorization: `token ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status === 204 || res.status === 200) return 'revoked';
    if (res.status === 404) return 'already_gone';
    status = `HTTP ${res.status}`;
  } catch (err) {
    status = `unreachable: ${(err as Error).message}`;
  }
  throw new BottleError('TEARDOWN_FAILED', unrevokedMessage(r, status), {
    fix: `bot-bottle cleanup retries it (record kept in ${UNREVOKED_KEYS_FILE})`,
    data: { record: r, status },
  });
}

/**
 * Launch step for every gitea repo: key into `<gateDir>/creds/<name>/id_ed25519`, record appended
 * to `<gateDir>/deploy-keys.json` after each registration (so a failure later still revokes it).
 * `tokens` maps provisioner variable name → value.
 */
export async function provisionGiteaKeys(
  repos: readonly GitGateRepo[],
  slug: string,
  gateDir: string,
  tokens: Readonly<Record<string, string>>,
  fetchImpl?: FetchLike,
): Promise<DeployKeyRecord[]> {
  const records: DeployKeyRecord[] = [];
  for (const repo of repos) {
    if (repo.key?.provider !== 'gitea') continue;
    const token = tokens[repo.key.provisionerToken];
    if (!token) {
      throw new BottleError('TOKEN_MISSING', `gitea provisioner token not set on the host: ${repo.key.provisionerToken}`, {
        fix: `export it, or remove git-gate.repos.${repo.name}`,
      });
    }
    const rec = await provisionDeployKey({
      repo,
      slug,
      token,
      keyPath: join(gateDir, 'creds', repo.name, 'id_ed25519'),
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    });
    records.push(rec);
    await writeFile(join(gateDir, DEPLOY_KEYS_FILE), JSON.stringify(records, null, 2) + '\n', { mode: 0o600 });
  }
  return records;
}

export interface RevokeReport {
  readonly revoked: readonly DeployKeyRecord[];
  readonly failed: ReadonlyArray<{ readonly record: DeployKeyRecord; readonly message: string }>;
}

/**
 * Teardown step: revoke every recorded key (and any earlier unrevoked ones). Failures are kept in
 * `unrevoked-keys.json` (removed when none remain) and returned; the caller prints each message
 * and exits non-zero when `failed` is not empty.
 */
export async function revokeGiteaKeys(
  gateDir: string,
  tokens: Readonly<Record<string, string>>,
  opts: { readonly fetch?: FetchLike; /** Default `<gateDir>/unrevoked-keys.json`; put it outside a state dir that teardown deletes. */ readonly unrevokedPath?: string } = {},
): Promise<RevokeReport> {
  const fetchImpl = opts.fetch;
  const unrevokedPath = opts.unrevokedPath ?? join(gateDir, UNREVOKED_KEYS_FILE);
  const load = async (f: string): Promise<DeployKeyRecord[]> => {
    try {
      return JSON.parse(await readFile(f, 'utf8')) as DeployKeyRecord[];
    } catch {
      return [];
    }
  };
  const all = [...(await load(join(gateDir, DEPLOY_KEYS_FILE))), ...(await load(unrevokedPath))];
  const seen = new Set<string>();
  const revoked: DeployKeyRecord[] = [];
  const failed: Array<{ record: DeployKeyRecord; message: string }> = [];
  for (const r of all) {
    const k = `${r.apiUrl} ${r.owner}/${r.name} ${r.id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const token = tokens[r.provisionerToken];
    if (!token) {
      failed.push({ record: r, message: unrevokedMessage(r, `${r.provisionerToken} not set on the host`) });
      continue;
    }
    try {
      await revokeDeployKey(r, token, fetchImpl);
      revoked.push(r);
    } catch (err) {
      failed.push({ record: r, message: (err as Error).message });
    }
  }
  await rm(join(gateDir, DEPLOY_KEYS_FILE), { force: true });
  if (failed.length > 0) {
    await mkdir(dirname(unrevokedPath), { recursive: true });
    await writeFile(unrevokedPath, JSON.stringify(failed.map((f) => f.record), null, 2) + '\n', { mode: 0o600 });
  } else {
    await rm(unrevokedPath, { force: true });
  }
  return { revoked, failed };
}
