/**
 * Egress route schema (docs/configuration.md §3.4). Pure (no I/O): providers' routes are validated
 * with the same rules (docs/architecture.md §4.3) through `validateRoute`.
 */
import type { AuthScheme, HeaderMatch, InboundDetector, OnMatch, OutboundDetector, PathMatch, Route, RouteAuth, RouteDlp, RouteMatch } from './types.js';
import { Ctx, checkHostVarRef, describe, expectBool, expectList, expectMap, expectString, isObj, type Obj } from './check.js';
import type { PathSeg } from './front-matter.js';
import { canonicalIPv6, isIPv4, normalizeHost } from './host.js';
import { didYouMean } from './suggest.js';

export const ROUTE_KEYS = ['host', 'port', 'matches', 'auth', 'tls_passthrough', 'git', 'dlp', 'allow_private_cidrs'] as const;
export const AUTH_SCHEMES: readonly AuthScheme[] = ['Bearer', 'token', 'Basic', 'header'];
export const OUTBOUND_DETECTORS: readonly OutboundDetector[] = ['token_patterns', 'known_secrets', 'entropy'];
export const INBOUND_DETECTORS: readonly InboundDetector[] = ['naive_injection_detection'];
export const ON_MATCH: readonly OnMatch[] = ['supervise', 'redact', 'block'];
/** Defaults for manifest routes; provider routes use their own (docs/configuration.md §3.4.3). */
export const MANIFEST_DLP_DEFAULTS = {
  outbound: ['token_patterns', 'known_secrets'] as readonly OutboundDetector[],
  inbound: ['naive_injection_detection'] as readonly InboundDetector[],
  onMatch: 'supervise' as OnMatch,
};

const FORBIDDEN_AUTH_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'cookie',
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_REGEX = 1024;

/**
 * Cloud metadata endpoints that `allow_private_cidrs` can never open (docs/configuration.md §3.4).
 */
const METADATA_V4 = ['169.254.169.254', '169.254.170.2', '100.100.100.200'];
const METADATA_V6 = ['fd00:ec2::254'];

export interface RouteOptions {
  /** Accept this token_ref although it is reserved (a provider's synthetic reference). */
  readonly allowTokenRef?: (name: string) => boolean;
}

export function parseRoute(ctx: Ctx, raw: unknown, path: readonly PathSeg[], opts: RouteOptions = {}): Route | undefined {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  const before = ctx.issues.length;
  ctx.keys(obj, path, ROUTE_KEYS, ctx.name(path) || 'route', 'route');

  let host: string | undefined;
  if (!Object.hasOwn(obj, 'host') || obj.host === null) {
    ctx.issue(path, `${ctx.name([...path, 'host'])} is required (e.g. host: api.example.com)`);
  } else if (typeof obj.host !== 'string') {
    ctx.issue([...path, 'host'], `${ctx.name([...path, 'host'])} must be a string, not ${describe(obj.host)}`);
  } else {
    const h = normalizeHost(obj.host);
    if (h.ok) host = h.host;
    else ctx.issue([...path, 'host'], `${ctx.name([...path, 'host'])} ${h.reason}`);
  }

  let port: number | undefined;
  if (obj.port !== undefined && obj.port !== null) {
    const p = obj.port;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
      ctx.issue([...path, 'port'], `${ctx.name([...path, 'port'])} must be an integer 1–65535${typeof p === 'string' ? ' (write it without quotes)' : ''}`);
    } else port = p;
  }

  const passthrough = obj.tls_passthrough === undefined || obj.tls_passthrough === null ? false : expectBool(ctx, obj.tls_passthrough, [...path, 'tls_passthrough']) ?? false;

  let matches: RouteMatch[] | undefined;
  if (obj.matches !== undefined && obj.matches !== null) matches = parseMatches(ctx, obj.matches, [...path, 'matches']);

  let auth: RouteAuth | undefined;
  if (obj.auth !== undefined && obj.auth !== null) auth = parseAuth(ctx, obj.auth, [...path, 'auth'], opts);

  let fetch = true;
  if (obj.git !== undefined && obj.git !== null) {
    const g = expectMap(ctx, obj.git, [...path, 'git']);
    if (g) {
      ctx.keys(g, [...path, 'git'], ['fetch'], ctx.name([...path, 'git']));
      if (g.fetch !== undefined && g.fetch !== null) fetch = expectBool(ctx, g.fetch, [...path, 'git', 'fetch']) ?? true;
    }
  }

  let dlp: RouteDlp = {};
  const dlpDeclared = obj.dlp !== undefined && obj.dlp !== null;
  if (dlpDeclared) dlp = parseDlp(ctx, obj.dlp, [...path, 'dlp']);

  let cidrs: string[] = [];
  if (obj.allow_private_cidrs !== undefined && obj.allow_private_cidrs !== null) {
    const list = expectList(ctx, obj.allow_private_cidrs, [...path, 'allow_private_cidrs'], { what: 'CIDR strings' });
    if (list) cidrs = parseCidrs(ctx, list, [...path, 'allow_private_cidrs']);
  }

  if (passthrough) {
    const clash = [auth !== undefined || Object.hasOwn(obj, 'auth') ? 'auth' : '', matches ? 'matches' : '', dlpDeclared ? 'dlp' : ''].filter(Boolean);
    if (clash.length > 0) {
      ctx.issue([...path, 'tls_passthrough'], `${ctx.name(path) || 'route'}: tls_passthrough cannot be combined with ${clash.join(', ')} (a tunnelled connection is never decrypted); drop ${clash.length > 1 ? 'them' : 'it'} or tls_passthrough`);
    }
  }
  if (ctx.issues.length > before || host === undefined) return undefined;
  const route: Route = {
    host,
    ...(port !== undefined ? { port } : {}),
    ...(matches !== undefined ? { matches } : {}),
    ...(auth !== undefined ? { auth } : {}),
    tlsPassthrough: passthrough,
    git: { fetch },
    dlp,
    allowPrivateCidrs: cidrs,
  };
  return route;
}

function parseMatches(ctx: Ctx, raw: unknown, path: PathSeg[]): RouteMatch[] | undefined {
  const list = expectList(ctx, raw, path, { what: 'match entries' });
  if (!list) return undefined;
  if (list.length === 0) {
    ctx.issue(path, `${ctx.name(path)} must not be empty; omit matches to allow every request`);
    return undefined;
  }
  const out: RouteMatch[] = [];
  list.forEach((entry, i) => {
    const p = [...path, i];
    const obj = expectMap(ctx, entry, p);
    if (!obj) return;
    ctx.keys(obj, p, ['paths', 'methods', 'headers'], ctx.name(p));
    const m: { paths?: PathMatch[]; methods?: string[]; headers?: HeaderMatch[] } = {};
    if (obj.paths !== undefined && obj.paths !== null) {
      const paths = parsePaths(ctx, obj.paths, [...p, 'paths']);
      if (paths) m.paths = paths;
    }
    if (obj.methods !== undefined && obj.methods !== null) {
      const ms = expectList(ctx, obj.methods, [...p, 'methods'], { nonEmpty: true, what: 'HTTP methods' });
      if (ms) {
        const methods: string[] = [];
        ms.forEach((v, j) => {
          const s = expectString(ctx, v, [...p, 'methods', j], { nonEmpty: true });
          if (s === undefined) return;
          if (!TOKEN.test(s)) ctx.issue([...p, 'methods', j], `${ctx.name([...p, 'methods', j])} is not an HTTP method token (e.g. GET, POST)`);
          else methods.push(s.toUpperCase());
        });
        m.methods = methods;
      }
    }
    if (obj.headers !== undefined && obj.headers !== null) {
      const hs = parseHeaders(ctx, obj.headers, [...p, 'headers']);
      if (hs) m.headers = hs;
    }
    if (m.paths === undefined && m.methods === undefined && m.headers === undefined) {
      if (Object.keys(obj).length === 0) ctx.issue(p, `${ctx.name(p)} is empty; give paths, methods or headers (or omit matches to allow every request)`);
      return;
    }
    out.push(m);
  });
  return out;
}

const PATH_TYPES: Record<string, PathMatch['type']> = {
  exact: 'exact',
  prefix: 'prefix',
  pathprefix: 'prefix',
  regex: 'regex',
  regularexpression: 'regex',
};

function checkRegex(ctx: Ctx, value: string, path: PathSeg[]): boolean {
  if (value.length > MAX_REGEX) {
    ctx.issue(path, `${ctx.name(path)} is longer than ${MAX_REGEX} characters`);
    return false;
  }
  try {
    new RegExp(`^(?:${value})$`, 'u');
    return true;
  } catch (e) {
    ctx.issue(path, `${ctx.name(path)} is not a valid regular expression (${(e as Error).message.replace(/^Invalid regular expression: /, '').slice(0, 120)})`);
    return false;
  }
}

function parsePaths(ctx: Ctx, raw: unknown, path: PathSeg[]): PathMatch[] | undefined {
  const list = expectList(ctx, raw, path, { nonEmpty: true, what: '{type, value} maps' });
  if (!list) return undefined;
  const out: PathMatch[] = [];
  list.forEach((item, i) => {
    const p = [...path, i];
    const obj = expectMap(ctx, item, p);
    if (!obj) return;
    ctx.keys(obj, p, ['type', 'value'], ctx.name(p));
    const t = expectString(ctx, obj.type, [...p, 'type']);
    const v = expectString(ctx, obj.value, [...p, 'value']);
    if (t === undefined || v === undefined) return;
    const type = PATH_TYPES[t.toLowerCase()];
    if (!type) {
      ctx.issue([...p, 'type'], `${ctx.name([...p, 'type'])} must be exact, prefix or regex (Gateway spellings Exact, PathPrefix, RegularExpression also work)${didYouMean(t, ['exact', 'prefix', 'regex'])}`);
      return;
    }
    if (type === 'regex') {
      if (checkRegex(ctx, v, [...p, 'value'])) out.push({ type, value: v });
      return;
    }
    if (!v.startsWith('/')) {
      ctx.issue([...p, 'value'], `${ctx.name([...p, 'value'])} must start with "/"`);
      return;
    }
    const value = type === 'prefix' && v.length > 1 ? v.replace(/\/+$/, '') || '/' : v;
    out.push({ type, value });
  });
  return out;
}

function parseHeaders(ctx: Ctx, raw: unknown, path: PathSeg[]): HeaderMatch[] | undefined {
  const list = expectList(ctx, raw, path, { nonEmpty: true, what: '{name, value, type} maps' });
  if (!list) return undefined;
  const out: HeaderMatch[] = [];
  list.forEach((item, i) => {
    const p = [...path, i];
    const obj = expectMap(ctx, item, p);
    if (!obj) return;
    ctx.keys(obj, p, ['name', 'value', 'type'], ctx.name(p));
    const name = expectString(ctx, obj.name, [...p, 'name'], { nonEmpty: true });
    const value = expectString(ctx, obj.value, [...p, 'value']);
    let type: 'exact' | 'regex' = 'exact';
    if (obj.type !== undefined && obj.type !== null) {
      const t = expectString(ctx, obj.type, [...p, 'type']);
      if (t !== undefined) {
        const tl = t.toLowerCase();
        if (tl === 'exact') type = 'exact';
        else if (tl === 'regex' || tl === 'regularexpression') type = 'regex';
        else {
          ctx.issue([...p, 'type'], `${ctx.name([...p, 'type'])} must be exact or regex`);
          return;
        }
      }
    }
    if (name === undefined || value === undefined) return;
    if (!TOKEN.test(name)) {
      ctx.issue([...p, 'name'], `${ctx.name([...p, 'name'])} is not a valid header name`);
      return;
    }
    if (type === 'regex' && !checkRegex(ctx, value, [...p, 'value'])) return;
    out.push({ name: name.toLowerCase(), value, type });
  });
  return out;
}

function parseAuth(ctx: Ctx, raw: unknown, path: PathSeg[], opts: RouteOptions): RouteAuth | undefined {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return undefined;
  const before = ctx.issues.length;
  ctx.keys(obj, path, ['scheme', 'token_ref', 'header'], ctx.name(path));
  if (Object.keys(obj).length === 0) {
    ctx.issue(path, `${ctx.name(path)} is empty; give scheme (${AUTH_SCHEMES.join(', ')}) and token_ref (a host variable name), or remove auth`);
    return undefined;
  }
  let scheme: AuthScheme | undefined;
  if (obj.scheme === undefined || obj.scheme === null) {
    ctx.issue(path, `${ctx.name([...path, 'scheme'])} is required: one of ${AUTH_SCHEMES.join(', ')}`);
  } else {
    const s = expectString(ctx, obj.scheme, [...path, 'scheme']);
    if (s !== undefined) {
      scheme = AUTH_SCHEMES.find((a) => a.toLowerCase() === s.toLowerCase());
      if (!scheme) ctx.issue([...path, 'scheme'], `${ctx.name([...path, 'scheme'])} must be one of ${AUTH_SCHEMES.join(', ')}${didYouMean(s, AUTH_SCHEMES)}`);
    }
  }
  let tokenRef: string | undefined;
  if (obj.token_ref === undefined || obj.token_ref === null) {
    ctx.issue(path, `${ctx.name([...path, 'token_ref'])} is required: the name of the host environment variable holding the credential`);
  } else tokenRef = checkHostVarRef(ctx, obj.token_ref, [...path, 'token_ref'], opts.allowTokenRef);
  let header: string | undefined;
  const hasHeader = obj.header !== undefined && obj.header !== null;
  if (scheme === 'header') {
    if (!hasHeader) ctx.issue(path, `${ctx.name([...path, 'header'])} is required with scheme header (the header name to inject, e.g. X-Api-Key)`);
    else {
      const h = expectString(ctx, obj.header, [...path, 'header'], { nonEmpty: true });
      if (h !== undefined) {
        if (!TOKEN.test(h)) ctx.issue([...path, 'header'], `${ctx.name([...path, 'header'])} is not a valid header name`);
        else if (FORBIDDEN_AUTH_HEADERS.has(h.toLowerCase())) ctx.issue([...path, 'header'], `${ctx.name([...path, 'header'])} may not be ${h} (hop-by-hop, Host, Content-Length and Cookie cannot carry credentials here)`);
        else header = h.toLowerCase();
      }
    }
  } else if (hasHeader && scheme !== undefined) {
    ctx.issue([...path, 'header'], `${ctx.name([...path, 'header'])} is only allowed with scheme header (this route uses ${scheme}); remove it or use scheme: header`);
  }
  if (ctx.issues.length > before || scheme === undefined || tokenRef === undefined) return undefined;
  return { scheme, tokenRef, ...(header !== undefined ? { header } : {}) };
}

function parseDetectors<T extends string>(ctx: Ctx, raw: unknown, path: PathSeg[], known: readonly T[]): T[] | undefined {
  if (raw === false) return [];
  if (raw === 'all') return [...known];
  if (!Array.isArray(raw)) {
    ctx.issue(path, `${ctx.name(path)} must be all, false, or a list of ${known.join(', ')}`);
    return undefined;
  }
  const out: T[] = [];
  raw.forEach((v, i) => {
    const s = expectString(ctx, v, [...path, i]);
    if (s === undefined) return;
    const hit = known.find((k) => k === s);
    if (!hit) ctx.issue([...path, i], `${ctx.name([...path, i])}: unknown detector "${s}"${didYouMean(s, known)} (known: ${known.join(', ')})`);
    else if (!out.includes(hit)) out.push(hit);
  });
  return out;
}

function parseDlp(ctx: Ctx, raw: unknown, path: PathSeg[]): RouteDlp {
  const obj = expectMap(ctx, raw, path);
  if (!obj) return {};
  ctx.keys(obj, path, ['outbound_detectors', 'inbound_detectors', 'outbound_on_match'], ctx.name(path));
  const dlp: { outboundDetectors?: OutboundDetector[]; inboundDetectors?: InboundDetector[]; outboundOnMatch?: OnMatch } = {};
  if (obj.outbound_detectors !== undefined && obj.outbound_detectors !== null) {
    const d = parseDetectors(ctx, obj.outbound_detectors, [...path, 'outbound_detectors'], OUTBOUND_DETECTORS);
    if (d) dlp.outboundDetectors = d;
  }
  if (obj.inbound_detectors !== undefined && obj.inbound_detectors !== null) {
    const d = parseDetectors(ctx, obj.inbound_detectors, [...path, 'inbound_detectors'], INBOUND_DETECTORS);
    if (d) dlp.inboundDetectors = d;
  }
  if (obj.outbound_on_match !== undefined && obj.outbound_on_match !== null) {
    const s = expectString(ctx, obj.outbound_on_match, [...path, 'outbound_on_match']);
    if (s !== undefined) {
      const hit = ON_MATCH.find((o) => o === s.toLowerCase());
      if (!hit) ctx.issue([...path, 'outbound_on_match'], `${ctx.name([...path, 'outbound_on_match'])} must be one of ${ON_MATCH.join(', ')}`);
      else dlp.outboundOnMatch = hit;
    }
  }
  return dlp;
}

/** Parses `a.b.c.d/n` or `v6/n`; a bare address means a single host (/32, /128). */
export function parseCidr(s: string): { family: 4 | 6; base: string; bits: number } | null {
  const [addr = '', len, extra] = s.trim().split('/');
  if (extra !== undefined) return null;
  let family: 4 | 6;
  let base: string;
  if (isIPv4(addr)) {
    family = 4;
    base = addr;
  } else {
    const v6 = canonicalIPv6(addr);
    if (v6 === null) return null;
    family = 6;
    base = v6;
  }
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { family, base, bits: max };
  if (!/^\d{1,3}$/.test(len)) return null;
  const bits = Number(len);
  if (bits > max) return null;
  return { family, base, bits };
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function v6ToBig(a: string): bigint {
  // canonical from URL: may contain '::' and embedded v4 is already converted to hex by URL.
  const [head = '', tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}
export function cidrContains(c: { family: 4 | 6; base: string; bits: number }, ip: string): boolean {
  if (c.family === 4) {
    if (!isIPv4(ip)) return false;
    if (c.bits === 0) return true;
    const shift = 32 - c.bits;
    return Math.floor(v4ToInt(c.base) / 2 ** shift) === Math.floor(v4ToInt(ip) / 2 ** shift);
  }
  const v6 = canonicalIPv6(ip);
  if (v6 === null) return false;
  const shift = BigInt(128 - c.bits);
  return v6ToBig(c.base) >> shift === v6ToBig(v6) >> shift;
}

function parseCidrs(ctx: Ctx, list: unknown[], path: PathSeg[]): string[] {
  const out: string[] = [];
  list.forEach((v, i) => {
    const s = expectString(ctx, v, [...path, i]);
    if (s === undefined) return;
    const c = parseCidr(s);
    if (!c) {
      ctx.issue([...path, i], `${ctx.name([...path, i])} is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)`);
      return;
    }
    const meta = [...METADATA_V4, ...METADATA_V6].find((m) => cidrContains(c, m));
    if (meta) {
      ctx.issue([...path, i], `${ctx.name([...path, i])} contains the cloud metadata address ${meta}, which can never be allowed; narrow the range`);
      return;
    }
    out.push(`${c.base}/${c.bits}`);
  });
  return out;
}

/**
 * Validates one route outside a manifest file (provider routes). Throws ManifestError listing
 * every problem; key paths are relative to `keyPath` (default `route`).
 */
export function validateRoute(raw: unknown, opts: RouteOptions & { keyPath?: string; file?: string } = {}): Route {
  const ctx = new Ctx(opts.file ?? '', new Map(), [opts.keyPath ?? 'route']);
  const route = parseRoute(ctx, isObj(raw) ? (raw as Obj) : raw, [], opts);
  ctx.throwIfAny();
  if (!route) throw new Error('unreachable: route invalid without issues');
  return route;
}
