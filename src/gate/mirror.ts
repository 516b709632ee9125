/**
 * One bare mirror per declared repo and its refresh from upstream (docs/architecture.md §7).
 * Origin has a URL and no fetch refspec: fetches pass explicit refspecs, and the push forwarded
 * from inside pre-receive never updates local refs inside the quarantine.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateRepoConfig } from './config.js';
import type { GitRunner } from './git.js';
import { reasonFromStderr } from './sanitize.js';

export function mirrorPath(root: string, name: string): string {
  return join(root, 'repos', `${name}.git`);
}

export async function ensureMirror(git: GitRunner, root: string, hooksDir: string, repo: GateRepoConfig): Promise<string> {
  const dir = mirrorPath(root, repo.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const init = await git.run(['init', '--quiet', '--bare', dir]);
  if (init.code !== 0) throw new Error(`git init of mirror '${repo.name}' failed: ${init.stderr.trim()}`);
  const settings: Array<[string, string]> = [
    ['remote.origin.url', repo.url],
    ['core.hooksPath', hooksDir],
    ['http.receivepack', repo.policy.readOnly ? 'false' : 'true'],
    ['receive.fsckObjects', 'true'],
    ['receive.maxInputSize', '536870912'],
    ['uploadpack.allowAnySHA1InWant', 'false'],
    // Local checks stay out of the way: policy lives only in pre-receive, which forwards upstream.
    ['receive.denyNonFastForwards', 'false'],
    ['receive.denyDeletes', 'false'],
    ['receive.denyCurrentBranch', 'ignore'],
    ['core.logAllRefUpdates', 'false'],
    ['gc.auto', '0'],
  ];
  for (const [k, v] of settings) {
    const r = await git.run(['config', k, v], { cwd: dir });
    if (r.code !== 0) throw new Error(`git config ${k} in mirror '${repo.name}' failed: ${r.stderr.trim()}`);
  }
  await git.run(['config', '--unset-all', 'remote.origin.fetch'], { cwd: dir });
  return dir;
}

export type RefreshResult = { ok: true; headRepaired: string | null } | { ok: false; reason: string; hostKeyMismatch: boolean };

export interface RefreshDeps {
  readonly git: GitRunner;
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly secrets: readonly string[];
}

function failure(stderr: string, timedOut: boolean, timeoutMs: number, secrets: readonly string[]): RefreshResult {
  if (timedOut) return { ok: false, reason: `timed out after ${Math.round(timeoutMs / 1000)}s`, hostKeyMismatch: false };
  const hostKeyMismatch = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed|No .*host key is known/i.test(stderr);
  return { ok: false, reason: reasonFromStderr(stderr, secrets), hostKeyMismatch };
}

/** `git fetch --prune` of heads and tags, then HEAD repair. Never serves stale data on failure. */
export async function refreshMirror(d: RefreshDeps): Promise<RefreshResult> {
  const fetched = await d.git.run(
    ['fetch', '--quiet', '--prune', '--no-write-fetch-head', 'origin', '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'],
    { cwd: d.dir, env: d.env, timeoutMs: d.timeoutMs },
  );
  if (fetched.code !== 0) return failure(fetched.stderr, fetched.timedOut, d.timeoutMs, d.secrets);
  const head = await d.git.run(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: d.dir });
  if (head.code === 0) return { ok: true, headRepaired: null };
  const ls = await d.git.run(['ls-remote', '--symref', 'origin', 'HEAD'], { cwd: d.dir, env: d.env, timeoutMs: d.timeoutMs });
  if (ls.code !== 0) return failure(ls.stderr, ls.timedOut, d.timeoutMs, d.secrets);
  const m = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(ls.stdout.toString('utf8'));
  let target = m?.[1];
  if (!target) {
    // Upstream without a symref HEAD (or empty): fall back to a branch we have, preferring main/master.
    const heads = await d.git.run(['for-each-ref', '--format=%(refname)', 'refs/heads/'], { cwd: d.dir });
    const names = heads.stdout.toString('utf8').split('\n').filter(Boolean);
    target = names.find((n) => n === 'refs/heads/main') ?? names.find((n) => n === 'refs/heads/master') ?? names[0];
  }
  if (!target) return { ok: true, headRepaired: null }; // empty upstream: nothing to point at
  const sym = await d.git.run(['symbolic-ref', 'HEAD', target], { cwd: d.dir });
  return { ok: true, headRepaired: sym.code === 0 ? target : null };
}
