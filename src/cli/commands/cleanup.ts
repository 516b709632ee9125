/** `cleanup [slug…]` (cli spec §8). */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { BottleError, EXIT } from '../../errors.js';
import { allBackends } from '../../backends/registry.js';
import { resolveHome } from '../../manifest/home.js';
import { applyCleanup, surveyCleanup } from '../../launch/cleanup.js';
import { warn } from '../output.js';

interface CleanupFlags {
  yes?: boolean;
  dryRun?: boolean;
  includePreserved?: boolean;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .argument('[slug...]', 'restrict to these bottles')
    .description('remove orphaned bottle resources and stale state directories')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'list what would be removed; remove nothing')
    .option('--include-preserved', 'also remove preserved (resumable) state')
    .addHelpText('after', '\nExample:\n  bot-bottle cleanup --dry-run\n')
    .action(async (slugs: string[], flags: CleanupFlags) => {
      const home = resolveHome();
      const backends = await allBackends();
      const survey = await surveyCleanup(home, backends, { slugs, includePreserved: flags.includePreserved === true });
      const resources = survey.plans.flatMap((p) => p.resources.map((r) => ({ ...r, backend: p.backend })));
      if (resources.length === 0 && survey.removableState.length === 0) {
        process.stdout.write('nothing to clean up\n');
        for (const s of survey.keptPreserved) process.stdout.write(`kept (preserved) state/${s}\n`);
        return;
      }
      for (const r of resources) process.stdout.write(`resource  ${r.backend}  ${r.kind}  ${r.name}${r.slug ? `  (${r.slug})` : ''}\n`);
      for (const s of survey.removableState) process.stdout.write(`state     state/${s}\n`);
      for (const s of survey.keptPreserved) process.stdout.write(`kept      state/${s} (preserved; --include-preserved removes it)\n`);
      if (flags.dryRun) return;
      if (!flags.yes) {
        if (!process.stdin.isTTY || !process.stderr.isTTY) {
          throw new BottleError('USAGE', 'refusing to clean up without confirmation', { fix: 'pass --yes' });
        }
        const ok = await confirm(`Remove ${resources.length} resources and ${survey.removableState.length} state directories? [y/N] `);
        if (!ok) {
          process.exitCode = EXIT.cancelled;
          return;
        }
      }
      const outcome = await applyCleanup(home, backends, survey);
      for (const w of outcome.warnings) warn(w);
      if (outcome.failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${outcome.failed.join(', ')}`, { fix: 'check permissions (netns needs root) and retry' });
      }
      process.stderr.write(`removed ${resources.length} resources and ${survey.removableState.length} state directories\n`);
    });
}
