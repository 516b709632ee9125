/**
 * The DLP contract shared by the egress proxy and the git gate (pure: no I/O anywhere in src/dlp).
 * A scanner is built once per process from the known secrets, then scans many requests/blobs.
 */
export type DetectorName = 'token_patterns' | 'known_secrets' | 'entropy';

export interface KnownSecret {
  /** Env name it came from (slot, canary variable, sensitive-prefix variable). Never the value. */
  readonly name: string;
  readonly value: string;
  /** `slot`: EGRESS_TOKEN_n / GIT_GATE_TOKEN_n; `canary`: the launch canary; `sensitive`: prefix vars. */
  readonly kind: 'slot' | 'canary' | 'sensitive';
}

/** A named piece of text to scan: `host`, `path`, `query`, `header:<name>`, `body`, or a file path. */
export interface Surface {
  readonly name: string;
  readonly text: string;
  /**
   * A derived view (percent-decoded path/query, JSON-unescaped or form-decoded body) of a surface
   * whose raw text is scanned separately under the same name. Matches in a derived view are not
   * rewritable: their findings carry start/end null. Unset = raw text.
   */
  readonly derived?: boolean;
}

/** Where one piece of a fragment finding sits in the original (non-derived) surface text. */
export interface FragmentSpan {
  readonly surface: string;
  readonly start: number;
  readonly end: number;
}

export interface Finding {
  /** `canary` findings come from the always-on canary check, whatever the detectors list says. */
  readonly detector: 'token_patterns' | 'known_secrets' | 'entropy' | 'canary';
  /**
   * Stable id: a token_patterns rule id (incl. `card_number`, `iban`, `crypto_private_key`,
   * `credential_assignment`, `unscannable_compressed`), `raw`/`base64`/`hex`/`urlencoded`/`reversed`/
   * `fragment` for known secrets, `entropy`.
   */
  readonly rule: string;
  readonly surface: string;
  /**
   * Offsets into the surface text when the match exists there verbatim (rewritable), else null
   * (derived views, decoded views, fragments).
   */
  readonly start: number | null;
  readonly end: number | null;
  /** Entropy findings only warn; everything else blocks/redacts/supervises per route policy. */
  readonly severity: 'block' | 'warn';
  /** For known secrets: the env name it matched (never the value). */
  readonly secretName?: string;
  readonly secretKind?: KnownSecret['kind'];
  /** `abcd… (len N)` — safe to show and log. */
  readonly masked: string;
  /**
   * First 12 hex of HMAC-SHA256(per-process key, value). For known secrets the value is the
   * secret itself (same fingerprint whatever the encoding); for token patterns the matched text.
   */
  readonly fingerprint: string;
  /**
   * Fragment findings: the located pieces; decoded-view findings: the raw region whose decoding
   * holds the match (raw surfaces only). Never used for egress rewriting (start/end null: not
   * rewritable); the log redactor masks them and the git gate takes line numbers from them.
   */
  readonly spans?: readonly FragmentSpan[];
  /**
   * Found in a decoded view (decode-then-rescan): how the region was decoded, outermost
   * first, e.g. `base64`, `escape>base64`, `base64>gzip`, `hex`, `utf16`, `fold`.
   */
  readonly view?: string;
}

export interface ScannerOptions {
  readonly knownSecrets: readonly KnownSecret[];
  /** HMAC key for fingerprints; the caller passes random bytes (pure modules draw no randomness). */
  readonly fingerprintKey: Uint8Array;
}

/** Optional per-call settings of `Scanner.scan`. */
export interface ScanOptions {
  /**
   * Cross-request fragment accumulation (docs/decisions/dlp-fragments.md): pieces of a known secret
   * below the per-request threshold are remembered for 10 minutes and a finding is raised once the
   * union reaches it. Created by the caller (one per bottle/process), see `FragmentAccumulator`.
   */
  readonly accumulator?: FragmentAccumulatorLike;
  /** Clock for the accumulator, ms (pure code takes time as input). Default 0. */
  readonly nowMs?: number;
  /**
   * Which pieces a fragment finding may combine: `call` (default) = all surfaces of this call
   * (egress: one request, query + body); `surface` = only surfaces with the same name (git gate:
   * "fragments within one file's diff" while scanning a whole commit in one call).
   */
  readonly fragmentScope?: 'call' | 'surface';
  /**
   * Decode-then-rescan (docs/decisions/dlp-v2-views-and-validators.md): every surface is
   * also scanned through decoded views of the regions that look encoded, recursively. Default on.
   */
  readonly views?: boolean;
  /** Depth of view recursion (views of views…). Default 3; 0 = no views. */
  readonly maxViewDepth?: number;
}

/** Structural type of `FragmentAccumulator` (src/dlp/accumulator.ts). */
export interface FragmentAccumulatorLike {
  /**
   * Records the positions of one secret (keyed by its fingerprint) covered in this request and
   * returns how many positions the union over the window covers.
   */
  add(key: string, covered: Uint8Array, nowMs: number): number;
}

export interface Scanner {
  /** Warnings from construction, e.g. secrets shorter than 8 characters skipped (names only). */
  readonly warnings: readonly string[];
  /**
   * Scans all surfaces of one request (or one file): fragments are combined across them.
   * Never throws on any input. Order: per surface in the given order, token and known-secret
   * matches by end offset interleaved with entropy runs; fragment findings last.
   */
  scan(surfaces: readonly Surface[], detectors: ReadonlySet<DetectorName>, opts?: ScanOptions): Finding[];
}

/**
 * `high` = the response must be blocked (score ≥ the block threshold); `medium` = at least
 * one phrase, below the threshold (warn); `none` = nothing.
 */
export type InboundLevel = 'none' | 'medium' | 'high';
export interface InboundResult {
  readonly level: InboundLevel;
  /** The matched phrases (whitespace collapsed, ≤ 80 chars each), in order of appearance. */
  readonly phrases: readonly string[];
  /** Per phrase: its category and stable id. */
  readonly hits?: readonly InboundHit[];
  /** Injection score (sum of weighted hits after quoting/context discounts); ≥ 1 blocks. */
  readonly score?: number;
  /** `true` exactly when `level === 'high'`: the response is replaced by 403 `inbound_injection`. */
  readonly block?: boolean;
}

export interface InboundHit {
  readonly category: 'override' | 'disclosure' | 'execution' | 'authority' | 'addressing' | 'concealment' | 'encoded';
  readonly id: string;
  readonly phrase: string;
  /** This hit's weight after discounts (quoted, code block, explanatory context). */
  readonly weight?: number;
}
