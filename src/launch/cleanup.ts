/**
 * `cleanup` as a library (cli spec §8): orphans of every available backend plus state dirs
 * without a live session. Never prints; the CLI renders the result.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, CleanupPlan } from '../backends/backend.js';
import { scanStateDirs } from './live.js';

export interface CleanupSurvey {
  plans: CleanupPlan[];
  removableState: string[]; // slugs
  keptPreserved: string[]; // slugs
  skippedBackends: string[];
}

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

export async function applyCleanup(home: string, backends: readonly Backend[], survey: CleanupSurvey): Promise<CleanupOutcome> {
  const failed: string[] = [];
  const warnings: string[] = [];
  for (const plan of survey.plans) {
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
    // Deploy-key revocation retries belong to the git-gate provisioning; until it can retry
    // here, a dir with pending revocations is kept so no key is forgotten.
    const pending = join(dir, 'git-gate', 'unrevoked-keys.json');
    if (existsSync(pending) && readFileSync(pending, 'utf8').trim() !== '[]') {
      warnings.push(`kept state/${slug}: deploy key revocation still pending (${pending})`);
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
