/**
 * The `entropy` detector (docs/configuration.md §3.4.3): runs of ≥ 32 characters of
 * `[A-Za-z0-9+/=_-]` whose Shannon entropy is ≥ 4.3 bits/char. Warn-only: random-looking ids are
 * common in real traffic.
 */
export const ENTROPY_MIN_RUN = 32;
export const ENTROPY_MIN_BITS = 4.3;

/** Shannon entropy in bits/char of text[start, end). */
export function shannonEntropy(text: string, start = 0, end = text.length): number {
  const counts = new Map<number, number>();
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const n = end - start;
  let h = 0;
  for (const k of counts.values()) {
    const p = k / n;
    h -= p * Math.log2(p);
  }
  return h;
}

const counts = new Int32Array(128);

/**
 * Entropy of a run of ASCII characters text[start, end) (the scanner's fused loop finds the runs:
 * `[A-Za-z0-9+/=_-]`, length ≥ ENTROPY_MIN_RUN).
 */
export function runEntropy(text: string, start: number, end: number): number {
  counts.fill(0);
  for (let j = start; j < end; j++) counts[text.charCodeAt(j) & 127]!++;
  const len = end - start;
  let h = 0;
  for (let k = 0; k < 128; k++) {
    const m = counts[k]!;
    if (m !== 0) {
      const p = m / len;
      h -= p * Math.log2(p);
    }
  }
  return h;
}
