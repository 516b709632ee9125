/**
 * A directory of small JSON state files shared between processes (bottle records, alias claims):
 * written by temp + rename so a reader in another process never sees half a file; read leniently,
 * since a half-written temp or a foreign file is simply not an entry.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Every `*.json` in `dir` that parses and that `accept` (given the value and file name) takes. */
export function readJsonDir<T>(dir: string, accept: (value: T, name: string) => boolean): T[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const v = JSON.parse(readFileSync(join(dir, n), 'utf8')) as T;
      if (v && accept(v, n)) out.push(v);
    } catch {
      // a half-written or foreign file is not an entry
    }
  }
  return out;
}
