import { TOKEN_RULE_INDEX, TOKEN_RULES, type TokenRule } from './rules.js';

/**
 * Per-surface state that keeps token verification linear in the text length whatever it holds
 * (the agent controls the text: "sk-ant-sk-ant-…" or thousands of PEM headers must not go
 * quadratic). `until[r]`: anchors of rule r starting before it are inside an earlier match or
 * a run known to fail. `endMemo`: the last closing-line search (extendTo).
 */
export interface TokenState {
  readonly until: Int32Array;
  endFrom: number;
  endAt: number;
}

export function newTokenState(): TokenState {
  return { until: new Int32Array(TOKEN_RULES.length), endFrom: -1, endAt: -1 };
}

const TOKEN_RUN = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') TOKEN_RUN[ch.charCodeAt(0)] = 1;

/** The token match of `rule` whose anchor occupies [start, end), or null. */
export function matchRule(rule: TokenRule, text: string, start: number, end: number, st: TokenState): { start: number; end: number } | null {
  const idx = TOKEN_RULE_INDEX.get(rule)!;
  if (start < st.until[idx]!) return null;
  if (rule.match) {
    const m = rule.match(text, start, end);
    if (!m) return null;
    st.until[idx] = m.end;
    return { start: m.start, end: m.end };
  }
  const re = rule.verify!;
  if (!rule.window) {
    re.lastIndex = start;
    const m = re.exec(text);
    if (!m) {
      if (rule.skipRunOnFail) {
        let r = end;
        while (r < text.length) {
          const c = text.charCodeAt(r);
          if (c >= 128 || TOKEN_RUN[c] === 0) break;
          r++;
        }
        st.until[idx] = r;
      }
      return null;
    }
    let mEnd = start + m[0].length;
    if (rule.extendTo) mEnd = extend(rule.extendTo, text, mEnd, st);
    const valueStart = rule.valueLength ? mEnd - rule.valueLength : start;
    if (rule.check && !rule.check(text.slice(valueStart, mEnd))) return null;
    st.until[idx] = mEnd;
    return { start: valueStart, end: mEnd };
  }
  const from = Math.max(0, start - rule.window.lookbehind);
  const slice = text.slice(from, Math.min(text.length, start + rule.window.lookahead));
  re.lastIndex = 0;
  for (let m = re.exec(slice); m; m = re.exec(slice)) {
    const mStart = from + m.index;
    const mEnd = mStart + m[0].length;
    if (mStart <= start && mEnd >= end) {
      const valueStart = rule.valueLength ? mEnd - rule.valueLength : mStart;
      if (rule.check && !rule.check(text.slice(valueStart, mEnd))) return null;
      st.until[idx] = mEnd;
      return { start: valueStart, end: mEnd };
    }
    if (m[0].length === 0) re.lastIndex++;
  }
  return null;
}

/** End of the closing line after `from` (within the limit), else `from`. Amortised linear. */
function extend(ext: NonNullable<TokenRule['extendTo']>, text: string, from: number, st: TokenState): number {
  // The memo answers "first valid closing line at or after endFrom"; queries come in increasing
  // order, so a query between endFrom and endAt has the same answer.
  if (!(st.endFrom >= 0 && from >= st.endFrom && (st.endAt < 0 || from <= st.endAt))) {
    st.endFrom = from;
    st.endAt = -1;
    for (let p = text.indexOf(ext.marker, from); p >= 0; p = text.indexOf(ext.marker, p + 1)) {
      ext.line.lastIndex = p;
      const m = ext.line.exec(text);
      if (m) {
        st.endAt = p;
        break;
      }
    }
  }
  if (st.endAt < 0 || st.endAt - from > ext.within) return from;
  ext.line.lastIndex = st.endAt;
  const m = ext.line.exec(text)!;
  return st.endAt + m[0].length;
}

