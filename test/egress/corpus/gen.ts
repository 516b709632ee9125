/**
 * Deterministic generators for the egress attack corpus: FAKE secrets in real-world shapes (with
 * the checksums validators check: Luhn, IBAN mod-97, Base58Check, GitHub CRC32) and the encodings
 * an agent produces with one line of shell. Every value comes from a PRNG seeded by a string, so a
 * case id always yields the same bytes (stable ids, replayable by bench code). Nothing here is or
 * was ever a real credential.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

// ---------- PRNG ----------

export interface Rng {
  bytes(n: number): Buffer;
  int(max: number): number;
  pick<T>(xs: readonly T[]): T;
  chars(alphabet: string, n: number): string;
}

/** sha256 in counter mode over a seed string: stable across runs and platforms. */
export function rng(seed: string): Rng {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const bytes = (n: number): Buffer => {
    while (pool.length < n) {
      pool = Buffer.concat([pool, createHash('sha256').update(`${seed}\u0000${counter++}`).digest()]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return Buffer.from(out);
  };
  const int = (max: number): number => {
    // rejection sampling on 32-bit draws
    const limit = Math.floor(0x1_0000_0000 / max) * max;
    for (;;) {
      const v = bytes(4).readUInt32BE(0);
      if (v < limit) return v % max;
    }
  };
  return {
    bytes,
    int,
    pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!,
    chars: (alphabet: string, n: number) => {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[int(alphabet.length)]!;
      return s;
    },
  };
}

export const DIGITS = '0123456789';
export const HEX = '0123456789abcdef';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const B62 = DIGITS + UPPER + LOWER;
export const B64URL = UPPER + LOWER + DIGITS + '-_';
export const B64STD = UPPER + LOWER + DIGITS + '+/';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// ---------- checksums ----------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  let s = '';
  let v = n;
  while (v > 0) {
    s = B62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

export function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(num: string): boolean {
  const d = num.replace(/\D/g, '');
  return luhnCheckDigit(d.slice(0, -1)) === d.slice(-1);
}

function ibanMod97(s: string): number {
  const digits = s.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let r = 0;
  for (const ch of digits) r = (r * 10 + Number(ch)) % 97;
  return r;
}

export function ibanValid(iban: string): boolean {
  const s = iban.replace(/\s/g, '').toUpperCase();
  return ibanMod97(s.slice(4) + s.slice(0, 4)) === 1;
}

export function base58(buf: Buffer): string {
  let n = BigInt(`0x${buf.toString('hex') || '0'}`);
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)]! + s;
    n /= 58n;
  }
  for (const b of buf) {
    if (b !== 0) break;
    s = `1${s}`;
  }
  return s;
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export function base58check(payload: Buffer): string {
  return base58(Buffer.concat([payload, sha256(sha256(payload)).subarray(0, 4)]));
}

// ---------- fake secrets in real shapes ----------

export const fake = {
  /** AWS access key id: AKIA + 16 of the base32 alphabet real ids use. */
  awsKeyId: (r: Rng, prefix = 'AKIA') => prefix + r.chars(B32, 16),
  awsSecret: (r: Rng) => r.chars(UPPER + LOWER + DIGITS + '+/', 40),
  /** GitHub classic token: prefix + 30 random + 6-char base62 CRC32 of the random part. */
  github: (r: Rng, prefix = 'ghp_', randomLen = 30) => {
    const body = r.chars(B62, randomLen);
    return `${prefix}${body}${base62(crc32(Buffer.from(body)), 6)}`;
  },
  githubPat: (r: Rng) => `github_pat_11${r.chars(UPPER + DIGITS, 20)}_${r.chars(B62, 59)}`,
  anthropic: (r: Rng) => `sk-ant-api03-${r.chars(B64URL, 93)}AA`,
  openaiProj: (r: Rng) => `sk-proj-${r.chars(B64URL, 74)}T3BlbkFJ${r.chars(B64URL, 74)}`,
  openaiLegacy: (r: Rng) => `sk-${r.chars(B62, 20)}T3BlbkFJ${r.chars(B62, 20)}`,
  stripe: (r: Rng, prefix = 'sk_live_') => `${prefix}51${r.chars(B62, 97)}`,
  slackBot: (r: Rng) => `xoxb-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 13)}-${r.chars(B62, 24)}`,
  slackUser: (r: Rng) => `xoxp-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 11)}-${r.chars(DIGITS, 13)}-${r.chars(HEX, 32)}`,
  slackWebhook: (r: Rng) => `https://hooks.slack.com/services/T${r.chars(UPPER + DIGITS, 10)}/B${r.chars(UPPER + DIGITS, 10)}/${r.chars(B62, 24)}`,
  google: (r: Rng) => `AIza${r.chars(B62 + '-_', 35)}`,
  sendgrid: (r: Rng) => `SG.${r.chars(B64URL, 22)}.${r.chars(B64URL, 43)}`,
  npm: (r: Rng) => `npm_${r.chars(B62, 36)}`,
  gitlab: (r: Rng) => `glpat-${r.chars(B62 + '-_', 20)}`,
  huggingface: (r: Rng) => `hf_${r.chars(UPPER + LOWER, 34)}`,
  twilioKey: (r: Rng) => `SK${r.chars(HEX, 32)}`,
  mailgun: (r: Rng) => `key-${r.chars(HEX, 32)}`,
  shopify: (r: Rng) => `shpat_${r.chars(HEX, 32)}`,
  digitalocean: (r: Rng) => `dop_v1_${r.chars(HEX, 64)}`,
  pypi: (r: Rng) => `pypi-AgEIcHlwaS5vcmcCJ${r.chars(B64URL, 140)}`,
  vault: (r: Rng) => `hvs.CAESI${r.chars(B64URL, 86)}`,
  postman: (r: Rng) => `PMAK-${r.chars(HEX, 24)}-${r.chars(HEX, 34)}`,
  databricks: (r: Rng) => `dapi${r.chars(HEX, 32)}`,
  stripeWebhook: (r: Rng) => `whsec_${r.chars(B62, 32)}`,
  jwt: (r: Rng, sigLen = 43) => {
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const p = Buffer.from(JSON.stringify({ sub: `user-${r.chars(DIGITS, 6)}`, iat: 1_717_000_000 + r.int(9_000_000), scope: 'repo admin' })).toString('base64url');
    return `${h}.${p}.${r.chars(B64URL, sigLen)}`;
  },
  /** PKCS#1 RSA private key in PEM (random body behind a real DER prefix). */
  rsaPem: (r: Rng, label = 'RSA PRIVATE KEY') => {
    const der = Buffer.concat([Buffer.from('308204a30201000282010100', 'hex'), r.bytes(600)]);
    const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
    return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
  },
  opensshPem: (r: Rng) => {
    const body = Buffer.concat([Buffer.from('openssh-key-v1\u0000', 'latin1'), Buffer.from('000000046e6f6e65000000046e6f6e6500000000000000010000003300000b7373682d6564323535313900000020', 'hex'), r.bytes(200)]);
    const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n').trimEnd();
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
  },
  /** Visa/Mastercard/Amex number with a valid Luhn digit. */
  card: (r: Rng, prefix: string, length: number) => {
    const partial = prefix + r.chars(DIGITS, length - prefix.length - 1);
    return partial + luhnCheckDigit(partial);
  },
  /** IBAN with correct mod-97 check digits for a BBAN of the given shape. */
  iban: (r: Rng, country: string, bban: string) => {
    const check = 98 - ibanMod97(`${bban}${country}00`);
    return `${country}${String(check).padStart(2, '0')}${bban}`;
  },
  /** Bitcoin WIF (mainnet, compressed: K…/L…, uncompressed: 5…). */
  wif: (r: Rng, compressed = true, version = 0x80) => {
    const key = r.bytes(32);
    key[0] = key[0]! & 0x7f; // below the curve order
    return base58check(Buffer.concat([Buffer.from([version]), key, compressed ? Buffer.from([1]) : Buffer.alloc(0)]));
  },
  /** BIP32 extended private key (xprv…). */
  xprv: (r: Rng) => {
    const key = r.bytes(32);
    key[0] = key[0]! & 0x7f;
    return base58check(Buffer.concat([Buffer.from('0488ade4', 'hex'), Buffer.from([3]), r.bytes(4), Buffer.from('80000000', 'hex'), r.bytes(32), Buffer.from([0]), key]));
  },
  hex32: (r: Rng) => r.bytes(32).toString('hex'),
};

/** A per-case "known secret" (like an injected credential): random base62, no token prefix. */
export function knownSecretFor(id: string, len = 40): string {
  return rng(`known-secret:${id}`).chars(B62, len);
}

// ---------- encodings ----------

export function base32(buf: Buffer, pad = true): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]!;
  if (pad) while (out.length % 8 !== 0) out += '=';
  return out;
}

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
export const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
export const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');
export const reverse = (s: string) => [...s].reverse().join('');
export const wrap = (s: string, width: number, sep = '\n') => s.replace(new RegExp(`(.{${width}})`, 'g'), `$1${sep}`).replace(new RegExp(`${sep.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}$`), '');
export const pctAll = (s: string | Buffer, upper = true) => [...Buffer.from(s)].map((c) => `%${c.toString(16).padStart(2, '0')}`).map((x) => (upper ? x.toUpperCase() : x)).join('');
/** Percent-encodes `s` completely, then encodes the `%` again `depth - 1` times. */
export const pctNested = (s: string, depth: number) => {
  let out = pctAll(s);
  for (let i = 1; i < depth; i++) out = out.replace(/%/g, '%25');
  return out;
};
export const hexDelim = (s: string | Buffer, delim: string, prefix = '') => [...Buffer.from(s)].map((c) => prefix + c.toString(16).padStart(2, '0')).join(delim);
export const jsonUnicode = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
export const shellHexEscapes = (s: string) => [...Buffer.from(s)].map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('');
/** Fullwidth forms (NFKC folds them back to ASCII). */
export const fullwidth = (s: string) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
export const utf16le = (s: string) => Buffer.from(s, 'utf16le');
export const utf16beBom = (s: string) => {
  const le = Buffer.from(s, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1]!;
    be[i + 1] = le[i]!;
  }
  return Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
};
/** Quoted-printable with every byte encoded (`=41=42…`) and 76-column soft line breaks. */
export const qpAll = (s: string) => {
  const enc = [...Buffer.from(s)].map((c) => `=${c.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return enc.replace(/((?:=[0-9A-F]{2}){25})/g, '$1=\r\n').replace(/=\r\n$/, '');
};
/** Quoted-printable as `quopri`/`encode_qp` write it: long lines broken with `=\r\n` soft breaks. */
export const qpSoft = (s: string, column = 76) => {
  let out = '';
  let line = 0;
  for (const ch of s) {
    const e = ch === '=' ? '=3D' : ch;
    if (line + e.length > column - 1) {
      out += '=\r\n';
      line = 0;
    }
    out += e;
    line += e.length;
  }
  return out;
};
export const gzip = (s: string | Buffer) => gzipSync(Buffer.from(s));
export const zlibDeflate = (s: string | Buffer) => deflateSync(Buffer.from(s));
export const brotli = (s: string | Buffer) => brotliCompressSync(Buffer.from(s));

/** A one-file ustar archive (what `tar cf - .env` writes). */
export function tar(name: string, content: string | Buffer): Buffer {
  const data = Buffer.from(content);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'latin1');
  h.write('0000644\u0000', 100, 'latin1');
  h.write('0001750\u0000', 108, 'latin1');
  h.write('0001750\u0000', 116, 'latin1');
  h.write(`${data.length.toString(8).padStart(11, '0')}\u0000`, 124, 'latin1');
  h.write(`${(1_717_000_000).toString(8).padStart(11, '0')}\u0000`, 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  h.write('agent', 265, 'latin1');
  h.write('agent', 297, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  const padded = Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
  return Buffer.concat([h, padded, Buffer.alloc(1024)]);
}

/** A valid PNG (random RGB noise, w×h) — a benign base64 image payload. */
export function png(r: Rng, w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) rows.push(Buffer.concat([Buffer.from([0]), r.bytes(w * 3)]));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

export function uuid(r: Rng): string {
  const b = r.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Splits `s` into pieces of `n` characters. */
export const pieces = (s: string, n: number) => s.match(new RegExp(`.{1,${n}}`, 'g')) ?? [];
