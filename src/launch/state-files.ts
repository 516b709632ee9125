/** session.json and .preserve (docs/architecture.md §5). Owned by the launch lifecycle. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type PreserveReason = 'exit-nonzero' | 'interrupted' | 'capability-approved' | 'committed' | 'revoke-failed';

export function writeSession(stateDir: string): void {
  writeFileSync(join(stateDir, 'session.json'), `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`, { mode: 0o600 });
}

export function removeSession(stateDir: string): void {
  rmSync(join(stateDir, 'session.json'), { force: true });
}

export function writePreserve(stateDir: string, reason: PreserveReason, exitCode: number): void {
  writeFileSync(join(stateDir, '.preserve'), `${JSON.stringify({ reason, at: new Date().toISOString(), exitCode })}\n`, { mode: 0o600 });
}

/** An existing preserve reason (e.g. `committed`, `capability-approved`) set during the session. */
export function readPreserveReason(stateDir: string): PreserveReason | null {
  const p = join(stateDir, '.preserve');
  if (!existsSync(p)) return null;
  try {
    const doc = JSON.parse(readFileSync(p, 'utf8')) as { reason?: PreserveReason };
    return doc.reason ?? 'exit-nonzero';
  } catch {
    return 'exit-nonzero';
  }
}

export function clearPreserve(stateDir: string): void {
  rmSync(join(stateDir, '.preserve'), { force: true });
}
