/** A hand-materialised state dir for the REAL sidecar daemons (CA, routes file, gate config). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBottleCa, writeBottleCa } from '../../src/egress/ca.js';
import type { BottlePlan } from '../../src/plan/bottle-plan.js';

export async function writeRealState(plan: BottlePlan, routesYaml: string): Promise<void> {
  await writeBottleCa(join(plan.stateDir, 'egress'), await createBottleCa(plan.slug, new Date()));
  mkdirSync(join(plan.stateDir, 'live-config'), { recursive: true, mode: 0o700 });
  writeFileSync(join(plan.stateDir, 'live-config', 'routes.yaml'), routesYaml, { mode: 0o644 });
  mkdirSync(join(plan.stateDir, 'git-gate'), { recursive: true, mode: 0o700 });
  writeFileSync(join(plan.stateDir, 'git-gate', 'config.yaml'), 'version: 1\nrepos: []\n', { mode: 0o644 });
  for (const d of ['supervise/spool', 'run', 'logs']) mkdirSync(join(plan.stateDir, d), { recursive: true, mode: 0o700 });
}

export function routesFor(slug: string, host: string, port: number): string {
  return [
    'version: 1',
    'generation: 1',
    `bottle: ${slug}`,
    'log: 1',
    'routes:',
    `  - host: ${host}`,
    `    port: ${port}`,
    '    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}',
    '    allow_private_cidrs: [127.0.0.0/8]',
    '',
  ].join('\n');
}

/** metadata.json as `start` writes it for a headless netns bottle: how the CLI finds the bottle's backend. */
export function writeNetnsMetadata(plan: BottlePlan): void {
  writeFileSync(
    join(plan.stateDir, 'metadata.json'),
    JSON.stringify({ schema_version: 1, identity: plan.slug, agent_name: 'a', bottle_names: [], backend: 'netns', label: plan.slug, color: 'none', cwd: '/', copy_cwd: false, started_at: new Date().toISOString(), headless: true, template: 'claude', bot_bottle_version: '0.1.0' }),
  );
}
