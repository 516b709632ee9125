/**
 * Layering (docs/architecture.md §2): backends never import providers or manifests, and only
 * src/backends/platform.ts reads process.platform.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('backend boundaries', () => {
  const backendFiles = files(join(REPO_ROOT, 'src', 'backends'));

  it('src/backends/** imports nothing from src/providers or src/manifest', () => {
    const bad = backendFiles.filter((f) => /from\s+'[^']*\/(providers|manifest)\//.test(readFileSync(f, 'utf8')));
    expect(bad.map((f) => relative(REPO_ROOT, f))).toEqual([]);
  });

  it('only src/backends/platform.ts reads process.platform', () => {
    const readers = backendFiles.filter((f) => readFileSync(f, 'utf8').includes('process.platform'));
    expect(readers.map((f) => relative(REPO_ROOT, f))).toEqual(['src/backends/platform.ts']);
  });
});
