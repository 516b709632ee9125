/**
 * The published package (docs/decisions/packaging.md): the bin runs compiled JavaScript, `files`
 * names only what exists, every package the shipped code imports is a runtime dependency, and
 * nothing only tests or benchmarks use is one. The pack → install → demo run is a CI step.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

interface Pkg {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Pkg;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Bare package names imported (statically or dynamically) by the shipped sources. */
function importedPackages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of sources(join(REPO_ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|requireCjs\(\s*)'([^'.][^']*)'/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      out.set(name, [...(out.get(name) ?? []), file.slice(REPO_ROOT.length + 1)]);
    }
  }
  return out;
}

describe('package', () => {
  it('the bin is plain JavaScript that loads dist/ and never a TypeScript loader', () => {
    const bin = readFileSync(join(REPO_ROOT, pkg.bin['bot-bottle']!), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node')).toBe(true);
    expect(bin).toContain("'dist', 'cli', 'main.js'");
    expect(bin).not.toMatch(/tsx|\.ts'/);
  });

  it('files lists only what exists (dist after a build), and the build runs on prepare', () => {
    for (const f of pkg.files) expect(existsSync(join(REPO_ROOT, f)), f).toBe(true);
    expect(pkg.scripts.prepare).toMatch(/npm run build/);
    expect(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'dist', 'sidecar', 'self-command.js'))).toBe(true);
  });

  it('every package the shipped code imports is a dependency; test/bench-only packages are not', () => {
    const used = importedPackages();
    const optionalPeers = Object.keys(pkg.peerDependenciesMeta ?? {}).filter((n) => pkg.peerDependenciesMeta?.[n]?.optional);
    for (const [name, files] of used) {
      if (optionalPeers.includes(name)) continue;
      expect(pkg.dependencies[name], `${name} (imported by ${files.join(', ')}) must be a dependency`).toBeDefined();
    }
    for (const name of Object.keys(pkg.dependencies)) {
      // reflect-metadata is imported for its side effect, as a bare `import 'reflect-metadata'`
      expect(used.has(name), `${name} is a dependency but src/ never imports it`).toBe(true);
    }
    for (const devOnly of ['tsx', 'vitest', 'typescript', 'fast-check', 'undici']) expect(pkg.dependencies[devOnly], devOnly).toBeUndefined();
  });

  it('the only runtime use of tsx is the optional loader for TypeScript plugins', () => {
    expect(pkg.peerDependenciesMeta?.tsx?.optional).toBe(true);
    expect([...new Set(importedPackages().get('tsx') ?? [])]).toEqual(['src/providers/plugins/loader.ts']);
  });

  it('sidecars are started from the compiled sidecar bundle even when the host runs the sources', async () => {
    const { selfCommand } = await import('../src/sidecar/self-command.js');
    const c = selfCommand(['sidecar']);
    expect(c.command).toBe(process.execPath);
    expect(c.args[0]).toBe(join(REPO_ROOT, 'dist', 'bundle', 'sidecar.js'));
    expect(c.args.join(' ')).not.toContain('tsx');
  });
});
