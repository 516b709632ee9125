/**
 * `list [--json]` (docs/cli.md#commands): agents, bottles and resumable state. Broken manifest
 * files are shown with their error and never make the command fail. (`list active` lives
 * elsewhere.)
 */
import type { Command } from 'commander';
import { indexManifests } from '../../manifest/loader.js';
import { buildListDocument, type ListDocument } from '../../manifest/list-document.js';
import { resolveHome } from '../../manifest/home.js';
import { printJson, warn } from '../output.js';

export { buildListDocument, readResumable } from '../../manifest/list-document.js';
export type { ListAgent, ListBottle, ListDocument, ListResumable } from '../../manifest/list-document.js';

/** `~/x/agents/a.md:2:1: msg` → `2:1: msg` (the file is already the row). */
function shortReason(broken: string): string {
  const m = /^.*?\.md:(\d+:\d+: .*)$/.exec(broken) ?? /^.*?\.md: (.*)$/.exec(broken);
  return m?.[1] ?? broken;
}

function age(iso: string | null, now: number): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

export function renderListText(doc: ListDocument, now = Date.now()): string {
  const lines: string[] = ['AGENTS'];
  if (doc.agents.length === 0) lines.push('  (none; run "bot-bottle init" to create an example)');
  else
    lines.push(
      ...table([
        ['NAME', 'SOURCE', 'BOTTLE', 'DESCRIPTION'],
        ...doc.agents.map((a) => [a.name, a.origin, a.bottle.length > 0 ? a.bottle.join(',') : '-', a.broken ? `! ${shortReason(a.broken)}` : a.description ?? '']),
      ]),
    );
  lines.push('', 'BOTTLES');
  if (doc.bottles.length === 0) lines.push('  (none)');
  else
    lines.push(
      ...table([
        ['NAME', 'EXTENDS', ''],
        ...doc.bottles.map((b) => [b.name, b.extends.length > 0 ? b.extends.join(',') : '-', b.broken ? `! ${shortReason(b.broken)}` : '']),
      ]),
    );
  lines.push('', 'RESUMABLE');
  if (doc.resumable.length === 0) lines.push('  (none)');
  else
    lines.push(
      ...table([
        ['SLUG', 'AGENT', 'BACKEND', 'REASON', 'AGE'],
        ...doc.resumable.map((r) => [r.slug, r.agent, r.backend, r.reason, age(r.preservedAt, now)]),
      ]),
    );
  return `${lines.join('\n')}\n`;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list agents, bottles and resumable bottles')
    .option('--json', 'print a bot-bottle/list@1 JSON document')
    .addHelpText('after', '\nExample:\n  $ bot-bottle list --json\n')
    .action((flags: { json?: boolean }) => {
      const index = indexManifests({ home: resolveHome(), cwd: process.cwd() });
      for (const w of index.warnings) warn(w);
      const doc = buildListDocument(index);
      if (flags.json) printJson(doc);
      else process.stdout.write(renderListText(doc));
    });
}
