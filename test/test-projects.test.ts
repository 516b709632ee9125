/**
 * The vitest projects (vitest.config.ts): `npm run test:unit` runs the pure tests, `npm test` runs
 * every file exactly once, and a new test file can never fall between the projects. Membership is
 * asked of vitest itself (its own globbing), so this checks what `vitest run` will really run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVitest, type Vitest } from 'vitest/node';
import config, { ALL_TESTS, UNIT_TESTS } from '../vitest.config.js';
import { REPO_ROOT } from './helpers/cli.js';

const rel = (p: string): string => relative(REPO_ROOT, p).split(sep).join('/');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.test.ts'))
    .map((d) => rel(join(d.parentPath, d.name)))
    .sort();
}

let vitest: Vitest;
const membership = new Map<string, string[]>();

beforeAll(async () => {
  vitest = await createVitest('test', { config: join(REPO_ROOT, 'vitest.config.ts'), root: REPO_ROOT, watch: false, reporters: [] });
  for (const spec of await vitest.globTestSpecifications()) {
    const file = rel(spec.moduleId);
    membership.set(file, [...(membership.get(file) ?? []), spec.project.name]);
  }
});

afterAll(async () => {
  await vitest?.close();
});

describe('vitest projects', () => {
  it('are exactly unit and integration, sharing the root settings', () => {
    const projects = config.test?.projects ?? [];
    const names = projects.map((p) => (typeof p === 'object' && 'test' in p ? p.test?.name : undefined));
    expect(names).toEqual(['unit', 'integration']);
    // A root-level include would be merged into both projects (extends: true) and run files twice.
    expect(config.test?.include).toBeUndefined();
    expect(ALL_TESTS).toEqual(['test/**/*.test.ts']);
  });

  it('every test file belongs to exactly one project', () => {
    const files = testFiles(join(REPO_ROOT, 'test'));
    expect(files.length).toBeGreaterThan(0);
    expect([...membership.keys()].sort()).toEqual(files);
    const wrong = [...membership].filter(([, projects]) => projects.length !== 1);
    expect(wrong).toEqual([]);
  });

  it('every unit entry names existing files (a rename must not empty the unit project silently)', () => {
    const unit = [...membership].filter(([, p]) => p[0] === 'unit').map(([f]) => f);
    for (const entry of UNIT_TESTS) {
      const hit = entry.includes('*') ? unit.some((f) => f.startsWith(entry.slice(0, entry.indexOf('*')))) : unit.includes(entry);
      expect(hit, entry).toBe(true);
    }
  });

  it('unit files spawn nothing and open no sockets (their imports say so)', () => {
    const io = /(?:from\s+|import\(\s*)['"](?:node:)?(child_process|net|http|https|http2|tls|dgram)['"]/;
    const offenders = [...membership]
      .filter(([, p]) => p[0] === 'unit')
      .map(([f]) => [f, readFileSync(join(REPO_ROOT, f), 'utf8')] as const)
      .filter(([, src]) => io.test(src) || /\brunCli\b/.test(src))
      .map(([f]) => f);
    expect(offenders).toEqual([]);
  });
});
