/** `list active [--json]` (cli spec §6): running bottles from every available backend. */
import type { Command } from 'commander';
import { allBackends } from '../../backends/registry.js';
import type { ActiveBottle } from '../../backends/backend.js';
import { printJson, useColor } from '../output.js';

const COLORS: Record<string, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37 };

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
      if (doc.bottles.length === 0) {
        process.stdout.write('no running bottles\n');
        return;
      }
      const colour = useColor(process.stdout);
      const rows = [['SLUG', 'LABEL', 'AGENT', 'BACKEND', 'SIDECARS', 'MODE', 'STARTED']];
      for (const b of doc.bottles) {
        rows.push([b.slug, b.label, b.agent, b.backend, b.sidecars.join(',') || 'down', b.headless ? 'headless' : 'interactive', b.startedAt]);
      }
      process.stdout.write(
        `${table(rows, (r, c, cell) => {
          const code = r > 0 && c === 1 ? COLORS[doc.bottles[r - 1]!.color] : undefined;
          return colour && code ? `\u001b[${code}m${cell}\u001b[0m` : cell;
        })}\n`,
      );
    });
}
