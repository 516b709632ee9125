import type { FragmentAccumulatorLike } from './types.js';

/**
 * How long pieces of a secret count towards a cross-request fragment finding
 * (docs/security-model.md §2.4).
 */
export const FRAGMENT_WINDOW_MS = 10 * 60 * 1000;

/** One distinct coverage bitmap of a secret, shared by every remembered piece that has it. */
interface Distinct {
  readonly bits: Uint8Array;
  /** Remembered pieces (within the window and the cap) that have this bitmap. */
  live: number;
}

interface Piece {
  readonly at: number;
  readonly d: Distinct;
}

interface KeyState {
  /** Bitmap length: every remembered piece has it (an add of another length drops them all). */
  len: number;
  /** Pieces in the order they were added; `pieces[head…]` are the remembered ones. */
  pieces: Piece[];
  head: number;
  /** `at` never decreases along pieces[head…] (then expiry only ever drops a prefix). */
  ordered: boolean;
  distinct: Map<string, Distinct>;
  /** OR of the distinct bitmaps with live > 0; null after one of them went away. */
  union: Uint8Array | null;
  count: number;
}

function sameBits(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bitmapKey(b: Uint8Array): string {
  let k = '';
  for (let i = 0; i < b.length; i++) k += String.fromCharCode(b[i]!);
  return k;
}

/**
 * Cross-request fragment coverage (docs/decisions/dlp-fragments.md): an agent that sends 8
 * characters of a secret per request stays below the per-request threshold, so pieces are
 * remembered per secret (keyed by fingerprint, never the value) for `windowMs` and their union is
 * measured. Pure: the caller passes the clock. Memory: one small bitmap per distinct piece per
 * secret, pruned on use; `maxPiecesPerSecret` bounds it when a request stream keeps contributing.
 *
 * The union over "the last `maxPiecesPerSecret` pieces added within the window" is kept
 * incrementally (docs/decisions/egress-perf-cpu.md): the same benign request repeated (the common
 * case: a host name or path sharing a few characters with a secret) adds no bitmap and no union
 * pass — the earlier version copied, filtered and OR-ed up to 256 bitmaps per request. The result
 * is the same number for every sequence of calls, including a clock that steps back (then the
 * window check runs over every remembered piece, as before).
 */
export class FragmentAccumulator implements FragmentAccumulatorLike {
  private readonly state = new Map<string, KeyState>();

  constructor(
    private readonly windowMs = FRAGMENT_WINDOW_MS,
    private readonly maxPiecesPerSecret = 256,
  ) {}

  add(key: string, covered: Uint8Array, nowMs: number): number {
    let st = this.state.get(key);
    if (!st || st.len !== covered.length) {
      st = { len: covered.length, pieces: [], head: 0, ordered: true, distinct: new Map(), union: new Uint8Array(covered.length), count: 0 };
      this.state.set(key, st);
    }
    this.expire(st, nowMs);
    const last = st.pieces.length > st.head ? st.pieces[st.pieces.length - 1]! : null;
    if (last && nowMs < last.at) st.ordered = false;
    // The common case: the same bitmap as the last piece (a repeated request) — no key to build.
    let d = last && sameBits(last.d.bits, covered) ? last.d : undefined;
    if (!d) {
      const k = bitmapKey(covered);
      d = st.distinct.get(k);
      if (!d) {
        d = { bits: Uint8Array.from(covered), live: 0 };
        st.distinct.set(k, d);
      }
    }
    d.live += 1;
    st.pieces.push({ at: nowMs, d });
    if (d.live === 1 && st.union) {
      const u = st.union;
      for (let i = 0; i < u.length; i++) {
        const v = u[i]! | d.bits[i]!;
        st.count += v - u[i]!;
        u[i] = v;
      }
    }
    while (st.pieces.length - st.head > this.maxPiecesPerSecret) this.drop(st, st.pieces[st.head++]!);
    this.compact(st);
    return this.countOf(st);
  }

  /** Drops everything older than the window (call occasionally; `add` prunes its own key). */
  prune(nowMs: number): void {
    for (const [k, st] of this.state) {
      this.expire(st, nowMs);
      if (st.pieces.length === st.head) this.state.delete(k);
      else this.compact(st);
    }
  }

  get size(): number {
    return this.state.size;
  }

  /** Forgets pieces outside the window: a prefix while `at` is ordered, else a full pass. */
  private expire(st: KeyState, nowMs: number): void {
    const old = (p: Piece) => !(nowMs - p.at <= this.windowMs);
    if (st.ordered) {
      while (st.head < st.pieces.length && old(st.pieces[st.head]!)) this.drop(st, st.pieces[st.head++]!);
      return;
    }
    const kept: Piece[] = [];
    for (let i = st.head; i < st.pieces.length; i++) {
      const p = st.pieces[i]!;
      if (old(p)) this.drop(st, p);
      else kept.push(p);
    }
    st.pieces = kept;
    st.head = 0;
    st.ordered = kept.every((p, i) => i === 0 || kept[i - 1]!.at <= p.at);
  }

  private drop(st: KeyState, p: Piece): void {
    p.d.live -= 1;
    if (p.d.live === 0) {
      st.distinct.delete(bitmapKey(p.d.bits));
      st.union = null;
    }
  }

  private compact(st: KeyState): void {
    if (st.head > 64 && st.head * 2 > st.pieces.length) {
      st.pieces = st.pieces.slice(st.head);
      st.head = 0;
    }
  }

  private countOf(st: KeyState): number {
    if (st.union) return st.count;
    const u = new Uint8Array(st.len);
    for (const d of st.distinct.values()) for (let i = 0; i < u.length; i++) u[i] = u[i]! | d.bits[i]!;
    let n = 0;
    for (let i = 0; i < u.length; i++) n += u[i]!;
    st.union = u;
    st.count = n;
    return n;
  }
}
