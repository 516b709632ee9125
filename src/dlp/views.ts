import { Buffer, isUtf8 } from 'node:buffer';
import { inflateRawSync, inflateSync } from 'node:zlib';

/**
 * Decoded views for decode-then-rescan (docs/decisions/dlp-v2-views-and-validators.md).
 * The scanner's loop already delimits the regions that can hold encoded data (token-character runs,
 * hex/digit runs, compatibility characters); this module decodes only those regions, plus escape
 * clusters, UTF-16 and embedded compressed streams it finds with `indexOf`, so a body with nothing
 * encoded costs a few memchr-speed searches. Every decoded byte counts against the caller's budget;
 * a compressed stream that would exceed it is reported (`overflow`), never silently skipped.
 */

export interface View {
  readonly text: string;
  /** How it was decoded: `base64`, `base32`, `hex`, `escape`, `utf16`, `fold`, `gzip`, `zlib`, `zip`, `strings`… joined by `>`. */
  readonly kind: string;
  /** The region of the parent text it decodes. */
  readonly start: number;
  readonly end: number;
}

export interface ViewLimits {
  /** Decoded characters still allowed in this scan call (shared by every surface and depth). */
  budget: number;
  /** Compressed streams that could not be inflated within the budget. */
  readonly overflow: { start: number; end: number; kind: string }[];
}

/** Token-character runs shorter than this are not decoded (8 secret bytes ≈ 11 base64 chars; a 16-char token ≈ 22). */
export const MIN_ENCODED_RUN = 16;
/**
 * More clusters than this in one text, or clusters covering most of it: decode the whole text once
 * instead (bounded work, one view).
 */
const MAX_CLUSTERS = 4096;
/** How far a cluster's region extends over neighbouring token characters, each side. */
const EXTEND = 128;

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64[45] = 62; // -
B64[95] = 63; // _

const HEXV = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEXV[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXV[65 + i] = 10 + i;
  HEXV[97 + i] = 10 + i;
}
const hexv = (c: number): number => (c < 128 ? HEXV[c]! : -1);

// Character-set bits of a run (one pass decides which decoders apply).
const F_LOWER = 1;
const F_UPPER = 2;
const F_DIGIT = 4;
const F_STD = 8; // + /
const F_URL = 16; // - _
const F_NONHEX_LOWER = 32;
const F_NONHEX_UPPER = 64;
const F_NONB32_DIGIT = 128; // 0 1 8 9
const F_EQ = 256;

function charFlags(s: string): number {
  let f = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) f |= c > 102 ? F_LOWER | F_NONHEX_LOWER : F_LOWER;
    else if (c >= 65 && c <= 90) f |= c > 70 ? F_UPPER | F_NONHEX_UPPER : F_UPPER;
    else if (c >= 48 && c <= 57) f |= c < 50 || c > 55 ? F_DIGIT | F_NONB32_DIGIT : F_DIGIT;
    else if (c === 43 || c === 47) f |= F_STD;
    else if (c === 45 || c === 95) f |= F_URL;
    else if (c === 61) f |= F_EQ;
  }
  return f;
}

/** Printable fraction of bytes (ASCII printable, tab, CR, LF; bytes ≥ 0x80 count when `utf8`). */
function printable(b: Uint8Array, utf8: boolean): number {
  if (b.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13 || (utf8 && c >= 128)) n++;
  }
  return n / b.length;
}

/** Runs of ≥ 8 printable ASCII bytes, one per line (what `strings` shows of a binary blob). */
function stringsOf(b: Uint8Array): string {
  const parts: string[] = [];
  let s = -1;
  for (let i = 0; i <= b.length; i++) {
    const c = i < b.length ? b[i]! : 0;
    if (c >= 32 && c < 127) {
      if (s < 0) s = i;
    } else if (s >= 0) {
      if (i - s >= 8) parts.push(Buffer.from(b.buffer, b.byteOffset + s, i - s).toString('latin1'));
      s = -1;
    }
  }
  return parts.join('\n');
}

function utf16Of(b: Uint8Array): string | null {
  if (b.length < 16) return null;
  let le = b[0] === 0xff && b[1] === 0xfe;
  let be = b[0] === 0xfe && b[1] === 0xff;
  if (!le && !be) {
    let zOdd = 0;
    let zEven = 0;
    const n = Math.min(b.length, 512) & ~1;
    for (let i = 0; i < n; i += 2) {
      if (b[i] === 0) zEven++;
      if (b[i + 1] === 0) zOdd++;
    }
    const pairs = n / 2;
    le = zOdd >= pairs * 0.6 && zEven <= pairs * 0.1;
    be = zEven >= pairs * 0.6 && zOdd <= pairs * 0.1;
  }
  if (!le && !be) return null;
  const start = b[0] === 0xff || b[0] === 0xfe ? 2 : 0;
  const body = Buffer.from(b.subarray(start, start + ((b.length - start) & ~1)));
  if (be) body.swap16();
  return body.toString('utf16le');
}

/** RFC 1952 header length, or -1. */
function gzipHeader(b: Uint8Array): number {
  if (b.length < 18 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return -1;
  const flg = b[3]!;
  let p = 10;
  if (flg & 4) p += 2 + (b[10]! | (b[11]! << 8));
  if (flg & 8) while (p < b.length && b[p++] !== 0);
  if (flg & 16) while (p < b.length && b[p++] !== 0);
  if (flg & 2) p += 2;
  return p < b.length ? p : -1;
}

function isZlibHeader(a: number, b: number): boolean {
  return a === 0x78 && (b === 0x01 || b === 0x5e || b === 0x9c || b === 0xda) && ((a << 8) | b) % 31 === 0;
}

function tooLarge(e: unknown): boolean {
  return e instanceof RangeError || (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE');
}

/**
 * Inflate a compressed stream within the remaining budget. Trailing bytes after the stream are
 * ignored (inflateRaw/inflate stop at its end); a truncated stream yields what it has.
 */
function inflate(kind: 'gzip' | 'zlib' | 'raw', b: Uint8Array, lim: ViewLimits): Uint8Array | 'over' | null {
  const max = Math.max(0, Math.floor(lim.budget));
  if (max === 0) return 'over';
  const opts = { maxOutputLength: max, finishFlush: 2 /* Z_SYNC_FLUSH: tolerate truncation */ };
  try {
    if (kind === 'gzip') {
      const h = gzipHeader(b);
      if (h < 0) return null;
      return inflateRawSync(b.subarray(h), opts);
    }
    return kind === 'zlib' ? inflateSync(b, opts) : inflateRawSync(b, opts);
  } catch (e) {
    return tooLarge(e) ? 'over' : null;
  }
}

/** Local file entries of a zip archive starting at `b[0]` (deflated members only; ≤ 64). */
function zipMembers(b: Uint8Array, lim: ViewLimits, out: Uint8Array[]): boolean {
  let p = 0;
  for (let k = 0; k < 64 && p + 30 <= b.length; k++) {
    if (!(b[p] === 0x50 && b[p + 1] === 0x4b && b[p + 2] === 3 && b[p + 3] === 4)) break;
    const method = b[p + 8]! | (b[p + 9]! << 8);
    const csize = (b[p + 18]! | (b[p + 19]! << 8) | (b[p + 20]! << 16) | (b[p + 21]! << 24)) >>> 0;
    const data = p + 30 + (b[p + 26]! | (b[p + 27]! << 8)) + (b[p + 28]! | (b[p + 29]! << 8));
    if (data > b.length) break;
    const end = csize > 0 ? Math.min(b.length, data + csize) : b.length;
    if (method === 8) {
      const r = inflate('raw', b.subarray(data, end), lim);
      if (r === 'over') return false;
      if (r) {
        lim.budget -= r.length;
        out.push(r);
      }
    }
    if (csize === 0) break; // streamed member (data descriptor): the next header is not locatable cheaply
    p = end;
  }
  return true;
}

/**
 * What decoded bytes become: decompressed by magic number (gzip, zlib, zip), UTF-16 text, text,
 * or the printable strings of a binary blob; nothing when no readable text is left.
 * `compressedOnly`: bytes that are the surface itself (embedded streams) — only a decompressed
 * result is new. Decompressed bytes are charged to the budget once, when inflated.
 */
export function interpretBytes(b: Uint8Array, kind: string, start: number, end: number, lim: ViewLimits, out: View[], nested = 0, compressedOnly = false, charged = false): void {
  if (b.length === 0) return;
  if (nested < 2 && b.length >= 4) {
    let comp: 'gzip' | 'zlib' | 'zip' | null = null;
    if (b[0] === 0x1f && b[1] === 0x8b) comp = 'gzip';
    else if (isZlibHeader(b[0]!, b[1]!)) comp = 'zlib';
    else if (b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) comp = 'zip';
    if (comp === 'zip') {
      const members: Uint8Array[] = [];
      if (!zipMembers(b, lim, members)) lim.overflow.push({ start, end, kind: chain(kind, 'zip') });
      for (const m of members) interpretBytes(m, chain(kind, 'zip'), start, end, lim, out, nested + 1, false, true);
      if (members.length > 0) return;
    } else if (comp) {
      const r = inflate(comp, b, lim);
      if (r === 'over') {
        lim.overflow.push({ start, end, kind: chain(kind, comp) });
        return;
      }
      if (r && r.length > 0) {
        lim.budget -= r.length;
        interpretBytes(r, chain(kind, comp), start, end, lim, out, nested + 1, false, true);
        return;
      }
    }
  }
  if (compressedOnly) return;
  // One pass of statistics decides; most decoded blobs (hashes, ids, image data) have no printable
  // run of 8 and no UTF-16 shape, and are dropped without building any string.
  const n = b.length;
  let ascii = 0;
  let high = 0;
  let run = 0;
  let maxRun = 0;
  let zOdd = 0;
  let zEven = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13) {
      ascii++;
      if (++run > maxRun) maxRun = run;
    } else {
      run = 0;
      if (c >= 128) high++;
      else if (c === 0) {
        if (i & 1) zOdd++;
        else zEven++;
      }
    }
  }
  const pairs = n >> 1;
  const bom = n >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
  if (n >= 16 && (bom || (zOdd >= pairs * 0.6 && zEven <= pairs * 0.1) || (zEven >= pairs * 0.6 && zOdd <= pairs * 0.1))) {
    const u16 = utf16Of(b);
    if (u16 !== null) {
      push(out, lim, { text: u16, kind: chain(kind, 'utf16'), start, end }, !charged);
      return;
    }
  }
  let text: string | null = null;
  if (ascii >= n * 0.85) text = Buffer.from(b.buffer, b.byteOffset, n).toString(ascii === n || !isUtf8(b) ? 'latin1' : 'utf8');
  else if (ascii + high >= n * 0.85 && high > 0 && isUtf8(b)) text = Buffer.from(b.buffer, b.byteOffset, n).toString('utf8');
  if (text !== null) {
    push(out, lim, { text, kind: kind || 'bytes', start, end }, !charged);
    return;
  }
  if (maxRun < 8) return;
  const s = stringsOf(b);
  if (s.length > 0) push(out, lim, { text: s, kind: chain(kind, 'strings'), start, end }, !charged);
}

function chain(kind: string, k: string): string {
  return kind ? `${kind}>${k}` : k;
}

function push(out: View[], lim: ViewLimits, v: View, charge = true): void {
  if (v.text.length === 0 || (charge && lim.budget <= 0)) return;
  if (charge) lim.budget -= v.text.length;
  out.push(v);
}

const B32 = new Int8Array(128).fill(-1);
for (let i = 0; i < 32; i++) {
  B32['ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.charCodeAt(i)] = i;
  B32['abcdefghijklmnopqrstuvwxyz234567'.charCodeAt(i)] = i;
}

function base32Decode(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break;
    const v = c < 128 ? B32[c]! : -1;
    if (v < 0) break;
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/**
 * Whether hex can decode to anything readable, judged on the hex itself (no allocation): a
 * compression magic, 8 consecutive printable bytes (high nibble 2–7, or tab/LF/CR), or UTF-16's
 * alternating zero bytes. Hashes and ids (most hex in traffic) fail all three.
 */
function hexWorthDecoding(h: string): boolean {
  const p = h.slice(0, 4).toLowerCase();
  if (p === '1f8b' || p === '504b' || (p[0] === '7' && p[1] === '8')) return true;
  let run = 0;
  let zeros = 0;
  for (let i = 0; i + 1 < h.length; i += 2) {
    const a = h.charCodeAt(i);
    const b = h.charCodeAt(i + 1);
    const hi = a - 48;
    const printable = (hi >= 2 && hi <= 7 && !(hi === 7 && (b === 102 || b === 70))) || (a === 48 && (b === 57 || b === 97 || b === 65 || b === 100 || b === 68));
    run = printable ? run + 1 : 0;
    if (run >= 8) return true;
    if (a === 48 && b === 48) zeros++;
  }
  return zeros >= (h.length / 2) * 0.4;
}

function hexDecode(s: string): Uint8Array {
  return Buffer.from(s.length % 2 ? s.slice(0, -1) : s, 'hex');
}

/** Base64 (std or url alphabet; Node accepts both) at the alignment whose output reads best. */
function base64Best(s: string): Uint8Array {
  const first = Buffer.from(s, 'base64');
  if (/=$/.test(s) || printable(first.subarray(0, 48), true) >= 0.85) return first;
  let best = first;
  let bestScore = printable(first.subarray(0, 48), true);
  for (let k = 1; k <= 3; k++) {
    const probe = Buffer.from(s.slice(k, k + 64), 'base64');
    const score = printable(probe.subarray(0, 48), true);
    if (score > bestScore + 0.2) {
      bestScore = score;
      best = Buffer.from(s.slice(k), 'base64');
    }
  }
  return best;
}

/** Gap between two lines of wrapped base64: LF, CRLF, or their JSON escapes `\n`, `\r\n`. */
function wrapGap(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === 10) return 1;
  if (c === 13 && text.charCodeAt(at + 1) === 10) return 2;
  if (c === 92) {
    const d = text.charCodeAt(at + 1);
    if (d === 110) return 2;
    if (d === 114 && text.charCodeAt(at + 2) === 92 && text.charCodeAt(at + 3) === 110) return 4;
  }
  return 0;
}

const RUN_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') RUN_CHAR[ch.charCodeAt(0)] = 1;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Decode one token-character segment by its character set. */
function decodeSegment(seg: string, start: number, end: number, lim: ViewLimits, out: View[], flags = -1): void {
  if (seg.length < MIN_ENCODED_RUN) return;
  const f = flags >= 0 ? flags : charFlags(seg);
  // UUIDs are everywhere and decode to nothing.
  if (seg.length === 36 && f & F_URL && UUID.test(seg)) return;
  const body = seg.replace(/=+$/, '');
  // Hex: one case of letters, even length. Digits only (decimals, ids, floats) are not hex of text:
  // printable ASCII in hex always has a letter digit somewhere (67 68 70 5f…).
  if (!(f & (F_NONHEX_LOWER | F_NONHEX_UPPER | F_STD | F_URL)) && !((f & F_LOWER) && (f & F_UPPER)) && !(f & F_EQ)) {
    if (body.length % 2 === 0 && f & (F_LOWER | F_UPPER) && hexWorthDecoding(body)) interpretBytes(hexDecode(body), 'hex', start, end, lim, out);
    return;
  }
  // Dash-delimited hex pairs (67-68-70-…).
  if (f & F_URL && /^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){7,}$/.test(seg)) {
    interpretBytes(hexDecode(seg.replace(/-/g, '')), 'hex', start, end, lim, out);
    return;
  }
  // Base32: one case, digits only 2–7.
  const b32 = !(f & (F_STD | F_URL | F_NONB32_DIGIT)) && !((f & F_LOWER) && (f & F_UPPER));
  if (b32) interpretBytes(base32Decode(body), 'base32', start, end, lim, out);
  // Base64: at least two of lower/upper/digit (identifiers in one case are not worth decoding).
  const kinds = ((f & F_LOWER) !== 0 ? 1 : 0) + ((f & F_UPPER) !== 0 ? 1 : 0) + ((f & F_DIGIT) !== 0 ? 1 : 0);
  if (kinds >= 2 || (f & F_STD) !== 0) interpretBytes(base64Best(seg), 'base64', start, end, lim, out);
}

/**
 * Views of the token-character runs the scanner found (pairs [start, end) in `runs`): wrapped lines
 * joined, split at padding, then base64 / base32 / hex by character set.
 */
export function runViews(text: string, runs: readonly number[], lim: ViewLimits, out: View[]): void {
  for (let k = 0; k < runs.length && lim.budget > 0; k += 2) {
    const s = runs[k]!;
    let e = runs[k + 1]!;
    let joined: string | null = null;
    // Wrapped base64 (PEM 64, MIME/`base64` CLI 76, any width ≥ 16): lines joined across breaks.
    while (e - s >= MIN_ENCODED_RUN || joined !== null) {
      const gap = wrapGap(text, e);
      if (gap === 0) break;
      const ns = e + gap;
      let ne: number;
      if (k + 2 < runs.length && runs[k + 2] === ns) {
        ne = runs[k + 3]!;
        k += 2;
      } else {
        // A last, short line: not in the run list (below the minimum), read it here.
        ne = ns;
        while (ne < text.length && ne - ns < 128 && text.charCodeAt(ne) < 128 && RUN_CHAR[text.charCodeAt(ne)] === 1) ne++;
        if (ne - ns === 0) break;
      }
      joined = (joined ?? text.slice(s, e)) + text.slice(ns, ne);
      const last = ne - ns;
      e = ne;
      if (last < MIN_ENCODED_RUN) break;
    }
    while (k + 2 < runs.length && runs[k + 2]! < e) k += 2;
    const region = joined ?? text.slice(s, e);
    // Paths and URLs: hex segments between slashes (`/v1/obj/736b5f6c…`) are a run of their own.
    if (joined === null && e - s <= MAX_PATH_RUN && region.indexOf('/') >= 0) slashHexViews(region, s, lim, out);
    // Segments end at padding ('=' followed by something else): "key=Z2hw…" → "key", "Z2hw…".
    // An unwrapped segment reports its own place (spans point at the encoded text only).
    let segStart = 0;
    for (let i = 0; i <= region.length; i++) {
      const atEnd = i === region.length;
      if (!atEnd && !(region.charCodeAt(i) === 61 && i + 1 < region.length && region.charCodeAt(i + 1) !== 61)) continue;
      const segEnd = atEnd ? i : i + 1;
      if (segEnd - segStart < MIN_ENCODED_RUN) {
        segStart = segEnd;
        continue;
      }
      const seg = region.slice(segStart, segEnd);
      const a = joined === null ? s + segStart : s;
      const b = joined === null ? s + segEnd : e;
      // Mixed alphabets: `prefix_<std base64>` → split at - and _.
      const f = charFlags(seg);
      if (f & F_STD && f & F_URL) {
        let off = 0;
        for (const part of seg.split(/[-_]/)) {
          decodeSegment(part, joined === null ? a + off : s, joined === null ? a + off + part.length : e, lim, out);
          off += part.length + 1;
        }
      } else {
        decodeSegment(seg, a, b, lim, out, f);
      }
      segStart = segEnd;
    }
  }
}

/** Runs up to this long are split at `/` for hex path segments (paths, URLs; not base64 blobs). */
const MAX_PATH_RUN = 4096;

function slashHexViews(region: string, s: number, lim: ViewLimits, out: View[]): void {
  let a = 0;
  for (let i = 0; i <= region.length; i++) {
    if (i < region.length && region.charCodeAt(i) !== 47) continue;
    if (i - a >= MIN_ENCODED_RUN && (a > 0 || i < region.length)) {
      const part = region.slice(a, i);
      const f = charFlags(part);
      // Hex only (one case, a letter digit): base64 parts are decoded with their whole run.
      if (!(f & (F_NONHEX_LOWER | F_NONHEX_UPPER | F_STD | F_URL | F_EQ)) && !(f & F_LOWER && f & F_UPPER) && f & (F_LOWER | F_UPPER)) decodeSegment(part, s + a, s + i, lim, out, f);
    }
    a = i + 1;
  }
}

const DELIMITED_HEX = /(?:0x)?[0-9A-Fa-f]{2}(?:(?:[: -]|, ?)(?:0x)?[0-9A-Fa-f]{2}){7,}|[0-9a-f]{4}(?: [0-9a-f]{4}){3,}/g;

/** Hex with delimiters (`67:68`, `67 68`, `0x67, 0x68`, xxd's `6768 705f`) in the scanner's hex/digit runs. */
export function delimitedHexViews(text: string, runs: readonly number[], lim: ViewLimits, out: View[]): void {
  for (let k = 0; k < runs.length && lim.budget > 0; k += 2) {
    const s = runs[k]!;
    const e = runs[k + 1]!;
    if (e - s < 23) continue;
    // At least 7 delimiters (8 bytes) before a regex runs: UUIDs and plain hex ids have none.
    let delims = 0;
    for (let i = s; i < e && delims < 7; i++) {
      const c = text.charCodeAt(i);
      if (c === 58 || c === 32 || c === 44) delims++;
    }
    if (delims < 7) continue;
    const region = text.slice(s, e);
    DELIMITED_HEX.lastIndex = 0;
    for (let m = DELIMITED_HEX.exec(region); m; m = DELIMITED_HEX.exec(region)) {
      const hex = m[0].replace(/0x|[^0-9A-Fa-f]/g, '');
      interpretBytes(hexDecode(hex), 'hex', s + m.index, s + m.index + m[0].length, lim, out);
    }
  }
}

/** Length of a percent / backslash / QP / HTML-entity escape at i, or 0. `qp` only counts `=XX`. */
function escapeAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const a = text.charCodeAt(i + 1);
  if (c === 37) {
    if (hexv(a) >= 0 && hexv(text.charCodeAt(i + 2)) >= 0) return 3;
    if ((a === 117 || a === 85) && hex4(text, i + 2)) return 6; // %u0067
    return 0;
  }
  if (c === 92) {
    if ((a === 120 || a === 88) && hexv(text.charCodeAt(i + 2)) >= 0 && hexv(text.charCodeAt(i + 3)) >= 0) return 4;
    if (a === 117 && hex4(text, i + 2)) return 6;
    if (a === 117 && text.charCodeAt(i + 2) === 123) {
      const close = text.indexOf('}', i + 3);
      return close > i + 3 && close - i <= 10 ? close - i + 1 : 0;
    }
    if (a >= 48 && a <= 51 && isOct(text.charCodeAt(i + 2)) && isOct(text.charCodeAt(i + 3))) return 4;
    return 0;
  }
  if (c === 61) {
    const b = text.charCodeAt(i + 2);
    return isUpperHex(a) && isUpperHex(b) ? 3 : 0;
  }
  if (c === 38 && a === 35) {
    const semi = text.indexOf(';', i + 2);
    if (semi < 0 || semi - i > 10) return 0;
    const body = text.slice(i + 2, semi);
    return /^(?:[0-9]{1,7}|[xX][0-9A-Fa-f]{1,6})$/.test(body) ? semi - i + 1 : 0;
  }
  return 0;
}
const isOct = (c: number): boolean => c >= 48 && c <= 55;
const isUpperHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
function hex4(text: string, i: number): boolean {
  return hexv(text.charCodeAt(i)) >= 0 && hexv(text.charCodeAt(i + 1)) >= 0 && hexv(text.charCodeAt(i + 2)) >= 0 && hexv(text.charCodeAt(i + 3)) >= 0;
}

/** Token-ish neighbour for region extension: printable, not whitespace or a quote/bracket. */
function tokenish(c: number): boolean {
  return c > 32 && c !== 34 && c !== 39 && c !== 96 && c !== 60 && c !== 62 && c !== 127 && !(c >= 0x2000 && c <= 0x200a) && c !== 0xa0;
}

function extendRegion(text: string, s: number, e: number): [number, number] {
  let a = s;
  while (a > 0 && s - a < EXTEND && tokenish(text.charCodeAt(a - 1))) a--;
  let b = e;
  while (b < text.length && b - e < EXTEND && tokenish(text.charCodeAt(b))) b++;
  return [a, b];
}

/**
 * Regions holding escapes (`%XX` at any depth, `\xXX`, `\uXXXX`, `\u{…}`, octal, quoted-printable,
 * `&#…;`): clusters of escapes (gaps ≤ 16) widened to the surrounding token characters. QP needs
 * three escapes in a cluster (a lone `=10` is an assignment). Too many clusters → the whole text.
 */
function escapeRegions(text: string): [number, number][] | 'all' {
  const regions: [number, number][] = [];
  for (const ch of ['%', '\\', '=', '&#']) {
    const qp = ch === '=';
    let cs = -1;
    let ce = -1;
    let count = 0;
    for (let i = text.indexOf(ch); ; i = text.indexOf(ch, i + 1)) {
      const len = i >= 0 ? escapeAt(text, i) : 0;
      if (i >= 0 && len === 0) {
        // QP soft line break continues a cluster.
        if (qp && cs >= 0 && (text.charCodeAt(i + 1) === 10 || (text.charCodeAt(i + 1) === 13 && text.charCodeAt(i + 2) === 10))) ce = i + 2;
        continue;
      }
      // Close the current cluster at the end, or when the next escape is more than 16 away.
      if (cs >= 0 && (i < 0 || i - ce > 16)) {
        if (!qp || count >= 3) regions.push(extendRegion(text, cs, ce));
        cs = -1;
        count = 0;
        if (regions.length > MAX_CLUSTERS) return 'all';
      }
      if (i < 0) break;
      if (cs < 0) cs = i;
      ce = i + len;
      count++;
    }
  }
  return mergeRegions(regions);
}

function mergeRegions(regions: [number, number][]): [number, number][] {
  if (regions.length <= 1) return regions;
  regions.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [regions[0]!];
  for (let i = 1; i < regions.length; i++) {
    const r = regions[i]!;
    const last = out[out.length - 1]!;
    if (r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

function bytesToText(bytes: number[]): string {
  // ASCII (the common case: %25, %2F, =3D…) needs no Buffer.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) ascii = false;
  if (ascii && bytes.length <= 4096) return String.fromCharCode(...bytes);
  const b = Buffer.from(bytes);
  return b.toString(isUtf8(b) ? 'utf8' : 'latin1');
}

/**
 * One round of escape decoding (all kinds); a percent-encoded escape decodes further next round.
 * Unchanged stretches are copied as slices (a 1 MiB text with scattered escapes stays linear).
 */
function unescapeOnce(s: string): string {
  const parts: string[] = [];
  let bytes: number[] = [];
  let last = 0;
  const n = s.length;
  for (let i = 0; i < n; ) {
    const c = s.charCodeAt(i);
    if (c !== 37 && c !== 92 && c !== 61 && c !== 38) {
      i++;
      continue;
    }
    let len = escapeAt(s, i);
    let rep: string | null = null;
    let byte = -1;
    if (len === 0) {
      const d = s.charCodeAt(i + 1);
      if (c === 61 && (d === 10 || (d === 13 && s.charCodeAt(i + 2) === 10))) {
        len = d === 10 ? 2 : 3; // QP soft break
        rep = '';
      } else if (c === 92 && d === 47) {
        len = 2;
        rep = '/';
      } else {
        i++;
        continue;
      }
    } else {
      const a = s.charCodeAt(i + 1);
      if ((c === 37 && len === 3) || c === 61) byte = (hexv(a) << 4) | hexv(s.charCodeAt(i + 2));
      else if (c === 92 && (a === 120 || a === 88)) byte = (hexv(s.charCodeAt(i + 2)) << 4) | hexv(s.charCodeAt(i + 3));
      else if (c === 92 && a >= 48 && a <= 51) byte = ((a - 48) << 6) | ((s.charCodeAt(i + 2) - 48) << 3) | (s.charCodeAt(i + 3) - 48);
      else {
        let cp: number;
        if (c === 38) {
          const body = s.slice(i + 2, i + len - 1);
          cp = body[0] === 'x' || body[0] === 'X' ? parseInt(body.slice(1), 16) : parseInt(body, 10);
        } else if (c === 92 && s.charCodeAt(i + 2) === 123) cp = parseInt(s.slice(i + 3, i + len - 1), 16);
        else cp = parseInt(s.slice(i + 2, i + 6), 16); // \uXXXX, %uXXXX
        rep = cp >= 0 && cp <= 0x10ffff && !Number.isNaN(cp) ? String.fromCodePoint(cp) : s.slice(i, i + len);
      }
    }
    // Text between the previous escape and this one ends any pending byte sequence.
    if (i > last) {
      if (bytes.length > 0) {
        parts.push(bytesToText(bytes));
        bytes = [];
      }
      parts.push(s.slice(last, i));
    }
    if (byte >= 0) bytes.push(byte);
    else {
      if (bytes.length > 0) {
        parts.push(bytesToText(bytes));
        bytes = [];
      }
      parts.push(rep ?? '');
    }
    i += len;
    last = i;
  }
  if (last === 0 && bytes.length === 0) return s;
  if (bytes.length > 0) parts.push(bytesToText(bytes));
  parts.push(s.slice(last));
  return parts.join('');
}

/**
 * Escapes decoded round by round to a fixed point (≤ 4 rounds: `%2567` → `%67` → `g`); the first
 * round and the last are returned (a quoted-printable `=3D41` must be seen as `=41`, not only as `A`).
 */
export function unescapeAll(s: string): string[] {
  const rounds: string[] = [];
  let cur = s;
  for (let round = 0; round < 4; round++) {
    const next = unescapeOnce(cur);
    if (next === cur) break;
    rounds.push(next);
    cur = next;
  }
  // The first round (one faithful layer) and the fixed point; the rounds between add little.
  return rounds.length > 2 ? [rounds[0]!, rounds[rounds.length - 1]!] : rounds;
}

export function escapeViews(text: string, lim: ViewLimits, out: View[]): void {
  const regions = escapeRegions(text);
  let covered = 0;
  if (regions !== 'all') for (const [s, e] of regions) covered += e - s;
  const list = regions === 'all' || (covered > text.length / 2 && text.length > 65536) ? [[0, text.length] as [number, number]] : regions;
  for (const [s, e] of list) {
    if (lim.budget <= 0) return;
    for (const v of unescapeAll(text.slice(s, e))) push(out, lim, { text: v, kind: 'escape', start: s, end: e });
  }
}

/** UTF-16LE/BE text inside a (latin-1 or ASCII) text: ≥ 8 characters alternating with NUL. */
export function utf16Views(text: string, lim: ViewLimits, out: View[]): void {
  let from = 0;
  for (let z = text.indexOf('\0'); z >= 0 && lim.budget > 0; z = text.indexOf('\0', Math.max(z + 1, from))) {
    if (z < from) continue;
    // LE: X \0 X \0 …, starting one before the NUL; BE: \0 X \0 X …, starting at it.
    for (const s of [z - 1, z]) {
      if (s < 0) continue;
      const le = s === z - 1;
      let j = s;
      while (j + 1 < text.length) {
        const data = text.charCodeAt(le ? j : j + 1);
        const zero = text.charCodeAt(le ? j + 1 : j);
        if (zero !== 0 || data === 0 || data > 0xff) break;
        j += 2;
      }
      if (j - s >= 16) {
        const bytes = Buffer.from(text.slice(s, j), 'latin1');
        if (!le) bytes.swap16();
        push(out, lim, { text: bytes.toString('utf16le'), kind: 'utf16', start: s, end: j });
        from = j;
        break;
      }
    }
  }
}

/** Invisible format characters removed by the fold view (zero-width, bidi, soft hyphen, BOM, variation selectors…). */
const INVISIBLE = new Uint8Array(65536);
for (const c of [0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xfeff, 0xffa0]) INVISIBLE[c] = 1;
for (const [a, b] of [[0x180b, 0x180f], [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x206f], [0xfe00, 0xfe0f]] as const) INVISIBLE.fill(1, a, b + 1);

let foldTable: Uint8Array | null = null;

/**
 * Code units whose NFKC form differs (fullwidth letters, ligatures, circled and mathematical
 * letters via their surrogates) or that are invisible: the scanner marks them in its automaton so
 * finding them costs nothing extra per character. Computed once per process (~5 ms).
 */
export function foldableUnits(): Uint8Array {
  if (foldTable) return foldTable;
  const t = new Uint8Array(65536);
  for (let c = 0x80; c < 0x10000; c++) {
    if (c >= 0xd800 && c < 0xe000) continue;
    const ch = String.fromCharCode(c);
    if (ch.normalize('NFKC') !== ch) t[c] = 1;
  }
  const inv = '\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u3164\ufeff\uffa0';
  for (const ch of inv) t[ch.charCodeAt(0)] = 1;
  for (let c = 0x2060; c <= 0x206f; c++) t[c] = 1;
  for (let c = 0xfe00; c <= 0xfe0f; c++) t[c] = 1;
  // High surrogates of mathematical alphanumerics (U+1D400…) and tag characters (U+E0000…, "ASCII
  // smuggling"). Not U+D83C/D83D: emoji share them.
  for (const c of [0xd835, 0xdb40]) t[c] = 1;
  // Latin-1 compatibility characters (NBSP, µ, ², ½…) are everywhere in prose and in binary bodies
  // read as latin-1; none can hide a token (they are not letters of one), so they are not markers.
  t.fill(0, 0, 0x100);
  // CJK fullwidth punctuation and halfwidth forms: every Chinese/Japanese sentence has them. The
  // fullwidth letters, digits, '-' and '_' stay markers.
  t.fill(0, 0xff01, 0xff0d);
  t.fill(0, 0xff0e, 0xff10);
  t.fill(0, 0xff1a, 0xff21);
  t.fill(0, 0xff3b, 0xff3f);
  t[0xff40] = 0;
  t.fill(0, 0xff5b, 0x10000);
  // The typographic spaces separate words, they do not hide them.
  for (let c = 0x2000; c <= 0x200a; c++) t[c] = 0;
  t[0x202f] = 0;
  t[0x205f] = 0;
  t[0x3000] = 0;
  // Typographic punctuation common in prose (… ™ ′) also changes under NFKC but cannot hide a token.
  t[0x2026] = 0;
  t[0x2122] = 0;
  t[0x2032] = 0;
  t[0x2033] = 0;
  foldTable = t;
  return t;
}

/** Compatibility folding: tag characters → ASCII (other tags dropped), invisibles removed, NFKC. */
export function fold(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xdb40 && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdc7f) {
        if (lo >= 0xdc20 && lo <= 0xdc7e) out += String.fromCharCode(lo - 0xdc00);
        i++;
        continue;
      }
    }
    if (INVISIBLE[c] === 1) continue;
    out += s[i];
  }
  return out.normalize('NFKC');
}

/** Fold views around the marked positions (clusters with gaps ≤ 32, widened to token characters). */
export function foldViews(text: string, positions: readonly number[], lim: ViewLimits, out: View[]): void {
  if (positions.length === 0) return;
  const regions: [number, number][] = [];
  let cs = positions[0]!;
  let ce = cs + 1;
  for (let k = 1; k <= positions.length; k++) {
    const p = k < positions.length ? positions[k]! : -1;
    if (p >= 0 && p - ce <= 32) {
      ce = p + 1;
      continue;
    }
    regions.push(extendRegion(text, cs, Math.min(text.length, ce + 1)));
    if (regions.length > MAX_CLUSTERS) {
      regions.length = 0;
      regions.push([0, text.length]);
      break;
    }
    cs = p;
    ce = p + 1;
  }
  for (const [s, e] of mergeRegions(regions)) {
    const region = text.slice(s, e);
    const v = fold(region);
    if (v !== region) push(out, lim, { text: v, kind: 'fold', start: s, end: e });
  }
}

/**
 * Compressed streams inside a binary (latin-1) text: gzip anywhere (also with no Content-Encoding),
 * zip members, zlib at the start. At most 16 streams per text.
 */
export function embeddedViews(text: string, lim: ViewLimits, out: View[]): void {
  let found = 0;
  for (let p = text.indexOf('\x1f\x8b\x08'); p >= 0 && found < 16 && lim.budget > 0; p = text.indexOf('\x1f\x8b\x08', p + 3)) {
    found++;
    interpretBytes(Buffer.from(text.slice(p), 'latin1'), '', p, text.length, lim, out, 0, true);
  }
  const zip = text.indexOf('PK\x03\x04');
  if (zip >= 0 && lim.budget > 0) interpretBytes(Buffer.from(text.slice(zip), 'latin1'), '', zip, text.length, lim, out, 0, true);
  if (text.length >= 2 && isZlibHeader(text.charCodeAt(0), text.charCodeAt(1)) && lim.budget > 0) {
    interpretBytes(Buffer.from(text, 'latin1'), '', 0, text.length, lim, out, 0, true);
  }
}

/** The base64 alphabet value of a character code (tests). */
export function base64Value(c: number): number {
  return c < 128 ? B64[c]! : -1;
}

// ---------- de-delimited view (docs/decisions/dlp-v2-views-and-validators.md) ----------

// Character types at the end of a token-character run (the scanner's runs: A-Z a-z 0-9 + / = _ -).
const D_OTHER = 0;
const D_GROUP = 1;
const D_SINGLE = 2; // . , : space
const D_LF = 3;
const D_CR = 4;
const D_BSL = 5; // backslash
const D_QUOTE = 6; // " ' `
const DTYPE = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') DTYPE[ch.charCodeAt(0)] = D_GROUP;
for (const ch of '.,: ') DTYPE[ch.charCodeAt(0)] = D_SINGLE;
DTYPE[10] = D_LF;
DTYPE[13] = D_CR;
DTYPE[92] = D_BSL;
for (const ch of '"\'`') DTYPE[ch.charCodeAt(0)] = D_QUOTE;

// Delimiter kinds: a single character is its own code (46 . 44 , 58 : 32 space, 45 - inside runs); the others:
const K_NL = 1000; // line break: LF, CRLF, JSON \n, \r\n
const K_CONT = 1001; // line continuation: backslash + line break (raw or JSON-escaped)
const K_QL = 1002; // quote-list: "a","b" / 'a' + 'b' / \"a\", \"b\" (+ the quote's code, + 256 escaped)
/** Joined text shorter than this is not a view (the shortest token rules need ~20). */
const MIN_JOINED = 16;
/** Groups between single-character delimiters: 1–8 characters, all of one length (the last may be shorter). */
const MAX_SHORT_GROUP = 8;
/**
 * Line-wrapped pieces: widths 4–64, all of one width. Blocks wrapped at 16+ columns are joined
 * only up to MAX_WIDE_WRAP characters (a wrapped token; longer blocks are base64 data, which
 * runViews joins and decodes).
 */
const MIN_WRAP = 4;
const MAX_WRAP = 64;
const NARROW_WRAP = 15;
const MAX_WIDE_WRAP = 1024;
/** Pieces of continuations and quote-lists (string concatenation, arrays of chunks): any lengths up to this. */
const MAX_PIECE = 128;
/**
 * `. , :` and space delimit groups only in texts up to this size (headers, path, query, small
 * bodies; the short-piece limit): in prose every word ends at a space, and looking at each costs
 * ~20 ns a word. Line breaks, quotes and backslashes are looked at in every text, `-` in every run.
 */
export const SINGLE_DELIMITER_MAX_TEXT = 1024;
/** Scanner LUT bits of the characters that end a run worth a look (line break/quote/backslash; `. , :` space). */
export const RUN_END_LINE = 1 << 23;
export const RUN_END_SINGLE = 1 << 24;

/** Whitespace inside a quote-list delimiter (also JSON's \n \t \r): its length at j, or 0. */
function wsAt(text: string, j: number): number {
  const c = text.charCodeAt(j);
  if (c === 32 || c === 9 || c === 10 || c === 13) return 1;
  if (c === 92) {
    const d = text.charCodeAt(j + 1);
    if (d === 110 || d === 116 || d === 114) return 2;
  }
  return 0;
}

/** Quote-list delimiter at i (`","`, `', '`, `" + "`, `\",\"`, whitespace ≤ 16 each side): kind * 64 + length, or 0. */
function quoteListAt(text: string, i: number): number {
  let j = i;
  let q = text.charCodeAt(j);
  let esc = 0;
  if (q === 92) {
    q = text.charCodeAt(j + 1);
    if (q !== 34 && q !== 39) return 0;
    esc = 256;
    j += 2;
  } else j++;
  for (let k = 0, w = wsAt(text, j); k < 16 && w > 0; k++, w = wsAt(text, j)) j += w;
  const sep = text.charCodeAt(j);
  if (sep !== 44 && sep !== 43) return 0;
  j++;
  for (let k = 0, w = wsAt(text, j); k < 16 && w > 0; k++, w = wsAt(text, j)) j += w;
  if (esc) {
    if (text.charCodeAt(j) !== 92 || text.charCodeAt(j + 1) !== q) return 0;
    j += 2;
  } else {
    if (text.charCodeAt(j) !== q) return 0;
    j++;
  }
  return j - i < 64 ? (K_QL + q + esc) * 64 + (j - i) : 0;
}

/** Delimiter at i (the character ending a run): kind * 64 + length, or 0. */
function delimAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  switch (c < 128 ? DTYPE[c]! : D_OTHER) {
    case D_SINGLE:
      return c * 64 + 1;
    case D_LF:
      return K_NL * 64 + 1;
    case D_CR:
      return text.charCodeAt(i + 1) === 10 ? K_NL * 64 + 2 : 0;
    case D_BSL: {
      const d = text.charCodeAt(i + 1);
      if (d === 110) return K_NL * 64 + 2;
      if (d === 114 && text.charCodeAt(i + 2) === 92 && text.charCodeAt(i + 3) === 110) return K_NL * 64 + 4;
      if (d === 10) return K_CONT * 64 + 2;
      if (d === 13 && text.charCodeAt(i + 2) === 10) return K_CONT * 64 + 3;
      if (d === 92 && text.charCodeAt(i + 2) === 92 && text.charCodeAt(i + 3) === 110) return K_CONT * 64 + 4;
      return d === 34 || d === 39 ? quoteListAt(text, i) : 0;
    }
    case D_QUOTE:
      return quoteListAt(text, i);
    default:
      return 0;
  }
}

/** Uniform kinds: every group has the run's first length, the last may be shorter. */
const uniformKind = (kind: number): boolean => kind <= K_NL;
const maxGroup = (kind: number): number => (kind < K_NL ? MAX_SHORT_GROUP : kind === K_NL ? MAX_WRAP : MAX_PIECE);
const minGroup = (kind: number): number => (kind === K_NL ? MIN_WRAP : 1);
const minGroups = (kind: number): number => (kind < K_NL ? 3 : 2);

/**
 * Runs of groups separated by one repeated delimiter: `.` `,` `:` space (groups of 1–8 of one
 * length; texts ≤ SINGLE_DELIMITER_MAX_TEXT), line breaks (wraps of 4–64 columns), line
 * continuations and quote-lists (`["gh","p_…"]`, `"ab" + "cd"`; pieces ≤ 128). The scanner's
 * fused loop records the token-character runs that end at a selected character (`ends`); after
 * the loop they are replayed, and a run that begins is read forward from the text (each character
 * once). Qualifying regions (kind, start, end) go to delimitedViews.
 */
export class DelimitedRuns {
  readonly regions: number[] = [];
  /**
   * Run ends the scanner's loop selected (end, length pairs), replayed after the loop: the loop
   * only appends (no call there: a call site in the hot loop cost ~10% even when rarely taken).
   */
  readonly ends = new Int32Array(2 * 16384);
  /** Entries of `ends` in use (set by the scanner after its loop). */
  count = 0;
  // Replay state carried across flushes of a full `ends` (the runs before the next one).
  private gLen = 0;
  private gEnd = -8;
  private gLen2 = 0;
  private gEnd2 = -16;
  private next = -1;
  private kind = 0;
  private len = 0;
  private start = 0;
  private end = 0;
  private groups = 0;
  private joined = 0;
  private fedEnd = -1;
  /** Text before this was read by `drive` (candidates there are done). */
  private drivenTo = -1;

  /**
   * Before a text: the run-ending characters to select (the scanner's LUT bits): line breaks,
   * quotes and backslashes always; `. , :` and space in texts up to SINGLE_DELIMITER_MAX_TEXT.
   */
  reset(textLength: number): number {
    if (this.regions.length > 0) this.regions.length = 0;
    this.count = 0;
    this.gLen = 0;
    this.gEnd = -8;
    this.gLen2 = 0;
    this.gEnd2 = -16;
    this.kind = 0;
    this.next = -1;
    this.fedEnd = -1;
    this.drivenTo = -1;
    return textLength <= SINGLE_DELIMITER_MAX_TEXT ? RUN_END_LINE | RUN_END_SINGLE : RUN_END_LINE;
  }

  /**
   * After the loop (`tail`: a run still open at the end of the text): each selected run end is a
   * group worth a look when it has the length of the two before it (of the one before it at a
   * line break) or ends at a quote or backslash (string pieces, escapes, continuations). A run
   * that begins is read forward from the text itself (`drive`) until it ends.
   */
  replay(text: string, tail: number): void {
    this.replayEnds(text, this.count);
    this.count = 0;
    if (tail > 0) {
      this.ends[0] = text.length;
      this.ends[1] = tail;
      this.replayEnds(text, 2);
    }
  }

  /** `ends` is full mid-loop: replay it now; the loop starts filling it again from 0. */
  flush(text: string, count: number): number {
    this.replayEnds(text, count);
    return 0;
  }

  private replayEnds(text: string, count: number): void {
    const ends = this.ends;
    let gLen = this.gLen;
    let gEnd = this.gEnd;
    let gLen2 = this.gLen2;
    let gEnd2 = this.gEnd2;
    for (let k = 0; k < count; k += 2) {
      const i = ends[k]!;
      const g = ends[k + 1]!;
      if (i > this.drivenTo) {
        const gs = i - g;
        if ((g === gLen && gs - gEnd <= 4 && (gLen === gLen2 || endsLine(text, i))) || pieceEnd(text, i)) {
          this.group(text, i, g, gLen, gEnd, gLen2, gEnd2);
          this.drive(text);
        }
      }
      gLen2 = gLen;
      gEnd2 = gEnd;
      gLen = g;
      gEnd = i;
    }
    this.gLen = gLen;
    this.gEnd = gEnd;
    this.gLen2 = gLen2;
    this.gEnd2 = gEnd2;
  }

  /** Read the open run's next groups from the text until it closes (each character once). */
  private drive(text: string): void {
    const n = text.length;
    while (this.kind !== 0) {
      const gs = groupStart(text, this.next);
      let k = gs;
      while (k < n && k - gs <= MAX_PIECE) {
        const c = text.charCodeAt(k);
        if (!(c < 128 && DTYPE[c] === D_GROUP)) break;
        k++;
      }
      if (k - gs > MAX_PIECE || k === gs) {
        this.close();
        break;
      }
      this.feed(text, gs, k, false);
      this.fedEnd = k;
      if (k > this.drivenTo) this.drivenTo = k;
    }
  }

  /**
   * The run [i - g, i) ended at i (i = text.length at the end); the runs before it begin a uniform
   * run when their lengths match (fed first, unless fed already and a run is open).
   */
  private group(text: string, i: number, g: number, pLen: number, pEnd: number, p2Len: number, p2End: number): void {
    const gs = groupStart(text, i - g);
    // Only a uniform delimiter here can continue a uniform run begun by the runs before.
    if (pLen > 0 && pEnd < gs && (pEnd !== this.fedEnd || this.kind === 0) && (i >= text.length || uniformKind(delimAt(text, i) >>> 6))) {
      const ps = groupStart(text, pEnd - pLen);
      if (pEnd - ps === i - gs) {
        if (p2Len > 0 && p2End < ps && (p2End !== this.fedEnd || this.kind === 0)) {
          const p2s = groupStart(text, p2End - p2Len);
          if (p2End - p2s === pEnd - ps) this.feed(text, p2s, p2End, true);
        }
        this.feed(text, ps, pEnd, true);
      }
    }
    this.feed(text, gs, i, false);
    this.fedEnd = i;
    if (i > this.drivenTo) this.drivenTo = i;
  }

  /** One group; `uniformStart`: it may begin a uniform run (else only continuations and quote-lists do). */
  private feed(text: string, gs: number, i: number, uniformStart: boolean): void {
    if (this.kind !== 0 && gs < this.next) {
      if (i <= this.next) return; // inside the previous delimiter
      gs = this.next;
    }
    const g = i - gs;
    if (g <= 0) return;
    const d = i < text.length ? delimAt(text, i) : 0;
    const K = d >>> 6;
    if (this.kind !== 0) {
      const uniform = uniformKind(this.kind);
      if (gs === this.next) {
        // `key=AKIA ABCD …`, `/v1/AKIA ABCD …`: the first group starts after the `=` or `/`.
        if (this.groups === 1 && uniform && K === this.kind && g < this.len) {
          const c = text.charCodeAt(this.end - g - 1);
          if (c === 61 || c === 47) {
            this.start = this.end - g;
            this.len = g;
            this.joined = g;
          }
        }
        if (K === this.kind && (uniform ? g === this.len : g <= MAX_PIECE)) {
          this.groups++;
          this.joined += g;
          this.end = i;
          this.next = i + (d & 63);
          return;
        }
        // A quote-list's last piece, unless it is a JSON key (`…","max_tokens":` is structure).
        if (g <= (uniform ? this.len : MAX_PIECE) && !(this.kind > K_CONT && jsonKeyEnd(text, i))) {
          this.groups++;
          this.joined += g;
          this.end = i;
        }
      }
      this.close();
    }
    if (d !== 0 && g >= minGroup(K) && g <= maxGroup(K) && (uniformStart || !uniformKind(K))) {
      this.kind = K;
      this.len = g;
      this.start = gs;
      this.end = i;
      this.next = i + (d & 63);
      this.groups = 1;
      this.joined = g;
      if (K < K_NL) this.extendBack(text);
    }
  }

  /**
   * Up to two more groups before a single-character run's first one (the scanner's loop looks at
   * a run only from its third group on): same delimiter, same length, starting after a non-group
   * character or after `=` / `/` (`v=AKIA ABCD …`).
   */
  private extendBack(text: string): void {
    for (let k = 0; k < 2; k++) {
      const a = this.start - 1;
      const b = a - this.len;
      if (b < 0 || text.charCodeAt(a) !== this.kind) return;
      for (let j = b; j < a; j++) {
        const c = text.charCodeAt(j);
        if (!(c < 128 && DTYPE[c] === D_GROUP)) return;
      }
      if (b > 0) {
        const c = text.charCodeAt(b - 1);
        if (c < 128 && DTYPE[c] === D_GROUP && c !== 61 && c !== 47) return;
      }
      this.start = b;
      this.groups++;
      this.joined += this.len;
    }
  }

  private close(): void {
    const k = this.kind;
    this.kind = 0;
    this.next = -1;
    if (this.joined < MIN_JOINED || this.groups < minGroups(k)) return;
    if (k === K_NL && this.len > NARROW_WRAP && this.joined > MAX_WIDE_WRAP) return;
    if (this.regions.length < 3 * 65536) this.regions.push(k, this.start, this.end);
  }
}

const endsLine = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  return c === 10 || c === 13;
};
/**
 * A run ending here may be a string piece or a wrapped/continued line: a quote followed by `,` `+`
 * or whitespace (`"ab", "cd"`, `"ab" + "cd"`), or a backslash starting a line break (raw or
 * JSON-escaped) or an escaped quote.
 */
const pieceEnd = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  const d = text.charCodeAt(i + 1);
  if (c === 92) return d === 110 || d === 114 || d === 10 || d === 13 || d === 92 || d === 34 || d === 39;
  if (c === 34 || c === 39 || c === 96) return d === 44 || d === 43 || d === 32 || d === 9 || d === 10 || d === 13 || d === 92;
  return false;
};

/** A string ending at i (quote, or backslash + quote) is followed by `:` (a JSON object key). */
function jsonKeyEnd(text: string, i: number): boolean {
  let j = text.charCodeAt(i) === 92 ? i + 2 : i + 1;
  while (text.charCodeAt(j) === 32) j++;
  return text.charCodeAt(j) === 58;
}

/** Start of a group: the letter of a JSON escape (\n \r \t) before it is not part of it. */
function groupStart(text: string, gs: number): number {
  if (gs > 0 && text.charCodeAt(gs - 1) === 92) {
    const e = text.charCodeAt(gs);
    if (e === 110 || e === 114 || e === 116) return gs + 1;
  }
  return gs;
}

/**
 * `-`-delimited groups inside one token-character run (`ghp_-abcd-efgh-…`): 3+ groups of 1–8 of
 * one length (the last may be shorter), joined ≥ 16. Appended to `regions` like DelimitedRuns'.
 */
export function dashedRegions(text: string, runs: readonly number[], regions: number[]): void {
  // The next '-' at or after the current run (found with indexOf; runs are in order: linear overall).
  let dash = -1;
  for (let k = 0; k < runs.length; k += 2) {
    const s = runs[k]!;
    const e = runs[k + 1]!;
    if (dash < s) {
      dash = text.indexOf('-', s);
      if (dash < 0) return;
    }
    if (dash >= e) continue;
    let rs = s;
    let len = -1;
    let groups = 0;
    let joined = 0;
    let gs = s;
    for (let i = dash; ; ) {
      const at = i < e ? i : e;
      const g = at - gs;
      if (len < 0 && g >= 1 && g <= MAX_SHORT_GROUP && at < e) {
        rs = gs;
        len = g;
        groups = 1;
        joined = g;
      } else if (len > 0 && g === len && at < e) {
        groups++;
        joined += g;
      } else {
        let end = gs - 1;
        if (len > 0 && g >= 1 && g <= len) {
          groups++;
          joined += g;
          end = at;
        }
        if (len > 0 && groups >= 3 && joined >= MIN_JOINED) regions.push(45, rs, end);
        len = g >= 1 && g <= MAX_SHORT_GROUP && at < e ? g : -1;
        rs = gs;
        groups = len > 0 ? 1 : 0;
        joined = len > 0 ? g : 0;
      }
      if (at >= e) break;
      gs = at + 1;
      i = text.indexOf('-', gs);
      if (i < 0) i = e;
      dash = i;
    }
  }
}

/**
 * The joined text of each region (kind, start, end) in `regions`: the groups without their
 * delimiters, when it mixes two of lower/upper/digit and holds no `=` but trailing padding
 * (`KEY=v` lines are assignments, not pieces).
 */
export function delimitedViews(text: string, regions: readonly number[], lim: ViewLimits, out: View[]): void {
  for (let r = 0; r < regions.length && lim.budget > 0; r += 3) {
    const kind = regions[r]!;
    const s = regions[r + 1]!;
    const e = regions[r + 2]!;
    let joined = '';
    let f = 0;
    let eq = false;
    for (let i = s; i < e && !eq; ) {
      const c = text.charCodeAt(i);
      if (!(c < 128 && DTYPE[c] === D_GROUP) || (kind === 45 && c === 45)) {
        const dl = kind === 45 ? 1 : delimAt(text, i) & 63;
        i += dl > 0 ? dl : 1;
        continue;
      }
      // The letter of a JSON escape ending a line-break or continuation delimiter.
      if (kind >= K_NL && i > s && text.charCodeAt(i - 1) === 92 && (c === 110 || c === 114 || c === 116)) {
        i++;
        continue;
      }
      const a = i;
      while (i < e) {
        const d = text.charCodeAt(i);
        if (!(d < 128 && DTYPE[d] === D_GROUP) || (kind === 45 && d === 45)) break;
        if (d >= 97 && d <= 122) f |= 1;
        else if (d >= 65 && d <= 90) f |= 2;
        else if (d >= 48 && d <= 57) f |= 4;
        else if (d === 61 && i + 1 < e && text.charCodeAt(i + 1) !== 61) eq = true;
        i++;
      }
      joined += text.slice(a, i);
    }
    if (eq || f === 1 || f === 2 || f === 4 || joined.length < MIN_JOINED) continue;
    push(out, lim, { text: joined, kind: 'delim', start: s, end: e });
  }
}
