/**
 * The host-wide allocation lock for backends that are not netns (docs/decisions/loopback-alias-pool.md). Where flock(1) exists (Linux) it is the very same flock on
 * `<os.tmpdir()>/bot-bottle-alloc.lock` netns takes, so every allocator on the host excludes every
 * other. macOS ships no flock(1): there an atomic `mkdir` of `<lock>.d` is the lock, holding the
 * owner's pid so a lock left by a crashed launcher is taken over instead of blocking for ever
 * (docs/decisions/loopback-alias-pool.md).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import { ALLOC_LOCK_PATH, withAllocLock } from './netns/alloc-lock.js';
import { findSystemTool } from './platform.js';
import { pidAlive } from '../util/pid-alive.js';

export const MKDIR_LOCK_PATH = `${ALLOC_LOCK_PATH}.d`;

function ownerAlive(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'owner'), 'utf8').trim());
  } catch {
    // No owner file yet: the holder is between mkdir and write; treat as alive.
    return true;
  }
  return pidAlive(pid);
}

/** The mkdir lock (exported for tests; the backends call withHostLock). */
export async function withMkdirLock<T>(fn: () => Promise<T>, opts: { path?: string; timeoutSec?: number } = {}): Promise<T> {
  const path = opts.path ?? MKDIR_LOCK_PATH;
  const deadline = Date.now() + (opts.timeoutSec ?? 60) * 1000;
  let delay = 10;
  for (;;) {
    try {
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(join(path, 'owner'), `${process.pid}\n`);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!ownerAlive(path)) {
        // Only a dead owner's lock is removed; two launchers racing here both retry the mkdir,
        // and exactly one of them wins it.
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new BottleError('LAUNCH_FAILED', `could not take the address allocation lock ${path}`, {
          fix: `another launch may be stuck; if no bot-bottle is running, remove ${path}`,
        });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** Runs `fn` holding the host-wide allocation lock. */
export function withHostLock<T>(fn: () => Promise<T>): Promise<T> {
  const flock = findSystemTool('flock');
  return flock !== null ? withAllocLock(flock, fn) : withMkdirLock(fn);
}
