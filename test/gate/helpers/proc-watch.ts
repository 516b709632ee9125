/**
 * Samples /proc while git operations run: records any process whose argv contains the marker,
 * and any agent-facing git process (http-backend, upload-pack, receive-pack, the hook) whose
 * environment contains it. Linux only; bounded by the caller's stop().
 */
import { readdirSync, readFileSync } from 'node:fs';

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
