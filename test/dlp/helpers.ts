import { createScanner } from '../../src/dlp/scanner.js';
import type { DetectorName, KnownSecret, Scanner } from '../../src/dlp/types.js';

export const KEY = new Uint8Array(32).fill(9);
export const ALL: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets', 'entropy']);
export const DEFAULT: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets']);
export const NONE: ReadonlySet<DetectorName> = new Set<DetectorName>();

/** Marker values: distinctive so a leak is greppable. */
export const SLOT = 'MARKERslot0-Zq8vK2pL9xW4rT7y';
export const CANARY = 'Y2FuYXJ5LW1hcmtlci1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ';
export const SENSITIVE = 'myco-db-pass-Hn3jR8sQ';

export function scanner(extra: KnownSecret[] = []): Scanner {
  return createScanner({
    knownSecrets: [
      { name: 'EGRESS_TOKEN_0', value: SLOT, kind: 'slot' },
      { name: 'EGRESS_TOKEN_CANARY', value: CANARY, kind: 'canary' },
      { name: 'MYCO_DB_PASS', value: SENSITIVE, kind: 'sensitive' },
      ...extra,
    ],
    fingerprintKey: KEY,
  });
}

/**
 * `s` in pieces of irregular lengths (3, 5, 2, 6, 4, …) joined by `sep`: still fragments of a known
 * secret, but no de-delimited view (its groups are not of one length) — the fragment path itself.
 */
export function ragged(s: string, sep = ' '): string {
  const lengths = [3, 5, 2, 6, 4];
  const out: string[] = [];
  for (let i = 0, k = 0; i < s.length; k++) {
    out.push(s.slice(i, i + lengths[k % lengths.length]!));
    i += lengths[k % lengths.length]!;
  }
  return out.join(sep);
}
