/**
 * Layering (docs/architecture.md §2): the egress decision cores are pure — they import no
 * node:net, node:fs or node:child_process (directly or through another local module), so the
 * host (plan pipeline, --check) and the sidecar share them.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

const PURE = ['routes-file.ts', 'routes-file-types.ts', 'route-table.ts', 'match.ts', 'decide.ts', 'inject.ts', 'ssrf.ts', 'ip.ts', 'host.ts', 'doh.ts', 'deny.ts', 'local.ts', 'check.ts', 'normalize.ts', 'dns-exfil.ts', 'surfaces.ts', 'admit.ts'];
const FORBIDDEN = /^(node:)?(net|fs|fs\/promises|child_process|dgram|http|https|tls|dns)$/;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*import\s+(?:type\s+)?[^'"]*['"]([^'"]+)['"]/gm)]
    .filter((m) => !/^\s*import\s+type\s/.test(m[0]))
    .map((m) => m[1]!);
}

function closure(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const spec of imports(entry)) {
    if (spec.startsWith('.')) closure(resolve(dirname(entry), spec.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

describe('egress pure-core boundary', () => {
  for (const f of PURE) {
    it(`${f} reaches no I/O module`, () => {
      const bad: string[] = [];
      for (const file of closure(join(REPO_ROOT, 'src', 'egress', f))) {
        for (const spec of imports(file)) if (FORBIDDEN.test(spec)) bad.push(`${file.replace(REPO_ROOT, '')} imports ${spec}`);
      }
      expect(bad).toEqual([]);
    });
  }
});
