import { AhoCorasick } from './aho-corasick.js';
import { findEntropyRuns } from './entropy.js';
import { FragmentIndex, FRAGMENT_WINDOW, fragmentThreshold, project } from './fragments.js';
import { encodedForms, type EncodedForm } from './known-forms.js';
import { fingerprint, maskSecret } from './mask.js';
import { TOKEN_RULES, type TokenRule } from './rules.js';
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

/** Known-secret values shorter than this are skipped with a warning (egress §11.2). */
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
    this.hasCanary = this.secrets.some((s) => s.kind === 'canary');
    this.automaton = new AhoCorasick([...patternIds.keys()]);
    this.fragments = new FragmentIndex(projections);
  }

  scan(surfaces: readonly Surface[], detectors: ReadonlySet<DetectorName>, opts: ScanOptions = {}): Finding[] {
    const tokens = detectors.has('token_patterns');
    const known = detectors.has('known_secrets');
    const entropy = detectors.has('entropy');
    const secretsOn = known || this.hasCanary;
    const active = (secret: number): boolean => known || this.secrets[secret]!.kind === 'canary';

    const findings: Finding[] = [];
    /** Secrets found verbatim somewhere: their fragments are not reported again. */
    const verbatim = new Set<number>();
    /** Per secret: covered projected positions, and where the pieces were. */
    const coverage = new Map<number, { covered: Uint8Array; surfaces: Set<string>; spans: FragmentSpan[] }>();

    for (const surface of surfaces) {
      const text = typeof surface.text === 'string' ? surface.text : String(surface.text ?? '');
      const derived = surface.derived === true;
      const at = (start: number, end: number): { start: number | null; end: number | null } =>
        derived ? { start: null, end: null } : { start, end };

      if (tokens || secretsOn) {
        const seenTokens = new Set<string>();
        this.automaton.search(text, (pid, end) => {
          const payload = this.payloads[pid]!;
          const start = end - payload.anchorLength;
          if (tokens) {
            for (const rule of payload.rules) {
              const m = matchRule(rule, text, start, end);
              if (!m) continue;
              const k = `${rule.id}:${m.start}`;
              if (seenTokens.has(k)) continue;
              seenTokens.add(k);
              const value = text.slice(m.start, m.end);
              findings.push({
                detector: 'token_patterns',
                rule: rule.id,
                surface: surface.name,
                ...at(m.start, m.end),
                severity: 'block',
                masked: maskSecret(value),
                fingerprint: fingerprint(this.key, value),
              });
            }
          }
          for (const { secret, form } of payload.forms) {
            if (!active(secret)) continue;
            if (form.text.length > payload.anchorLength && !text.startsWith(form.text, start)) continue;
            verbatim.add(secret);
            findings.push(this.secretFinding(secret, form.rule, surface.name, at(start, start + form.text.length)));
          }
        });
      }

      if (entropy && !derived) {
        findEntropyRuns(text, (start, end) => {
          const value = text.slice(start, end);
          findings.push({
            detector: 'entropy',
            rule: 'entropy',
            surface: surface.name,
            start,
            end,
            severity: 'warn',
            masked: maskSecret(value),
            fingerprint: fingerprint(this.key, value),
          });
        });
      }

      if (secretsOn) {
        this.fragments.search(text, (entries, start, end) => {
          let last = -1;
          for (const [secret, offset] of entries) {
            // One corpus window covers one occurrence: a window repeated inside the secret is
            // credited to its first not-yet-covered place, so "password" seen once is 8, not 16.
            if (secret === last || !active(secret)) continue;
            let cov = coverage.get(secret);
            if (!cov) {
              cov = { covered: new Uint8Array(this.secrets[secret]!.projectedLength), surfaces: new Set(), spans: [] };
              coverage.set(secret, cov);
            }
            let full = true;
            for (let j = offset; j < offset + FRAGMENT_WINDOW; j++) if (cov.covered[j] === 0) full = false;
            if (full) continue;
            last = secret;
            cov.covered.fill(1, offset, offset + FRAGMENT_WINDOW);
            cov.surfaces.add(surface.name);
            if (!derived) addSpan(cov.spans, surface.name, start, end);
          }
        });
      }
    }

    for (const [secret, cov] of coverage) {
      if (verbatim.has(secret)) continue;
      const s = this.secrets[secret]!;
      let covered = 0;
      for (let j = 0; j < cov.covered.length; j++) covered += cov.covered[j]!;
      const threshold = fragmentThreshold(s.projectedLength);
      if (covered < threshold && opts.accumulator) {
        covered = opts.accumulator.add(s.fingerprint, cov.covered, opts.nowMs ?? 0);
      }
      if (covered < threshold) continue;
      findings.push({
        ...this.secretFinding(secret, 'fragment', [...cov.surfaces].join('+'), { start: null, end: null }),
        spans: cov.spans,
      });
    }
    return dedupeDerived(findings, surfaces);
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

function matchRule(rule: TokenRule, text: string, start: number, end: number): { start: number; end: number } | null {
  const re = rule.verify;
  if (!rule.window) {
    re.lastIndex = start;
    const m = re.exec(text);
    return m ? { start, end: start + m[0].length } : null;
  }
  const from = Math.max(0, start - rule.window.lookbehind);
  const slice = text.slice(from, Math.min(text.length, start + rule.window.lookahead));
  re.lastIndex = 0;
  for (let m = re.exec(slice); m; m = re.exec(slice)) {
    const mStart = from + m.index;
    const mEnd = mStart + m[0].length;
    if (mStart <= start && mEnd >= end) {
      const valueStart = rule.valueLength ? mEnd - rule.valueLength : mStart;
      return { start: valueStart, end: mEnd };
    }
    if (m[0].length === 0) re.lastIndex++;
  }
  return null;
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
