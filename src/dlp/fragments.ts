/**
 * Fragment detection (docs/decisions/dlp-fragments.md). Corpus and secrets are projected the same
 * way: `%XX` decoded, then every character that is not ASCII alphanumeric dropped. Each 8-character
 * window of a projected secret goes into one hash table; the scanner's single pass over the corpus
 * looks every corpus window up, so the cost does not depend on the number of secrets.
 *
 * Windows are exact: 8 alphanumerics × 6 bits = 48 bits, kept as two 24-bit halves (no false hits).
 */
export const FRAGMENT_WINDOW = 8;

/** ASCII alphanumeric → 0..61, else -1. */
export const CODE = new Int8Array(128).fill(-1);
{
  let k = 0;
  for (const ch of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') CODE[ch.charCodeAt(0)] = k++;
}
export const HEX = new Int8Array(128).fill(-1);
for (const ch of '0123456789abcdef') HEX[ch.charCodeAt(0)] = parseInt(ch, 16);
for (const ch of 'ABCDEF') HEX[ch.charCodeAt(0)] = parseInt(ch, 16);

/**
 * The projection of a string as alphanumeric codes (0..61). The scanner's fused loop does the
 * same projection inline on the corpus; this one is for secrets (and tests).
 */
export function project(text: string): Uint8Array {
  const out: number[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c === 37 && i + 2 < n) {
      const a = text.charCodeAt(i + 1);
      const b = text.charCodeAt(i + 2);
      const h1 = a < 128 ? HEX[a]! : -1;
      const h2 = b < 128 ? HEX[b]! : -1;
      if (h1 >= 0 && h2 >= 0) {
        c = h1 * 16 + h2;
        i += 2;
      }
    }
    const code = c < 128 ? CODE[c]! : -1;
    if (code >= 0) out.push(code);
  }
  return Uint8Array.from(out);
}

/** Coverage threshold: max(16, ⌈len/2⌉), or the whole secret when it is shorter than that. */
export function fragmentThreshold(projectedLength: number): number {
  return Math.min(projectedLength, Math.max(16, Math.ceil(projectedLength / 2)));
}

export class FragmentIndex {
  private readonly mask: number;
  private readonly shift: number;
  private readonly keysHi: Int32Array;
  private readonly keysLo: Int32Array;
  /** Per table slot: index into `entries` (a list of [secret, offset] pairs). */
  private readonly slotEntries: Int32Array;
  private readonly entries: (readonly (readonly [number, number])[])[] = [];
  readonly empty: boolean;
  /** 65536-bit filter over the last 4 characters of every window (see `filterBit`). */
  readonly filter = new Int32Array(2048);

  /** `secrets[i]` is the projection of secret i, or null to leave it out. */
  constructor(secrets: readonly (Uint8Array | null)[]) {
    let windows = 0;
    for (const s of secrets) if (s && s.length >= FRAGMENT_WINDOW) windows += s.length - FRAGMENT_WINDOW + 1;
    // Load factor ≤ 1/8: a miss (nearly every corpus position) is almost always one empty slot.
    let bits = 10;
    while (1 << bits < windows * 8) bits++;
    const size = 1 << bits;
    this.mask = size - 1;
    this.shift = 32 - bits;
    this.keysHi = new Int32Array(size).fill(-1);
    this.keysLo = new Int32Array(size);
    this.slotEntries = new Int32Array(size);
    this.empty = windows === 0;
    const lists = new Map<number, [number, number][]>();
    secrets.forEach((s, secret) => {
      if (!s || s.length < FRAGMENT_WINDOW) return;
      let hi = 0;
      let lo = 0;
      for (let j = 0; j < s.length; j++) {
        hi = ((hi << 6) | (lo >>> 18)) & 0xffffff;
        lo = ((lo << 6) | s[j]!) & 0xffffff;
        if (j < FRAGMENT_WINDOW - 1) continue;
        const bit = filterBit(lo);
        this.filter[bit >>> 5] = this.filter[bit >>> 5]! | (1 << (bit & 31));
        const slot = this.findOrInsert(hi, lo);
        let list = lists.get(slot);
        if (!list) {
          list = [];
          lists.set(slot, list);
          this.slotEntries[slot] = this.entries.length;
          this.entries.push(list);
        }
        list.push([secret, j - FRAGMENT_WINDOW + 1]);
      }
    });
  }

  private findOrInsert(hi: number, lo: number): number {
    let h = (Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77)) >>> this.shift;
    while (this.keysHi[h] !== -1) {
      if (this.keysHi[h] === hi && this.keysLo[h] === lo) return h;
      h = (h + 1) & this.mask;
    }
    this.keysHi[h] = hi;
    this.keysLo[h] = lo;
    return h;
  }

  /**
   * The [secret, offset] list of the window (hi, lo), or undefined. Callers test `maybe(lo)` first:
   * a 64 Ki-bit filter on the last 4 characters that rejects nearly every corpus position from L1.
   */
  lookup(hi: number, lo: number): readonly (readonly [number, number])[] | undefined {
    let h = (Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca77)) >>> this.shift;
    for (let k = this.keysHi[h]!; k !== -1; k = this.keysHi[h]!) {
      if (k === hi && this.keysLo[h] === lo) return this.entries[this.slotEntries[h]!];
      h = (h + 1) & this.mask;
    }
    return undefined;
  }
}

/** Bit index into `FragmentIndex.filter` for the last 4 projected characters `lo`. */
export function filterBit(lo: number): number {
  return Math.imul(lo, 0x9e3779b1) >>> 16;
}
