import type { Command } from 'commander';
import { registerSidecarEgress } from './sidecar-egress.js';
import { registerSidecarGitGate } from './sidecar-git-gate.js';
import { runSupervisor, type SidecarOpts } from '../../sidecar/run-supervisor.js';

export function registerSidecar(program: Command): void {
  const cmd = program
    .command('sidecar')
    .description('(internal) sidecar bundle supervisor: runs the egress and git-gate daemons with scoped env')
    .option('--daemons <list>', 'comma-separated daemons to run (default: BOT_BOTTLE_SIDECAR_DAEMONS, else all implemented)')
    .option('--config <dir>', 'bottle state directory; sets every daemon path variable inside it')
    .option('--listen <addr>', 'address every daemon listens on (default 0.0.0.0)')
    .option('--tokens-from-stdin', 'read the sidecar secrets as one JSON object from stdin before starting')
    .addHelpText('after', '\nExample:\n  bot-bottle sidecar --tokens-from-stdin --config ~/.bot-bottle/state/x --listen 10.250.0.1\n');
  registerSidecarEgress(cmd);
  registerSidecarGitGate(cmd);
  cmd.action(async (opts: SidecarOpts) => {
    process.exitCode = await runSupervisor(opts);
  });
}
