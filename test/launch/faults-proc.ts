/** The host process table read from /proc: argv of every process, a process's environment, sidecar daemons by slug. */
import { readdirSync, readFileSync } from 'node:fs';

/** pid → argv joined with spaces, for every process readable right now. */
export function allCmdlines(): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const raw = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (raw !== '') out.set(Number(e), raw.split('\0').filter(Boolean).join(' '));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  let raw = '';
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return out;
  }
  for (const kv of raw.split('\0').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** Pids of `bot-bottle sidecar <daemon>` processes serving `slug` (found by BOT_BOTTLE_SLUG, whatever uid they run as). */
export function daemonPids(slug: string, daemon: 'egress' | 'git-gate'): number[] {
  const re = new RegExp(`\\bsidecar ${daemon}$`);
  return [...allCmdlines()].filter(([pid, cmd]) => re.test(cmd) && environOf(pid).BOT_BOTTLE_SLUG === slug).map(([pid]) => pid);
}

/** Process group id of `pid` (field 5 of /proc/<pid>/stat). */
export function pgidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Parent pid of `pid` (field 4 of /proc/<pid>/stat). */
export function ppidOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
