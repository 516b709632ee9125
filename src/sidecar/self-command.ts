/**
 * How to re-run this very bot-bottle as a child process (the sidecar supervisor and its daemons).
 * Always the compiled JavaScript, whichever way the current process started (installed CLI,
 * `npm run dev`, tests under a TypeScript loader): a sidecar never depends on a loader, parses
 * hostile traffic with the same code users run, and starts fast (docs/decisions/packaging.md).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BottleError } from '../errors.js';

/** dist/cli/main.js from dist/sidecar/ (compiled) or src/sidecar/ (sources in a checkout). */
export function compiledMain(): string {
  const fromDist = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const fromSrc = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  return import.meta.url.endsWith('.ts') ? fromSrc : fromDist;
}

export function selfCommand(args: readonly string[]): { command: string; args: string[] } {
  const main = compiledMain();
  if (!existsSync(main)) {
    throw new BottleError('INTERNAL', `the compiled sidecar entry point is missing: ${main}`, { fix: 'run "npm run build" in the bot-bottle checkout' });
  }
  return { command: process.execPath, args: [main, ...args] };
}
