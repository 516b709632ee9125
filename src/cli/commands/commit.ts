/**
 * `commit <slug>` (docs/cli.md#commands): snapshot a running bottle's agent so `resume` starts from
 * it. The backend makes the snapshot (docker: `docker commit` to
 * `bot-bottle-committed-<slug>:latest`, recorded in state/<slug>/committed-image); this command
 * marks the state preserved (reason `committed`) so it survives a clean exit.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { allBackends } from '../../backends/registry.js';
import { BottleError, usageError } from '../../errors.js';
import { writePreserve } from '../../launch/state-files.js';
import { resolveHome } from '../../manifest/home.js';
import { stateDirFor } from '../../state/paths.js';
import { printJson } from '../output.js';

export async function runCommit(slug: string | undefined): Promise<string> {
  const backends = await allBackends();
  const running: Array<{ slug: string; backend: (typeof backends)[number] }> = [];
  for (const b of backends) {
    if (!(await b.available()).ok) continue;
    for (const a of await b.listActive()) running.push({ slug: a.slug, backend: b });
  }
  if (slug === undefined) {
    // The interactive picker is not in this version: name the bottle.
    throw usageError('name the bottle to commit', running.length > 0 ? `running: ${running.map((r) => r.slug).join(', ')}` : 'no bottle is running (see "bot-bottle list active")');
  }
  const hit = running.find((r) => r.slug === slug);
  if (!hit) throw new BottleError('STATE_NOT_FOUND', `bottle "${slug}" is not running`, { fix: 'see "bot-bottle list active"' });
  if (!hit.backend.commit) throw new BottleError('USAGE', `commit is not supported on backend ${hit.backend.name}`, { exitCode: 1 });
  const result = await hit.backend.commit(slug);
  const stateDir = stateDirFor(resolveHome(process.env), slug);
  if (existsSync(stateDir)) writePreserve(stateDir, 'committed', 0);
  return result.image ?? result.homeDir ?? '';
}

export function registerCommit(program: Command): void {
  program
    .command('commit')
    .description('snapshot a running bottle so "resume" starts from it')
    .argument('[slug]', 'the running bottle (see "bot-bottle list active")')
    .option('--json', 'print a bot-bottle/commit@1 JSON document')
    .addHelpText('after', '\nExample:\n  $ bot-bottle commit implementer-k3x9q\n')
    .action(async (slug: string | undefined, flags: { json?: boolean }) => {
      const what = await runCommit(slug);
      if (flags.json) printJson({ schema: 'bot-bottle/commit@1', slug, snapshot: what });
      else process.stdout.write(`committed ${slug ?? ''}${what ? ` (${what})` : ''}; resume with: bot-bottle resume ${slug ?? ''}\n`);
    });
}
