import { AhoCorasick } from './aho-corasick.js';
import { ENTROPY_MIN_BITS, ENTROPY_MIN_RUN, runEntropy } from './entropy.js';
import { CODE, FragmentIndex, FRAGMENT_WINDOW, fragmentThreshold, HEX, project } from './fragments.js';
import { encodedForms, type EncodedForm } from './known-forms.js';
import { fingerprint, maskSecret } from './mask.js';
import { TOKEN_RULES, type TokenRule } from './rules.js';
import { matchRule, newTokenState, type TokenState } from './token-verify.js';
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

interface Payload {
  readonly anchorLength: number;
  readonly rules: TokenRule[];
  readonly forms: FormEntry[];
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
  /** Per UTF-16 code unit: automaton class (low 16 bits) | CLS class (high bits): one load. */
  private readonly lut: Uint32Array;

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
        this.payloads.push({ anchorLength: anchor.length, rules: [], forms: [] });
      }
      return this.payloads[id]!;
    };
    for (const rule of TOKEN_RULES) for (const a of rule.anchors) payloadFor(a).rules.push(rule);
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
    }
    if (WINDOW !== FRAGMENT_WINDOW || MIN_RUN !== ENTROPY_MIN_RUN) throw new Error('dlp: hot-loop constants out of sync');
    this.hasCanary = this.secrets.some((s) => s.kind === 'canary');
    this.automaton = new AhoCorasick([...patternIds.keys()]);
    this.fragments = new FragmentIndex(projections);
    this.lut = new Uint32Array(65536);
    for (let c = 0; c < 65536; c++) this.lut[c] = (CLS[c]! << 16) | this.automaton.classOf[c]!;
  }

  scan(surfaces: readonly Surface[], detectors: ReadonlySet<DetectorName>, opts: ScanOptions = {}): Finding[] {
    const known = detectors.has('known_secrets');
    const ctx: ScanContext = {
      tokens: detectors.has('token_patterns'),
      known,
      entropy: detectors.has('entropy'),
      secretsOn: known || this.hasCanary,
      findings: [],
      fingerprints: new Map(),
      tokenState: null,
      verbatim: new Set(),
      coverage: new Map(),
      perSurface: opts.fragmentScope === 'surface',
    };
    for (const surface of surfaces) {
      const text = typeof surface.text === 'string' ? surface.text : String(surface.text ?? '');
      ctx.tokenState = null;
      this.scanText(text, surface.name, surface.derived === true, ctx);
    }
    this.fragmentFindings(ctx, opts);
    return dedupeDerived(ctx.findings, surfaces);
  }

  /**
   * One pass over the text for every detector (why fused: on this hardware each extra pass over a
   * 1 MiB body costs ~2 ms of the 10 ms budget). Per character: one automaton step, the
   * entropy run length and the fragment window, all branch-free except on (rare) hits.
   */
  private scanText(text: string, surface: string, derived: boolean, ctx: ScanContext): void {
    const { delta, nClasses, outputs } = this.automaton;
    const lut = this.lut;
    const frag = this.fragments;
    const filter = frag.filter;
    const acOn = ctx.tokens || ctx.secretsOn;
    const fragOn = ctx.secretsOn && !frag.empty;
    const entropyOn = ctx.entropy && !derived;
    // Last 8 projected characters: their codes and where each started in the text (reused:
    // scanning is synchronous, and every slot is written before it is read).
    const { ringCode, ringPos } = this;
    const n = text.length;
    let row = 0;
    let lo = 0;
    let count = 0;
    let run = 0;
    let skip = 0;
    for (let i = 0; i < n; i++) {
      const e = lut[text.charCodeAt(i)]!;
      const t = delta[row + (e & 0xffff)]!;
      if (t >= 0) {
        row = t;
      } else {
        row = ~t;
        if (acOn) this.onAnchors(outputs[row / nClasses]!, i + 1, text, surface, derived, ctx);
      }
      let cls = e >>> 16;
      // Entropy runs: raw characters of the run class (cls < 63).
      const prev = run;
      run = (run + 1) & ((cls - CLS_OTHER) >> 31);
      if (prev >= MIN_RUN && run === 0 && entropyOn) this.onRun(text, i - prev, i, surface, ctx);
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
    if (run >= MIN_RUN && entropyOn) this.onRun(text, n - run, n, surface, ctx);
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
            start: derived ? null : m.start,
            end: derived ? null : m.end,
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
        const pos = derived ? { start: null, end: null } : { start, end: start + form.text.length };
        ctx.findings.push(this.secretFinding(secret, form.rule, surface, pos));
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

  private onRun(text: string, start: number, end: number, surface: string, ctx: ScanContext): void {
    if (runEntropy(text, start, end) < ENTROPY_MIN_BITS) return;
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
      const key = ctx.perSurface ? `${secret}\0${surface}` : secret;
      let cov = ctx.coverage.get(key);
      if (!cov) {
        cov = { secret, covered: new Uint8Array(this.secrets[secret]!.projectedLength), surfaces: new Set(), spans: [] };
        ctx.coverage.set(key, cov);
      }
      let full = true;
      for (let j = offset; j < offset + FRAGMENT_WINDOW; j++) if (cov.covered[j] === 0) full = false;
      if (full) continue;
      last = secret;
      cov.covered.fill(1, offset, offset + FRAGMENT_WINDOW);
      cov.surfaces.add(surface);
      if (!derived) addSpan(cov.spans, surface, start, end);
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

  private secretFinding(
    secret: number,
    rule: string,
    surface: string,
    pos: { start: number | null; end: number | null },
  ): Finding {
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

/**
 * A derived view repeats most of its raw surface: keep a derived finding only when the raw text
 * under the same name has no finding with the same detector, rule and value.
 */
function dedupeDerived(findings: Finding[], surfaces: readonly Surface[]): Finding[] {
  if (!surfaces.some((s) => s.derived)) return findings;
  const rawKeys = new Set<string>();
  for (const f of findings) if (f.start !== null) rawKeys.add(`${f.surface}\0${f.detector}\0${f.rule}\0${f.fingerprint}`);
  const seen = new Set<string>();
  return findings.filter((f) => {
    if (f.start !== null || f.rule === 'fragment') return true;
    const k = `${f.surface}\0${f.detector}\0${f.rule}\0${f.fingerprint}`;
    if (rawKeys.has(k) || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Builds a scanner once per process (or per reload) from the known secrets: compiles every encoded
 * form of every secret and every token-rule anchor into one automaton. Pure: no I/O, no randomness.
 */
export function createScanner(opts: ScannerOptions): Scanner {
  return new DlpScanner(opts);
}
