import { Buffer } from 'node:buffer';
import type { Surface } from './types.js';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

/**
 * Body decoding for scanning (docs/decisions/dlp-derived-views.md). Pure: synchronous zlib only, no
 * I/O. A body that cannot be decoded within the caps is a typed result, never an exception: egress
 * maps every `ok: false` to 403 `unscannable_encoding` (nothing unscanned is ever forwarded).
 */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;
export const MAX_DECODE_RATIO = 100;

/** IANA HTTP content codings we cannot scan: the only values echoed in messages. */
const KNOWN_CODINGS = new Set(['compress', 'x-compress', 'zstd', 'exi', 'pack200-gzip', 'aes128gcm', 'dcb', 'dcz']);

export type DecodeFailure =
  /** A Content-Encoding other than gzip, x-gzip, deflate, br, identity. */
  | 'unsupported_encoding'
  /** Decoded output above the byte cap or the ratio cap (decompression bomb). */
  | 'too_large'
  /** The bytes are not valid for the declared encoding. */
  | 'corrupt';

export type DecodeResult =
  | { readonly ok: true; readonly bytes: Buffer; readonly encodings: readonly string[] }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly encoding: string; readonly message: string };

export interface DecodeLimits {
  readonly maxBytes?: number;
  readonly maxRatio?: number;
}

/**
 * Undo `Content-Encoding` (a comma list, applied in order, so undone from the last). Caps apply to
 * every step's output: ≤ maxBytes and ≤ maxRatio × the original body size.
 */
export function decodeBody(body: Uint8Array, contentEncoding: string | undefined, limits: DecodeLimits = {}): DecodeResult {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  const maxBytes = limits.maxBytes ?? MAX_DECODED_BYTES;
  const maxRatio = limits.maxRatio ?? MAX_DECODE_RATIO;
  const cap = Math.min(maxBytes, Math.max(0, Math.floor(body.length * maxRatio)));
  let buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (const coding of [...codings].reverse()) {
    if (!['gzip', 'x-gzip', 'deflate', 'br'].includes(coding)) {
      // The header value is agent-controlled: echo it only when it is a registered coding name.
      const shown = KNOWN_CODINGS.has(coding) ? coding : 'unrecognised';
      return {
        ok: false,
        reason: 'unsupported_encoding',
        encoding: shown,
        message: `Content-Encoding "${shown}" cannot be scanned; send the body as gzip, deflate, br or identity`,
      };
    }
    if (buf.length === 0) continue;
    const opts = { maxOutputLength: Math.max(1, cap) };
    try {
      if (coding === 'br') buf = brotliDecompressSync(buf, opts);
      else if (coding === 'deflate') {
        // RFC 9110 deflate is zlib-wrapped; some clients send raw deflate, accept both.
        try {
          buf = inflateSync(buf, opts);
        } catch (e) {
          if (isTooLarge(e)) throw e;
          buf = inflateRawSync(buf, opts);
        }
      } else buf = gunzipSync(buf, opts);
    } catch (e) {
      if (isTooLarge(e)) {
        return {
          ok: false,
          reason: 'too_large',
          encoding: coding,
          message: `${coding} body decodes to more than ${cap} bytes (cap ${maxBytes} bytes, ${maxRatio}x the compressed size)`,
        };
      }
      return { ok: false, reason: 'corrupt', encoding: coding, message: `body is not valid ${coding} data` };
    }
    if (buf.length > cap) {
      return {
        ok: false,
        reason: 'too_large',
        encoding: coding,
        message: `${coding} body decodes to more than ${cap} bytes (cap ${maxBytes} bytes, ${maxRatio}x the compressed size)`,
      };
    }
  }
  return { ok: true, bytes: buf, encodings: codings };
}

function isTooLarge(e: unknown): boolean {
  return (
    e instanceof RangeError ||
    (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
  );
}

export type TextEncodingName = 'utf8' | 'latin1';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as text: UTF-8 when valid, else latin-1 (one char per byte, so offsets are byte offsets and
 * binary bodies still expose ASCII tokens). Re-encode a redacted text with `encodeText(…, encoding)`.
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncodingName } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}

export function encodeText(text: string, encoding: TextEncodingName): Buffer {
  return Buffer.from(text, encoding);
}

const HEXV = (c: number): number =>
  c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;

/**
 * JSON string escapes resolved (`\uXXXX`, `\/`, `\"`, `\\`, `\n`…), everything else verbatim.
 * Works on any text (no parse): a broken document still gets its escapes resolved.
 */
export function jsonUnescape(text: string): string {
  if (text.indexOf('\\') < 0) return text;
  let out = '';
  let pos = 0;
  for (let i = text.indexOf('\\'); i >= 0 && i < text.length - 1; i = text.indexOf('\\', i)) {
    const c = text[i + 1]!;
    let rep: string | undefined;
    let len = 2;
    if (c === 'u' && i + 5 < text.length) {
      const a = HEXV(text.charCodeAt(i + 2));
      const b = HEXV(text.charCodeAt(i + 3));
      const d = HEXV(text.charCodeAt(i + 4));
      const e = HEXV(text.charCodeAt(i + 5));
      if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
        rep = String.fromCharCode((a << 12) | (b << 8) | (d << 4) | e);
        len = 6;
      }
    } else {
      rep = ({ '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c];
    }
    if (rep === undefined) {
      i += 1;
      continue;
    }
    out += text.slice(pos, i) + rep;
    i += len;
    pos = i;
  }
  return out + text.slice(pos);
}

/**
 * `%XX` decoded (as UTF-8 where the bytes form it, else byte-per-char), optionally `+` as space.
 * Never throws on malformed escapes: they stay verbatim.
 */
export function percentDecode(text: string, plusAsSpace = false): string {
  const s = plusAsSpace ? text.replace(/\+/g, ' ') : text;
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1');
      }
    });
  }
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The body surfaces: the raw text (rewritable) and, for form bodies (or untyped bodies
 * with `%XX`), the URL-decoded view (`+` as space). JSON `\uXXXX` escapes need no whole-body view
 * any more: the scanner decodes every escape cluster of every surface itself (decode-then-rescan,
 * docs/decisions/dlp-v2-views-and-validators.md), whatever the declared type, at a fraction of the
 * cost of re-scanning the whole body. Derived views are never rewritten.
 */
export function bodySurfaces(text: string, contentType?: string, name = 'body'): Surface[] {
  const out: Surface[] = [{ name, text }];
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded' || (type === '' && /%[0-9A-Fa-f]{2}/.test(text))) {
    const view = percentDecode(text, true);
    if (view !== text) out.push({ name, text: view, derived: true });
  }
  return out;
}

export interface RequestParts {
  readonly host: string;
  /** The path without the query, as sent. */
  readonly path: string;
  /** The query without `?`, as sent ('' or undefined when absent). */
  readonly query?: string;
  /** Headers to scan (the caller leaves out what it strips or injects). */
  readonly headers?: Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The decoded body text (see `decodeBody`/`decodeText`). */
  readonly body?: string;
  readonly contentType?: string;
}

/**
 * All surfaces of one request in order: `host`, `path` (+ percent-decoded view), `query`
 * (+ decoded view, `+` as space), `header:<name>` (lowercased) and the body surfaces.
 */
export function requestSurfaces(req: RequestParts): Surface[] {
  const out: Surface[] = [{ name: 'host', text: req.host }];
  out.push({ name: 'path', text: req.path });
  const path = percentDecode(req.path);
  if (path !== req.path) out.push({ name: 'path', text: path, derived: true });
  if (req.query) {
    out.push({ name: 'query', text: req.query });
    const q = percentDecode(req.query, true);
    if (q !== req.query) out.push({ name: 'query', text: q, derived: true });
  }
  if (req.headers) {
    const entries: [string, string][] = [];
    if (Symbol.iterator in req.headers) {
      for (const [k, v] of req.headers as Iterable<readonly [string, string]>) entries.push([k, v]);
    } else {
      for (const [k, v] of Object.entries(req.headers as Record<string, string | readonly string[] | undefined>)) {
        if (v === undefined) continue;
        for (const one of typeof v === 'string' ? [v] : v) entries.push([k, one]);
      }
    }
    for (const [k, v] of entries) out.push({ name: `header:${k.toLowerCase()}`, text: v });
  }
  if (req.body !== undefined && req.body.length > 0) out.push(...bodySurfaces(req.body, req.contentType));
  return out;
}
