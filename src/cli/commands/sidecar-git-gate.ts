import type { Command } from 'commander';
import { runDaemon } from '../../sidecar/run-daemon.js';

/**
 * `bot-bottle sidecar git-gate`: runs the git gate daemon in the foreground. Configuration comes
 * only from its environment (docs/architecture.md §7: GIT_GATE_CONFIG, GIT_GATE_ROOT,
 * GIT_GATE_LISTEN, GIT_GATE_TOKEN_<n>, …), which the sidecar supervisor scopes. Logs are JSON lines
 * on stderr. Exit 78 on an invalid config, a missing credential file or an unset token slot.
 */
export function registerSidecarGitGate(sidecarCommand: Command): void {
  sidecarCommand
    .command('git-gate')
    .description('run the git gate daemon (smart HTTP on GIT_GATE_LISTEN, default 0.0.0.0:9420)')
    .action(async () => {
      // The daemon's modules load inside runDaemon: the supervisor loads this file too.
      process.exitCode = await runDaemon('git-gate');
    });
}
