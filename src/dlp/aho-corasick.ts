/**
 * A dense Aho–Corasick automaton over UTF-16 code units: one pass over a text finds every
 * occurrence of every pattern, at a cost independent of the number of patterns
 * (docs/decisions/dlp-one-pass-scanner.md).
 *
 * Layout (for speed, why it looks unusual): code units map to a small alphabet of classes (class 0
 * = "in no pattern"); the transition table holds row offsets (state × classes) already multiplied,
 * and a target state that ends at least one pattern is stored as `~row` (negative), so the hot loop
 * is one table load and one sign test per character.
 */
export class AhoCorasick {
  // Public for the scanner's fused loop (one pass for automaton, fragments and entropy).
  readonly classOf: Uint16Array;
  readonly nClasses: number;
  readonly delta: Int32Array;
  /** Per state (index = row / nClasses): the pattern ids ending there, incl. via suffix links. */
  readonly outputs: (readonly number[] | undefined)[];
  readonly patternLengths: readonly number[];

  constructor(patterns: readonly string[]) {
    this.patternLengths = patterns.map((p) => p.length);
    // Alphabet.
    const classOf = new Uint16Array(65536);
    let nClasses = 1;
    for (const p of patterns) {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (classOf[c] === 0) classOf[c] = nClasses++;
      }
    }
    this.classOf = classOf;
    this.nClasses = nClasses;

    // Trie.
    const children: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    patterns.forEach((p, id) => {
      if (p.length === 0) return;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const cls = classOf[p.charCodeAt(i)]!;
        let next = children[s]!.get(cls);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          own.push([]);
          children[s]!.set(cls, next);
        }
        s = next;
      }
      own[s]!.push(id);
    });

    // BFS: failure links, merged outputs and the full transition function. A state's row starts
    // as a copy of its failure state's row (already complete: it is shallower), then its own
    // children override it — a memcpy per state instead of a lookup per (state, class).
    const nStates = children.length;
    const fail = new Int32Array(nStates);
    const delta = new Int32Array(nStates * nClasses);
    const outputs: (number[] | undefined)[] = new Array(nStates).fill(undefined);
    const order: number[] = [0];
    for (let q = 0; q < order.length; q++) {
      const s = order[q]!;
      const f = fail[s]!;
      if (s !== 0) {
        delta.copyWithin(s * nClasses, f * nClasses, f * nClasses + nClasses);
        const merged = own[s]!.concat(outputs[f] ?? []);
        if (merged.length > 0) outputs[s] = merged;
      }
      for (const [cls, child] of children[s]!) {
        fail[child] = s === 0 ? 0 : delta[f * nClasses + cls]!;
        delta[s * nClasses + cls] = child;
        order.push(child);
      }
    }
    // Pre-multiply and mark accepting targets.
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i]!;
      const row = t * nClasses;
      delta[i] = outputs[t] ? ~row : row;
    }
    this.delta = delta;
    this.outputs = outputs;
  }

  /**
   * Calls `onMatch(patternId, endExclusive)` for every occurrence, in order of end position.
   * Never allocates per character.
   */
  search(text: string, onMatch: (patternId: number, end: number) => void): void {
    const { classOf, delta, nClasses, outputs } = this;
    let row = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const t = delta[row + classOf[text.charCodeAt(i)]!]!;
      if (t >= 0) {
        row = t;
      } else {
        row = ~t;
        const out = outputs[row / nClasses]!;
        for (let k = 0; k < out.length; k++) onMatch(out[k]!, i + 1);
      }
    }
  }
}
