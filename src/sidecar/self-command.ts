/**
 * How to re-run this very bot-bottle (sources under tsx, or the compiled build) as a child process,
 * independent of how the current process was started (CLI, tests, API).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function selfCommand(args: readonly string[]): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
    // Resolved from here, not the cwd, so it works whatever directory the launch ran in.
    return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), main, ...args] };
  }
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (!existsSync(main)) throw new Error(`bot-bottle entry point missing: ${main}`);
  return { command: process.execPath, args: [main, ...args] };
}
