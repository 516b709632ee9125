/**
 * `cleanup` as a library (docs/cli.md#commands): orphans of every available backend plus state dirs
 * without a live session. Never prints; the CLI renders the result.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, CleanupPlan } from '../backends/backend.js';
import { DEPLOY_KEYS_FILE, UNREVOKED_KEYS_FILE, revokeGiteaKeys, type DeployKeyRecord, type FetchLike } from '../gate/gitea.js';
import { endGateLeftovers, findGateLeftovers } from '../gate/leftovers.js';
import { scanStateDirs } from './live.js';

export interface CleanupSurvey {
  plans: CleanupPlan[];
  removableState: string[]; // slugs
  keptPreserved: string[]; // slugs
  skippedBackends: string[];
}

/**
 * Plan name for processes left of a dead bottle's git gate (its git children run in their own
 * process groups, so a daemon killed outright leaves them; docs/decisions/gate-scan-every-object.md).
 */
export const GATE_LEFTOVERS_PLAN = 'git-gate';

export async function surveyCleanup(home: string, backends: readonly Backend[], opts: { slugs?: readonly string[]; includePreserved?: boolean } = {}): Promise<CleanupSurvey> {
  const named = opts.slugs && opts.slugs.length > 0 ? new Set(opts.slugs) : null;
  const states = scanStateDirs(home);
  const live = new Set(states.filter((s) => s.live).map((s) => s.slug));
  const plans: CleanupPlan[] = [];
  const skippedBackends: string[] = [];
  for (const b of backends) {
    if (!(await b.available()).ok) {
      skippedBackends.push(b.name);
      continue;
    }
    const p = await b.cleanupPlan(live);
    const resources = named ? p.resources.filter((r) => r.slug !== null && named.has(r.slug)) : p.resources;
    if (resources.length > 0) plans.push({ backend: p.backend, resources });
  }
  const leftovers: CleanupPlan['resources'] = [];
  for (const s of states) {
    if (s.live || (named && !named.has(s.slug))) continue;
    for (const p of findGateLeftovers(join(s.dir, 'git-gate'))) leftovers.push({ kind: 'process', name: String(p.pid), slug: s.slug });
  }
  if (leftovers.length > 0) plans.push({ backend: GATE_LEFTOVERS_PLAN, resources: leftovers });
  const removableState: string[] = [];
  const keptPreserved: string[] = [];
  for (const s of states) {
    if (s.live || (named && !named.has(s.slug))) continue;
    if (s.preserved && !opts.includePreserved && !named) keptPreserved.push(s.slug);
    else removableState.push(s.slug);
  }
  return { plans, removableState, keptPreserved, skippedBackends };
}

export interface CleanupOutcome {
  failed: string[];
  warnings: string[];
}

function keyRecords(gateDir: string): DeployKeyRecord[] {
  const out: DeployKeyRecord[] = [];
  for (const f of [DEPLOY_KEYS_FILE, UNREVOKED_KEYS_FILE]) {
    const path = join(gateDir, f);
    if (!existsSync(path)) continue;
    try {
      const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (Array.isArray(v)) out.push(...(v as DeployKeyRecord[]));
    } catch {
      // unreadable record file: handled by the caller as a pending revocation
      out.push({ repo: '?', title: f, id: -1, host: '?', owner: '?', name: '?', apiUrl: '', provisionerToken: '' });
    }
  }
  return out;
}

/**
 * Retries the revocation of every deploy key a dead bottle left registered
 * (docs/architecture.md §4.8, step 4). The provisioner tokens are read from the host env by the
 * names in the records. Returns the loud per-key messages of what is still not revoked (empty =
 * safe to delete the dir).
 */
async function retryRevocations(dir: string, hostEnv: Readonly<Record<string, string | undefined>>, fetchImpl?: FetchLike): Promise<string[]> {
  const gateDir = join(dir, 'git-gate');
  const records = keyRecords(gateDir);
  if (records.length === 0) return [];
  const tokens: Record<string, string> = {};
  for (const r of records) {
    const v = r.provisionerToken ? hostEnv[r.provisionerToken] : undefined;
    if (v) tokens[r.provisionerToken] = v;
  }
  try {
    const report = await revokeGiteaKeys(gateDir, tokens, fetchImpl ? { fetch: fetchImpl } : {});
    return report.failed.map((f) => f.message);
  } catch (err) {
    return [`deploy key revocation for ${dir} failed: ${(err as Error).message}`];
  }
}

export async function applyCleanup(
  home: string,
  backends: readonly Backend[],
  survey: CleanupSurvey,
  opts: { hostEnv?: Readonly<Record<string, string | undefined>>; fetch?: FetchLike } = {},
): Promise<CleanupOutcome> {
  const failed: string[] = [];
  const warnings: string[] = [];
  for (const plan of survey.plans) {
    if (plan.backend === GATE_LEFTOVERS_PLAN && !backends.some((x) => x.name === plan.backend)) {
      // Re-found by the state dir at apply time: only what still belongs to the dead bottle's gate dies.
      for (const slug of new Set(plan.resources.map((r) => r.slug))) {
        if (slug === null) continue;
        for (const pid of await endGateLeftovers(join(home, 'state', slug, 'git-gate'))) failed.push(`process ${pid}`);
      }
      continue;
    }
    const b = backends.find((x) => x.name === plan.backend);
    try {
      await b?.cleanup(plan);
    } catch (err) {
      // A backend may say exactly what it could not remove; else everything it was given counts.
      const named = (err as { data?: { failed?: unknown } }).data?.failed;
      if (Array.isArray(named)) failed.push(...named.map(String));
      else failed.push(...plan.resources.map((r) => `${r.kind} ${r.name}`));
    }
  }
  for (const slug of survey.removableState) {
    const dir = join(home, 'state', slug);
    const pending = await retryRevocations(dir, opts.hostEnv ?? process.env, opts.fetch);
    if (pending.length > 0) {
      warnings.push(...pending, `kept state/${slug}: deploy key revocation still pending; export the provisioner token and run cleanup again`);
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      failed.push(`state/${slug}`);
    }
  }
  return { failed, warnings };
}
