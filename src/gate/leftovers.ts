/**
 * What is left of a bottle's gate after its daemon is gone (docs/decisions/gate-scan-every-object.md):
 * the gate's git children run in their own process groups, so a daemon killed outright (SIGKILL,
 * OOM) cannot take them along. `bot-bottle cleanup` finds them by the gate root they all carry —
 * `HOME` and `GIT_PROJECT_ROOT` in their environment (src/gate/git.ts baseGitEnv, src/gate/cgi.ts)
 * or a working directory inside it — and ends them. Linux /proc only; elsewhere nothing is found.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';

export interface GateLeftover {
  readonly pid: number;
  /** argv joined by spaces (for the cleanup listing; never an environment value). */
  readonly cmd: string;
}

function spellings(root: string): string[] {
  const out = [root.replace(/\/+$/, '')];
  try {
    const real = realpathSync(root);
    if (!out.includes(real)) out.push(real);
  } catch {
    // the state dir may already be gone; the processes still name it
  }
  return out;
}

/** Live processes (zombies excluded) that belong to the gate rooted at `gateRoot`. */
export function findGateLeftovers(gateRoot: string): GateLeftover[] {
  const roots = spellings(gateRoot);
  const inRoot = (p: string) => roots.some((r) => p === r || p.startsWith(`${r}/`));
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const out: GateLeftover[] = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not readable: decided by the environment alone
      }
      const mine =
        env.some((e) => (e.startsWith('HOME=') && inRoot(e.slice(5))) || (e.startsWith('GIT_PROJECT_ROOT=') && inRoot(e.slice(17)))) || (cwd !== '' && inRoot(cwd));
      if (!mine) continue;
      out.push({ pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim() });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return out;
}

/**
 * SIGKILLs what `findGateLeftovers(gateRoot)` finds now (re-checked, so a pid reused since the
 * survey is never hit). Returns the pids still alive afterwards.
 */
export async function endGateLeftovers(gateRoot: string, graceMs = 1000): Promise<number[]> {
  for (const p of findGateLeftovers(gateRoot)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + graceMs;
  let left = findGateLeftovers(gateRoot);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = findGateLeftovers(gateRoot);
  }
  return left.map((p) => p.pid);
}
