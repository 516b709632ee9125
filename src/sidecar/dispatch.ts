/**
 * The sidecar argv forms, run without the command-line parser: a daemon as exactly
 * `<main> sidecar <daemon>`, the supervisor as exactly the argv the backends use
 * (docs/decisions/launch-processes.md). Shared by the CLI entry (src/cli/main.ts) and the sidecar
 * bundle's entry (src/sidecar/entry.ts).
 */
import { BottleError, EXIT } from '../errors.js';
import { printError } from '../cli/output.js';
import { directDaemon, runDaemon } from './run-daemon.js';

/** The exit code of the sidecar process `argv` names, or null when `argv` is not a sidecar form. */
export async function runSidecarArgv(argv: string[]): Promise<number | null> {
  const daemon = directDaemon(argv);
  if (daemon !== null) return runDaemon(daemon);
  if (argv[2] !== 'sidecar') return null;
  const { directSupervisor, runSupervisor } = await import('./run-supervisor.js');
  const opts = directSupervisor(argv);
  if (opts === null) return null;
  try {
    return await runSupervisor(opts);
  } catch (err) {
    // As program.ts reports a command's error: one line, the error's own exit code.
    printError(err);
    return err instanceof BottleError ? err.exitCode : EXIT.error;
  }
}
