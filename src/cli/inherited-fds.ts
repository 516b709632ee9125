/**
 * Closes descriptors the CLI inherited without close-on-exec. Node marks fds 0–15 (up to the first
 * gap) close-on-exec at startup and opens its own that way, so anything still inheritable here came
 * from whoever started us — a multiplexer's socket, a build tool's jobserver pipe, a test harness —
 * and would otherwise pass through the root helpers into every bottle sandbox and sidecar
 * (docs/decisions/netns-clean-env.md). 0–2 stay: spawn hands those on deliberately.
 */
import { closeSync, readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

export function inheritableFds(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fdinfo');
  } catch {
    return []; // not Linux, or no /proc: nothing we can inspect
  }
  const out: number[] = [];
  for (const e of entries) {
    const fd = Number(e);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${e}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) out.push(fd);
    } catch {
      // the directory listing's own fd, gone by now
    }
  }
  return out;
}

export function closeInheritedFds(): number[] {
  const closed: number[] = [];
  for (const fd of inheritableFds()) {
    try {
      closeSync(fd);
      closed.push(fd);
    } catch {
      // already closed
    }
  }
  return closed;
}
