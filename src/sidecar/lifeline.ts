/**
 * The supervisor → daemon lifeline: the supervisor gives each daemon the read end of a pipe as fd 3
 * (a socketpair, as Node makes them) and never writes to it. When the supervisor dies — even by SIGKILL, which it cannot forward — the
 * kernel closes the write end, the daemon reads EOF and exits at once. Without it the daemons were
 * re-parented to init and went on serving: the agent kept its network although the bottle showed
 * its sidecars down (docs/security-model.md#3-fault-behaviour: a dead sidecar fails closed).
 */
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

/** The fd the supervisor passes; a daemon started any other way has no such pipe and no lifeline. */
export const LIFELINE_FD = 3;

/** Exit code of a daemon whose supervisor went away (EX_SOFTWARE would mislead; 75 = EX_TEMPFAIL). */
export const LIFELINE_EXIT = 75;

export function watchLifeline(onLost: () => void = () => process.exit(LIFELINE_EXIT)): boolean {
  try {
    // Node's spawn 'pipe' is a socketpair; a shell-made pipe is a FIFO. Anything else (a file, a
    // tty) on fd 3 is not ours.
    const st = fstatSync(LIFELINE_FD);
    if (!st.isFIFO() && !st.isSocket()) return false;
  } catch {
    return false;
  }
  const pipe = new Socket({ fd: LIFELINE_FD, readable: true, writable: false });
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
  return true;
}
