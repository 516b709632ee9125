import type { FragmentAccumulatorLike } from './types.js';

/**
 * How long pieces of a secret count towards a cross-request fragment finding
 * (docs/security-model.md §2.4).
 */
export const FRAGMENT_WINDOW_MS = 10 * 60 * 1000;

/**
 * Cross-request fragment coverage (docs/decisions/dlp-fragments.md): an agent that sends 8
 * characters of a secret per request stays below the per-request threshold, so pieces are
 * remembered per secret (keyed by fingerprint, never the value) for `windowMs` and their union is
 * measured. Pure: the caller passes the clock. Memory: one small bitmap per piece per secret,
 * pruned on use; `maxPiecesPerSecret` bounds it when a request stream keeps contributing.
 */
export class FragmentAccumulator implements FragmentAccumulatorLike {
  private readonly pieces = new Map<string, { at: number; covered: Uint8Array }[]>();

  constructor(
    private readonly windowMs = FRAGMENT_WINDOW_MS,
    private readonly maxPiecesPerSecret = 256,
  ) {}

  add(key: string, covered: Uint8Array, nowMs: number): number {
    const list = (this.pieces.get(key) ?? []).filter((p) => nowMs - p.at <= this.windowMs && p.covered.length === covered.length);
    list.push({ at: nowMs, covered: Uint8Array.from(covered) });
    while (list.length > this.maxPiecesPerSecret) list.shift();
    this.pieces.set(key, list);
    const union = new Uint8Array(covered.length);
    for (const p of list) for (let i = 0; i < union.length; i++) union[i] = union[i]! | p.covered[i]!;
    let n = 0;
    for (let i = 0; i < union.length; i++) n += union[i]!;
    return n;
  }

  /** Drops everything older than the window (call occasionally; `add` prunes its own key). */
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
