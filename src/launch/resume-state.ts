/**
 * Re-writes the launch files of an EXISTING state dir for `resume` (cli spec §5, §15): a new CA
 * (the key was deleted at the last teardown), the routes file and git-gate config from the
 * re-read manifests, fresh metadata. The agent's home, logs and spool are kept. Mirrors
 * src/plan/materialize.ts, which refuses an existing directory by design (slug clash).
 */
import { chmod, copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BottleError } from '../errors.js';
import { createBottleCa, writeBottleCa } from '../egress/ca.js';
import { renderRoutesFile } from '../egress/routes-file.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import { STATE_ENTRIES } from '../state/paths.js';
import { writeMetadata } from '../state/metadata.js';

async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export async function rematerializeState(prepared: PreparedLaunch, now: Date = new Date()): Promise<void> {
  const { plan } = prepared;
  const dir = plan.stateDir;
  if (!existsSync(dir)) throw new BottleError('STATE_NOT_FOUND', `no saved state for "${plan.slug}" (looked in ${dir})`, { fix: 'see "bot-bottle list"' });
  await writeMetadata(dir, prepared.metadata);
  await writeBottleCa(join(dir, STATE_ENTRIES.egressDir), await createBottleCa(plan.slug, now));
  await writeAtomic(join(dir, STATE_ENTRIES.routesFile), renderRoutesFile(prepared.routesFile), 0o644);
  const gateDir = join(dir, STATE_ENTRIES.gitGateDir);
  await writeAtomic(join(dir, STATE_ENTRIES.gitGateConfig), prepared.gate.configYaml, 0o644);
  for (const f of prepared.gate.copyFiles) {
    const dest = join(gateDir, f.dest);
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await copyFile(f.source, dest);
    await chmod(dest, 0o600);
  }
  for (const k of prepared.gate.knownHosts) await writeAtomic(join(gateDir, k.dest), k.content, 0o600);
  for (const sub of [STATE_ENTRIES.superviseSpool, STATE_ENTRIES.runDir, STATE_ENTRIES.logsDir]) {
    await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  }
  for (const f of prepared.providerFiles) {
    await writeAtomic(join(dir, STATE_ENTRIES.providerDir, f.path.replace(/^\/home\/node\//, '')), f.content, 0o600);
  }
}
