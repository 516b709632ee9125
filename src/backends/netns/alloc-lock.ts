/**
 * The host-wide allocation lock (docs/architecture.md §8.1): an flock(2) on
 * `<os.tmpdir()>/bot-bottle-alloc.lock`, held by a `flock … cat` child for as long as its stdin
 * stays open. Node has no flock; the kernel releases the lock when that child dies, so a crashed
 * launcher can never leave it held.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';

export const ALLOC_LOCK_PATH = join(tmpdir(), 'bot-bottle-alloc.lock');

export async function withAllocLock<T>(flockPath: string, fn: () => Promise<T>, timeoutSec = 60): Promise<T> {
  const child = spawn(flockPath, ['-x', '-w', String(timeoutSec), ALLOC_LOCK_PATH, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdin.on('error', () => undefined);
  const locked = await new Promise<boolean>((resolve) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('locked')) resolve(true);
    });
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  if (!locked) {
    throw new BottleError('LAUNCH_FAILED', `could not take the address allocation lock ${ALLOC_LOCK_PATH} within ${timeoutSec}s`, {
      fix: 'another launch may be stuck; check for a hanging "flock" process',
    });
  }
  try {
    return await fn();
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      await exited;
    }
  }
}
