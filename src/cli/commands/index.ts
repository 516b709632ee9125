import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every top-level command, in help order, loaded on demand. The sidecar daemons are started as
 * `bot-bottle sidecar …` in three processes per bottle, so loading only the command being run
 * keeps the plan/provider/manifest modules out of their start-up (measured in bench/launch.ts).
 */
const LOADERS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['start', async () => (await import('./start.js')).registerStart],
  ['resume', async () => (await import('./resume.js')).registerResume],
  ['list', async () => (await import('./list.js')).registerList],
  ['list', async () => (await import('./list-active.js')).registerListActive],
  ['info', async () => (await import('./info.js')).registerInfo],
  ['init', async () => (await import('./init.js')).registerInit],
  ['cleanup', async () => (await import('./cleanup.js')).registerCleanup],
  ['supervise', async () => (await import('./supervise.js')).registerSupervise],
  ['commit', async () => (await import('./commit.js')).registerCommit],
  ['doctor', async () => (await import('./doctor.js')).registerDoctor],
  ['log', async () => (await import('./log.js')).registerLog],
  ['demo', async () => (await import('./demo.js')).registerDemo],
  ['completion', async () => (await import('./completion.js')).registerCompletion],
  ['sidecar', async () => (await import('./sidecar.js')).registerSidecar],
];

/** Registrars for `only` (the first CLI word) when it names a command; else all of them. */
export async function loadCommands(only?: string): Promise<Register[]> {
  const known = LOADERS.some(([name]) => name === only);
  const chosen = LOADERS.filter(([name]) => !known || name === only);
  return Promise.all(chosen.map(([, load]) => load()));
}
