/**
 * The `bot-bottle/list@1` document (docs/cli-json.md): agents, bottles (broken files reported, never
 * thrown) and resumable state. Library code: no printing; used by `list` and the programmatic API.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeAgent, summarizeBottle, type ManifestIndex } from './loader.js';

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
