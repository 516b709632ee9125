/**
 * `list [--json]` (cli spec §6): agents, bottles and resumable state. Broken manifest files are
 * shown with their error and never make the command fail. (`list active` lives elsewhere.)
 */
import type { Command } from 'commander';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { indexManifests, summarizeAgent, summarizeBottle, type ManifestIndex } from '../../manifest/loader.js';
import { resolveHome } from '../../manifest/home.js';
import { printJson, warn } from '../output.js';

export interface ListAgent {
  name: string;
  origin: 'home' | 'repo';
  source: string;
  description: string | null;
  bottle: string[];
  broken: string | null;
}
export interface ListBottle {
  name: string;
  source: string;
  extends: string[];
  broken: string | null;
}
export interface ListResumable {
  slug: string;
  agent: string;
  backend: string;
  reason: string;
  preservedAt: string | null;
}
export interface ListDocument {
  schema: 'bot-bottle/list@1';
  agents: ListAgent[];
  bottles: ListBottle[];
  resumable: ListResumable[];
  warnings: string[];
}

/** Preserved state dirs (`metadata.json` + `.preserve`); unreadable entries are skipped. */
export function readResumable(home: string): ListResumable[] {
  const root = join(home, 'state');
  let slugs: string[];
  try {
    slugs = readdirSync(root);
  } catch {
    return [];
  }
  const out: ListResumable[] = [];
  for (const slug of slugs.sort()) {
    if (slug.startsWith('.')) continue;
    let meta: Record<string, unknown>;
    let preserveText: string;
    try {
      meta = JSON.parse(readFileSync(join(root, slug, 'metadata.json'), 'utf8')) as Record<string, unknown>;
      preserveText = readFileSync(join(root, slug, '.preserve'), 'utf8');
    } catch {
      continue;
    }
    if (typeof meta !== 'object' || meta === null) continue;
    let reason = 'unknown';
    let at: string | null = null;
    try {
      const p = JSON.parse(preserveText) as Record<string, unknown>;
      if (typeof p.reason === 'string') reason = p.reason;
      if (typeof p.at === 'string') at = p.at;
    } catch {
      // Python-era marker: plain text reason or empty.
      if (preserveText.trim() !== '') reason = preserveText.trim().split('\n')[0] ?? 'unknown';
    }
    out.push({
      slug: typeof meta.identity === 'string' ? meta.identity : slug,
      agent: typeof meta.agent_name === 'string' ? meta.agent_name : '',
      backend: typeof meta.backend === 'string' ? meta.backend : 'docker',
      reason,
      preservedAt: at ?? (typeof meta.started_at === 'string' ? meta.started_at : null),
    });
  }
  return out;
}

export function buildListDocument(index: ManifestIndex): ListDocument {
  const agents: ListAgent[] = [...index.agents.keys()].sort().map((name) => {
    const s = summarizeAgent(index, name);
    return {
      name,
      origin: s.entry.origin,
      source: s.entry.file,
      description: s.agent?.description ?? null,
      bottle: s.agent ? [...s.agent.bottles] : [],
      broken: s.broken,
    };
  });
  const bottles: ListBottle[] = [...index.bottles.keys()].sort().map((name) => {
    const s = summarizeBottle(index, name);
    return { name, source: s.entry.file, extends: [...s.extends], broken: s.broken };
  });
  return { schema: 'bot-bottle/list@1', agents, bottles, resumable: readResumable(index.home), warnings: [...index.warnings] };
}

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
