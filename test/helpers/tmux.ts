/** A private tmux server for driving the interactive CLI in a real terminal (send-keys + capture-pane). */
import { execFileSync, spawnSync } from 'node:child_process';

export const hasTmux = spawnSync('sh', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status === 0;

export interface TmuxServer {
  /** A tmux command on this server; its stdout. */
  tmux(...args: string[]): string;
  kill(): void;
}

/** A server of its own (`tmux -L`), so tests never touch the user's sessions or each other's. */
export function tmuxServer(prefix: string): TmuxServer {
  const sock = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  return {
    tmux: (...args) => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' }),
    kill: () => void spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' }),
  };
}

/** Polls `cond` until it holds or `ms` passed; its last answer. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 150));
  }
  return cond();
}
