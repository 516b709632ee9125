import { createHmac } from 'node:crypto';

/**
 * `abcd… (len N)`: the first 4 characters and the length; safe to show and log
 * (docs/decisions/dlp-findings-identity.md).
 */
export function maskSecret(value: string): string {
  return `${value.slice(0, 4)}… (len ${value.length})`;
}

/** First 12 hex of HMAC-SHA256(key, value): stable per process, useless without the key. */
export function fingerprint(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 12);
}
