/**
 * One request-normalisation pass (docs/decisions/egress-normalisation.md), shared by the plain
 * (absolute-form), CONNECT-inner and WebSocket-upgrade relays. It refuses what two HTTP parsers
 * could read differently (repeated framing/identity headers, repeated security parameters,
 * double-encoded or dot-segment paths) and rewrites the rest into one canonical form, so the route
 * matcher, the git-push check, DLP and the upstream all see the same request.
 * Pure: data in, `{ ok, req } | { ok: false, code }` out; never throws.
 */
import type { DenyCode } from './deny.js';
import { parseAuthority } from './host.js';

export type NormalizeDenyCode = Extract<DenyCode, 'bad_request' | 'bad_path' | 'host_mismatch'>;

/** Why a request was refused; stable, value-free (for tests, audit `detail` and logs). */
export type NormalizeReason =
  | 'bad_method' | 'bad_target' | 'bad_header' | 'duplicate_header' | 'missing_host' | 'host_mismatch'
  | 'bad_content_length' | 'bad_transfer_encoding' | 'conflicting_framing' | 'body_not_allowed'
  | 'connection_names_critical' | 'method_override' | 'path_override' | 'bad_websocket'
  | 'duplicate_query_param' | 'bad_percent' | 'double_encoding' | 'encoded_separator' | 'backslash'
  | 'dot_segment' | 'path_parameter' | 'control_char' | 'invalid_utf8' | 'unicode_lookalike';

export interface NormalizeInput {
  readonly method: string;
  /** The decided target (CONNECT authority or absolute-form URL), host already normalised (host.ts). */
  readonly target: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number };
  /** The request-target as Node gives it (`req.url`): latin-1, one char per wire byte. */
  readonly rawTarget: string;
  /** Node's `req.rawHeaders`: [name, value, name, value, …] in wire order. */
  readonly rawHeaders: readonly string[];
  /** True inside a CONNECT tunnel (absolute-form must then be `https://`), false for plain `http://`. */
  readonly isConnectInner: boolean;
}

export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  /** Body length unknown: the relay must send explicit framing upstream (see upstreamFramingHeaders). */
  | { readonly kind: 'chunked' };

export type GitService = 'upload-pack' | 'receive-pack';

export interface NormalizedRequest {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Canonical path: `//` collapsed, unreserved escapes decoded, other escapes upper-case, no query. */
  readonly path: string;
  /** `path` percent-decoded once (Unicode; `%2F` becomes `/`), for DLP and logs. */
  readonly decodedPath: string;
  /**
   * Every form of the path the route must allow: `[path]`, plus `path` with `%2F` decoded when it
   * holds an encoded slash (an upstream may split there; docs/decisions/egress-normalisation.md).
   */
  readonly matchPaths: readonly string[];
  /** Canonical query string without `?` ('' when none): what R4/R5 and DoH checks read. */
  readonly queryString: string;
  /** Query parameters in order, each name and value percent-decoded once (`+` as space). */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Exactly what goes on the upstream request line: `path` + (`?` + `queryString`). */
  readonly pathForUpstream: string;
  /**
   * Header pairs [name, value, …] for upstream: `Host` rebuilt from the target (first), hop-by-hop
   * headers and the framing headers (Content-Length, Transfer-Encoding) removed; for a WebSocket
   * upgrade `Upgrade: websocket` and `Connection: Upgrade` are kept. Credentials are still in here:
   * R6 (inject.ts filterRequestHeaders) runs on this list.
   */
  readonly headers: readonly string[];
  /** Lower-case name → value (repeats joined by `, `; Cookie by `; `), from `headers`, for matching. */
  readonly headerMap: Readonly<Record<string, string>>;
  /** Lower-case names removed as hop-by-hop (for logs; the relay has nothing left to drop). */
  readonly hopByHop: readonly string[];
  readonly framing: Framing;
  /** Every content coding, lower-case, in order of application (identity included). */
  readonly contentEncoding: readonly string[];
  readonly contentType: string | null;
  /** `Upgrade: websocket` with `Connection: upgrade` on a GET. */
  readonly websocket: boolean;
  /** Smart-HTTP git service from any signal; `receive-pack` wins over `upload-pack`. */
  readonly gitService: GitService | null;
  readonly isGitPush: boolean;
}

export type NormalizeResult =
  | { readonly ok: true; readonly req: NormalizedRequest }
  | { readonly ok: false; readonly code: NormalizeDenyCode; readonly reason: NormalizeReason; readonly detail: string };

/** Query parameters whose repetition (in any spelling) is refused: servers disagree on which one wins. */
export const SECURITY_QUERY_PARAMS: readonly string[] = ['service', 'dns', '_method'];

/** Headers a request may carry once: two copies are a classic parser differential. */
export const SINGLETON_HEADERS: readonly string[] = ['host', 'content-length', 'transfer-encoding', 'content-encoding', 'content-type', 'upgrade'];

/** Always hop-by-hop (RFC 9110 §7.6.1), besides every `proxy-*` and whatever `Connection` names. */
export const HOP_BY_HOP_HEADERS: readonly string[] = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Headers that ask the upstream to use another method or path than the one we decided on. */
const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];
const PATH_OVERRIDE_HEADERS = ['x-original-url', 'x-rewrite-url'];
/** A `Connection` header naming one of these would make a compliant hop drop it: refused. */
const CONNECTION_CRITICAL = new Set(['host', 'content-length', 'transfer-encoding', 'content-type', 'content-encoding']);
/** Methods whose requests carry no body here: a body on them is how a second request gets smuggled. */
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'TRACE']);

const SINGLETONS = new Set(SINGLETON_HEADERS);
const HOP = new Set(HOP_BY_HOP_HEADERS);
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const METHOD_RE = /^[A-Z][A-Z_-]{0,31}$/;
/** Non-ASCII characters some servers fold into separators though NFKC does not. */
const EXTRA_LOOKALIKES = new Set([0x2215, 0x2044, 0x29f8, 0x2216, 0x29f5, 0x29f9]);
const LOOKALIKE_ASCII = /[/\\.;%?#]/;

type Fail = Extract<NormalizeResult, { ok: false }>;
const fail = (code: NormalizeDenyCode, reason: NormalizeReason, detail: string): Fail => ({ ok: false, code, reason, detail });
const isFail = (v: unknown): v is Fail => typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;

export function defaultPort(scheme: 'http' | 'https'): number {
  return scheme === 'https' ? 443 : 80;
}

/**
 * CONNECT port rule (docs/configuration.md#34-routes): a route without `port` allows 443 only; one
 * with a port allows exactly that port. A portless route also occupies :80, but only for
 * absolute-form `http://` (absolutePortAllowed).
 */
export function connectPortAllowed(routePort: number | null, port: number): boolean {
  return routePort === null ? port === 443 : port === routePort;
}

/** Absolute-form `http://` port rule: a route without `port` allows 80 only. */
export function absolutePortAllowed(routePort: number | null, port: number): boolean {
  return routePort === null ? port === 80 : port === routePort;
}

/**
 * The framing headers to send upstream. `bufferedLength` is the length of the body as it will be
 * sent when the relay holds all of it (after DLP/redaction), null when it streams: then a known
 * length is kept and an unknown one is always sent chunked, never unframed.
 */
export function upstreamFramingHeaders(framing: Framing, bufferedLength: number | null): Array<[string, string]> {
  if (bufferedLength !== null) return framing.kind === 'none' && bufferedLength === 0 ? [] : [['content-length', String(bufferedLength)]];
  switch (framing.kind) {
    case 'none':
      return [];
    case 'length':
      return [['content-length', String(framing.length)]];
    case 'chunked':
      return [['transfer-encoding', 'chunked']];
  }
}

export function normalizeRequest(input: NormalizeInput): NormalizeResult {
  try {
    return normalize(input);
  } catch {
    // Defensive: the daemon must never die on agent input. No known input reaches here.
    return fail('bad_request', 'bad_target', 'the request could not be normalised');
  }
}

function normalize(input: NormalizeInput): NormalizeResult {
  const { method, target } = input;
  if (!METHOD_RE.test(method) || method === 'CONNECT') return fail('bad_request', 'bad_method', 'method must be an upper-case token (and not CONNECT)');
  if (target.scheme !== (input.isConnectInner ? 'https' : 'http')) return fail('bad_request', 'bad_target', 'target scheme does not fit the proxy mode');

  // ---- headers: syntax, repeats, identity ----
  const raw = input.rawHeaders;
  if (raw.length % 2 !== 0) return fail('bad_request', 'bad_header', 'header list is not name/value pairs');
  const single = new Map<string, string>();
  const connectionTokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (!TOKEN_RE.test(name)) return fail('bad_request', 'bad_header', 'a header name is not a token');
    if (/[\r\n\0]/.test(value)) return fail('bad_request', 'bad_header', 'a header value holds CR, LF or NUL');
    const lower = name.toLowerCase();
    if (SINGLETONS.has(lower)) {
      if (single.has(lower)) return fail('bad_request', 'duplicate_header', `repeated ${lower} header`);
      single.set(lower, value);
    }
    if (lower === 'connection') {
      for (const t of value.split(',')) {
        const tok = t.trim().toLowerCase();
        if (tok === '') continue;
        if (CONNECTION_CRITICAL.has(tok)) return fail('bad_request', 'connection_names_critical', `Connection names ${tok}`);
        connectionTokens.add(tok);
      }
    }
    if (PATH_OVERRIDE_HEADERS.includes(lower)) return fail('bad_request', 'path_override', `${lower} header is refused`);
    if (METHOD_OVERRIDE_HEADERS.includes(lower) && value.trim().toUpperCase() !== method) {
      return fail('bad_request', 'method_override', `${lower} names another method`);
    }
  }

  const hostHeader = single.get('host');
  if (hostHeader === undefined || hostHeader.trim() === '') return fail('bad_request', 'missing_host', 'no Host header');
  if (!authorityNames(hostHeader.trim(), target.host, target.port)) return fail('host_mismatch', 'host_mismatch', 'Host does not name the target');

  // ---- framing ----
  const framing = framingOf(single.get('content-length'), single.get('transfer-encoding'));
  if (isFail(framing)) return framing;
  const hasBody = framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0);
  if (hasBody && NO_BODY_METHODS.has(method)) return fail('bad_request', 'body_not_allowed', `${method} with a body`);

  // ---- WebSocket ----
  const upgrade = single.get('upgrade')?.trim().toLowerCase();
  const websocket = upgrade === 'websocket' && connectionTokens.has('upgrade');
  if (websocket && method !== 'GET') return fail('bad_request', 'bad_websocket', 'WebSocket upgrade on a method other than GET');

  // ---- request-target ----
  const split = splitTarget(input);
  if (isFail(split)) return split;
  const p = canonicalPath(split.path);
  if (isFail(p)) return p;
  const q = split.query === null ? { canonical: '' } : canonicalQuery(split.query);
  if (isFail(q)) return q;
  const params = parseQuery(q.canonical);
  const sec = securityParams(q.canonical, method);
  if (isFail(sec)) return sec;

  // ---- rebuilt headers ----
  const hostValue = (target.host.includes(':') ? `[${target.host}]` : target.host) + (target.port === defaultPort(target.scheme) ? '' : `:${target.port}`);
  const headers: string[] = ['Host', hostValue];
  const dropped = new Set<string>();
  let connectionSent = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length') continue;
    if (websocket && lower === 'upgrade') {
      headers.push(name, 'websocket');
      continue;
    }
    if (websocket && lower === 'connection') {
      if (!connectionSent) headers.push('Connection', 'Upgrade');
      connectionSent = true;
      continue;
    }
    if (HOP.has(lower) || lower.startsWith('proxy-') || connectionTokens.has(lower)) {
      if (lower !== 'transfer-encoding') dropped.add(lower);
      continue;
    }
    headers.push(name, raw[i + 1]!);
  }
  const headerMap: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    const prev = headerMap[lower];
    headerMap[lower] = prev === undefined ? headers[i + 1]! : `${prev}${lower === 'cookie' ? '; ' : ', '}${headers[i + 1]!}`;
  }

  const contentType = single.get('content-type') ?? null;
  const contentEncoding = (single.get('content-encoding') ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  const gitService = detectGit(p.decoded, sec.services, [contentType ?? '', headerMap.accept ?? '']);

  return {
    ok: true,
    req: {
      method,
      scheme: target.scheme,
      host: target.host,
      port: target.port,
      path: p.path,
      decodedPath: p.decoded,
      matchPaths: p.encodedSlash ? [p.path, p.path.replace(/%2F/g, '/')] : [p.path],
      queryString: q.canonical,
      query: params,
      pathForUpstream: split.query === null ? p.path : `${p.path}?${q.canonical}`,
      headers,
      headerMap,
      hopByHop: [...dropped],
      framing,
      contentEncoding,
      contentType,
      websocket,
      gitService,
      isGitPush: gitService === 'receive-pack',
    },
  };
}

/** R2: `value` (Host or absolute-form authority) names host, with no port or the target's port. */
function authorityNames(value: string, host: string, port: number): boolean {
  const a = parseAuthority(value);
  return a !== null && a.host.host === host && (a.port === null || a.port === port);
}

function framingOf(cl: string | undefined, te: string | undefined): Framing | Fail {
  if (cl !== undefined && te !== undefined) return fail('bad_request', 'conflicting_framing', 'both Content-Length and Transfer-Encoding');
  if (te !== undefined) {
    // Only plain `chunked`: a coding list is read differently by different hops.
    if (te.trim().toLowerCase() !== 'chunked') return fail('bad_request', 'bad_transfer_encoding', 'Transfer-Encoding other than chunked');
    return { kind: 'chunked' };
  }
  if (cl !== undefined) {
    // Digits only: a list (even `5, 5`), a sign or hex is refused rather than reconciled.
    const v = cl.trim();
    if (!/^\d{1,15}$/.test(v)) return fail('bad_request', 'bad_content_length', 'Content-Length is not one decimal number');
    return { kind: 'length', length: Number(v) };
  }
  return { kind: 'none' };
}

/** Splits origin-form or absolute-form into raw path and raw query (null when no `?`). */
function splitTarget(input: NormalizeInput): { path: string; query: string | null } | Fail {
  const t = input.rawTarget;
  let rest: string;
  if (t.startsWith('/')) {
    rest = t;
  } else {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/s.exec(t);
    if (!m) return fail('bad_request', 'bad_target', 'request-target is neither origin-form nor absolute-form');
    if (m[1]!.toLowerCase() !== input.target.scheme) return fail('bad_request', 'bad_target', 'absolute-form scheme does not fit the proxy mode');
    if (m[2]!.includes('@')) return fail('bad_request', 'bad_target', 'userinfo in the request-target');
    if (!authorityNames(m[2]!, input.target.host, input.target.port)) return fail('host_mismatch', 'host_mismatch', 'absolute-form authority does not name the target');
    rest = m[3]!;
    if (rest === '' || rest.startsWith('?')) rest = `/${rest}`;
    else if (!rest.startsWith('/')) return fail('bad_request', 'bad_target', 'absolute-form path does not start with /');
  }
  if (rest.includes('#')) return fail('bad_request', 'bad_target', 'fragment in the request-target');
  const q = rest.indexOf('?');
  return q < 0 ? { path: rest, query: null } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

// ---------- percent-encoding ----------

const HEXD = '0123456789ABCDEF';
const hex2 = (b: number): string => `%${HEXD[b >> 4]!}${HEXD[b & 15]!}`;
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const hexVal = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);

function isUnreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}
/** Sub-delims `!$&'()*+,=` (`;` excluded: path parameters are refused), `:` and `@`. */
function isPathChar(c: number): boolean {
  return isUnreserved(c) || c === 33 || c === 36 || c === 38 || c === 39 || c === 40 || c === 41 || c === 42 || c === 43 || c === 44 || c === 61 || c === 58 || c === 64;
}
/** Query keeps sub-delims including `;`, plus `/` and `?`. */
function isQueryChar(c: number): boolean {
  return isPathChar(c) || c === 59 || c === 47 || c === 63;
}
const isControl = (cp: number): boolean => cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');
const encoder = new TextEncoder();

interface Canon {
  readonly out: string;
  readonly bytes: number[];
  readonly encodedSlash: boolean;
}

/**
 * One pass over a raw component: valid `%XX` decoded when unreserved (RFC 3986 §6.2.2.2), else
 * kept with upper-case hex; literal characters outside `keep` percent-encoded (latin-1 char = wire
 * byte). `bytes` is the component decoded once.
 */
function canonicalise(raw: string, keep: (c: number) => boolean, where: 'path' | 'query'): Canon | Fail {
  const code: NormalizeDenyCode = where === 'path' ? 'bad_path' : 'bad_request';
  let out = '';
  const bytes: number[] = [];
  let encodedSlash = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0xff) return fail('bad_request', 'bad_target', 'request-target holds characters that cannot come from the wire');
    if (c <= 0x20 || c === 0x7f) return fail(code, 'control_char', `raw control character or space in the ${where}`);
    if (c === 37) {
      const a = raw.charCodeAt(i + 1);
      const b = raw.charCodeAt(i + 2);
      if (!isHex(a) || !isHex(b)) return fail(code, 'bad_percent', `malformed percent-escape in the ${where}`);
      const v = hexVal(a) * 16 + hexVal(b);
      i += 2;
      bytes.push(v);
      if (v === 0x2f) encodedSlash = true;
      out += isUnreserved(v) ? String.fromCharCode(v) : hex2(v);
      continue;
    }
    bytes.push(c);
    out += keep(c) ? String.fromCharCode(c) : hex2(c);
  }
  return { out, bytes, encodedSlash };
}

function lookalike(cp: number): boolean {
  if (EXTRA_LOOKALIKES.has(cp)) return true;
  return LOOKALIKE_ASCII.test(String.fromCodePoint(cp).normalize('NFKC'));
}

/** A segment of only dots and spaces, with a dot: `.`, `..`, and the `.. ` some servers trim to `..`. */
const isDotSegment = (s: string): boolean => /^[. ]+$/.test(s) && s.includes('.');

interface PathResult {
  readonly path: string;
  readonly decoded: string;
  readonly encodedSlash: boolean;
}

/**
 * R3 on the decoded form (docs/decisions/egress-normalisation.md): raw `\` and `;` refused; `//`
 * runs collapsed; each segment decoded once and refused when it is a dot segment, holds `\` or `;`
 * (also encoded), a control character, invalid UTF-8 (overlong forms), a Unicode separator
 * lookalike, an escape that a second decode would act on, or an encoded slash making an empty or
 * dot part.
 */
/**
 * The string of all-ASCII bytes, null when one is ≥ 0x80. ASCII is valid UTF-8 that decodes to
 * itself, so this is what the fatal decoder would return, without its per-segment call.
 */
function asciiString(bytes: readonly number[]): string | null {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return null;
    s += String.fromCharCode(b);
  }
  return s;
}

function canonicalPath(raw: string): PathResult | Fail {
  if (raw.includes('\\')) return fail('bad_path', 'backslash', 'raw backslash in the path');
  if (raw.includes(';')) return fail('bad_path', 'path_parameter', '; path parameter in the path');
  const rawSegs = raw.slice(1).split('/');
  const trailing = rawSegs.length > 1 && rawSegs[rawSegs.length - 1] === '';
  const outSegs: string[] = [];
  const decSegs: string[] = [];
  let encodedSlash = false;
  for (const seg of rawSegs) {
    if (seg === '') continue; // `//` runs collapse: the upstream gets exactly the path we matched
    const c = canonicalise(seg, isPathChar, 'path');
    if (isFail(c)) return c;
    let dec = asciiString(c.bytes);
    if (dec === null) {
      try {
        dec = utf8.decode(Uint8Array.from(c.bytes));
      } catch {
        return fail('bad_path', 'invalid_utf8', 'path is not valid UTF-8 once decoded (overlong or truncated sequence)');
      }
    }
    for (const ch of dec) {
      const cp = ch.codePointAt(0)!;
      if (isControl(cp)) return fail('bad_path', 'control_char', 'encoded control character in the path');
      if (cp === 0x5c) return fail('bad_path', 'encoded_separator', 'encoded backslash in the path');
      if (cp === 0x3b) return fail('bad_path', 'path_parameter', 'encoded ; in the path');
      if (cp > 0x7f && lookalike(cp)) return fail('bad_path', 'unicode_lookalike', 'a Unicode character that folds to a separator or dot');
    }
    if (/%[0-9A-Fa-f]{2}/.test(dec)) return fail('bad_path', 'double_encoding', 'path is percent-encoded twice');
    const parts = dec.split('/');
    if (parts.length > 1 && parts.includes('')) return fail('bad_path', 'encoded_separator', 'encoded slash making an empty segment');
    if (parts.some(isDotSegment)) return fail('bad_path', 'dot_segment', 'dot segment in the path');
    if (c.encodedSlash) encodedSlash = true;
    outSegs.push(c.out);
    decSegs.push(dec);
  }
  const tail = trailing && outSegs.length > 0 ? '/' : '';
  return { path: `/${outSegs.join('/')}${tail}`, decoded: `/${decSegs.join('/')}${tail}`, encodedSlash };
}

function canonicalQuery(raw: string): { canonical: string } | Fail {
  const c = canonicalise(raw, isQueryChar, 'query');
  if (isFail(c)) return c;
  // NUL truncates the query in C-based servers (a dropped second `service=`): refused.
  if (c.bytes.includes(0)) return fail('bad_request', 'control_char', 'encoded NUL in the query');
  return { canonical: c.out };
}

/** Percent-decodes once, tolerating stray `%` (used on already-canonical strings). */
function decodeOnce(s: string, plusIsSpace: boolean): string {
  const t = plusIsSpace ? s.replace(/\+/g, ' ') : s;
  if (!t.includes('%')) return t;
  const bytes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 37 && isHex(t.charCodeAt(i + 1)) && isHex(t.charCodeAt(i + 2))) {
      bytes.push(hexVal(t.charCodeAt(i + 1)) * 16 + hexVal(t.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = t.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
    }
  }
  return utf8Lossy.decode(Uint8Array.from(bytes));
}

/** A parameter name as any server could read it: decoded until stable, NFKC, lower-case, trimmed. */
function paramKey(name: string): string {
  let s = name;
  for (let i = 0; i < 4; i++) {
    const d = decodeOnce(s, i === 0);
    if (d === s) break;
    s = d;
  }
  return s.normalize('NFKC').toLowerCase().trim();
}

function paramValue(value: string): string {
  let s = value;
  for (let i = 0; i < 4; i++) {
    const d = decodeOnce(s, i === 0);
    if (d === s) break;
    s = d;
  }
  return s.normalize('NFKC').toLowerCase();
}

function parseQuery(canonical: string): Array<readonly [string, string]> {
  if (canonical === '') return [];
  const out: Array<readonly [string, string]> = [];
  for (const piece of canonical.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const value = eq < 0 ? '' : piece.slice(eq + 1);
    out.push([decodeOnce(name, true), decodeOnce(value, true)]);
  }
  return out;
}

/**
 * Security parameters counted over `&` and `;` separators (some servers split on both) by their
 * fully decoded, case-folded name; any repeat is refused. Returns every `service` value.
 */
function securityParams(canonical: string, method: string): { services: string[] } | Fail {
  const services: string[] = [];
  if (canonical === '') return { services };
  const seen = new Set<string>();
  for (const piece of canonical.split(/[&;]/)) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = paramKey(eq < 0 ? piece : piece.slice(0, eq));
    if (!SECURITY_QUERY_PARAMS.includes(key)) continue;
    if (seen.has(key)) return fail('bad_request', 'duplicate_query_param', `query parameter ${key} repeated`);
    seen.add(key);
    const value = paramValue(eq < 0 ? '' : piece.slice(eq + 1));
    if (key === 'service') services.push(value);
    if (key === '_method' && value.trim().toUpperCase() !== method) return fail('bad_request', 'method_override', '_method names another method');
  }
  return { services };
}

/**
 * R5b on every signal (docs/decisions/egress-normalisation.md): a path segment `git-*-pack` (any
 * method, NFKC and case folded), any `service` value, and the smart-HTTP media types in
 * Content-Type or Accept. `receive-pack` wins.
 */
function detectGit(decodedPath: string, services: readonly string[], mediaTypes: readonly string[]): GitService | null {
  let upload = false;
  const segs = decodedPath.normalize('NFKC').toLowerCase().split('/').map((s) => s.trim());
  if (segs.includes('git-receive-pack')) return 'receive-pack';
  if (segs.includes('git-upload-pack')) upload = true;
  for (const v of services) {
    if (v.includes('receive-pack')) return 'receive-pack';
    if (v.includes('upload-pack')) upload = true;
  }
  for (const m of mediaTypes) {
    const l = m.toLowerCase();
    if (l.includes('application/x-git-receive-pack')) return 'receive-pack';
    if (l.includes('application/x-git-upload-pack')) upload = true;
  }
  return upload ? 'upload-pack' : null;
}
