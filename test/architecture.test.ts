/**
 * Layering rules that must not erode (docs/architecture.md §2; the one token resolution,
 * docs/architecture.md §4.3, P47).
 *
 * Issue: the Python original resolved manifest token refs and then slotted in the Codex host
 * credential in two copies, one per backend. Fix: only the codex provider knows forwarding
 * exists, backends never import providers, and the pure modules shared with sidecars do no I/O.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.[cm]?[jt]s$/.test(n) ? [p] : [];
  });
}
const rel = (p: string): string => relative(REPO_ROOT, p).split('\\').join('/');

/** Static and dynamic import specifiers of a source file. */
function imports(text: string): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** Files allowed to name the forwarding option and its synthetic reference. */
const FORWARDING_ALLOWED: ReadonlyArray<RegExp> = [
  /^src\/providers\/codex\//,
  // The manifest layer declares, validates and migrates the key (and reserves the reference name).
  /^src\/manifest\/(types|bottle-schema|check|legacy)\.ts$/,
  // Manifest text that `init` writes (the key's user documentation), not code acting on it.
  /^src\/cli\/commands\/init-templates\.ts$/,
];

/** Modules shared with the sidecars: no node:fs / node:net / node:child_process. */
const PURE_MODULES: ReadonlyArray<RegExp> = [
  /^src\/dlp\//,
  /^src\/egress\/route[^/]*$/,
  /^src\/egress\/match[^/]*$/,
  /^src\/egress\/decide[^/]*$/,
  /^src\/plan\/resolve-token-values[^/]*$/,
  /^src\/plan\/(route-merge|slots|routes-doc|token-exposure|agent-env|reserved-names|plan-document|image)\.ts$/,
  // Approve-and-remember coverage (docs/decisions/supervise-remember.md).
  /^src\/supervise\/host\/remember-match\.ts$/,
];
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|child_process|dgram|http|https|tls)$/;

describe('architecture boundaries', () => {
  const files = walk(SRC);

  it('only the codex provider and the manifest schema mention host-credential forwarding', () => {
    const offenders = files
      .filter((f) => /forward_host_credentials|forwardHostCredentials|BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN/.test(readFileSync(f, 'utf8')))
      .map(rel)
      .filter((f) => !FORWARDING_ALLOWED.some((re) => re.test(f)));
    expect(offenders).toEqual([]);
  });

  it('P47: nothing under src/backends/ imports src/providers/', () => {
    const offenders: string[] = [];
    for (const f of files.filter((p) => rel(p).startsWith('src/backends/'))) {
      for (const spec of imports(readFileSync(f, 'utf8'))) {
        if (spec.startsWith('.') && rel(join(f, '..', spec)).startsWith('src/providers')) offenders.push(`${rel(f)} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('pure modules import no fs/net/child_process (files that do not exist yet are skipped)', () => {
    const pure = files.filter((f) => PURE_MODULES.some((re) => re.test(rel(f))));
    expect(pure.map(rel)).toContain('src/plan/resolve-token-values.ts');
    const offenders: string[] = [];
    for (const f of pure) {
      for (const spec of imports(readFileSync(f, 'utf8'))) if (IO_MODULES.test(spec)) offenders.push(`${rel(f)} → ${spec}`);
    }
    expect(offenders).toEqual([]);
  });

  it('resolveTokenValues is called exactly once in src/ (the plan pipeline)', () => {
    const calls = files.flatMap((f) => {
      const n = (readFileSync(f, 'utf8').match(/\bresolveTokenValues\(/g) ?? []).length;
      return rel(f) === 'src/plan/resolve-token-values.ts' ? [] : Array<string>(n).fill(rel(f));
    });
    expect(calls).toEqual(['src/plan/prepare.ts']);
  });

  it('the import scanner sees static, dynamic and side-effect imports (self-check)', () => {
    const found = imports(`import { a } from '../providers/x.js';\nconst m = await import('../providers/y.js');\nimport '../providers/z.js';\nexport { b } from "./w.js";`);
    expect(found.sort()).toEqual(['../providers/x.js', '../providers/y.js', '../providers/z.js', './w.js']);
  });
});
