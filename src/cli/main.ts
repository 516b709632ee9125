#!/usr/bin/env node
/**
 * The entry point (bin/bot-bottle.mjs, and the sidecars: src/sidecar/self-command.ts). Dispatch
 * only: the sidecar processes — a daemon as exactly `main.js sidecar <daemon>`, the supervisor as
 * exactly the argv the backends use — run without loading the command-line parser; everything else
 * goes through program.ts (docs/decisions/launch-processes.md).
 */
import type { Command } from 'commander';
import { EXIT } from '../errors.js';
import { printError } from './output.js';
import { closeInheritedFds } from './inherited-fds.js';
import { runSidecarArgv } from '../sidecar/dispatch.js';

export async function buildProgram(only?: string): Promise<Command> {
  return (await import('./program.js')).buildProgram(only);
}

export async function main(argv: string[]): Promise<number> {
  const sidecar = await runSidecarArgv(argv);
  if (sidecar !== null) return sidecar;
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
