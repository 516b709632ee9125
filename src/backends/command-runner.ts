/**
 * The one injectable runner the CLI-driven backends (smolmachines, macos-container) send every
 * external command through, so unit tests can capture each argv and answer it (golden argv
 * lists, docs/decisions/smolmachines-cli-syntax.md). The real runner is run-command.ts's, plus
 * binary stdin (a tar stream for copyIn) and an interactive mode for a sudo prompt.
 */
import { spawn } from 'node:child_process';
import type { CommandResult } from './run-command.js';

export interface RunOptions {
  /** Bytes for the child's stdin (a JSON line, a file's content, a tar stream). */
  readonly input?: string | Uint8Array;
  /** Environment of the child; default: the launcher's own (these tools live on the user's PATH). */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** stdin/stdout/stderr are the terminal's (a `sudo` password prompt); output is not captured. */
  readonly interactive?: boolean;
}

export type CommandRunner = (command: string, args: readonly string[], opts?: RunOptions) => Promise<CommandResult>;

export interface CapturedCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly input?: string | Uint8Array;
}

export const realRunner: CommandRunner = (command, args, opts = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], {
      env: opts.env ?? process.env,
      stdio: opts.interactive ? 'inherit' : ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    // Image packing and VM creation can take minutes; an interactive prompt waits for a person.
    const timer = opts.interactive ? null : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    }
  });

/** First line of a failed command's stderr (or stdout), for one-line errors. */
export function firstLine(r: CommandResult): string {
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '';
  return text.slice(0, 300);
}

/** One command line: what the runner runs (and golden tests compare). */
export interface Argv {
  readonly command: string;
  readonly args: readonly string[];
}
