/**
 * A dense Aho–Corasick automaton over UTF-16 code units: one pass over a text finds every
 * occurrence of every pattern, at a cost independent of the number of patterns (egress §11.2/§17).
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

    // BFS: failure links, merged outputs and the full transition function.
    const nStates = children.length;
    const fail = new Int32Array(nStates);
    const delta = new Int32Array(nStates * nClasses);
    const outputs: (number[] | undefined)[] = new Array(nStates).fill(undefined);
    const order: number[] = [0];
    for (let cls = 0; cls < nClasses; cls++) {
      const child = children[0]!.get(cls);
      if (child !== undefined) {
        fail[child] = 0;
        order.push(child);
      }
      delta[cls] = child ?? 0;
    }
    for (let q = 1; q < order.length; q++) {
      const s = order[q]!;
      const merged = own[s]!.concat(outputs[fail[s]!] ?? []);
      if (merged.length > 0) outputs[s] = merged;
      for (let cls = 0; cls < nClasses; cls++) {
        const child = children[s]!.get(cls);
        if (child !== undefined) {
          fail[child] = s === 0 ? 0 : delta[fail[s]! * nClasses + cls]!;
          order.push(child);
          delta[s * nClasses + cls] = child;
        } else {
          delta[s * nClasses + cls] = delta[fail[s]! * nClasses + cls]!;
        }
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
