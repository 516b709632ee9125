/** Traceability: every manifest test case id M1–M74 (plus M11a, M11b) has a named test. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

function testSources(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.test.ts'))
    .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
    .join('\n');
}

describe('manifest test-id coverage', () => {
  it('every M id has a test naming it', () => {
    const ids = [...Array.from({ length: 74 }, (_, i) => `M${i + 1}`), 'M11a', 'M11b'];
    const text = testSources(join(REPO_ROOT, 'test'));
    const named = (id: string): boolean => new RegExp(`\\b(it|describe)(\\.\\w+)?(\\([^)]*\\))?\\(\\s*['\`"][^'\`"\\n]*\\b${id}\\b`).test(text);
    expect(ids.filter((id) => !named(id))).toEqual([]);
    expect(named('M75')).toBe(false); // the check can fail
  });
});
