import { createHash } from 'node:crypto';

/**
 * Checksum validators for the validated detectors (`card_number`, `iban`, `crypto_private_key`;
 * docs/decisions/dlp-v2-views-and-validators.md). Each detector only fires when its checksum holds,
 * so prose, ids and hashes that merely have the right shape do not trigger it. Pure functions.
 */

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Luhn (mod 10) over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Whether `digits` has the issuer prefix (IIN) and length of a card network that is issued today
 * (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir). Numbers starting with
 * 0, 1, 7, 8 or 9 (timestamps, snowflake ids, phone numbers) never qualify.
 */
export function cardNetwork(digits: string): string | null {
  const n = digits.length;
  const p = (k: number): number => Number(digits.slice(0, k));
  const len = (...ok: number[]): boolean => ok.includes(n);
  const range = (lo: number, hi: number): boolean => n >= lo && n <= hi;
  if (digits[0] === '4') return len(13, 16, 19) ? 'visa' : null;
  if ((p(2) >= 51 && p(2) <= 55) || (p(4) >= 2221 && p(4) <= 2720)) return len(16) ? 'mastercard' : null;
  if (p(4) >= 2200 && p(4) <= 2204) return range(16, 19) ? 'mir' : null;
  if (p(2) === 34 || p(2) === 37) return len(15) ? 'amex' : null;
  if (p(4) === 6011 || p(2) === 65 || (p(3) >= 644 && p(3) <= 649)) return range(16, 19) ? 'discover' : null;
  if (p(4) >= 3528 && p(4) <= 3589) return range(16, 19) ? 'jcb' : null;
  if ((p(3) >= 300 && p(3) <= 305) || p(4) === 3095 || p(2) === 36 || p(2) === 38 || p(2) === 39) return range(14, 19) ? 'diners' : null;
  if (p(2) === 62) return range(16, 19) ? 'unionpay' : null;
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(p(4))) return range(13, 19) ? 'maestro' : null;
  return null;
}

/** Same digit repeated, or a plain ascending run: shaped like a card, never one. */
function degenerate(digits: string): boolean {
  if (/^(\d)\1+$/.test(digits)) return true;
  return '01234567890123456789'.includes(digits) || '98765432109876543210'.includes(digits);
}

/**
 * A card number at text[start, end) where the text holds digits with optional separators. Accepted
 * layouts: 13–19 digits without separators, or groups separated by one consistent space or dash
 * (4-4-4-4[-1..3], Amex 4-6-5, Diners 4-6-4). Returns the span or null.
 */
export function matchCard(text: string, start: number, end: number): { start: number; end: number } | null {
  const s = text.slice(start, end);
  const groups = s.split(/[ -]/);
  const sep = s.length > groups.join('').length ? s[groups[0]!.length] : '';
  if (sep && !s.split('').every((ch) => isDigit(ch.charCodeAt(0)) || ch === sep)) return null;
  const digits = groups.join('');
  if (digits.length < 13 || digits.length > 19) return null;
  if (sep) {
    const lens = groups.map((g) => g.length).join(',');
    const fours = groups.slice(0, -1).every((g) => g.length === 4) && groups[groups.length - 1]!.length >= 1 && groups[groups.length - 1]!.length <= 4;
    if (!fours && lens !== '4,6,5' && lens !== '4,6,4') return null;
  }
  if (degenerate(digits) || !cardNetwork(digits) || !luhnValid(digits)) return null;
  return { start, end };
}

/** Official IBAN lengths per country (SWIFT IBAN registry). */
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};
export const IBAN_COUNTRIES: readonly string[] = Object.keys(IBAN_LENGTH);

/** ISO 13616 mod-97 check of a compact IBAN (uppercase letters and digits). */
export function ibanValid(iban: string): boolean {
  const want = IBAN_LENGTH[iban.slice(0, 2)];
  if (want === undefined || iban.length !== want || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const check = Number(iban.slice(2, 4));
  if (check < 2 || check > 98) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    const v = c >= 65 ? c - 55 : c - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

const ALNUM_UP = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90);
const WORD = (c: number): boolean => ALNUM_UP(c) || (c >= 97 && c <= 122) || c === 95;

/**
 * An IBAN whose country code starts at `start` (the anchor): compact, or in groups of four
 * separated by single spaces (the printed form). Must not be glued to other word characters.
 */
export function matchIban(text: string, start: number): { start: number; end: number } | null {
  if (start > 0 && WORD(text.charCodeAt(start - 1))) return null;
  const want = IBAN_LENGTH[text.slice(start, start + 2)];
  if (want === undefined) return null;
  if (!isDigit(text.charCodeAt(start + 2)) || !isDigit(text.charCodeAt(start + 3))) return null;
  let compact = '';
  let i = start;
  let spaced = false;
  while (i < text.length && compact.length < want) {
    const c = text.charCodeAt(i);
    if (ALNUM_UP(c)) {
      compact += text[i];
      i++;
      continue;
    }
    // A single space after every full group of four (printed form).
    if (c === 32 && compact.length % 4 === 0 && compact.length > 0 && (spaced || compact.length === 4) && i + 1 < text.length && ALNUM_UP(text.charCodeAt(i + 1))) {
      spaced = true;
      i++;
      continue;
    }
    break;
  }
  if (compact.length !== want) return null;
  if (i < text.length && WORD(text.charCodeAt(i))) return null;
  return ibanValid(compact) ? { start, end: i } : null;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < B58.length; i++) B58_INDEX[B58.charCodeAt(i)] = i;

export function isBase58(c: number): boolean {
  return c < 128 && B58_INDEX[c]! >= 0;
}

/** Base58 decode (Bitcoin alphabet); null on a foreign character. Inputs here are ≤ 120 chars. */
export function base58Decode(s: string): Uint8Array | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let carry = c < 128 ? B58_INDEX[c]! : -1;
    if (carry < 0) return null;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let i = 0; i < s.length && s[i] === '1'; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

/** Base58Check payload (checksum = first 4 bytes of SHA-256(SHA-256(payload))), or null. */
export function base58CheckDecode(s: string): Uint8Array | null {
  const raw = base58Decode(s);
  if (!raw || raw.length < 5) return null;
  const payload = raw.subarray(0, raw.length - 4);
  const sum = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest();
  for (let i = 0; i < 4; i++) if (sum[i] !== raw[raw.length - 4 + i]) return null;
  return payload;
}

/**
 * Bitcoin WIF private key: 51 chars (uncompressed, `5` mainnet / `9` testnet) or 52 (compressed,
 * `K`/`L` mainnet, `c` testnet), version 0x80/0xEF, checksum verified.
 */
export function isWif(s: string): boolean {
  if (!((s.length === 51 && (s[0] === '5' || s[0] === '9')) || (s.length === 52 && (s[0] === 'K' || s[0] === 'L' || s[0] === 'c')))) return false;
  const p = base58CheckDecode(s);
  if (!p) return false;
  if (p[0] !== 0x80 && p[0] !== 0xef) return false;
  return p.length === 33 || (p.length === 34 && p[33] === 0x01);
}

/** BIP32 extended private key (xprv/tprv/yprv/zprv…): 78-byte payload, private version, checksum. */
const XPRV_VERSIONS = new Set([0x0488ade4, 0x04358394, 0x049d7878, 0x04b2430c, 0x044a4e28, 0x045f18bc]);
export function isExtendedPrivateKey(s: string): boolean {
  if (s.length < 100 || s.length > 115) return false;
  const p = base58CheckDecode(s);
  if (!p || p.length !== 78) return false;
  const version = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
  return XPRV_VERSIONS.has(version) && p[45] === 0;
}

const SECP256K1_N = BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141');

/** 64 hex digits that are a valid secp256k1 scalar (0 < k < n) and not a degenerate pattern. */
export function isSecp256k1Scalar(hex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  if (/^(.)\1+$/.test(hex)) return false;
  const k = BigInt(`0x${hex}`);
  return k > 0n && k < SECP256K1_N;
}

/**
 * Words that must precede a bare 64-hex value (within 48 chars) for it to count as a private key:
 * without them a SHA-256 digest, a cache key or a commit id looks the same.
 */
export const HEX_KEY_CONTEXT = /(?:priv(?:ate)?[\s_.-]?key|privkey|secret[\s_.-]?key|signer[\s_.-]?key|signing[\s_.-]?key|wallet[\s_.-]?key|eth(?:ereum)?[\s_.-]?(?:private[\s_.-]?)?key|deployer[\s_.-]?key|mnemonic|seed[\s_.-]?phrase)/i;
