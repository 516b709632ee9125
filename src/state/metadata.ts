/**
 * `state/<slug>/metadata.json` (docs/architecture.md §5). The Python original's snake_case keys, so
 * existing state stays readable both ways. Never holds a secret or an env value.
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import { STATE_ENTRIES } from './paths.js';

export interface BottleMetadata {
  readonly slug: string;
  readonly agentName: string;
  readonly bottleNames: readonly string[];
  readonly backend: string;
  readonly label: string;
  readonly color: string;
  readonly cwd: string;
  readonly copyCwd: boolean;
  readonly startedAt: string;
  readonly headless: boolean;
  readonly template: string;
  readonly version: string;
}

export interface MetadataFile {
  schema_version: 1;
  identity: string;
  agent_name: string;
  bottle_names: string[];
  backend: string;
  label: string;
  color: string;
  cwd: string;
  copy_cwd: boolean;
  started_at: string;
  headless: boolean;
  template: string;
  bot_bottle_version: string;
}

export function toMetadataFile(m: BottleMetadata): MetadataFile {
  return {
    schema_version: 1,
    identity: m.slug,
    agent_name: m.agentName,
    bottle_names: [...m.bottleNames],
    backend: m.backend,
    label: m.label,
    color: m.color,
    cwd: m.cwd,
    copy_cwd: m.copyCwd,
    started_at: m.startedAt,
    headless: m.headless,
    template: m.template,
    bot_bottle_version: m.version,
  };
}

const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);

/** Lenient reader: Python-era files lack `backend` (→ docker) and newer keys (defaults). */
export function fromMetadataFile(raw: unknown, slugFallback: string): BottleMetadata {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BottleError('STATE_NOT_FOUND', `metadata for "${slugFallback}" is not a JSON object`, { fix: 'remove the state dir with "bot-bottle cleanup"' });
  }
  const o = raw as Record<string, unknown>;
  const names = Array.isArray(o.bottle_names) ? o.bottle_names.filter((n): n is string => typeof n === 'string') : typeof o.bottle_name === 'string' ? [o.bottle_name] : [];
  const agentName = str(o.agent_name, '');
  return {
    slug: str(o.identity, slugFallback),
    agentName,
    bottleNames: names,
    backend: str(o.backend, 'docker'),
    label: str(o.label, agentName || slugFallback),
    color: str(o.color, 'none'),
    cwd: str(o.cwd, ''),
    copyCwd: o.copy_cwd === true,
    startedAt: str(o.started_at, ''),
    headless: o.headless === true,
    template: str(o.template, 'claude'),
    version: str(o.bot_bottle_version, ''),
  };
}

export async function writeMetadata(stateDir: string, m: BottleMetadata): Promise<string> {
  const path = join(stateDir, STATE_ENTRIES.metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(toMetadataFile(m), null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

export async function readMetadata(stateDir: string, slug: string): Promise<BottleMetadata> {
  const path = join(stateDir, STATE_ENTRIES.metadata);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BottleError('STATE_NOT_FOUND', `no saved state for "${slug}" (looked in ${stateDir})`, { fix: 'see "bot-bottle list"' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BottleError('STATE_NOT_FOUND', `${path} is not valid JSON`, { fix: 'remove the state dir with "bot-bottle cleanup"' });
  }
  return fromMetadataFile(raw, slug);
}
