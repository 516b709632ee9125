/**
 * The incremental FragmentAccumulator (docs/decisions/egress-perf-cpu.md) returns the same union
 * size as the straightforward definition — "OR of the last 256 pieces added within the window" —
 * for random call sequences: repeated and new bitmaps, the cap, expiry, a clock that steps back,
 * a bitmap length change, and prune().
 */
import { describe, it, expect } from 'vitest';
import { FragmentAccumulator } from '../../src/dlp/accumulator.js';

/** The definition, as the accumulator was first written (copy, filter and OR on every add). */
class Reference {
  private readonly pieces = new Map<string, { at: number; covered: Uint8Array }[]>();
  constructor(
    private readonly windowMs: number,
    private readonly max: number,
  ) {}
  add(key: string, covered: Uint8Array, nowMs: number): number {
    const list = (this.pieces.get(key) ?? []).filter((p) => nowMs - p.at <= this.windowMs && p.covered.length === covered.length);
    list.push({ at: nowMs, covered: Uint8Array.from(covered) });
    while (list.length > this.max) list.shift();
    this.pieces.set(key, list);
    const union = new Uint8Array(covered.length);
    for (const p of list) for (let i = 0; i < union.length; i++) union[i] = union[i]! | p.covered[i]!;
    let n = 0;
    for (let i = 0; i < union.length; i++) n += union[i]!;
    return n;
  }
  prune(nowMs: number): void {
    for (const [k, list] of this.pieces) {
      const kept = list.filter((p) => nowMs - p.at <= this.windowMs);
      if (kept.length === 0) this.pieces.delete(k);
      else this.pieces.set(k, kept);
    }
  }
  get size(): number {
    return this.pieces.size;
  }
}

/** Small deterministic PRNG (the test must not depend on Math.random's sequence). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('FragmentAccumulator equals its definition', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`random sequence ${seed}: same union size after every add, same size after prune`, () => {
      const r = rng(seed);
      const windowMs = 1000;
      const max = 1 + Math.floor(r() * 20);
      const acc = new FragmentAccumulator(windowMs, max);
      const ref = new Reference(windowMs, max);
      // A small pool of bitmaps, so repeats (the common case) are frequent.
      const pool = Array.from({ length: 6 }, () => Uint8Array.from({ length: 12 }, () => (r() < 0.3 ? 1 : 0)));
      let now = 10_000;
      for (let i = 0; i < 3000; i++) {
        const x = r();
        if (x < 0.05) now -= Math.floor(r() * 800); // clock steps back
        else if (x < 0.2) now += Math.floor(r() * 1500); // may cross the window
        else now += Math.floor(r() * 30);
        const key = r() < 0.8 ? 'k1' : 'k2';
        const covered = r() < 0.02 ? Uint8Array.from({ length: 9 }, () => (r() < 0.5 ? 1 : 0)) : pool[Math.floor(r() * pool.length)]!;
        expect(acc.add(key, covered, now), `add #${i}`).toBe(ref.add(key, covered, now));
        if (r() < 0.01) {
          const t = now + Math.floor(r() * 2000);
          acc.prune(t);
          ref.prune(t);
          expect(acc.size).toBe(ref.size);
        }
      }
    });
  }

  it('the bitmap passed in is copied, not kept (a caller may reuse it)', () => {
    const acc = new FragmentAccumulator();
    const b = Uint8Array.from([1, 0, 0, 0]);
    expect(acc.add('k', b, 0)).toBe(1);
    b.fill(1);
    expect(acc.add('k', Uint8Array.from([0, 0, 0, 0]), 1)).toBe(1);
  });
});
