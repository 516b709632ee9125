/**
 * What the agent-facing process backends share about a child they run for the agent: its exit
 * code (a signal n reads as 128+n, as a shell reports it) and how an attached session's output
 * reaches the caller.
 */
import type { ChildProcess } from 'node:child_process';

export function signalCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] : undefined;
  return 128 + (n ?? 1);
}

/**
 * Resolves with the exit code of an attached session; without a tty its output goes to `onOutput`
 * (or this process's own streams). A child that cannot start is 127.
 */
export function attachedExit(child: ChildProcess, opts: { tty: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void }): Promise<number> {
  if (!opts.tty) {
    const out = (stream: 'stdout' | 'stderr') => (c: Buffer) => {
      if (opts.onOutput) opts.onOutput(stream, c);
      else process[stream].write(c);
    };
    child.stdout!.on('data', out('stdout'));
    child.stderr!.on('data', out('stderr'));
  }
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (code, sig) => resolve(signalCode(code, sig)));
  });
}
