/**
 * A capturing CommandRunner for the golden-argv tests of the CLI-driven backends: records every
 * command line (and its stdin) in order and answers each from the test's script. Only the
 * external tool (smolvm, container, docker) is scripted; everything else the backend does — the
 * alias lock, claim files, the sidecar supervisor process — is real.
 */
import type { CommandResult } from '../../../src/backends/run-command.js';
import type { CapturedCommand, CommandRunner, RunOptions } from '../../../src/backends/command-runner.js';

export type Answer = Partial<CommandResult> | ((call: CapturedCommand & { opts: RunOptions }) => Partial<CommandResult>);

export interface CapturingRunner {
  run: CommandRunner;
  calls: Array<CapturedCommand & { opts: RunOptions }>;
  /** `command args…` of each call, joined with spaces (golden lists read best this way). */
  lines(): string[];
}

/** `script` maps a prefix of `command args…` to its answer; the longest matching prefix wins; default exit 0. */
export function capturingRunner(script: Record<string, Answer> = {}): CapturingRunner {
  const calls: CapturingRunner['calls'] = [];
  const run: CommandRunner = (command, args, opts = {}) => {
    const call = { command, args: [...args], ...(opts.input !== undefined ? { input: opts.input } : {}), opts };
    calls.push(call);
    const line = [command, ...args].join(' ');
    const key = Object.keys(script).filter((k) => line.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    const a = key === undefined ? {} : script[key]!;
    const r = typeof a === 'function' ? a(call) : a;
    return Promise.resolve({ code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
  };
  return { run, calls, lines: () => calls.map((c) => [c.command, ...c.args].join(' ')) };
}
