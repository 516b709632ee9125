import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBottleCa, loadCa, type LoadedCa } from '../../src/egress/ca.js';
import { DEFAULT_LEAF_CACHE_BYTES, LEAF_CONTEXT_BYTES, LeafCache, leafEntryBytes } from '../../src/egress/leaf-cache.js';

const newCa = async (): Promise<LoadedCa> => loadCa(await createBottleCa('leaf-cache', new Date()));

/** Room for exactly `n` entries of hosts like `h0.test` (all the same length). */
async function capFor(ca: LoadedCa, n: number): Promise<number> {
  const probe = new LeafCache({ ca });
  const l = await probe.get('h0.test');
  return n * leafEntryBytes('h0.test', l.certPem) + 100;
}

describe('leaf cache byte cap (docs/decisions/egress-memory.md)', () => {
  it('evicts the oldest entries once the estimated bytes pass maxBytes', async () => {
    const ca = await newCa();
    const maxBytes = await capFor(ca, 3);
    const cache = new LeafCache({ ca, maxBytes });
    for (let i = 0; i < 5; i++) await cache.get(`h${i}.test`);
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(maxBytes);
    expect(cache.bytes).toBeGreaterThanOrEqual(3 * LEAF_CONTEXT_BYTES);
    expect(cache.peek('h0.test')).toBeUndefined();
    expect(cache.peek('h1.test')).toBeUndefined();
    for (const h of ['h2.test', 'h3.test', 'h4.test']) expect(cache.peek(h)).toBeDefined();
  });

  it('is LRU: a host used since it was minted outlives one that was not', async () => {
    const ca = await newCa();
    const cache = new LeafCache({ ca, maxBytes: await capFor(ca, 2) });
    await cache.get('h0.test');
    await cache.get('h1.test');
    expect(cache.peek('h0.test')).toBeDefined(); // h0 becomes the newest
    await cache.get('h2.test');
    expect(cache.peek('h1.test')).toBeUndefined();
    expect(cache.peek('h0.test')).toBeDefined();
    expect(cache.peek('h2.test')).toBeDefined();
  });

  it('re-creates an evicted leaf on the next miss, valid for its host', async () => {
    const ca = await newCa();
    const cache = new LeafCache({ ca, maxBytes: await capFor(ca, 1) });
    const first = await cache.get('h0.test');
    await cache.get('h1.test');
    expect(cache.peek('h0.test')).toBeUndefined();
    const mints = cache.mints;
    const again = await cache.get('h0.test');
    expect(cache.mints).toBe(mints + 1);
    expect(again).not.toBe(first);
    expect(again.context).not.toBe(first.context);
    expect(new X509Certificate(again.certPem).subjectAltName).toBe('DNS:h0.test');
    expect(cache.size).toBe(1);
  });

  it('keeps the newest entry even when it alone is above the cap', async () => {
    const ca = await newCa();
    const cache = new LeafCache({ ca, maxBytes: 1 });
    await cache.get('h0.test');
    await cache.get('h1.test');
    expect(cache.size).toBe(1);
    expect(cache.peek('h1.test')).toBeDefined();
  });

  it('byte accounting returns to the sum of what is held after expiry re-mints', async () => {
    let t = Date.now();
    const ca = await newCa();
    const cache = new LeafCache({ ca, now: () => t });
    const a = await cache.get('a.test');
    const b = await cache.get('b.test');
    expect(cache.bytes).toBe(leafEntryBytes('a.test', a.certPem) + leafEntryBytes('b.test', b.certPem));
    t += 7 * 86400_000 - 1800_000; // < 1 h validity left: both are dropped on the next look-up
    const a2 = await cache.get('a.test');
    expect(cache.peek('b.test')).toBeUndefined();
    expect(cache.bytes).toBe(leafEntryBytes('a.test', a2.certPem));
  });

  it('defaults to a 6 MiB cap and rejects a cap that is not a positive integer', async () => {
    expect(DEFAULT_LEAF_CACHE_BYTES).toBe(6 * 1024 * 1024);
    const ca = await newCa();
    expect(() => new LeafCache({ ca, maxBytes: 0 })).toThrow(/^leaf cache maxBytes must be a positive integer \(got 0\)$/);
    expect(() => new LeafCache({ ca, maxBytes: 1.5 })).toThrow(RangeError);
  });
});
