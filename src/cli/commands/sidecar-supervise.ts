import type { Command } from 'commander';
import { runDaemon } from '../../sidecar/run-daemon.js';

/**
 * `bot-bottle sidecar supervise`: runs the supervise daemon in the foreground (docs/architecture.md
 * §7a): MCP over Streamable HTTP on SUPERVISE_LISTEN (default 0.0.0.0:9100), the internal API on
 * SUPERVISE_INTERNAL_SOCKET, proposals through the spool SUPERVISE_SPOOL_DIR. It holds no
 * credentials. Exit 78 on an invalid setting or an unusable spool or socket path.
 */
export function registerSidecarSupervise(sidecarCommand: Command): void {
  sidecarCommand
    .command('supervise')
    .description('run the supervise daemon (MCP on SUPERVISE_LISTEN, default 0.0.0.0:9100)')
    .action(async () => {
      // The daemon's modules load inside runDaemon: the supervisor loads this file too.
      process.exitCode = await runDaemon('supervise');
    });
}
