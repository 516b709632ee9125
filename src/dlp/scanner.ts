import { AhoCorasick } from './aho-corasick.js';
import { matchCredentialHeader } from './assignments.js';
import { ENTROPY_MIN_BITS, ENTROPY_MIN_RUN, runEntropy } from './entropy.js';
import { CODE, FragmentIndex, FRAGMENT_WINDOW, fragmentThreshold, HEX, project } from './fragments.js';
import { encodedForms, type EncodedForm } from './known-forms.js';
import { fingerprint, maskSecret } from './mask.js';
import { TOKEN_RULES, type TokenRule } from './rules.js';
import { matchRule, newTokenState, type TokenState } from './token-verify.js';
import { HEX_KEY_CONTEXT, isBase58, isSecp256k1Scalar, isWif, matchCard } from './validators.js';
import {
  dashedRegions,
  delimitedHexViews,
  DelimitedRuns,
  delimitedViews,
  embeddedViews,
  escapeViews,
  foldableUnits,
  foldViews,
  MIN_ENCODED_RUN,
  RUN_END_LINE,
  RUN_END_SINGLE,
  runViews,
  utf16Views,
  type View,
  type ViewLimits,
} from './views.js';
import type {
  DetectorName,
  Finding,
  FragmentSpan,
  KnownSecret,
  ScanOptions,
  Scanner,
  ScannerOptions,
  Surface,
} from './types.js';

/** Known-secret values shorter than this are skipped with a warning. */
export const MIN_SECRET_LENGTH = 8;
/**
 * Encoded forms enter the automaton by their first ANCHOR characters only and are confirmed with
 * `startsWith`: the automaton's size then grows with the number of secrets, not their length.
 */
const ANCHOR = 16;

const KIND_RANK: Record<KnownSecret['kind'], number> = { canary: 3, slot: 2, sensitive: 1 };

/** Decode-then-rescan limits (docs/decisions/dlp-v2-views-and-validators.md). */
export const MAX_VIEW_DEPTH = 3;
/** Decoded characters per scan call: 8 × the input + 1 MiB, never more than 32 MiB. */
export const VIEW_BUDGET_RATIO = 8;
export const VIEW_BUDGET_SLACK = 1024 * 1024;
export const VIEW_BUDGET_CAP = 32 * 1024 * 1024;
/**
 * Short pieces (4–7 alphanumerics, below the fragment window) count only in texts this small:
 * header values, path, query and small bodies — where pieces hide — and where a second look at
 * every character is affordable (a 1 KiB text costs ~1 µs).
 */
export const SHORT_PIECE_MAX_TEXT = 1024;
const SHORT_MIN = 4;
/** Module-local copies of imported constants used per character or per run (see WINDOW below). */
const VIEW_MIN_RUN = 16;
/** Bits of the short-piece pre-filter (a 64 Ki-bit set over a hash of each piece). */
const SHORT_FILTER_BITS = 16;

const RULE_BY_ID = new Map(TOKEN_RULES.map((r) => [r.id, r]));
const CARD_RULE = RULE_BY_ID.get('card_number')!;
const CRYPTO_RULE = RULE_BY_ID.get('crypto_private_key')!;
const UNSCANNABLE_RULE = RULE_BY_ID.get('unscannable_compressed')!;
const HEADER_RULE = RULE_BY_ID.get('credential_header')!;
const GENERIC_RULES = new Set(TOKEN_RULES.filter((r) => r.generic).map((r) => r.id));

interface PreparedSecret {
  readonly name: string;
  readonly kind: KnownSecret['kind'];
  readonly length: number;
  readonly masked: string;
  readonly fingerprint: string;
  readonly projectedLength: number;
}

interface FormEntry {
  readonly secret: number;
  readonly form: EncodedForm;
}

interface Coverage {
  readonly secret: number;
  readonly covered: Uint8Array;
  readonly surfaces: Set<string>;
  readonly spans: FragmentSpan[];
}

/**
 * The decoded views of one text, scanned together as one batch text (one loop call, however many
 * views): per segment, where it starts in the batch, how it was decoded, and the raw region it
 * came from (null when the root surface is itself derived).
 */
interface ViewInfo {
  readonly segStarts: number[];
  readonly segKinds: string[];
  readonly segSpans: (FragmentSpan | null)[];
}

interface ScanContext {
  readonly tokens: boolean;
  readonly known: boolean;
  readonly entropy: boolean;
  /**
   * Known-secret matching runs: known_secrets on, or a canary exists (always on,
   * docs/security-model.md §2.4).
   */
  readonly secretsOn: boolean;
  readonly findings: Finding[];
  /** Fingerprints already computed in this call (a value repeated 10 000 times costs one HMAC). */
  readonly fingerprints: Map<string, string>;
  /** Reset for every surface (see TokenState). */
  tokenState: TokenState | null;
  /**
   * Secrets found verbatim (key: secret, or secret + surface name with per-surface scope): their
   * fragments are not reported again.
   */
  readonly verbatim: Set<string | number>;
  /** Per secret: covered projected positions, and where the pieces were. */
  readonly coverage: Map<string | number, Coverage>;
  /** `fragmentScope: 'surface'`: coverage is kept per surface name instead of per call. */
  readonly perSurface: boolean;
  /** Decode-then-rescan on, and how deep. */
  readonly viewDepth: number;
  /** Token-character runs are collected (views or run-triggered validated detectors need them). */
  readonly runsOn: boolean;
  readonly lim: ViewLimits;
  /** Set while a batch of decoded views is scanned. */
  view: ViewInfo | null;
  /** Positions of compatibility/invisible characters in the text being scanned (fold markers). */
  foldPos: number[];
}

/**
 * One class table for the fused loop: 0..61 alphanumeric (the fragment code), 62 the other entropy
 * run characters `+/=_-`, 63 anything else, 64 `%` (starts a %XX escape for the projection).
 */
// Hot-loop constants are module-local on purpose: imported ESM bindings are read through the
// module record with a TDZ check on every access, which halved throughput under tsx.
const WINDOW = 8;
const MIN_RUN = 32;
const CLS_SYMBOL = 62;
const CLS_OTHER = 63;
const CLS_PERCENT = 64;
const CLS = new Uint8Array(65536).fill(CLS_OTHER);
for (let c = 0; c < 128; c++) if (CODE[c]! >= 0) CLS[c] = CODE[c]!;
for (const ch of '+/=_-') CLS[ch.charCodeAt(0)] = CLS_SYMBOL;
CLS[37] = CLS_PERCENT;
/** `percentClass` result for a `%` that starts no escape (masked to CLS_OTHER by the caller). */
const CLS_OTHER_DECODED = CLS_OTHER + 64;
/**
 * Second run class (LUT bit 15): hex digits, digits and the delimiters of printed hex and card
 * numbers (space : - , x). Its runs of ≥ 13 feed card numbers and delimited-hex views.
 */
const HEXISH = new Uint8Array(128);
for (const ch of '0123456789abcdefABCDEF :-,x') HEXISH[ch.charCodeAt(0)] = 1;
const MIN_HEXISH_RUN = 13;
/**
 * Between the views of one batch: a control character no decoder, rule or delimiter reads as part
 * of a token or a line break (a `\n` there let wrapped-line joining glue unrelated views together).
 */
const SEGMENT_SEPARATOR = '\u0001';
/** Bits 23–24 of the LUT: characters ending a token run that the de-delimited view looks at. */
const RUN_END_BITS = new Int32Array(128);
for (const ch of '"\'`\\\n\r') RUN_END_BITS[ch.charCodeAt(0)] = RUN_END_LINE;
for (const ch of '.,: ') RUN_END_BITS[ch.charCodeAt(0)] = RUN_END_SINGLE;
/** A character class no pattern uses: every fold marker maps to it (one automaton class). */
const FOLD_SENTINEL = '\uE000';

interface Payload {
  readonly anchorLength: number;
  readonly rules: TokenRule[];
  readonly forms: FormEntry[];
  /** The fold sentinel: record the position. */
  fold: boolean;
}

class DlpScanner implements Scanner {
  readonly warnings: string[] = [];
  private readonly secrets: PreparedSecret[] = [];
  private readonly payloads: Payload[] = [];
  private readonly automaton: AhoCorasick;
  private readonly fragments: FragmentIndex;
  private readonly hasCanary: boolean;
  private readonly key: Uint8Array;
  private readonly ringCode = new Uint8Array(FRAGMENT_WINDOW);
  private readonly ringPos = new Int32Array(FRAGMENT_WINDOW);
  private tailRun = 0;
  /** Groups of the text being scanned for the de-delimited view (reset per text; scanning is synchronous). */
  private readonly delim = new DelimitedRuns();
  private tailHexRun = 0;
  /**
   * Per UTF-16 code unit: automaton class (bits 0–14) | HEXISH (bit 15) | CLS class (bits 16–22):
   * one load, and the class needs no mask.
   */
  private readonly lut: Int32Array;
  /** Short pieces: every 4–7-character substring of every projected secret → [secret, offset]. */
  private readonly shortPieces = new Map<string, [number, number][]>();
  /** Pre-filter over `pieceHash` of every short piece: most runs are rejected without a slice. */
  private readonly shortFilter = new Int32Array(1 << (SHORT_FILTER_BITS - 5));

  constructor(opts: ScannerOptions) {
    this.key = Uint8Array.from(opts.fingerprintKey);
    const byValue = new Map<string, KnownSecret>();
    for (const s of opts.knownSecrets) {
      if (s.value.length < MIN_SECRET_LENGTH) {
        this.warnings.push(
          `${s.name} is shorter than ${MIN_SECRET_LENGTH} characters and is not scanned for; use a longer value if it must be protected`,
        );
        continue;
      }
      // The same value under two names: report it as the strictest kind (canary > slot > sensitive).
      const prev = byValue.get(s.value);
      if (!prev || KIND_RANK[s.kind] > KIND_RANK[prev.kind]) byValue.set(s.value, s);
    }
    const patternIds = new Map<string, number>();
    const payloadFor = (anchor: string): Payload => {
      let id = patternIds.get(anchor);
      if (id === undefined) {
        id = this.payloads.length;
        patternIds.set(anchor, id);
        this.payloads.push({ anchorLength: anchor.length, rules: [], forms: [], fold: false });
      }
      return this.payloads[id]!;
    };
    for (const rule of TOKEN_RULES) for (const a of rule.anchors) payloadFor(a).rules.push(rule);
    payloadFor(FOLD_SENTINEL).fold = true;
    const projections: (Uint8Array | null)[] = [];
    for (const s of byValue.values()) {
      const idx = this.secrets.length;
      const projected = project(s.value);
      projections.push(projected.length >= FRAGMENT_WINDOW ? projected : null);
      this.secrets.push({
        name: s.name,
        kind: s.kind,
        length: s.value.length,
        masked: maskSecret(s.value),
        fingerprint: fingerprint(this.key, s.value),
        projectedLength: projected.length,
      });
      for (const form of encodedForms(s.value)) payloadFor(form.text.slice(0, ANCHOR)).forms.push({ secret: idx, form });
      this.addShortPieces(projected, idx);
    }
    if (WINDOW !== FRAGMENT_WINDOW || MIN_RUN !== ENTROPY_MIN_RUN || VIEW_MIN_RUN !== MIN_ENCODED_RUN) throw new Error('dlp: hot-loop constants out of sync');
    this.hasCanary = this.secrets.some((s) => s.kind === 'canary');
    this.automaton = new AhoCorasick([...patternIds.keys()]);
    this.fragments = new FragmentIndex(projections);
    if (this.automaton.nClasses >= 1 << 15) throw new Error('dlp: automaton alphabet too large for the lookup table');
    this.lut = new Int32Array(65536);
    const foldable = foldableUnits();
    const sentinel = this.automaton.classOf[FOLD_SENTINEL.charCodeAt(0)]!;
    for (let c = 0; c < 65536; c++) {
      let ac = this.automaton.classOf[c]!;
      // A marker that is also in some pattern (a secret holding a fullwidth letter) keeps its class.
      if (foldable[c] === 1 && ac === 0) ac = sentinel;
      this.lut[c] = (CLS[c]! << 16) | ac | (c < 128 && HEXISH[c] === 1 ? 1 << 15 : 0) | (RUN_END_BITS[c] ?? 0);
    }
  }

  private addShortPieces(projected: Uint8Array, secret: number): void {
    const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    const s = Array.from(projected, (c) => ALPHA[c]).join('');
    // Only secrets long enough for fragments; a piece is credited where it first occurs.
    if (s.length < WINDOW) return;
    for (let len = SHORT_MIN; len < WINDOW; len++) {
      for (let o = 0; o + len <= s.length; o++) {
        const key = s.slice(o, o + len);
        const h = pieceHash(s, o, o + len);
        this.shortFilter[h >>> 5] = this.shortFilter[h >>> 5]! | (1 << (h & 31));
        let list = this.shortPieces.get(key);
        if (!list) {
          list = [];
          this.shortPieces.set(key, list);
        }
        if (!list.some(([sec, off]) => sec === secret && off === o)) list.push([secret, o]);
      }
    }
  }

  scan(surfaces: readonly Surface[], detectors: ReadonlySet<DetectorName>, opts: ScanOptions = {}): Finding[] {
    const known = detectors.has('known_secrets');
    const tokens = detectors.has('token_patterns');
    const secretsOn = known || this.hasCanary;
    const viewDepth = opts.views === false ? 0 : Math.max(0, Math.min(MAX_VIEW_DEPTH, opts.maxViewDepth ?? MAX_VIEW_DEPTH));
    let total = 0;
    for (const surface of surfaces) total += typeof surface.text === 'string' ? surface.text.length : 0;
    const ctx: ScanContext = {
      tokens,
      known,
      entropy: detectors.has('entropy'),
      secretsOn,
      findings: [],
      fingerprints: new Map(),
      tokenState: null,
      verbatim: new Set(),
      coverage: new Map(),
      perSurface: opts.fragmentScope === 'surface',
      viewDepth: tokens || secretsOn ? viewDepth : 0,
      runsOn: tokens || ((tokens || secretsOn) && viewDepth > 0),
      lim: { budget: Math.min(VIEW_BUDGET_CAP, VIEW_BUDGET_RATIO * total + VIEW_BUDGET_SLACK), overflow: [] },
      view: null,
      foldPos: [],
    };
    for (const surface of surfaces) {
      const text = typeof surface.text === 'string' ? surface.text : String(surface.text ?? '');
      ctx.tokenState = null;
      ctx.view = null;
      this.scanText(text, surface.name, surface.derived === true, ctx, 0);
      // Credential-carrying request headers: the value's shape decides (no anchor to find).
      if (tokens && surface.derived !== true && surface.name.startsWith('header:')) {
        const m = matchCredentialHeader(surface.name.slice(7), text);
        if (m) this.pushValidated(HEADER_RULE, text, m.start, m.end, surface.name, false, ctx);
      }
    }
    this.fragmentFindings(ctx, opts);
    return dropGeneric(dedupeDerived(ctx.findings));
  }

  /**
   * One pass over the text for every detector (why fused: on this hardware each extra pass over a
   * 1 MiB body costs ~2 ms of the 10 ms budget). Per character: one automaton step, the
   * entropy run length and the fragment window, all branch-free except on (rare) hits.
   */
  private scanText(text: string, surface: string, derived: boolean, ctx: ScanContext, depth: number): void {
    const entropyOn = ctx.entropy && !derived;
    const runsOn = ctx.runsOn;
    // Runs shorter than this are of no interest to anyone (entropy wants 32, views 16).
    const runMin = runsOn ? VIEW_MIN_RUN : entropyOn ? MIN_RUN : 0x7fffffff;
    const runs: number[] = [];
    const hexRuns: number[] = [];
    ctx.foldPos = [];
    // Groups for the de-delimited view: only when this text's views will be built.
    const delim = runsOn && depth < ctx.viewDepth ? this.delim : null;
    this.loop(text, surface, derived, ctx, runMin, entropyOn, runs, hexRuns, delim);
    const n = text.length;
    const run = this.tailRun;
    const run2 = this.tailHexRun;
    if (run >= runMin) this.onRun(text, n - run, n, surface, entropyOn, runsOn, runs, ctx);
    delim?.replay(text, run);
    if (run2 >= MIN_HEXISH_RUN && runsOn) hexRuns.push(n - run2, n);
    const foldPos = ctx.foldPos;
    if (ctx.tokens) this.runValidators(text, runs, hexRuns, surface, derived, ctx);
    if (ctx.secretsOn && this.shortPieces.size > 0 && n <= SHORT_PIECE_MAX_TEXT) this.onShortPieces(text, surface, derived, ctx);
    if (depth < ctx.viewDepth && ctx.lim.budget > 0) this.scanViews(text, runs, hexRuns, foldPos, surface, derived, ctx, depth);
  }

  /**
   * The hot loop, alone in its function on purpose: V8 compiles it on-stack mid-loop, and code
   * after a loop that has never run has no type feedback — a post-loop branch in this function
   * deoptimised it on every call (measured: 2× slower). The runs still open at the end are left in
   * `tailRun`/`tailHexRun` for the caller.
   */
  private loop(text: string, surface: string, derived: boolean, ctx: ScanContext, runMin: number, entropyOn: boolean, runs: number[], hexRuns: number[], delim: DelimitedRuns | null): void {
    const { delta, nClasses, outputs } = this.automaton;
    const lut = this.lut;
    const frag = this.fragments;
    const filter = frag.filter;
    const acOn = ctx.tokens || ctx.secretsOn;
    const fragOn = ctx.secretsOn && !frag.empty;
    const runsOn = ctx.runsOn;
    const hexMin = runsOn ? MIN_HEXISH_RUN : 0x7fffffff;
    // Last 8 projected characters: their codes and where each started in the text (reused:
    // scanning is synchronous, and every slot is written before it is read).
    const { ringCode, ringPos } = this;
    const n = text.length;
    let row = 0;
    let lo = 0;
    let count = 0;
    let run = 0;
    let run2 = 0;
    let skip = 0;
    const dm = delim === null ? 0 : delim.reset(n);
    const ends = this.delim.ends;
    let ne = 0;
    for (let i = 0; i < n; i++) {
      const e = lut[text.charCodeAt(i)]!;
      const t = delta[row + (e & 0x7fff)]!;
      if (t >= 0) {
        row = t;
      } else {
        row = ~t;
        if (acOn) this.onAnchors(outputs[row / nClasses]!, i + 1, text, surface, derived, ctx);
      }
      let cls = (e >>> 16) & 0x7f;
      // Token-character runs (cls < 63): entropy, encoded regions, run-triggered validators.
      const prev = run;
      run = (run + 1) & ((cls - CLS_OTHER) >> 31);
      // One compare: while a run continues prev - run = -1; when it ends, prev - run = its length.
      if (prev - run >= runMin) this.onRun(text, i - prev, i, surface, entropyOn, runsOn, runs, ctx);
      // De-delimited view: runs ending at a selected character (bits 23–24), replayed after the loop.
      if ((e & dm) !== 0 && prev - run > 0) {
        ends[ne] = i;
        ends[ne + 1] = prev;
        ne += 2;
        if (ne === ends.length) ne = delim!.flush(text, ne);
      }
      // Hex/digit runs with delimiters (bit 15): card numbers and printed hex.
      const prev2 = run2;
      run2 = (run2 + 1) & ((e << 16) >> 31);
      if (prev2 - run2 >= hexMin) hexRuns.push(i - prev2, i);
      // Fragment projection: %XX decoded, non-alphanumerics dropped (cls < 62 = alphanumeric).
      if (skip !== 0) {
        skip--;
        cls = CLS_OTHER;
      } else if (cls === CLS_PERCENT) {
        cls = this.percentClass(text, i);
        if (cls !== CLS_OTHER_DECODED) skip = 2;
        cls &= 0x3f;
      }
      const keep = (cls - CLS_SYMBOL) >> 31; // -1 for an alphanumeric, else 0
      // Unconditional stores: a non-alphanumeric writes the slot the next alphanumeric overwrites.
      ringCode[count & 7] = cls;
      ringPos[count & 7] = i;
      lo = ((((lo << 6) | cls) & 0xffffff) & keep) | (lo & ~keep);
      count -= keep;
      const bit = Math.imul(lo, 0x9e3779b1) >>> 16;
      if ((filter[bit >>> 5]! & (1 << (bit & 31)) & keep) !== 0 && count >= WINDOW && fragOn) {
        const hi = (ringCode[count & 7]! << 18) | (ringCode[(count + 1) & 7]! << 12) | (ringCode[(count + 2) & 7]! << 6) | ringCode[(count + 3) & 7]!;
        const entries = frag.lookup(hi, lo);
        if (entries) this.onFragment(entries, ringPos[count & 7]!, i + 1 + skip, surface, derived, ctx);
      }
    }
    this.tailRun = run;
    this.tailHexRun = run2;
    this.delim.count = ne;
  }

  /**
   * Decode-then-rescan: decode the regions of `text` that look encoded and scan the results as one
   * derived batch text (one more loop call per depth, however many views).
   */
  private scanViews(text: string, runs: number[], hexRuns: number[], foldPos: number[], surface: string, derived: boolean, ctx: ScanContext, depth: number): void {
    const lim = ctx.lim;
    const views: View[] = [];
    const before = lim.overflow.length;
    runViews(text, runs, lim, views);
    if (hexRuns.length > 0) delimitedHexViews(text, hexRuns, lim, views);
    escapeViews(text, lim, views);
    const delim = this.delim;
    dashedRegions(text, runs, delim.regions);
    delimitedViews(text, delim.regions, lim, views);
    delim.reset(0);
    if (text.indexOf('\0') >= 0) utf16Views(text, lim, views);
    foldViews(text, foldPos, lim, views);
    embeddedViews(text, lim, views);
    const parent = ctx.view;
    for (let k = before; k < lim.overflow.length; k++) {
      const o = lim.overflow[k]!;
      if (!(ctx.tokens || ctx.known)) continue;
      const w = origin(parent, derived, surface, o.start, o.end);
      const kind = w.kind ? `${w.kind}>${o.kind}` : o.kind;
      const value = text.slice(o.start, Math.min(o.end, o.start + 64));
      ctx.findings.push({
        detector: 'token_patterns',
        rule: UNSCANNABLE_RULE.id,
        surface,
        start: null,
        end: null,
        severity: 'block',
        masked: `${kind} stream (len ${o.end - o.start})`,
        fingerprint: this.fingerprintOf(value, ctx),
        view: kind,
        ...(w.span ? { spans: [w.span] } : {}),
      });
    }
    lim.overflow.length = before;
    if (views.length === 0) return;
    const info: ViewInfo = { segStarts: [], segKinds: [], segSpans: [] };
    const parts: string[] = [];
    let offset = 0;
    for (const v of views) {
      const w = origin(parent, derived, surface, v.start, v.end);
      info.segStarts.push(offset);
      info.segKinds.push(w.kind ? `${w.kind}>${v.kind}` : v.kind);
      info.segSpans.push(w.span);
      parts.push(v.text);
      offset += v.text.length + 1;
    }
    const savedState = ctx.tokenState;
    ctx.tokenState = null;
    ctx.view = info;
    this.scanText(parts.join(SEGMENT_SEPARATOR), surface, true, ctx, depth + 1);
    ctx.view = parent;
    ctx.tokenState = savedState;
  }

  /** Placement of a match: raw offsets, or null with the decoded view's chain and raw region. */
  private place(ctx: ScanContext, derived: boolean, start: number, end: number): Pick<Finding, 'start' | 'end' | 'view' | 'spans'> {
    if (!derived) return { start, end };
    const v = ctx.view;
    if (!v) return { start: null, end: null };
    const k = segmentAt(v, start);
    const span = v.segSpans[k];
    return { start: null, end: null, view: v.segKinds[k]!, ...(span ? { spans: [span] } : {}) };
  }

  /**
   * Validated detectors that have no anchor: card numbers in hex/digit runs, WIF and 64-hex keys
   * (with key context) in token-character runs.
   */
  private runValidators(text: string, runs: readonly number[], hexRuns: readonly number[], surface: string, derived: boolean, ctx: ScanContext): void {
    for (let k = 0; k < hexRuns.length; k += 2) this.cardsIn(text, hexRuns[k]!, hexRuns[k + 1]!, surface, derived, ctx);
    for (let k = 0; k < runs.length; k += 2) {
      const s = runs[k]!;
      const e = runs[k + 1]!;
      if (e - s >= 51) this.keysIn(text, s, e, surface, derived, ctx);
    }
  }

  private cardsIn(text: string, s: number, e: number, surface: string, derived: boolean, ctx: ScanContext): void {
    let i = s;
    while (i < e) {
      if (!digit(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i;
      while (j < e) {
        const c = text.charCodeAt(j);
        if (digit(c)) j++;
        else if ((c === 32 || c === 45) && j + 1 < e && digit(text.charCodeAt(j + 1))) j++;
        else break;
      }
      this.cardChain(text, i, j, surface, derived, ctx);
      i = j;
    }
  }

  /** A chain of digit groups [i, j): the whole chain, else each run of consecutive groups. */
  private cardChain(text: string, i: number, j: number, surface: string, derived: boolean, ctx: ScanContext): void {
    if (j - i < 13) return;
    const groups: [number, number][] = [];
    let g = i;
    for (let k = i; k <= j; k++) {
      if (k === j || text.charCodeAt(k) === 32 || text.charCodeAt(k) === 45) {
        groups.push([g, k]);
        g = k + 1;
      }
    }
    if (groups.length > 12) return;
    for (let a = 0; a < groups.length; a++) {
      let digits = 0;
      for (let b = a; b < groups.length; b++) {
        digits += groups[b]![1] - groups[b]![0];
        if (digits > 19) break;
        if (digits < 13) continue;
        const start = groups[a]![0];
        const end = groups[b]![1];
        if (!cardBoundary(text, start, end)) continue;
        if (!matchCard(text, start, end)) continue;
        this.pushValidated(CARD_RULE, text, start, end, surface, derived, ctx);
        return;
      }
    }
  }

  /** WIF (base58check) and 64-hex private keys (with key context before them) inside a run. */
  private keysIn(text: string, s: number, e: number, surface: string, derived: boolean, ctx: ScanContext): void {
    // 64 hex digits exactly (optionally after 0x), not glued to other alphanumerics.
    for (let i = s; i < e; ) {
      if (!hex(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i;
      while (j < e && hex(text.charCodeAt(j))) j++;
      const before = i > 0 ? text.charCodeAt(i - 1) : 32;
      const prefixed0x = before === 120 && i >= 2 && text.charCodeAt(i - 2) === 48;
      if (j - i === 64 && (prefixed0x || !alnum(before)) && !(j < text.length && alnum(text.charCodeAt(j)))) {
        const ctxStart = Math.max(0, i - 48);
        if (HEX_KEY_CONTEXT.test(text.slice(ctxStart, i)) && isSecp256k1Scalar(text.slice(i, j))) this.pushValidated(CRYPTO_RULE, text, i, j, surface, derived, ctx);
      }
      i = j;
    }
    // WIF: a maximal base58 stretch of 51/52 characters with a valid checksum.
    for (let i = s; i < e; ) {
      if (!isBase58(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i;
      while (j < e && isBase58(text.charCodeAt(j))) j++;
      if ((j - i === 51 || j - i === 52) && !(j < text.length && alnum(text.charCodeAt(j))) && !(i > 0 && alnum(text.charCodeAt(i - 1)))) {
        if (isWif(text.slice(i, j))) this.pushValidated(CRYPTO_RULE, text, i, j, surface, derived, ctx);
      }
      i = j;
    }
  }

  private pushValidated(rule: TokenRule, text: string, start: number, end: number, surface: string, derived: boolean, ctx: ScanContext): void {
    const value = text.slice(start, end);
    ctx.findings.push({
      detector: 'token_patterns',
      rule: rule.id,
      surface,
      ...this.place(ctx, derived, start, end),
      severity: 'block',
      masked: maskSecret(value),
      fingerprint: this.fingerprintOf(value, ctx),
    });
  }

  /**
   * Pieces of a known secret shorter than the fragment window (4–7 alphanumerics), in small texts
   * only (headers, path, query, small bodies): each maximal alphanumeric run that is exactly such a
   * piece, not part of a dotted or dashed id, counts towards the secret's coverage (docs/decisions/dlp-v2-views-and-validators.md).
   */
  private onShortPieces(text: string, surface: string, derived: boolean, ctx: ScanContext): void {
    const n = text.length;
    for (let i = 0; i < n; ) {
      const c = text.charCodeAt(i);
      if (c >= 128 || CLS[c]! >= CLS_SYMBOL) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d >= 128 || CLS[d]! >= CLS_SYMBOL) break;
        j++;
      }
      const len = j - i;
      if (len >= SHORT_MIN && len < WINDOW) {
        const p = i > 0 ? text.charCodeAt(i - 1) : 32;
        const q = j < n ? text.charCodeAt(j) : 32;
        const h = pieceHash(text, i, j);
        if (p !== 45 && p !== 46 && q !== 45 && q !== 46 && (this.shortFilter[h >>> 5]! & (1 << (h & 31))) !== 0) {
          const entries = this.shortPieces.get(text.slice(i, j));
          if (entries) this.creditPiece(entries, len, i, j, surface, derived, ctx);
        }
      }
      i = j;
    }
  }

  private creditPiece(entries: readonly (readonly [number, number])[], len: number, start: number, end: number, surface: string, derived: boolean, ctx: ScanContext): void {
    const done = new Set<number>();
    for (const [secret, offset] of entries) {
      if (done.has(secret) || (!ctx.known && this.secrets[secret]!.kind !== 'canary')) continue;
      const cov = this.coverageOf(secret, surface, ctx);
      let full = true;
      for (let j = offset; j < offset + len; j++) if (cov.covered[j] === 0) full = false;
      if (full) continue;
      done.add(secret);
      cov.covered.fill(1, offset, offset + len);
      cov.surfaces.add(surface);
      this.addPieceSpan(cov, surface, start, end, derived, ctx);
    }
  }

  private coverageOf(secret: number, surface: string, ctx: ScanContext): Coverage {
    const key = ctx.perSurface ? `${secret}\0${surface}` : secret;
    let cov = ctx.coverage.get(key);
    if (!cov) {
      cov = { secret, covered: new Uint8Array(this.secrets[secret]!.projectedLength), surfaces: new Set(), spans: [] };
      ctx.coverage.set(key, cov);
    }
    return cov;
  }

  private addPieceSpan(cov: Coverage, surface: string, start: number, end: number, derived: boolean, ctx: ScanContext): void {
    if (!derived) {
      addSpan(cov.spans, surface, start, end);
      return;
    }
    const v = ctx.view;
    if (!v) return;
    const span = v.segSpans[segmentAt(v, start)];
    if (span && !cov.spans.some((x) => x.surface === span.surface && x.start === span.start && x.end === span.end)) cov.spans.push(span);
  }

  /**
   * Class of a `%` at i for the projection: the decoded byte's class when `%XX` is valid (caller
   * skips the two hex digits), else CLS_OTHER_DECODED (= CLS_OTHER + 64: "no escape here").
   */
  private percentClass(text: string, i: number): number {
    if (i + 2 >= text.length) return CLS_OTHER_DECODED;
    const a = text.charCodeAt(i + 1);
    const b = text.charCodeAt(i + 2);
    const h1 = a < 128 ? HEX[a]! : -1;
    const h2 = b < 128 ? HEX[b]! : -1;
    if (h1 < 0 || h2 < 0) return CLS_OTHER_DECODED;
    const d = CLS[h1 * 16 + h2]!;
    return d < CLS_SYMBOL ? d : CLS_OTHER;
  }

  private onAnchors(
    patternIds: readonly number[],
    end: number,
    text: string,
    surface: string,
    derived: boolean,
    ctx: ScanContext,
  ): void {
    for (const pid of patternIds) {
      const payload = this.payloads[pid]!;
      const start = end - payload.anchorLength;
      if (payload.fold) {
        if (ctx.foldPos.length < 65536) ctx.foldPos.push(start);
        continue;
      }
      if (ctx.tokens) {
        for (const rule of payload.rules) {
          const m = matchRule(rule, text, start, end, (ctx.tokenState ??= newTokenState()));
          if (!m) continue;
          // No duplicate check needed: after a match, TokenState skips every later anchor of the
          // same rule that starts inside it.
          const value = text.slice(m.start, m.end);
          ctx.findings.push({
            detector: 'token_patterns',
            rule: rule.id,
            surface,
            ...this.place(ctx, derived, m.start, m.end),
            severity: 'block',
            masked: maskSecret(value),
            fingerprint: this.fingerprintOf(value, ctx),
          });
        }
      }
      for (const { secret, form } of payload.forms) {
        if (!ctx.known && this.secrets[secret]!.kind !== 'canary') continue;
        if (form.text.length > payload.anchorLength && !text.startsWith(form.text, start)) continue;
        ctx.verbatim.add(ctx.perSurface ? `${secret}\0${surface}` : secret);
        ctx.findings.push(this.secretFinding(secret, form.rule, surface, this.place(ctx, derived, start, start + form.text.length)));
      }
    }
  }

  private fingerprintOf(value: string, ctx: ScanContext): string {
    let fp = ctx.fingerprints.get(value);
    if (fp === undefined) {
      fp = fingerprint(this.key, value);
      ctx.fingerprints.set(value, fp);
    }
    return fp;
  }

  private onRun(text: string, start: number, end: number, surface: string, entropyOn: boolean, runsOn: boolean, runs: number[], ctx: ScanContext): void {
    if (runsOn) runs.push(start, end);
    if (!entropyOn || end - start < MIN_RUN || runEntropy(text, start, end) < ENTROPY_MIN_BITS) return;
    const value = text.slice(start, end);
    ctx.findings.push({
      detector: 'entropy',
      rule: 'entropy',
      surface,
      start,
      end,
      severity: 'warn',
      masked: maskSecret(value),
      fingerprint: this.fingerprintOf(value, ctx),
    });
  }

  private onFragment(
    entries: readonly (readonly [number, number])[],
    start: number,
    end: number,
    surface: string,
    derived: boolean,
    ctx: ScanContext,
  ): void {
    let last = -1;
    for (const [secret, offset] of entries) {
      // One corpus window covers one occurrence: a window repeated inside the secret is credited
      // to its first not-yet-covered place, so "password" seen once covers 8, not 16.
      if (secret === last || (!ctx.known && this.secrets[secret]!.kind !== 'canary')) continue;
      const cov = this.coverageOf(secret, surface, ctx);
      let full = true;
      for (let j = offset; j < offset + WINDOW; j++) if (cov.covered[j] === 0) full = false;
      if (full) continue;
      last = secret;
      cov.covered.fill(1, offset, offset + WINDOW);
      cov.surfaces.add(surface);
      this.addPieceSpan(cov, surface, start, end, derived, ctx);
    }
  }

  private fragmentFindings(ctx: ScanContext, opts: ScanOptions): void {
    for (const cov of ctx.coverage.values()) {
      const secret = cov.secret;
      if (ctx.verbatim.has(ctx.perSurface ? `${secret}\0${[...cov.surfaces][0]}` : secret)) continue;
      const s = this.secrets[secret]!;
      let covered = 0;
      for (let j = 0; j < cov.covered.length; j++) covered += cov.covered[j]!;
      const threshold = fragmentThreshold(s.projectedLength);
      if (covered < threshold && opts.accumulator) {
        covered = opts.accumulator.add(s.fingerprint, cov.covered, opts.nowMs ?? 0);
      }
      if (covered < threshold) continue;
      ctx.findings.push({
        ...this.secretFinding(secret, 'fragment', [...cov.surfaces].join('+'), { start: null, end: null }),
        spans: cov.spans,
      });
    }
  }

  private secretFinding(secret: number, rule: string, surface: string, pos: Pick<Finding, 'start' | 'end' | 'view' | 'spans'>): Finding {
    const s = this.secrets[secret]!;
    return {
      detector: s.kind === 'canary' ? 'canary' : 'known_secrets',
      rule,
      surface,
      ...pos,
      severity: 'block',
      secretName: s.name,
      secretKind: s.kind,
      masked: s.masked,
      fingerprint: s.fingerprint,
    };
  }
}

function addSpan(spans: FragmentSpan[], surface: string, start: number, end: number): void {
  const last = spans[spans.length - 1];
  if (last && last.surface === surface && start <= last.end) {
    spans[spans.length - 1] = { surface, start: last.start, end: Math.max(last.end, end) };
  } else {
    spans.push({ surface, start, end });
  }
}

/** Hash of text[a, b) into SHORT_FILTER_BITS bits (FNV-1a style; no allocation). */
function pieceHash(text: string, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let i = a; i < b; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> (32 - SHORT_FILTER_BITS);
}

const digit = (c: number): boolean => c >= 48 && c <= 57;
const hex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const alnum = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A card number is not glued to word characters, and is no part of a decimal (0.4111…, 4111,11). */
function cardBoundary(text: string, a: number, b: number): boolean {
  const p = a > 0 ? text.charCodeAt(a - 1) : 32;
  const q = b < text.length ? text.charCodeAt(b) : 32;
  if (alnum(p) || alnum(q) || p === 95 || q === 95 || p === 46 || p === 44) return false;
  if ((q === 46 || q === 44) && b + 1 < text.length && digit(text.charCodeAt(b + 1))) return false;
  return true;
}

/** Where a region of the text being scanned comes from: its decode chain so far and raw region. */
function origin(parent: ViewInfo | null, derived: boolean, surface: string, start: number, end: number): { kind: string; span: FragmentSpan | null } {
  if (parent) {
    const k = segmentAt(parent, start);
    return { kind: parent.segKinds[k]!, span: parent.segSpans[k]! };
  }
  return { kind: '', span: derived ? null : { surface, start, end } };
}

/** Index of the batch segment holding offset `at` (binary search). */
function segmentAt(v: ViewInfo, at: number): number {
  let lo = 0;
  let hi = v.segStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (v.segStarts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * A derived view repeats most of its raw surface: keep a derived finding only when the raw text
 * under the same name has no finding of the same value. Known secrets compare by secret (their
 * fingerprint), whatever form matched: a rewritable base64 form in the raw text and the same
 * secret in the decoded view are one finding (egress re-scans after redaction, so a copy the
 * rewrite misses is still caught). Token findings compare by rule and value.
 */
function dedupeDerived(findings: Finding[]): Finding[] {
  if (!findings.some((f) => f.start === null && f.rule !== 'fragment')) return findings;
  const key = (f: Finding): string =>
    f.detector === 'known_secrets' || f.detector === 'canary' ? `${f.surface}\0${f.detector}\0${f.fingerprint}` : `${f.surface}\0${f.detector}\0${f.rule}\0${f.fingerprint}`;
  const rawKeys = new Set<string>();
  for (const f of findings) if (f.start !== null) rawKeys.add(key(f));
  const seen = new Set<string>();
  const rawRegions = mergedRawRegions(findings);
  return findings.filter((f) => {
    if (f.start !== null || f.rule === 'fragment') return true;
    const k = key(f);
    if (rawKeys.has(k) || seen.has(k)) return false;
    // The same token read through a view of its own raw region (a printed IBAN `DE89 3704 …` and
    // its de-delimited `DE893704…`): the raw, rewritable finding stands for both.
    if (f.detector === 'token_patterns' && f.spans && f.spans.length > 0 && f.spans.every((sp) => overlapsRaw(rawRegions, `${sp.surface}\0${f.rule}`, sp.start, sp.end))) return false;
    seen.add(k);
    return true;
  });
}

/** Raw token findings' regions per surface and rule, sorted and merged (binary-searched below). */
function mergedRawRegions(findings: readonly Finding[]): Map<string, number[]> {
  const by = new Map<string, [number, number][]>();
  for (const f of findings) {
    if (f.detector !== 'token_patterns' || f.start === null || f.end === null) continue;
    const k = `${f.surface}\0${f.rule}`;
    let list = by.get(k);
    if (!list) by.set(k, (list = []));
    list.push([f.start, f.end]);
  }
  const out = new Map<string, number[]>();
  for (const [k, list] of by) {
    list.sort((a, b) => a[0] - b[0]);
    const flat: number[] = [];
    for (const [a, b] of list) {
      if (flat.length > 0 && a <= flat[flat.length - 1]!) flat[flat.length - 1] = Math.max(flat[flat.length - 1]!, b);
      else flat.push(a, b);
    }
    out.set(k, flat);
  }
  return out;
}

/** Whether [start, end) overlaps one of the merged regions under `key`. */
function overlapsRaw(regions: ReadonlyMap<string, number[]>, key: string, start: number, end: number): boolean {
  const flat = regions.get(key);
  if (!flat) return false;
  // Last region starting before `end`.
  let lo = 0;
  let hi = flat.length / 2 - 1;
  let idx = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (flat[mid * 2]! < end) {
      idx = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return idx >= 0 && flat[idx * 2 + 1]! > start;
}

/**
 * A generic finding (keyword assignment, URL credentials) yields to any other finding of the same
 * value in the same surface: same fingerprint, or overlapping raw offsets.
 */
function dropGeneric(findings: Finding[]): Finding[] {
  if (!findings.some((f) => GENERIC_RULES.has(f.rule))) return findings;
  const specific = findings.filter((f) => !GENERIC_RULES.has(f.rule) && f.detector !== 'entropy');
  if (specific.length === 0) return findings;
  return findings.filter((g) => {
    if (!GENERIC_RULES.has(g.rule)) return true;
    return !specific.some(
      (f) =>
        f.surface === g.surface &&
        (f.fingerprint === g.fingerprint || (f.start !== null && g.start !== null && f.end !== null && g.end !== null && f.start < g.end && g.start < f.end)),
    );
  });
}

/**
 * Builds a scanner once per process (or per reload) from the known secrets: compiles every encoded
 * form of every secret and every token-rule anchor into one automaton. Pure: no I/O, no randomness.
 */
export function createScanner(opts: ScannerOptions): Scanner {
  return new DlpScanner(opts);
}
