/**
 * `state/<slug>/live-config/.lock` (docs/supervise.md, "Applying approvals"): exclusive
 * create; a lock older than 30 s is stale (its holder died) and is taken over. Serialises every
 * host process that rewrites one bottle's live routes.
 */
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const LOCK_STALE_MS = 30_000;
const WAIT_MS = 35_000;

export async function withRoutesLock<T>(liveConfigDir: string, fn: () => Promise<T>): Promise<T> {
  const path = join(liveConfigDir, '.lock');
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // released between our create and stat
      }
      if (age > LOCK_STALE_MS) rmSync(path, { force: true });
      else if (Date.now() > deadline) throw new Error(`${path} is held by another process; try again`);
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
