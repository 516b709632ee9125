import { describe, expect, it } from 'vitest';
import { FragmentAccumulator, FRAGMENT_WINDOW_MS } from '../../src/dlp/accumulator.js';
import { fragmentThreshold, project } from '../../src/dlp/fragments.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { CANARY, DEFAULT, KEY, NONE, ragged, SLOT, scanner } from './helpers.js';

const s = scanner();
const LONG = 'Lk4vQ9zR2mX7pT1wN8bC5yH3jF6gD0sA'; // 32 alphanumerics, threshold 16
const long = createScanner({ knownSecrets: [{ name: 'EGRESS_TOKEN_1', value: LONG, kind: 'slot' }], fingerprintKey: KEY });

describe('fragmented known secrets', () => {
  it('E35: half in the query, half in the body → fragment across both surfaces, not rewritable', () => {
    const half = Math.ceil(SLOT.length / 2);
    const f = s.scan(
      [
        { name: 'query', text: `q=${encodeURIComponent(SLOT.slice(0, half))}` },
        { name: 'body', text: JSON.stringify({ rest: SLOT.slice(half) }) },
      ],
      DEFAULT,
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ detector: 'known_secrets', rule: 'fragment', surface: 'query+body', start: null, end: null, secretName: 'EGRESS_TOKEN_0', secretKind: 'slot' });
    expect(f[0]!.spans!.map((x) => x.surface)).toEqual(['query', 'body']);
  });

  it('fragmentScope surface: pieces in two files do not combine, pieces in one file do', () => {
    const half = Math.ceil(SLOT.length / 2);
    const files = [
      { name: 'a.txt', text: SLOT.slice(0, half) },
      { name: 'b.txt', text: SLOT.slice(half) },
    ];
    expect(s.scan(files, DEFAULT).map((x) => x.surface)).toEqual(['a.txt+b.txt']);
    expect(s.scan(files, DEFAULT, { fragmentScope: 'surface' })).toEqual([]);
    const one = s.scan([{ name: 'c.txt', text: `${SLOT.slice(0, half)}\n+${SLOT.slice(half)}` }, files[0]!], DEFAULT, { fragmentScope: 'surface' });
    expect(one.map((x) => [x.rule, x.surface, x.spans!.map((sp) => sp.surface)])).toEqual([['fragment', 'c.txt', ['c.txt']]]);
    // A verbatim copy in another file does not hide this file's fragments.
    const both = s.scan([{ name: 'd.txt', text: SLOT }, { name: 'c.txt', text: ragged(SLOT) }], DEFAULT, { fragmentScope: 'surface' });
    expect(both.map((x) => [x.rule, x.surface])).toEqual([['raw', 'd.txt'], ['fragment', 'c.txt']]);
    // One character per group: the de-delimited view reads the whole secret (docs/decisions/dlp-v2-views-and-validators.md).
    const spaced = s.scan([{ name: 'd.txt', text: SLOT }, { name: 'c.txt', text: SLOT.split('').join(' ') }], DEFAULT, { fragmentScope: 'surface' });
    expect(spaced.map((x) => [x.rule, x.surface, x.view])).toEqual([['raw', 'd.txt', undefined], ['raw', 'c.txt', 'delim']]);
  });

  it('E35: "-" every 4 characters inside JSON → the whole secret through the de-delimited view; irregular dashes → fragment', () => {
    const irregular = ragged(LONG, '-');
    const g = long.scan([{ name: 'body', text: JSON.stringify({ note: `see ${irregular} ok` }) }], DEFAULT);
    expect(g.map((x) => [x.rule, x.surface, x.start])).toEqual([['fragment', 'body', null]]);
    const dashed = LONG.match(/.{1,4}/g)!.join('-');
    const f = long.scan([{ name: 'body', text: JSON.stringify({ note: `see ${dashed} ok` }) }], DEFAULT);
    expect(f.map((x) => [x.rule, x.surface, x.start, x.view])).toEqual([['raw', 'body', null, 'delim']]);
    // The span covers the dashed secret in the body.
    const text = JSON.stringify({ note: `see ${dashed} ok` });
    const span = f[0]!.spans![0]!;
    expect(text.slice(span.start, span.end)).toContain(dashed.slice(0, 9));
  });

  it('percent-encoded separators and %XX letters are projected away/decoded', () => {
    const mixed = LONG.split('')
      .map((c, i) => (i % 5 === 0 ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c) + ([2, 7, 9, 15, 22, 24].includes(i) ? '%2D' : ''))
      .join('');
    expect(long.scan([{ name: 'path', text: `/x/${mixed}` }], DEFAULT).map((x) => x.rule)).toEqual(['fragment']);
  });

  it('below the threshold (15 of 32 characters) → nothing; exactly 16 → fragment', () => {
    expect(fragmentThreshold(32)).toBe(16);
    expect(long.scan([{ name: 'body', text: `a ${LONG.slice(0, 15)} b` }], DEFAULT)).toEqual([]);
    expect(long.scan([{ name: 'body', text: `a ${LONG.slice(0, 8)} b ${LONG.slice(20, 28)} c` }], DEFAULT).map((x) => x.rule)).toEqual(['fragment']);
  });

  it('threshold: max(16, ⌈len/2⌉), or the whole secret when shorter', () => {
    expect(fragmentThreshold(10)).toBe(10);
    expect(fragmentThreshold(16)).toBe(16);
    expect(fragmentThreshold(40)).toBe(20);
    expect(fragmentThreshold(81)).toBe(41);
    // A 12-alphanumeric secret must be entirely present.
    const sc = createScanner({ knownSecrets: [{ name: 'MYCO_K', value: 'ab12-cd34-ef56', kind: 'sensitive' }], fingerprintKey: KEY });
    expect(sc.scan([{ name: 'b', text: 'ab12 cd34 ef5' }], DEFAULT)).toEqual([]);
    expect(sc.scan([{ name: 'b', text: 'ab12.cd34.ef56' }], DEFAULT).map((x) => x.rule)).toEqual(['fragment']);
  });

  it('a verbatim match suppresses the fragment finding for that secret', () => {
    const f = s.scan([{ name: 'body', text: `${SLOT} and ${SLOT.slice(0, 14)}` }], DEFAULT);
    expect(f.map((x) => x.rule)).toEqual(['raw']);
  });

  it('a window repeated inside the secret is credited once per occurrence in the corpus', () => {
    const sc = createScanner({ knownSecrets: [{ name: 'MYCO_P', value: 'passwordpassword99', kind: 'sensitive' }], fingerprintKey: KEY });
    expect(sc.scan([{ name: 'b', text: 'reset your password here' }], DEFAULT)).toEqual([]);
    expect(sc.scan([{ name: 'b', text: 'password password-99' }], DEFAULT).map((x) => x.rule)).toEqual(['fragment']);
  });

  it('canary fragments are found with no detector enabled (detector canary)', () => {
    const f = s.scan([{ name: 'body', text: ragged(CANARY, '-') }], NONE);
    expect(f.map((x) => [x.detector, x.rule])).toEqual([['canary', 'fragment']]);
    // Regular groups: the de-delimited view finds the whole canary.
    const dashed = CANARY.match(/.{1,5}/g)!.join('-');
    expect(s.scan([{ name: 'body', text: dashed }], NONE).map((x) => [x.detector, x.rule, x.view])).toEqual([['canary', 'raw', 'delim']]);
    expect(s.scan([{ name: 'body', text: SLOT.match(/.{1,4}/g)!.join('-') }], NONE)).toEqual([]);
  });

  it('JSON \\u escapes between pieces: found through the derived view', () => {
    const escaped = ragged(LONG, '\\u002d');
    const f = long.scan(
      [
        { name: 'body', text: `{"a":"${escaped}"}` },
        { name: 'body', text: `{"a":"${ragged(LONG, '-')}"}`, derived: true },
      ],
      DEFAULT,
    );
    expect(f.map((x) => x.rule)).toEqual(['fragment']);
  });

  it('projection keeps ASCII alphanumerics only', () => {
    expect(Array.from(project('a-b%41é_9'))).toEqual(Array.from(project('abA9')));
  });
});

describe('cross-request accumulation (10 minutes)', () => {
  const pieces = [LONG.slice(0, 8), LONG.slice(8, 16), LONG.slice(16, 24)];

  it('pieces below the threshold in separate requests add up within 10 minutes', () => {
    const acc = new FragmentAccumulator();
    const t0 = 1_000_000;
    expect(long.scan([{ name: 'query', text: `p=${pieces[0]}` }], DEFAULT, { accumulator: acc, nowMs: t0 })).toEqual([]);
    const f = long.scan([{ name: 'body', text: `p=${pieces[1]}` }], DEFAULT, { accumulator: acc, nowMs: t0 + 60_000 });
    expect(f.map((x) => [x.rule, x.secretName, x.start])).toEqual([['fragment', 'EGRESS_TOKEN_1', null]]);
  });

  it('pieces older than the window are forgotten', () => {
    const acc = new FragmentAccumulator();
    const t0 = 5_000_000;
    long.scan([{ name: 'query', text: pieces[0]! }], DEFAULT, { accumulator: acc, nowMs: t0 });
    expect(long.scan([{ name: 'query', text: pieces[2]! }], DEFAULT, { accumulator: acc, nowMs: t0 + FRAGMENT_WINDOW_MS + 1 })).toEqual([]);
    acc.prune(t0 + 3 * FRAGMENT_WINDOW_MS);
    expect(acc.size).toBe(0);
  });

  it('without an accumulator each request stands alone', () => {
    long.scan([{ name: 'query', text: pieces[0]! }], DEFAULT);
    expect(long.scan([{ name: 'query', text: pieces[1]! }], DEFAULT)).toEqual([]);
  });
});
