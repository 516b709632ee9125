/**
 * Parse, validate and render the routes file (docs/architecture.md §5). Pure: the daemon reads the
 * file and hands the text here; the host renders with `renderRoutesFile`. Errors name the key path
 * and the fix, never a value that could be a secret (the file holds none, but header values could).
 */
import { parseDocument, stringify, visit, isAlias } from 'yaml';
import type { RoutesFile, RoutesFileMatch, RoutesFileRoute } from './routes-file-types.js';
import { normalizeHost } from './host.js';
import { parseCidr } from './ip.js';

export class RoutesFileError extends Error {
  readonly code = 'ROUTES_INVALID' as const;
  constructor(
    message: string,
    readonly keyPath: string,
  ) {
    super(message);
    this.name = 'RoutesFileError';
  }
}

type Obj = Record<string, unknown>;

const TOP_KEYS = ['version', 'generation', 'bottle', 'log', 'routes'];
const ROUTE_KEYS = ['host', 'port', 'matches', 'auth', 'tls_passthrough', 'allow_private_cidrs', 'git', 'dlp', 'origin'];
const MATCH_KEYS = ['paths', 'methods', 'headers'];
const OUTBOUND = ['token_patterns', 'known_secrets', 'entropy'] as const;
const INBOUND = ['naive_injection_detection'] as const;
/** Headers a `header` scheme may not name: framing, routing and hop-by-hop. */
export const FORBIDDEN_AUTH_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'cookie',
]);
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const MAX_REGEX_LENGTH = 1024;

function fail(path: string, msg: string): never {
  throw new RoutesFileError(`${path}: ${msg}`, path);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

function checkKeys(o: Obj, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      const hint = closest(k, allowed);
      fail(path ? `${path}.${k}` : k, `unknown key${hint ? ` (did you mean "${hint}"?)` : ''}; allowed keys: ${allowed.join(', ')}`);
    }
  }
}

/** Compiles a trusted route regex the way the matcher uses it; throws a SyntaxError when invalid. */
export function compileRouteRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u');
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'must be a string');
  return v;
}

function regexValue(v: unknown, path: string): string {
  const s = str(v, path);
  if (s.length > MAX_REGEX_LENGTH) fail(path, `regex longer than ${MAX_REGEX_LENGTH} characters; shorten it`);
  try {
    compileRouteRegex(s);
  } catch (e) {
    fail(path, `invalid regex (${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : 'syntax error'}); fix the pattern (compiled with the u flag, anchored)`);
  }
  return s;
}

/** Validates a route host as the host side writes it: already normalised. */
export function validateRouteHost(v: unknown, path: string): string {
  const h = str(v, path);
  const wildcard = h.startsWith('*.');
  const rest = wildcard ? h.slice(2) : h;
  if (rest.includes('*')) fail(path, 'a wildcard is only allowed as a leading "*." label');
  const n = normalizeHost(rest);
  if (!n) fail(path, `"${h}" is not a valid host name or IP literal`);
  if (wildcard) {
    if (n.kind !== 'name') fail(path, 'a wildcard cannot cover an IP literal');
    if (n.host.split('.').length < 2) fail(path, `"${h}" must have at least two labels after "*." (e.g. *.example.com)`);
  }
  const canonical = wildcard ? `*.${n.host}` : n.host;
  if (canonical !== h) fail(path, `host "${h}" is not normalised; write "${canonical}"`);
  return h;
}

function parseMatch(v: unknown, path: string): RoutesFileMatch {
  if (!isObj(v)) fail(path, 'must be a mapping with paths, methods and/or headers');
  checkKeys(v, MATCH_KEYS, path);
  if (v.paths === undefined && v.methods === undefined && v.headers === undefined) {
    fail(path, 'needs at least one of paths, methods, headers');
  }
  const m: RoutesFileMatch = {};
  if (v.paths !== undefined) {
    if (!Array.isArray(v.paths) || v.paths.length === 0) fail(`${path}.paths`, 'must be a non-empty list');
    m.paths = v.paths.map((p, i) => {
      const pp = `${path}.paths[${i}]`;
      if (!isObj(p)) fail(pp, 'must be {type: exact|prefix|regex, value}');
      checkKeys(p, ['type', 'value'], pp);
      if (p.type !== 'exact' && p.type !== 'prefix' && p.type !== 'regex') fail(`${pp}.type`, 'must be exact, prefix or regex');
      if (p.type === 'regex') return { type: 'regex' as const, value: regexValue(p.value, `${pp}.value`) };
      const value = str(p.value, `${pp}.value`);
      if (!value.startsWith('/')) fail(`${pp}.value`, 'must start with "/"');
      return { type: p.type, value };
    });
  }
  if (v.methods !== undefined) {
    if (!Array.isArray(v.methods) || v.methods.length === 0) fail(`${path}.methods`, 'must be a non-empty list');
    m.methods = v.methods.map((x, i) => {
      const s = str(x, `${path}.methods[${i}]`);
      if (!TOKEN_RE.test(s) || s !== s.toUpperCase()) fail(`${path}.methods[${i}]`, `must be an upper-case method name such as GET (write "${s.toUpperCase()}")`);
      return s;
    });
  }
  if (v.headers !== undefined) {
    if (!Array.isArray(v.headers) || v.headers.length === 0) fail(`${path}.headers`, 'must be a non-empty list');
    m.headers = v.headers.map((h, i) => {
      const hp = `${path}.headers[${i}]`;
      if (!isObj(h)) fail(hp, 'must be {name, type: exact|regex, value}');
      checkKeys(h, ['name', 'type', 'value'], hp);
      const name = str(h.name, `${hp}.name`);
      if (!TOKEN_RE.test(name) || name !== name.toLowerCase()) fail(`${hp}.name`, 'must be a lower-case header name');
      const type = h.type ?? 'exact';
      if (type !== 'exact' && type !== 'regex') fail(`${hp}.type`, 'must be exact or regex');
      const value = type === 'regex' ? regexValue(h.value, `${hp}.value`) : str(h.value, `${hp}.value`);
      return { name, type, value };
    });
  }
  return m;
}

function detectorList<T extends string>(v: unknown, allowed: readonly T[], path: string): T[] | false | 'all' {
  if (v === false || v === 'all') return v;
  if (!Array.isArray(v)) fail(path, `must be all, false or a list of ${allowed.join(', ')}`);
  const seen = new Set<string>();
  return v.map((d, i) => {
    if (typeof d !== 'string' || !(allowed as readonly string[]).includes(d)) fail(`${path}[${i}]`, `must be one of ${allowed.join(', ')}`);
    if (seen.has(d)) fail(`${path}[${i}]`, `duplicate detector ${d}`);
    seen.add(d);
    return d as T;
  });
}

function parseRoute(v: unknown, path: string): RoutesFileRoute {
  if (!isObj(v)) fail(path, 'must be a mapping with at least host');
  checkKeys(v, ROUTE_KEYS, path);
  if (v.host === undefined) fail(`${path}.host`, 'is required');
  const r: RoutesFileRoute = { host: validateRouteHost(v.host, `${path}.host`) };
  if (v.port !== undefined) {
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535) fail(`${path}.port`, 'must be an integer 1-65535');
    r.port = v.port;
  }
  if (v.matches !== undefined) {
    if (!Array.isArray(v.matches) || v.matches.length === 0) fail(`${path}.matches`, 'must be a non-empty list (omit it to allow every request)');
    r.matches = v.matches.map((m, i) => parseMatch(m, `${path}.matches[${i}]`));
  }
  if (v.auth !== undefined) {
    const ap = `${path}.auth`;
    if (!isObj(v.auth)) fail(ap, 'must be {scheme, token_env[, header]}');
    checkKeys(v.auth, ['scheme', 'token_env', 'header'], ap);
    const scheme = v.auth.scheme;
    if (scheme !== 'Bearer' && scheme !== 'token' && scheme !== 'Basic' && scheme !== 'header') fail(`${ap}.scheme`, 'must be Bearer, token, Basic or header');
    const tokenEnv = str(v.auth.token_env, `${ap}.token_env`);
    if (!/^EGRESS_TOKEN_[0-9]+$/.test(tokenEnv)) fail(`${ap}.token_env`, 'must be a slot name EGRESS_TOKEN_<n> (never a host variable name)');
    const auth: NonNullable<RoutesFileRoute['auth']> = { scheme, token_env: tokenEnv };
    if (scheme === 'header') {
      const header = str(v.auth.header, `${ap}.header`);
      if (!TOKEN_RE.test(header) || header !== header.toLowerCase()) fail(`${ap}.header`, 'must be a lower-case header name');
      if (FORBIDDEN_AUTH_HEADERS.has(header) || header.startsWith('x-bot-bottle-')) fail(`${ap}.header`, `cannot inject "${header}" (hop-by-hop, framing or reserved header); pick another header`);
      auth.header = header;
    } else if (v.auth.header !== undefined) {
      fail(`${ap}.header`, 'only allowed with scheme header');
    }
    r.auth = auth;
  }
  if (v.tls_passthrough !== undefined) {
    if (typeof v.tls_passthrough !== 'boolean') fail(`${path}.tls_passthrough`, 'must be true or false');
    r.tls_passthrough = v.tls_passthrough;
    if (v.tls_passthrough) {
      for (const k of ['auth', 'matches', 'dlp'] as const) {
        if (v[k] !== undefined) fail(`${path}.${k}`, 'cannot be combined with tls_passthrough: true (the tunnel is not decrypted); remove one of them');
      }
    }
  }
  if (v.allow_private_cidrs !== undefined) {
    if (!Array.isArray(v.allow_private_cidrs)) fail(`${path}.allow_private_cidrs`, 'must be a list of CIDRs');
    r.allow_private_cidrs = v.allow_private_cidrs.map((c, i) => {
      const s = str(c, `${path}.allow_private_cidrs[${i}]`);
      if (!parseCidr(s)) fail(`${path}.allow_private_cidrs[${i}]`, `"${s}" is not a CIDR such as 10.0.0.0/8`);
      return s;
    });
  }
  if (v.git !== undefined) {
    if (!isObj(v.git)) fail(`${path}.git`, 'must be {fetch: true|false}');
    checkKeys(v.git, ['fetch'], `${path}.git`);
    if (typeof v.git.fetch !== 'boolean') fail(`${path}.git.fetch`, 'must be true or false');
    r.git = { fetch: v.git.fetch };
  }
  if (v.dlp !== undefined) {
    const dp = `${path}.dlp`;
    if (!isObj(v.dlp)) fail(dp, 'must be {outbound_detectors, inbound_detectors, outbound_on_match}');
    checkKeys(v.dlp, ['outbound_detectors', 'inbound_detectors', 'outbound_on_match'], dp);
    const onMatch = v.dlp.outbound_on_match ?? 'block';
    if (onMatch !== 'block' && onMatch !== 'redact' && onMatch !== 'supervise') fail(`${dp}.outbound_on_match`, 'must be block, redact or supervise');
    r.dlp = {
      outbound_detectors: v.dlp.outbound_detectors === undefined ? ['token_patterns', 'known_secrets'] : detectorList(v.dlp.outbound_detectors, OUTBOUND, `${dp}.outbound_detectors`),
      inbound_detectors: v.dlp.inbound_detectors === undefined ? ['naive_injection_detection'] : detectorList(v.dlp.inbound_detectors, INBOUND, `${dp}.inbound_detectors`),
      outbound_on_match: onMatch,
    };
  }
  if (v.origin !== undefined) {
    if (v.origin !== 'provider' && v.origin !== 'manifest' && v.origin !== 'approved') fail(`${path}.origin`, 'must be provider, manifest or approved');
    r.origin = v.origin;
  }
  return r;
}

/** Ports a route occupies: its own, or 443 and 80 when absent (docs/configuration.md §3.4). */
export function occupiedPorts(r: { port?: number }): number[] {
  return r.port === undefined ? [443, 80] : [r.port];
}

export function validateRoutesDoc(v: unknown): RoutesFile {
  if (!isObj(v)) fail('(top)', 'the routes file must be a mapping with version, generation, bottle, log, routes');
  checkKeys(v, TOP_KEYS, '');
  if (v.version !== 1) fail('version', 'must be 1 (this egress understands routes file version 1 only)');
  const generation = v.generation ?? 0;
  if (typeof generation !== 'number' || !Number.isInteger(generation) || generation < 0) fail('generation', 'must be a non-negative integer');
  const bottle = v.bottle ?? '';
  if (typeof bottle !== 'string') fail('bottle', 'must be a string (the bottle slug)');
  const log = v.log ?? 0;
  if (log !== 0 && log !== 1 && log !== 2) fail('log', 'must be 0, 1 or 2');
  if (!Array.isArray(v.routes)) fail('routes', 'is required and must be a list (may be empty)');
  const routes = v.routes.map((r, i) => parseRoute(r, `routes[${i}]`));
  const seen = new Map<string, number>();
  routes.forEach((r, i) => {
    for (const port of occupiedPorts(r)) {
      const key = `${r.host} ${port}`;
      const prev = seen.get(key);
      if (prev !== undefined) fail(`routes[${i}]`, `duplicates routes[${prev}] for ${r.host} port ${port} (a route without port covers 443 and 80); merge them or set distinct ports`);
      seen.set(key, i);
    }
  });
  return { version: 1, generation, bottle, log, routes };
}

/** YAML 1.2 core schema; aliases, duplicate keys and unknown keys are errors. */
export function parseRoutesFile(text: string): RoutesFile {
  const doc = parseDocument(text, { schema: 'core', version: '1.2', uniqueKeys: true, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const what = first.code === 'DUPLICATE_KEY' ? 'duplicate key' : 'YAML syntax error';
    throw new RoutesFileError(`${what}${line !== undefined ? ` at line ${line}` : ''}: ${first.message.split('\n')[0]}`, '(yaml)');
  }
  let alias = false;
  visit(doc, {
    Alias() {
      alias = true;
      return visit.BREAK;
    },
  });
  if (alias || isAlias(doc.contents)) throw new RoutesFileError('YAML aliases are not allowed in the routes file; write values out', '(yaml)');
  return validateRoutesDoc(doc.toJS({ maxAliasCount: 0 }));
}

/** Default DLP written by the host per route origin (docs/configuration.md §3.4.3). */
export function defaultDlpFor(origin: RoutesFileRoute['origin']): NonNullable<RoutesFileRoute['dlp']> {
  return origin === 'provider'
    ? { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: false, outbound_on_match: 'redact' }
    : { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: ['naive_injection_detection'], outbound_on_match: 'supervise' };
}

/**
 * The host side's writer: validates first (a bad table never reaches a sidecar), writes explicit
 * DLP values for intercepted routes, fixed key order so rewrites diff cleanly.
 */
export function renderRoutesFile(doc: RoutesFile): string {
  const checked = validateRoutesDoc(JSON.parse(JSON.stringify(doc)) as unknown);
  const routes = checked.routes.map((r) => {
    const out: Record<string, unknown> = { host: r.host };
    if (r.port !== undefined) out.port = r.port;
    if (r.matches) out.matches = r.matches;
    if (r.auth) out.auth = r.auth;
    if (r.tls_passthrough) out.tls_passthrough = true;
    if (r.allow_private_cidrs && r.allow_private_cidrs.length > 0) out.allow_private_cidrs = r.allow_private_cidrs;
    if (r.git) out.git = r.git;
    if (!r.tls_passthrough) out.dlp = r.dlp ?? defaultDlpFor(r.origin);
    if (r.origin) out.origin = r.origin;
    return out;
  });
  const body = { version: 1, generation: checked.generation, bottle: checked.bottle, log: checked.log, routes };
  return `# bot-bottle egress routes (generated; slot names only, never values)\n${stringify(body, { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}
