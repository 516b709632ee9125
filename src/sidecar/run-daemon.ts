/**
 * Runs one sidecar daemon in this process, with its lifeline (lifeline.ts). Shared by
 * `bot-bottle sidecar egress|git-gate` and the direct path of src/cli/main.ts: the supervisor
 * starts each daemon as exactly `main.js sidecar <daemon>`, and that argv is run without building
 * the command-line parser at all — a daemon loads only what it runs
 * (docs/decisions/launch-processes.md).
 */
import { watchLifeline } from './lifeline.js';

export type DirectDaemon = 'egress' | 'git-gate';

/** The daemons this build runs (supervise is not available: docs/decisions/supervise-not-available.md). */
export const IMPLEMENTED_DAEMONS: readonly DirectDaemon[] = ['egress', 'git-gate'];

/** The daemon named by exactly `<node> <main> sidecar <daemon>`; null for any other argv. */
export function directDaemon(argv: readonly string[]): DirectDaemon | null {
  if (argv.length !== 4 || argv[2] !== 'sidecar') return null;
  return IMPLEMENTED_DAEMONS.find((d) => d === argv[3]) ?? null;
}

/** Runs `daemon` until it stops; resolves with its exit code. `egress` takes optional overrides. */
export async function runDaemon(daemon: DirectDaemon, egress: { routes?: string; listen?: string } = {}): Promise<number> {
  const lifeline = watchLifeline();
  const listening = () => lifeline?.listening();
  if (daemon === 'egress') {
    const { runEgressDaemon } = await import('../egress/daemon.js');
    return runEgressDaemon(process.env, egress, listening);
  }
  const { runGitGateDaemon } = await import('../gate/daemon.js');
  return runGitGateDaemon(process.env, (line) => process.stderr.write(`${line}\n`), listening);
}
