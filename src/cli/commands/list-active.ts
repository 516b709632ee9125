/** `list active [--json]` (docs/cli.md#commands): running bottles from every available backend. */
import type { Command } from 'commander';
import { allBackends } from '../../backends/registry.js';
import type { ActiveBottle } from '../../backends/backend.js';
import { ANSI_COLORS, paint, printJson, useColor } from '../output.js';

export interface ActiveDocument {
  schema: 'bot-bottle/active@1';
  bottles: ActiveBottle[];
  skippedBackends: string[];
}

export async function listActive(): Promise<ActiveDocument> {
  const bottles: ActiveBottle[] = [];
  const skippedBackends: string[] = [];
  for (const b of await allBackends()) {
    if (!(await b.available()).ok) {
      skippedBackends.push(b.name);
      continue;
    }
    bottles.push(...(await b.listActive()));
  }
  bottles.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { schema: 'bot-bottle/active@1', bottles, skippedBackends };
}

function table(rows: string[][], color: (row: number, col: number, cell: string) => string): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r, i) => r.map((cell, c) => color(i, c, c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** Adds `active` under the `list` command (registered by list.ts), creating `list` if absent. */
export function registerListActive(program: Command): void {
  const list = program.commands.find((c) => c.name() === 'list') ?? program.command('list').description('list manifests, resumable state and running bottles');
  list
    .command('active')
    .description('running bottles of every available backend')
    .option('--json', 'print a bot-bottle/active@1 JSON document')
    .addHelpText('after', '\nExample:\n  bot-bottle list active --json\n')
    .action(async (_flags: { json?: boolean }, cmd: Command) => {
      // `list` has its own --json, which commander would otherwise keep for the parent.
      const json = (cmd.optsWithGlobals() as { json?: boolean }).json === true;
      const doc = await listActive();
      if (json) {
        printJson(doc);
        return;
      }
      process.stdout.write(renderActiveText(doc, useColor(process.stdout)));
    });
}

/** The text table; the LABEL column in each bottle's colour when `colour` (from useColor). */
export function renderActiveText(doc: ActiveDocument, colour: boolean): string {
  if (doc.bottles.length === 0) return 'no running bottles\n';
  const rows = [['SLUG', 'LABEL', 'AGENT', 'BACKEND', 'SIDECARS', 'MODE', 'STARTED']];
  for (const b of doc.bottles) {
    rows.push([b.slug, b.label, b.agent, b.backend, b.sidecars.join(',') || 'down', b.headless ? 'headless' : 'interactive', b.startedAt]);
  }
  return `${table(rows, (r, c, cell) => (r > 0 && c === 1 ? paint(cell, ANSI_COLORS[doc.bottles[r - 1]!.color], colour) : cell))}\n`;
}
