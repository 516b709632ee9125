/**
 * ULID proposal ids (docs/architecture.md §7a): 48-bit millisecond time + 80 random bits in
 * Crockford base32, 26 characters. Lexical order is creation order, which the operator's FIFO
 * does not rely on (the host's `seq` is) but which keeps spool listings readable. Pure: time and
 * randomness are passed in, so tests pin both.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
const MAX_TIME = 2 ** 48 - 1;

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** `random(n)` returns n bytes; only the low 5 bits of each are used. */
export function ulid(nowMs: number, random: (n: number) => Uint8Array): string {
  if (!Number.isInteger(nowMs) || nowMs < 0 || nowMs > MAX_TIME) throw new RangeError('ulid: time out of range');
  let time = '';
  let t = nowMs;
  for (let i = 0; i < TIME_LEN; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = random(RANDOM_LEN);
  if (bytes.length < RANDOM_LEN) throw new RangeError('ulid: not enough random bytes');
  let rand = '';
  for (let i = 0; i < RANDOM_LEN; i++) rand += ALPHABET[bytes[i]! & 31]!;
  return time + rand;
}

/** The millisecond time encoded in a ULID. */
export function ulidTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, TIME_LEN)) t = t * 32 + ALPHABET.indexOf(c);
  return t;
}
