/**
 * The `entropy` detector (egress §11.1): runs of ≥ 32 characters of `[A-Za-z0-9+/=_-]` whose
 * Shannon entropy is ≥ 4.3 bits/char. Warn-only: random-looking ids are common in real traffic.
 */
export const ENTROPY_MIN_RUN = 32;
export const ENTROPY_MIN_BITS = 4.3;

const IN_RUN = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') {
  IN_RUN[ch.charCodeAt(0)] = 1;
}

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

/** Calls `onRun(start, end)` for each high-entropy run. */
export function findEntropyRuns(text: string, onRun: (start: number, end: number) => void): void {
  const counts = new Int32Array(128);
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c >= 128 || IN_RUN[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      c = text.charCodeAt(i);
      if (c >= 128 || IN_RUN[c] === 0) break;
      i++;
    }
    const len = i - start;
    if (len < ENTROPY_MIN_RUN) continue;
    counts.fill(0);
    for (let j = start; j < i; j++) counts[text.charCodeAt(j)]!++;
    let h = 0;
    for (let k = 0; k < 128; k++) {
      const m = counts[k]!;
      if (m !== 0) {
        const p = m / len;
        h -= p * Math.log2(p);
      }
    }
    if (h >= ENTROPY_MIN_BITS) onRun(start, i);
  }
}
