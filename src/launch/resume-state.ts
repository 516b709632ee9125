/**
 * Re-writes the launch files of an EXISTING state dir for `resume` (docs/architecture.md §4.8): a
 * new CA (the key was deleted at the last teardown), the routes file and git-gate config from the
 * re-read manifests, fresh metadata. The agent's home, logs and spool are kept.
 * src/plan/materialize.ts refuses an existing directory by design (slug clash), so resume checks
 * the directory exists and then writes the same files.
 */
import { existsSync } from 'node:fs';
import { BottleError } from '../errors.js';
import { writeLaunchFiles } from '../plan/materialize.js';
import type { PreparedLaunch } from '../plan/prepare.js';

export async function rematerializeState(prepared: PreparedLaunch, now: Date = new Date()): Promise<void> {
  const { plan } = prepared;
  const dir = plan.stateDir;
  if (!existsSync(dir)) throw new BottleError('STATE_NOT_FOUND', `no saved state for "${plan.slug}" (looked in ${dir})`, { fix: 'see "bot-bottle list"' });
  await writeLaunchFiles(prepared, now);
}
