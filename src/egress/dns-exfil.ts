/**
 * Host-name exfiltration scoring (docs/decisions/egress-dns-exfil.md). Under a wildcard route the
 * agent picks the labels below the route's base domain, and egress resolves them: anything encoded
 * in those labels leaves in DNS queries before any other check runs. This module judges such a
 * name BEFORE it is resolved.
 *
 * Pure: no I/O, no clock (callers pass `nowMs`), no randomness. Two parts:
 *  - `scoreHostName`: stateless signals on one name (label randomness by charset, bigrams and
 *    entropy; label and name length; depth; digit ratio; mixed case; token shapes; the DLP token
 *    rules on the name as the agent spelt it and on joined/decoded views);
 *  - `SubdomainWindow`: unique names per registrable domain in a sliding window, bounded memory.
 * `DnsExfilGuard` combines both; it is what the proxy calls.
 *
 * Verdicts are value-free: reasons are rule ids and metrics are numbers, never label text.
 */
import type { DetectorName, Finding, Scanner, Surface } from '../dlp/types.js';

// ---------------------------------------------------------------------------------------------
// Rule ids (stable: they appear in denials, the audit and tests)
// ---------------------------------------------------------------------------------------------

/** Rules that block on their own. */
export const DNS_EXFIL_HARD_RULES = [
  /** The DLP scanner (token rules, known secrets, canary) matched a view of the name. */
  'dns_exfil/token_in_name',
  /** A label has the shape of a known token (any case: DNS lower-cases what DLP anchors on). */
  'dns_exfil/token_shape',
  /** One random-looking label longer than any provider id needs (by alphabet, see thresholds). */
  'dns_exfil/high_entropy_label',
  /** More random-looking labels than `maxRandomLabels`. */
  'dns_exfil/multiple_random_labels',
  /** Short code-like labels in a row that join into one random chunk (data split over labels). */
  'dns_exfil/split_random_chunk',
  /** A case-sensitive encoding (base64, tokens) in a label: DNS itself ignores case. */
  'dns_exfil/mixed_case_label',
  /** More agent-chosen labels than `maxDepth`. */
  'dns_exfil/deep_name',
  /** The agent-chosen part is longer than `maxChosenLength`. */
  'dns_exfil/long_name',
  /** A label longer than DNS allows (63): no real name has one, so it only carries data. */
  'dns_exfil/long_label',
  /** More unique names under one registrable domain in `windowMs` than `maxUniquePerWindow`. */
  'dns_exfil/unique_subdomains',
  /** More unique names carrying a random label in `randomWindowMs` than `maxUniqueRandomPerWindow`. */
  'dns_exfil/unique_random_subdomains',
] as const;

/** Signals that only add to the score; together they may reach `blockScore`. */
export const DNS_EXFIL_SOFT_RULES = [
  /** One random-looking label within the allowed length (an account id, a hash, a deploy id). */
  'dns_exfil/random_label',
  'dns_exfil/depth',
  'dns_exfil/name_length',
  'dns_exfil/digit_ratio',
  'dns_exfil/mixed_case',
  'dns_exfil/underscore',
  'dns_exfil/label_entropy',
] as const;

/** The rule named when soft signals alone reach `blockScore`. */
export const DNS_EXFIL_COMBINED_RULE = 'dns_exfil/combined_score';

export type DnsExfilHardRule = (typeof DNS_EXFIL_HARD_RULES)[number];
export type DnsExfilSoftRule = (typeof DNS_EXFIL_SOFT_RULES)[number];
export type DnsExfilRule = DnsExfilHardRule | DnsExfilSoftRule | typeof DNS_EXFIL_COMBINED_RULE;

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

/**
 * Every number the verdict depends on. Defaults (DNS_EXFIL_DEFAULTS) are chosen so that the
 * provider names coding agents actually use pass (test/egress/dns-exfil.test.ts lists them) and are
 * explained in docs/decisions/egress-dns-exfil.md. A route may override any of them later
 * (`thresholds` on a check).
 */
export interface DnsExfilThresholds {
  /** Code segments shorter than this (after joining a label's non-word segments) are never random. */
  readonly randomMinLength: number;
  /** Longest single random label allowed, per alphabet (longer → high_entropy_label). */
  readonly maxRandomHexLength: number;
  readonly maxRandomAlnumLength: number;
  readonly maxRandomBase32Length: number;
  readonly maxRandomLettersLength: number;
  readonly maxRandomDigitsLength: number;
  /** Random labels with `_` (not a host-name character, but base64url's): tokens, not ids. */
  readonly maxRandomBase64UrlLength: number;
  /** How many random labels one name may carry. */
  readonly maxRandomLabels: number;
  /** Consecutive code-like labels joining into a random chunk at least this long → split_random_chunk. */
  readonly splitChunkMinLength: number;
  /** Agent-chosen labels (below the wildcard base) allowed. */
  readonly maxDepth: number;
  /** Characters of the agent-chosen part (labels and their dots) allowed. */
  readonly maxChosenLength: number;
  readonly maxLabelLength: number;
  /** Mixed-case labels at least this long with ≥ 2 inner capitals block. */
  readonly mixedCaseMinLength: number;
  /** Score at which soft signals alone block. Hard rules score 1 each. */
  readonly blockScore: number;
  readonly windowMs: number;
  readonly maxUniquePerWindow: number;
  readonly randomWindowMs: number;
  readonly maxUniqueRandomPerWindow: number;
}

export const DNS_EXFIL_DEFAULTS: DnsExfilThresholds = Object.freeze({
  randomMinLength: 8,
  // 32 hex: R2 account ids, MD5s, UUIDs without dashes. 32 base36: AWS Lambda function-URL ids.
  maxRandomHexLength: 32,
  maxRandomAlnumLength: 32,
  // A base32-only alphabet (digits 2–7 and no 0/1/8/9) is what encoders emit, not what providers
  // issue: from 24 characters (15 bytes) on it is treated as encoded data.
  maxRandomBase32Length: 23,
  // Letters only: Supabase project refs are 20.
  maxRandomLettersLength: 24,
  // AWS account ids are 12 digits.
  maxRandomDigitsLength: 20,
  maxRandomBase64UrlLength: 16,
  maxRandomLabels: 1,
  splitChunkMinLength: 16,
  // `bucket.s3.dualstack.us-east-1.amazonaws.com` under `*.amazonaws.com` is 4; VPC endpoint names 5.
  maxDepth: 5,
  // A 63-character bucket name plus `s3.dualstack.us-east-1` stays below it.
  maxChosenLength: 100,
  maxLabelLength: 63,
  mixedCaseMinLength: 12,
  blockScore: 1,
  windowMs: 60_000,
  maxUniquePerWindow: 32,
  randomWindowMs: 10 * 60_000,
  maxUniqueRandomPerWindow: 8,
});

/** Soft-signal weights: none blocks alone; see docs/decisions/egress-dns-exfil.md. */
const WEIGHT: Readonly<Record<DnsExfilSoftRule, number>> = {
  'dns_exfil/random_label': 0.35,
  'dns_exfil/depth': 0.2, // per label from depth 4
  'dns_exfil/name_length': 0.25,
  'dns_exfil/digit_ratio': 0.2,
  'dns_exfil/mixed_case': 0.3,
  'dns_exfil/underscore': 0.25,
  'dns_exfil/label_entropy': 0.2,
};

// ---------------------------------------------------------------------------------------------
// Character statistics
// ---------------------------------------------------------------------------------------------

/**
 * Letter pairs that make up 95% of the pairs in English prose, derived once from the README files
 * of this repository's npm dependencies and frozen here. Words, including the abbreviations that
 * host names are built from, score high; random letters hit about a third of them.
 */
const COMMON_BIGRAMS = new Set(
  (
    'ab ac ad ag ai al am an ap ar as at au av ay ba be bi bj bl bo br bu by ca ce ch ci ck cl co cr ct cu da dd de di ' +
    'do ds du ea ec ed ee ef eg ei el em en ep eq er es et ev ex ey fa fe fi fo fr fu ge gh gi gl gn gu ha he hi ho hr ht ' +
    'ia ib ic id ie if ig il im in io ip ir is it iv je js ke la ld le li ll lo ls lt lu ly ma me mi mm mo mp na nc nd ne ' +
    'nf ng ni nl no np ns nt nu ny ob oc od of ol om on oo op or os ot ou ov ow pa pe pi pl po pp pr pt pu qu ra rc rd re ' +
    'rg ri rk rm rn ro rr rs rt ru ry sa sc se sh si sl so sp sr ss st su sy ta tc te th ti tl to tr ts tt tu ty ub uc ue ' +
    'ug ui ul um un up ur us ut va ve vi wa we wh wi wo xa xp xt yo yp'
  ).split(' '),
);

const VOWELS = /[aeiouy]/;

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Fraction of adjacent letter pairs (within letter runs) that are common English bigrams. */
function bigramStats(s: string): { pairs: number; common: number } {
  let pairs = 0;
  let common = 0;
  for (let i = 0; i + 1 < s.length; i++) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    if (a < 97 || a > 122 || b < 97 || b > 122) continue;
    pairs++;
    if (COMMON_BIGRAMS.has(s.slice(i, i + 2))) common++;
  }
  return { pairs, common };
}

/** Shannon entropy, bits per character, over the characters the label actually uses. */
export function labelEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const k of counts.values()) {
    const p = k / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** The alphabet a random-looking chunk was drawn from (decides its length limit). */
export type RandomAlphabet = 'hex' | 'base32' | 'alnum' | 'letters' | 'digits' | 'base64url';

/**
 * Whether a lower-case `[a-z0-9]` chunk looks machine-made rather than made of words, and from
 * which alphabet. Words have common bigrams and vowels; encoded bytes alternate letters and digits
 * and use rare pairs. Hex with a digit and ≥ 12 characters is random whatever its letters spell.
 */
export function randomAlphabet(s: string, minLength: number = DNS_EXFIL_DEFAULTS.randomMinLength): RandomAlphabet | null {
  const n = s.length;
  if (n < minLength || !/^[a-z0-9]+$/.test(s)) return null;
  let digits = 0;
  let transitions = 0;
  let hex = true;
  let base32Digits = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const d = isDigitCode(c);
    if (d) {
      digits++;
      if (c < 50 || c > 55) base32Digits = false; // outside 2–7
    } else if (c > 102) hex = false; // past 'f'
    if (i > 0 && d !== isDigitCode(s.charCodeAt(i - 1))) transitions++;
  }
  const letters = n - digits;
  if (letters === 0) return n >= 12 ? 'digits' : null;
  const alphabet: RandomAlphabet = hex && digits > 0 ? 'hex' : digits === 0 ? 'letters' : base32Digits ? 'base32' : 'alnum';
  if (alphabet === 'hex' && (n >= 12 || (digits >= 2 && letters >= 2 && transitions >= 3))) return 'hex';
  const { pairs, common } = bigramStats(s);
  const commonRatio = pairs === 0 ? 0 : common / pairs;
  const density = transitions / (n - 1);
  // Letters and digits interleaved (encoders), unless the letter parts are plainly words.
  if (digits > 0 && transitions >= 3 && density >= 0.15 && commonRatio < 0.75) return alphabet;
  // Heavily interleaved and digit-rich at length: the letter runs are one or two characters, too
  // short for the bigram ratio to say "words" (a base36 chunk whose few pairs happen to be common).
  if (n >= 16 && digits / n >= 0.3 && density >= 0.3) return alphabet;
  // A hyphen-free chunk of 24+ characters that switches between letters and digits several times
  // is not a name people type; encoders' output is, even when its letter runs read like syllables.
  if (n >= 24 && digits >= 2 && transitions >= 4) return alphabet;
  // Letter runs made of rare pairs.
  if (pairs >= 5 && commonRatio < 0.5) return alphabet;
  // Long, high-entropy and only middling English.
  if (n >= 16 && commonRatio < 0.65 && labelEntropy(s) >= 3.6) return alphabet;
  const vowels = s.replace(/[^aeiouy]/g, '').length;
  if (letters >= 8 && vowels / letters < 0.2 && commonRatio < 0.65) return alphabet;
  // English leans on nine letters (about 70% of its letters); uniform alphabets, including
  // restricted ones such as a–p nibbles, use them about a third of the time.
  const frequent = s.replace(/[^etaoinshr]/g, '').length;
  if (letters >= 12 && frequent / letters < 0.45 && commonRatio < 0.75) return alphabet;
  return null;
}

/**
 * A hyphen/underscore-separated segment that reads as a word (or a word with a short version
 * number: `web3`, `oauth2`, `compute1`). Two-letter segments (`us`, `eu`, `s3`) are neither.
 */
function isWordy(seg: string): boolean {
  const core = seg.replace(/[0-9]{1,2}$/, '');
  if (core.length < 3 || !/^[a-z]+$/.test(core) || !VOWELS.test(core)) return false;
  const { pairs, common } = bigramStats(core);
  // Few pairs say little: a short segment must be (nearly) all common pairs, or random 5-letter
  // groups (base32 split by hyphens) would pass for words.
  return pairs > 0 && common / pairs >= (pairs <= 4 ? 0.75 : 0.5);
}

function maxLengthFor(alphabet: RandomAlphabet, t: DnsExfilThresholds): number {
  switch (alphabet) {
    case 'hex':
      return t.maxRandomHexLength;
    case 'base32':
      return t.maxRandomBase32Length;
    case 'alnum':
      return t.maxRandomAlnumLength;
    case 'letters':
      return t.maxRandomLettersLength;
    case 'digits':
      return t.maxRandomDigitsLength;
    case 'base64url':
      return t.maxRandomBase64UrlLength;
  }
}

// ---------------------------------------------------------------------------------------------
// Token shapes (any case)
// ---------------------------------------------------------------------------------------------

/**
 * Prefix shapes of the DLP token rules (src/dlp/rules.ts), matched case-insensitively with
 * shorter bodies: a token lower-cased for DNS, or cut at a label boundary, no longer matches the
 * DLP rule but still starts the same way. Ids are the DLP rule ids.
 */
const TOKEN_SHAPES: ReadonlyArray<{ readonly id: string; readonly re: RegExp; readonly digit?: boolean }> = [
  // `digit`: the body must hold a digit, so words (`asiapacificregions`, `xoxo-gossip-fans`) pass.
  { id: 'aws_access_key_id', re: /(?:^|[^a-z0-9])(?:akia|asia|abia|acca)([a-z0-9]{12,})/, digit: true },
  { id: 'github_token', re: /(?:^|[^a-z0-9])gh[opsur]_([a-z0-9]{16,})/ },
  { id: 'github_pat', re: /github_pat_([a-z0-9_]{16,})/ },
  { id: 'anthropic_key', re: /(?:^|[^a-z0-9])sk-ant-([a-z0-9_-]{12,})/ },
  { id: 'openai_key', re: /(?:^|[^a-z0-9])sk-(?:proj|svcacct|admin)-([a-z0-9_-]{12,})/ },
  { id: 'stripe_live_key', re: /(?:^|[^a-z0-9])(?:sk|rk)_(?:live|test)_([a-z0-9]{12,})/ },
  { id: 'slack_token', re: /(?:^|[^a-z0-9])xox[abposr]-([a-z0-9-]{10,})/, digit: true },
  { id: 'google_api_key', re: /(?:^|[^a-z0-9])aiza([0-9a-z_-]{20,})/, digit: true },
  { id: 'jwt', re: /(?:^|[^a-z0-9])eyj([a-z0-9_-]{12,})/ },
  { id: 'npm_token', re: /(?:^|[^a-z0-9])npm_([a-z0-9]{16,})/ },
  { id: 'gitlab_pat', re: /(?:^|[^a-z0-9])glpat-([a-z0-9_-]{16,})/, digit: true },
  { id: 'huggingface_token', re: /(?:^|[^a-z0-9])hf_([a-z0-9]{16,})/ },
];

/** DLP rule ids whose shape appears in `s` (lower-case). */
function tokenShapesIn(s: string): string[] {
  const out: string[] = [];
  for (const shape of TOKEN_SHAPES) {
    const m = shape.re.exec(s);
    if (m && (!shape.digit || /[0-9]/.test(m[1]!))) out.push(shape.id);
  }
  return out;
}

/** Detectors run on the host views: tokens and known secrets (the canary is always on). */
export const DNS_EXFIL_DETECTORS: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets']);

// ---------------------------------------------------------------------------------------------
// Names and domains
// ---------------------------------------------------------------------------------------------

/**
 * Second-level labels under which country-code TLDs register names (`example.co.uk`). An
 * approximation of the public-suffix list's ICANN section, enough to key the window: a wrong
 * guess only makes the key broader (stricter) or equal to the route's base domain.
 */
const CC_SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'gob', 'govt', 'ltd', 'me', 'mil', 'ne', 'net', 'nic', 'nom', 'or', 'org', 'plc', 'sch', 'go', 'gen', 'info', 'biz', 'int']);

/**
 * The registrable domain (eTLD+1) of a lower-case name, or null when the name is itself a public
 * suffix (`com`, `co.uk`).
 */
export function registrableDomain(name: string): string | null {
  const labels = name.split('.').filter((l) => l.length > 0);
  if (labels.length < 2) return null;
  const tld = labels[labels.length - 1]!;
  const sld = labels[labels.length - 2]!;
  const suffix = tld.length === 2 && CC_SECOND_LEVEL.has(sld) ? 2 : 1;
  if (labels.length <= suffix) return null;
  return labels.slice(-(suffix + 1)).join('.');
}

/**
 * The window key for names under a wildcard base: its registrable domain, or the base itself
 * when the base is a public suffix (`*.com`), where registrable domains are the agent's choice.
 */
export function windowKeyFor(wildcardSuffix: string): string {
  const base = wildcardSuffix.replace(/^\.+/, '');
  return registrableDomain(base) ?? base;
}

/** The host part of an authority as written (`Host` header, CONNECT target): no port, no brackets. */
export function hostPartOf(authority: string): string {
  const a = authority.trim();
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    return close < 0 ? a : a.slice(1, close);
  }
  const colon = a.lastIndexOf(':');
  return colon >= 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
}

/**
 * A host safe to log or audit after a dns_exfil refusal: the agent-chosen labels are replaced by a
 * marker with their count (the base domain is the operator's). The labels may be encoded secrets.
 */
export function redactedHost(host: string, wildcardSuffix: string | null): string {
  if (!wildcardSuffix || !host.endsWith(wildcardSuffix) || host.length <= wildcardSuffix.length) return host;
  const chosen = host.slice(0, host.length - wildcardSuffix.length);
  return `[dns_exfil:${chosen.split('.').length}]${wildcardSuffix}`;
}

/** Percent-decodes `%XX` (the URL host parser does the same before normalising); bad escapes stay. */
function percentDecodeHost(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function hexDecode(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) out += String.fromCharCode(parseInt(s.slice(i, i + 2), 16));
  return out;
}

function base32Decode(s: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const ch of s) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return '';
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out += String.fromCharCode((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Static scoring
// ---------------------------------------------------------------------------------------------

export interface DnsExfilInput {
  /** The normalised target (lower-case punycode, no trailing dot) the route was selected for. */
  readonly host: string;
  /**
   * Every spelling of the name the agent sent for this target (CONNECT authority, absolute-form
   * URL authority, `Host` header, SNI), original case, with or without a port. Defaults to `host`.
   */
  readonly rawHosts?: readonly string[];
  /** The selected route's wildcard suffix (`.example.com`); null for exact routes. */
  readonly wildcardSuffix: string | null;
  /** Per-route overrides of DNS_EXFIL_DEFAULTS. */
  readonly thresholds?: Partial<DnsExfilThresholds>;
}

export interface DnsExfilMetrics {
  /** Agent-chosen labels. */
  readonly depth: number;
  /** Characters of the agent-chosen part. */
  readonly chosenLength: number;
  readonly randomLabels: number;
  /** Longest random chunk (0 when none). */
  readonly longestRandom: number;
  /** Highest per-label Shannon entropy, bits/char, two decimals. */
  readonly maxLabelEntropy: number;
  /** Digits / alphanumerics of the agent-chosen part, two decimals. */
  readonly digitRatio: number;
  /** Window counts after this name (only from DnsExfilGuard.check). */
  readonly uniqueInWindow?: number;
  readonly uniqueRandomInWindow?: number;
}

export interface DnsExfilVerdict {
  readonly decision: 'allow' | 'block';
  /** Hard rules count 1 each, soft signals their weight; ≥ blockScore or any hard rule blocks. */
  readonly score: number;
  /** Every rule that fired (hard first, then soft), ids only. */
  readonly reasons: readonly DnsExfilRule[];
  /** The rule to name in the denial and the audit; null when allowed. */
  readonly rule: DnsExfilRule | null;
  /** DLP rule ids matched by token shapes or the scanner (ids only). */
  readonly tokenRules: readonly string[];
  /** Scanner findings (for the deny body and the audit's findings; masked, fingerprinted). */
  readonly findings: readonly Finding[];
  readonly metrics: DnsExfilMetrics;
  /** True when a label looked random: the name counts toward the random window. */
  readonly carriesRandom: boolean;
}

const ALLOW_EMPTY: DnsExfilVerdict = Object.freeze({
  decision: 'allow',
  score: 0,
  reasons: [],
  rule: null,
  tokenRules: [],
  findings: [],
  metrics: Object.freeze({ depth: 0, chosenLength: 0, randomLabels: 0, longestRandom: 0, maxLabelEntropy: 0, digitRatio: 0 }),
  carriesRandom: false,
});

function thresholdsOf(over: Partial<DnsExfilThresholds> | undefined): DnsExfilThresholds {
  return over ? { ...DNS_EXFIL_DEFAULTS, ...over } : DNS_EXFIL_DEFAULTS;
}

interface LabelInfo {
  readonly lower: string;
  /** Non-word segments joined (what could carry data). */
  readonly code: string;
  readonly hasWord: boolean;
  readonly random: RandomAlphabet | null;
}

function analyseLabel(lower: string, t: DnsExfilThresholds): LabelInfo {
  const segs = lower.split(/[-_]+/).filter((s) => s.length > 0);
  let code = '';
  let hasWord = false;
  for (const seg of segs) {
    if (isWordy(seg)) hasWord = true;
    else code += seg;
  }
  const random = randomAlphabet(code, t.randomMinLength);
  return { lower, code, hasWord, random: random !== null && lower.includes('_') ? 'base64url' : random };
}

/** Code-like: no word in it and the non-word part has digits or no vowel (`a1b2`, `kqz`). */
function isCodeLike(l: LabelInfo): boolean {
  if (l.hasWord || l.code.length < 4) return false;
  return l.random !== null || /[0-9]/.test(l.code) || !VOWELS.test(l.code);
}

/**
 * Raw labels for the chosen part when the raw name has as many labels as the normalised one
 * (`aligned`: label i is chosen label i); otherwise the whole raw name as one piece.
 */
function rawChosenLabels(raw: string, depth: number, totalLabels: number): { labels: string[]; aligned: boolean } {
  let r = percentDecodeHost(hostPartOf(raw));
  if (r.endsWith('.')) r = r.slice(0, -1);
  const labels = r.split(/[.\u3002\uff0e\uff61]/);
  if (labels.length === totalLabels) return { labels: labels.slice(0, depth), aligned: true };
  return { labels: [r], aligned: false };
}

function innerCapitals(label: string): number {
  let n = 0;
  for (let i = 1; i < label.length; i++) {
    const c = label.charCodeAt(i);
    const prev = label.charCodeAt(i - 1);
    if (c >= 65 && c <= 90 && prev !== 45 && prev !== 95) n++; // not after '-' or '_'
  }
  return n;
}

function hasMixedCase(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s);
}

/**
 * Scores one name (stateless). Exact routes (`wildcardSuffix` null) and names outside the suffix
 * have no agent-chosen labels: allowed with score 0.
 */
export function scoreHostName(input: DnsExfilInput, scanner?: Pick<Scanner, 'scan'>): DnsExfilVerdict {
  const t = thresholdsOf(input.thresholds);
  const suffix = input.wildcardSuffix;
  const host = input.host;
  if (!suffix || !host.endsWith(suffix) || host.length <= suffix.length) return ALLOW_EMPTY;
  const chosen = host.slice(0, host.length - suffix.length);
  const chosenLabels = chosen.split('.');
  const depth = chosenLabels.length;
  const totalLabels = host.split('.').length;
  const hard = new Set<DnsExfilHardRule>();
  const soft = new Map<DnsExfilSoftRule, number>();
  const addSoft = (r: DnsExfilSoftRule, w: number) => soft.set(r, (soft.get(r) ?? 0) + w);
  const tokenRules = new Set<string>();

  // Shape of the name.
  if (depth > t.maxDepth) hard.add('dns_exfil/deep_name');
  else if (depth >= 4) addSoft('dns_exfil/depth', WEIGHT['dns_exfil/depth'] * (depth - 3));
  if (chosen.length > t.maxChosenLength) hard.add('dns_exfil/long_name');
  else if (chosen.length > 64) addSoft('dns_exfil/name_length', WEIGHT['dns_exfil/name_length']);
  if (chosenLabels.some((l) => l.length > t.maxLabelLength)) hard.add('dns_exfil/long_label');
  if (chosen.includes('_')) addSoft('dns_exfil/underscore', WEIGHT['dns_exfil/underscore']);

  // Labels: randomness by alphabet, entropy.
  const infos = chosenLabels.map((l) => analyseLabel(l, t));
  let randomLabels = 0;
  let longestRandom = 0;
  let maxEntropy = 0;
  for (const info of infos) {
    maxEntropy = Math.max(maxEntropy, labelEntropy(info.lower));
    if (info.random === null) continue;
    randomLabels++;
    longestRandom = Math.max(longestRandom, info.code.length);
    if (info.code.length > maxLengthFor(info.random, t)) hard.add('dns_exfil/high_entropy_label');
  }
  if (randomLabels > t.maxRandomLabels) hard.add('dns_exfil/multiple_random_labels');
  else if (randomLabels > 0) addSoft('dns_exfil/random_label', WEIGHT['dns_exfil/random_label']);
  if (maxEntropy >= 4) addSoft('dns_exfil/label_entropy', WEIGHT['dns_exfil/label_entropy']);

  // Data split into short code-like labels: judge each run of them joined.
  let splitRandom = false;
  for (let i = 0; i < infos.length; ) {
    if (!isCodeLike(infos[i]!)) {
      i++;
      continue;
    }
    let j = i;
    let joined = '';
    while (j < infos.length && isCodeLike(infos[j]!)) joined += infos[j++]!.code;
    if (j - i >= 2 && joined.length >= t.splitChunkMinLength && randomAlphabet(joined, t.splitChunkMinLength) !== null) {
      hard.add('dns_exfil/split_random_chunk');
      splitRandom = true;
      longestRandom = Math.max(longestRandom, joined.length);
    }
    i = j;
  }

  // Digit ratio of the chosen part.
  const alnum = chosen.replace(/[^a-z0-9]/g, '');
  const digitCount = alnum.replace(/[^0-9]/g, '').length;
  const digitRatio = alnum.length === 0 ? 0 : digitCount / alnum.length;
  if (alnum.length >= 12 && digitRatio > 0.5) addSoft('dns_exfil/digit_ratio', WEIGHT['dns_exfil/digit_ratio']);

  // Token shapes, any case, per label and across labels.
  const joinedChosen = chosenLabels.join('');
  for (const s of [...chosenLabels, joinedChosen]) {
    for (const id of tokenShapesIn(s)) tokenRules.add(id);
  }

  // The name as the agent spelt it: mixed case, and DLP on every view.
  const raws = input.rawHosts && input.rawHosts.length > 0 ? input.rawHosts : [host];
  const surfaces: Surface[] = [];
  const seenViews = new Set<string>();
  const addView = (text: string, derived: boolean) => {
    if (text.length === 0 || seenViews.has(text)) return;
    seenViews.add(text);
    surfaces.push(derived ? { name: 'host', text, derived: true } : { name: 'host', text });
  };
  for (const raw of raws) {
    const { labels: rawLabels, aligned } = rawChosenLabels(raw, depth, totalLabels);
    for (let i = 0; i < rawLabels.length; i++) {
      const rl = rawLabels[i]!;
      if (!hasMixedCase(rl)) continue;
      const info = aligned ? infos[i] : undefined;
      const inner = innerCapitals(rl);
      if ((rl.length >= t.mixedCaseMinLength && inner >= 2) || (info !== undefined && info.random !== null && inner >= 1)) {
        hard.add('dns_exfil/mixed_case_label');
      } else if (!soft.has('dns_exfil/mixed_case')) {
        addSoft('dns_exfil/mixed_case', WEIGHT['dns_exfil/mixed_case']);
      }
    }
    addView(percentDecodeHost(hostPartOf(raw)), false);
    const rawJoined = rawLabels.join('');
    addView(rawJoined, true);
    addView(rawJoined.toUpperCase(), true); // AWS key ids lower-cased for DNS
  }
  addView(host, false);
  addView(joinedChosen, true);
  addView(joinedChosen.toUpperCase(), true);
  const compact = joinedChosen.replace(/[-_]/g, '');
  if (compact.length >= 16 && /^[0-9a-f]+$/.test(compact)) addView(hexDecode(compact.length % 2 === 0 ? compact : compact.slice(0, -1)), true);
  if (compact.length >= 16 && /^[a-z2-7]+$/.test(compact)) addView(base32Decode(compact), true);

  let findings: Finding[] = [];
  if (scanner) {
    findings = scanner.scan(surfaces, DNS_EXFIL_DETECTORS);
    for (const f of findings) tokenRules.add(f.rule);
    if (findings.length > 0) hard.add('dns_exfil/token_in_name');
  }
  if (tokenRules.size > 0 && !hard.has('dns_exfil/token_in_name')) hard.add('dns_exfil/token_shape');

  let softScore = 0;
  for (const w of soft.values()) softScore += w;
  const score = Math.round((hard.size + softScore) * 100) / 100;
  const hardList = DNS_EXFIL_HARD_RULES.filter((r) => hard.has(r));
  const softList = DNS_EXFIL_SOFT_RULES.filter((r) => soft.has(r));
  let rule: DnsExfilRule | null = null;
  if (hardList.length > 0) rule = hardList[0]!;
  else if (softScore >= t.blockScore) rule = DNS_EXFIL_COMBINED_RULE;
  return {
    decision: rule === null ? 'allow' : 'block',
    score,
    reasons: rule === DNS_EXFIL_COMBINED_RULE ? [DNS_EXFIL_COMBINED_RULE, ...softList] : [...hardList, ...softList],
    rule,
    tokenRules: [...tokenRules],
    findings,
    metrics: {
      depth,
      chosenLength: chosen.length,
      randomLabels,
      longestRandom,
      maxLabelEntropy: Math.round(maxEntropy * 100) / 100,
      digitRatio: Math.round(digitRatio * 100) / 100,
    },
    carriesRandom: randomLabels > 0 || splitRandom,
  };
}

// ---------------------------------------------------------------------------------------------
// Sliding window of unique names per domain (bounded memory)
// ---------------------------------------------------------------------------------------------

/**
 * 52-bit FNV-1a-style hash of a name: the window stores hashes, never label text (its memory
 * holds nothing the agent encoded), and a collision only undercounts by one.
 */
function nameHash(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return (b & 0xfffff) * 0x100000000 + a;
}

export interface SubdomainWindowLimits {
  /** Keys (domains) tracked at once; the least recently seen is dropped beyond it. */
  readonly maxKeys: number;
  /** Names tracked per key and window kind; the least recently seen is dropped beyond it. */
  readonly maxNamesPerKey: number;
}

export const SUBDOMAIN_WINDOW_LIMITS: SubdomainWindowLimits = Object.freeze({ maxKeys: 1024, maxNamesPerKey: 256 });

/** name hash → last seen (ms), in last-seen order (re-inserted on every touch). */
type Seen = Map<number, number>;

/**
 * Unique names per key within a sliding window. One instance per egress process; every method
 * takes the time. Memory: ≤ maxKeys × maxNamesPerKey numbers per kind, whatever the agent sends.
 */
export class SubdomainWindow {
  private readonly keys = new Map<string, Seen>();
  readonly limits: SubdomainWindowLimits;

  constructor(limits: Partial<SubdomainWindowLimits> = {}) {
    this.limits = { ...SUBDOMAIN_WINDOW_LIMITS, ...limits };
  }

  private seenFor(key: string, create: boolean): Seen | undefined {
    let s = this.keys.get(key);
    if (s) {
      // Most recently used key last (LRU eviction takes the first).
      this.keys.delete(key);
      this.keys.set(key, s);
      return s;
    }
    if (!create) return undefined;
    s = new Map();
    this.keys.set(key, s);
    while (this.keys.size > this.limits.maxKeys) {
      const oldest = this.keys.keys().next().value;
      if (oldest === undefined) break;
      this.keys.delete(oldest);
    }
    return s;
  }

  private static prune(s: Seen, nowMs: number, windowMs: number): void {
    for (const [h, at] of s) {
      if (nowMs - at < windowMs) break;
      s.delete(h);
    }
  }

  /** Unique names under `key` seen in the window, counting `name` as if added now. */
  peek(key: string, name: string, nowMs: number, windowMs: number): { count: number; known: boolean } {
    const s = this.keys.get(key);
    if (!s) return { count: 1, known: false };
    SubdomainWindow.prune(s, nowMs, windowMs);
    const known = s.has(nameHash(name));
    return { count: s.size + (known ? 0 : 1), known };
  }

  /** Records `name` under `key` at `nowMs`; returns the unique count in the window. */
  record(key: string, name: string, nowMs: number, windowMs: number): number {
    const s = this.seenFor(key, true)!;
    SubdomainWindow.prune(s, nowMs, windowMs);
    const h = nameHash(name);
    s.delete(h);
    s.set(h, nowMs);
    while (s.size > this.limits.maxNamesPerKey) {
      const oldest = s.keys().next().value;
      if (oldest === undefined) break;
      s.delete(oldest);
    }
    return s.size;
  }

  /** Tracked keys and names (for tests and introspection). */
  size(): { keys: number; names: number } {
    let names = 0;
    for (const s of this.keys.values()) names += s.size;
    return { keys: this.keys.size, names };
  }
}

// ---------------------------------------------------------------------------------------------
// The guard: static score, then the windows
// ---------------------------------------------------------------------------------------------

export interface DnsExfilGuardOptions {
  /** The process scanner (known secrets, canary); without it only token shapes are checked. */
  readonly scanner?: Pick<Scanner, 'scan'>;
  /** Process-wide thresholds (a route's `thresholds` override them per check). */
  readonly thresholds?: Partial<DnsExfilThresholds>;
  readonly limits?: Partial<SubdomainWindowLimits>;
}

export interface DnsExfilCheck extends DnsExfilInput {
  /** Caller's clock, ms. */
  readonly nowMs: number;
}

/**
 * What the proxy calls for a name it is about to resolve under a wildcard route: after the route
 * is selected, before any lookup. Allowed names are recorded in the windows; refused ones are not
 * (a retry of a refused name must not count as "already seen").
 */
export class DnsExfilGuard {
  private readonly all: SubdomainWindow;
  private readonly random: SubdomainWindow;
  private readonly scanner: Pick<Scanner, 'scan'> | undefined;
  private readonly base: Partial<DnsExfilThresholds>;

  constructor(opts: DnsExfilGuardOptions = {}) {
    this.all = new SubdomainWindow(opts.limits);
    this.random = new SubdomainWindow(opts.limits);
    this.scanner = opts.scanner;
    this.base = opts.thresholds ?? {};
  }

  check(input: DnsExfilCheck): DnsExfilVerdict {
    const thresholds = { ...this.base, ...input.thresholds };
    const t = thresholdsOf(thresholds);
    const v = scoreHostName({ ...input, thresholds }, this.scanner);
    const suffix = input.wildcardSuffix;
    if (v.decision === 'block' || !suffix || v.metrics.depth === 0) return v;
    const key = windowKeyFor(suffix);
    const name = input.host;
    const all = this.all.peek(key, name, input.nowMs, t.windowMs);
    const rnd = v.carriesRandom ? this.random.peek(key, name, input.nowMs, t.randomWindowMs) : null;
    const extra: DnsExfilHardRule[] = [];
    // A key holds at most maxNamesPerKey names: a limit at or above it could never be exceeded.
    const cap = this.all.limits.maxNamesPerKey - 1;
    if (!all.known && all.count > Math.min(t.maxUniquePerWindow, cap)) extra.push('dns_exfil/unique_subdomains');
    if (rnd && !rnd.known && rnd.count > Math.min(t.maxUniqueRandomPerWindow, cap)) extra.push('dns_exfil/unique_random_subdomains');
    if (extra.length > 0) {
      return {
        ...v,
        decision: 'block',
        score: Math.round((v.score + extra.length) * 100) / 100,
        reasons: [...extra, ...v.reasons],
        rule: extra[0]!,
        metrics: { ...v.metrics, uniqueInWindow: all.count, ...(rnd ? { uniqueRandomInWindow: rnd.count } : {}) },
      };
    }
    const uniqueInWindow = this.all.record(key, name, input.nowMs, t.windowMs);
    const uniqueRandomInWindow = v.carriesRandom ? this.random.record(key, name, input.nowMs, t.randomWindowMs) : undefined;
    return { ...v, metrics: { ...v.metrics, uniqueInWindow, ...(uniqueRandomInWindow !== undefined ? { uniqueRandomInWindow } : {}) } };
  }

  /** Tracked keys and names across both windows. */
  size(): { keys: number; names: number } {
    const a = this.all.size();
    const b = this.random.size();
    return { keys: a.keys + b.keys, names: a.names + b.names };
  }
}

/**
 * The audit `findings` entry for a verdict (value-free: rule ids, score, numbers), or null when
 * nothing fired. Refusals carry it with action `block`; allowed names that scored something carry
 * it with action `allow`, so every judged wildcard name leaves a trace. Scanner findings are not
 * repeated here: they travel as ordinary DLP findings.
 */
export function dnsExfilAuditEntry(v: DnsExfilVerdict): Record<string, unknown> | null {
  if (v.reasons.length === 0) return null;
  return {
    detector: 'dns_exfil',
    rule: v.rule ?? v.reasons[0]!,
    surface: 'host',
    action: v.decision,
    score: v.score,
    reasons: [...v.reasons],
    ...(v.tokenRules.length > 0 ? { token_rules: [...v.tokenRules] } : {}),
    metrics: { ...v.metrics },
  };
}
