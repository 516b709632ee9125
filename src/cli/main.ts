#!/usr/bin/env node
/**
 * The entry point (bin/bot-bottle.mjs, and the sidecars: src/sidecar/self-command.ts). Dispatch
 * only: the sidecar processes — a daemon as exactly `main.js sidecar <daemon>`, the supervisor as
 * exactly the argv the backends use — run without loading the command-line parser; everything else
 * goes through program.ts (docs/decisions/launch-processes.md).
 */
import type { Command } from 'commander';
import { BottleError, EXIT } from '../errors.js';
import { printError } from './output.js';
import { closeInheritedFds } from './inherited-fds.js';
import { directDaemon, runDaemon } from '../sidecar/run-daemon.js';

export async function buildProgram(only?: string): Promise<Command> {
  return (await import('./program.js')).buildProgram(only);
}

export async function main(argv: string[]): Promise<number> {
  const daemon = directDaemon(argv);
  if (daemon !== null) return runDaemon(daemon);
  if (argv[2] === 'sidecar') {
    const { directSupervisor, runSupervisor } = await import('../sidecar/run-supervisor.js');
    const opts = directSupervisor(argv);
    if (opts !== null) {
      try {
        return await runSupervisor(opts);
      } catch (err) {
        // As program.ts reports a command's error: one line, the error's own exit code.
        printError(err);
        return err instanceof BottleError ? err.exitCode : EXIT.error;
      }
    }
  }
  return (await import('./program.js')).runProgram(argv);
}

const invokedDirectly = process.argv[1] !== undefined && /[\\/]cli[\\/]main\.[cm]?[jt]s$/.test(process.argv[1]);
const viaBin = process.argv[1] !== undefined && /bot-bottle(\.mjs)?$/.test(process.argv[1]);
if (invokedDirectly || viaBin) {
  closeInheritedFds();
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      printError(err);
      process.exitCode = EXIT.error;
    },
  );
}
