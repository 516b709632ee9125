/** A unified line diff (LCS; texts here are small: a routes table, a Dockerfile). Pure. */

type Op = { t: ' ' | '-' | '+'; line: string };

function ops(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ t: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // removals before additions, as diff(1) prints them
      out.push({ t: '-', line: a[i]! });
      i++;
    } else {
      out.push({ t: '+', line: b[j]! });
      j++;
    }
  }
  return out;
}

const lines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

/** `--- a` / `+++ b` and hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(before: string, after: string, labels: { a: string; b: string }, context = 3): string {
  const all = ops(lines(before), lines(after));
  if (all.every((o) => o.t === ' ')) return '';
  const out = [`--- ${labels.a}`, `+++ ${labels.b}`];
  let k = 0;
  while (k < all.length) {
    if (all[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while changes are within 2*context of each other
    for (let x = k; x < all.length; x++) {
      if (all[x]!.t !== ' ') end = x;
      else if (x - end > 2 * context) break;
    }
    const stop = Math.min(all.length, end + context + 1);
    let aStart = 1;
    let bStart = 1;
    for (let x = 0; x < start; x++) {
      if (all[x]!.t !== '+') aStart++;
      if (all[x]!.t !== '-') bStart++;
    }
    const hunk = all.slice(start, stop);
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.line}`);
    k = stop;
  }
  return `${out.join('\n')}\n`;
}
