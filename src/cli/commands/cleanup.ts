/**
 * `cleanup [slug…]` (docs/cli.md#commands); `--json` prints `bot-bottle/cleanup@1`
 * (docs/cli-json.md).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { BottleError, EXIT } from '../../errors.js';
import { allBackends } from '../../backends/registry.js';
import { resolveHome } from '../../manifest/home.js';
import { applyCleanup, surveyCleanup } from '../../launch/cleanup.js';
import { printJson, warn } from '../output.js';

interface CleanupFlags {
  yes?: boolean;
  dryRun?: boolean;
  includePreserved?: boolean;
  json?: boolean;
}

export interface CleanupResource {
  backend: string;
  kind: string;
  name: string;
  slug: string | null;
}

/** docs/cli-json.md. `applied` is false for a dry run and when nothing was found. */
export interface CleanupDocument {
  schema: 'bot-bottle/cleanup@1';
  dryRun: boolean;
  applied: boolean;
  resources: CleanupResource[];
  removableState: string[];
  keptPreserved: string[];
  skippedBackends: string[];
  removedState: string[];
  failed: string[];
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
    .option('--json', 'print a bot-bottle/cleanup@1 JSON document')
    .addHelpText('after', '\nExample:\n  bot-bottle cleanup --dry-run\n')
    .action(async (slugs: string[], flags: CleanupFlags) => {
      const home = resolveHome();
      const backends = await allBackends();
      const survey = await surveyCleanup(home, backends, { slugs, includePreserved: flags.includePreserved === true });
      const resources: CleanupResource[] = survey.plans.flatMap((p) => p.resources.map((r) => ({ backend: p.backend, kind: r.kind, name: r.name, slug: r.slug })));
      const doc: CleanupDocument = {
        schema: 'bot-bottle/cleanup@1',
        dryRun: flags.dryRun === true,
        applied: false,
        resources,
        removableState: survey.removableState,
        keptPreserved: survey.keptPreserved,
        skippedBackends: survey.skippedBackends,
        removedState: [],
        failed: [],
      };
      const confirming = !flags.dryRun && !flags.yes;
      const canAsk = Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
      // The lists are the data on stdout; with --json they are shown (on stderr) only as the
      // context of a y/N question, so stdout stays one JSON document.
      const show = (line: string): void => {
        if (!flags.json) process.stdout.write(line);
        else if (confirming && canAsk) process.stderr.write(line);
      };
      if (resources.length === 0 && survey.removableState.length === 0) {
        if (flags.json) {
          printJson(doc);
          return;
        }
        process.stdout.write('nothing to clean up\n');
        for (const s of survey.keptPreserved) process.stdout.write(`kept (preserved) state/${s}\n`);
        return;
      }
      for (const r of resources) show(`resource  ${r.backend}  ${r.kind}  ${r.name}${r.slug ? `  (${r.slug})` : ''}\n`);
      for (const s of survey.removableState) show(`state     state/${s}\n`);
      for (const s of survey.keptPreserved) show(`kept      state/${s} (preserved; --include-preserved removes it)\n`);
      if (flags.dryRun) {
        if (flags.json) printJson(doc);
        return;
      }
      if (confirming) {
        if (!canAsk) {
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
      doc.applied = true;
      // A dir kept for a pending key revocation is neither removed nor failed (a warning says why).
      doc.removedState = survey.removableState.filter((s) => !existsSync(join(home, 'state', s)));
      doc.failed = outcome.failed;
      if (flags.json) printJson(doc);
      if (outcome.failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `could not remove: ${outcome.failed.join(', ')}`, { fix: 'check permissions (netns needs root) and retry' });
      }
      process.stderr.write(`removed ${resources.length} resources and ${survey.removableState.length} state directories\n`);
    });
}
