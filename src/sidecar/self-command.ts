/**
 * How to re-run this very bot-bottle as a child process (the sidecar supervisor and its daemons).
 * Always the compiled JavaScript, whichever way the current process started (installed CLI,
 * `npm run dev`, tests under a TypeScript loader): a sidecar never depends on a loader, parses
 * hostile traffic with the same code users run, and starts fast (docs/decisions/packaging.md).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BottleError } from '../errors.js';

/**
 * The sidecar bundle, dist/bundle/sidecar.js (docs/decisions/sidecar-bundle.md), from dist/sidecar/
 * (compiled), src/sidecar/ (sources in a checkout) or dist/bundle/ itself (a supervisor's own path).
 */
export function compiledMain(): string {
  const here = import.meta.url;
  const rel = here.endsWith('.ts') ? '../../dist/bundle/sidecar.js' : /[\\/]bundle[\\/][^\\/]+$/.test(here) ? './sidecar.js' : '../bundle/sidecar.js';
  return fileURLToPath(new URL(rel, here));
}

export function selfCommand(args: readonly string[]): { command: string; args: string[] } {
  const main = compiledMain();
  if (!existsSync(main)) {
    throw new BottleError('INTERNAL', `the sidecar bundle is missing: ${main}`, { fix: 'run "npm run build" in the bot-bottle checkout' });
  }
  return { command: process.execPath, args: [main, ...args] };
}
