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
}

export interface Finding {
  /** `canary` findings come from the always-on canary check, whatever the detectors list says. */
  readonly detector: 'token_patterns' | 'known_secrets' | 'entropy' | 'canary';
  /** Stable id: a token_patterns rule id, `raw`/`base64`/`hex`/`urlencoded`/`fragment` for known secrets, `entropy`. */
  readonly rule: string;
  readonly surface: string;
  /** Offsets into the surface text when the match exists there verbatim (rewritable), else null. */
  readonly start: number | null;
  readonly end: number | null;
  /** Entropy findings only warn; everything else blocks/redacts/supervises per route policy. */
  readonly severity: 'block' | 'warn';
  /** For known secrets: the env name it matched (never the value). */
  readonly secretName?: string;
  readonly secretKind?: KnownSecret['kind'];
  /** `abcd… (len N)` — safe to show and log. */
  readonly masked: string;
  /** First 12 hex of HMAC-SHA256(per-process key, matched value). */
  readonly fingerprint: string;
}

export interface ScannerOptions {
  readonly knownSecrets: readonly KnownSecret[];
  /** HMAC key for fingerprints; the caller passes random bytes (pure modules draw no randomness). */
  readonly fingerprintKey: Uint8Array;
}

export interface Scanner {
  /** Warnings from construction, e.g. secrets shorter than 8 characters skipped (names only). */
  readonly warnings: readonly string[];
  scan(surfaces: readonly Surface[], detectors: ReadonlySet<DetectorName>): Finding[];
}

export type InboundLevel = 'none' | 'medium' | 'high';
export interface InboundResult {
  readonly level: InboundLevel;
  readonly phrases: readonly string[];
}
