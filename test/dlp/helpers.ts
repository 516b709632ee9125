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
