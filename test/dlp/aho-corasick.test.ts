import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AhoCorasick } from '../../src/dlp/aho-corasick.js';

function naive(patterns: string[], text: string): string[] {
  const out: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    patterns.forEach((p, id) => {
      if (p.length > 0 && end >= p.length && text.slice(end - p.length, end) === p) out.push(`${id}@${end}`);
    });
  }
  return out.sort();
}

describe('Aho–Corasick automaton', () => {
  it('reports overlapping and nested occurrences (suffix outputs)', () => {
    const ac = new AhoCorasick(['he', 'she', 'his', 'hers']);
    const hits: string[] = [];
    ac.search('ushers', (id, end) => hits.push(`${id}@${end}`));
    expect(hits.sort()).toEqual(['0@4', '1@4', '3@6']);
  });

  it('agrees with a naive search on random patterns and texts (incl. non-ASCII)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '\ud83d'), minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '\ud83d', 'z'), maxLength: 60 }),
        (patterns, text) => {
          const ac = new AhoCorasick(patterns);
          const hits: string[] = [];
          ac.search(text, (id, end) => hits.push(`${id}@${end}`));
          expect(hits.sort()).toEqual(naive(patterns, text));
        },
      ),
      { numRuns: 300 },
    );
  });
});
