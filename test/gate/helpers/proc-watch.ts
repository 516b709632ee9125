/**
 * Samples /proc while git operations run: records any process whose argv contains the marker,
 * and any agent-facing git process (http-backend, upload-pack, receive-pack, the hook) whose
 * environment contains it. Linux only; bounded by the caller's stop().
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcWatch {
  stop(): { argvHits: string[]; envHits: string[]; samples: number; sawGit: number };
}

export function watchProc(marker: string, intervalMs = 3): ProcWatch {
  const argvHits: string[] = [];
  const envHits: string[] = [];
  let samples = 0;
  let sawGit = 0;
  const tick = () => {
    samples++;
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const pid of pids) {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      if (cmd.includes(marker)) argvHits.push(cmd.replace(marker, '<MARKER>'));
      if (/git/.test(cmd)) sawGit++;
      if (/http-backend|upload-pack|receive-pack|pre-receive/.test(cmd)) {
        try {
          if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker)) envHits.push(cmd);
        } catch {
          // exited
        }
      }
    }
  };
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return { argvHits, envHits, samples, sawGit };
    },
  };
}

export interface GateProc {
  pid: number;
  ppid: number;
  cmd: string;
}

/**
 * Every live process that belongs to the gate rooted at `root`, found the way an operator would:
 * its environment names the root (`HOME`/`GIT_PROJECT_ROOT` of the gate's git children) or its
 * cwd is inside it. Independent of src/gate on purpose. Zombies are skipped (already dead).
 */
export function gateProcesses(root: string): GateProc[] {
  const out: GateProc[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // exited or not ours to read
      }
      const mine = env.some((e) => e === `HOME=${root}` || e.startsWith(`GIT_PROJECT_ROOT=${root}`)) || cwd === root || cwd.startsWith(`${root}/`);
      if (!mine) continue;
      out.push({ pid: Number(pid), ppid: Number(fields[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim() });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** SIGKILLs whatever `gateProcesses` found (test teardown: a failing test must not leave a spinning orphan). */
export function killGateProcesses(root: string): void {
  for (const p of gateProcesses(root)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
