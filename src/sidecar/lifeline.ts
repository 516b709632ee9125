/**
 * The supervisor ↔ daemon lifeline: the supervisor gives each daemon one end of a socketpair as
 * fd 3 (Node's spawn 'pipe').
 *
 * - Supervisor → daemon: never written. When the supervisor dies — even by SIGKILL, which it cannot
 *   forward — the kernel closes its end, the daemon reads EOF and exits at once. Without it the
 *   daemons were re-parented to init and went on serving: the agent kept its network although the
 *   bottle showed its sidecars down (docs/security-model.md#3-fault-behaviour: a dead sidecar fails
 *   closed).
 * - Daemon → supervisor: one line, `listening\n`, once the daemon's server accepts connections.
 *   The supervisor waits for that event instead of polling ports (docs/decisions/launch-readiness.md).
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

/** The fd the supervisor passes; a daemon started any other way has no such pipe and no lifeline. */
export const LIFELINE_FD = 3;

/** Exit code of a daemon whose supervisor went away (EX_SOFTWARE would mislead; 75 = EX_TEMPFAIL). */
export const LIFELINE_EXIT = 75;

/** The line a daemon writes on its lifeline once it listens. */
export const LISTENING_LINE = 'listening';

export interface Lifeline {
  /** Reports that the daemon's server listens (idempotent). */
  listening(): void;
}

/** Returns the lifeline, or null when this process was not started with one (by hand, tests). */
export function watchLifeline(onLost: () => void = () => process.exit(LIFELINE_EXIT)): Lifeline | null {
  try {
    // Node's spawn 'pipe' is a socketpair; a shell-made pipe is a FIFO. Anything else (a file, a
    // tty) on fd 3 is not ours.
    const st = fstatSync(LIFELINE_FD);
    if (!st.isFIFO() && !st.isSocket()) return null;
  } catch {
    return null;
  }
  // A FIFO only reads; a socketpair also carries the `listening` line back.
  const socket = fstatSync(LIFELINE_FD).isSocket();
  const pipe = new Socket({ fd: LIFELINE_FD, readable: true, writable: socket });
  let lost = false;
  const lose = () => {
    if (lost) return;
    lost = true;
    onLost();
  };
  pipe.on('data', () => undefined);
  pipe.on('end', lose);
  pipe.on('close', lose);
  pipe.on('error', lose);
  // The pipe itself must not keep a daemon alive that has otherwise finished.
  pipe.unref();
  let told = false;
  return {
    listening() {
      if (told || !socket || lost) return;
      told = true;
      pipe.write(`${LISTENING_LINE}\n`);
    },
  };
}
