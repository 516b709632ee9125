import { describe, expect, it } from 'vitest';
import { ENTROPY_MIN_BITS, shannonEntropy } from '../../src/dlp/entropy.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { ALL, DEFAULT, KEY } from './helpers.js';

const s = createScanner({ knownSecrets: [], fingerprintKey: KEY });
const RANDOM = 'Zx8Qm2Lp0Vn7Rt4Ws6Yb1Kd9Hf3Gj5Ca'; // 32 distinct characters: 5 bits/char

describe('entropy detector (warn only)', () => {
  it('E47: a high-entropy run warns only when entropy is enabled', () => {
    expect(shannonEntropy(RANDOM)).toBeGreaterThanOrEqual(ENTROPY_MIN_BITS);
    const text = `{"id":"${RANDOM}"}`;
    expect(s.scan([{ name: 'body', text }], DEFAULT)).toEqual([]);
    const f = s.scan([{ name: 'body', text }], ALL);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ detector: 'entropy', rule: 'entropy', severity: 'warn', start: 7, end: 39 });
  });

  it('runs shorter than 32 characters, hex digests and UUIDs do not warn', () => {
    const hex = 'a3f5c9e1b7d2048f6e1a9c3b5d7f0e2a4c6b8d0f';
    const cases = [RANDOM.slice(0, 31), hex, '123e4567-e89b-12d3-a456-426614174000', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'];
    for (const c of cases) expect(s.scan([{ name: 'b', text: ` ${c} ` }], ALL), c).toEqual([]);
  });

  it('the run class includes + / = _ - and a run may end the text', () => {
    const run = `${RANDOM.slice(0, 20)}+/=_-${RANDOM.slice(20)}`;
    const f = s.scan([{ name: 'b', text: `x:${run}` }], ALL);
    expect(f.map((x) => [x.start, x.end])).toEqual([[2, 2 + run.length]]);
  });

  it('derived views do not produce entropy warnings (the raw view already did)', () => {
    expect(s.scan([{ name: 'b', text: RANDOM, derived: true }], ALL)).toEqual([]);
  });
});
