/**
 * Stand-alone entry of the git gate daemon (`node --import tsx src/gate/main.ts`): the same code
 * `bot-bottle sidecar git-gate` runs, usable before/without the CLI wiring. Logs JSON lines to stderr.
 */
import { runGitGateDaemon } from './daemon.js';

runGitGateDaemon(process.env, (line) => process.stderr.write(`${line}\n`)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`git-gate: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
