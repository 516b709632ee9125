/**
 * Fuzzing the egress proxy's request parsing, pure layer (docs/decisions/fuzzing-budget.md): the
 * normaliser and the decision functions (normalize.ts, match.ts, host.ts, ip.ts, decide.ts,
 * admit.ts decideAdmission, routes-file.ts) on arbitrary and grammar-built request lines, paths,
 * hosts and headers. They never throw (the normaliser never even needs its defensive catch), never
 * hang (each input is bounded), and decisions are stable: normalising twice equals once, and a
 * request admitted implies its normalised form is admitted by the same route and entry.
 * The live proxy is fuzzed in fuzz-proxy.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideAdmission, type Admission } from '../../src/egress/admit.js';
import { decideAbsolute, decideConnect, parseAbsoluteHttp } from '../../src/egress/decide.js';
import { DnsExfilGuard } from '../../src/egress/dns-exfil.js';
import { normalizeHost, parseAuthority } from '../../src/egress/host.js';
import { formatIp, inCidr, parseCidr, parseIp, parseIPv4, parseIPv6 } from '../../src/egress/ip.js';
import { matchRequest } from '../../src/egress/match.js';
import { normalizeRequest, upstreamFramingHeaders, type NormalizeInput, type NormalizedRequest } from '../../src/egress/normalize.js';
import { compileRouteTable, type RouteTable } from '../../src/egress/route-table.js';
import { parseRoutesFile, renderRoutesFile, RoutesFileError } from '../../src/egress/routes-file.js';
import { bounded, fuzzBudget, fuzzNote } from '../helpers/fuzz-budget.js';

// ---------------------------------------------------------------- the table under test

const API = 'api.example.test';
const ROUTES = `version: 1
generation: 1
bottle: fuzz
log: 0
routes:
  - host: ${API}
    matches:
      - paths: [{type: prefix, value: /allowed}]
        methods: [GET, POST, PUT, HEAD]
      - paths: [{type: exact, value: /exact}, {type: regex, value: "/re/[a-z0-9]+(/[a-z]+)*"}]
        headers: [{name: x-api-version, type: exact, value: "2"}]
  - {host: git.example.test, git: {fetch: false}}
  - {host: "*.cdn.example.test", port: 8443}
  - {host: open.example.test}
  - {host: 127.0.0.1, port: 8080}
  - {host: "::1", port: 8080}
  - {host: dns.google, matches: [{methods: [GET]}]}
`;
const TABLE: RouteTable = compileRouteTable(parseRoutesFile(ROUTES));

const NORMALIZE_CODES = new Set(['bad_request', 'bad_path', 'host_mismatch']);
const REASONS = new Set([
  'bad_method', 'bad_target', 'bad_header', 'duplicate_header', 'missing_host', 'host_mismatch', 'bad_content_length', 'bad_transfer_encoding',
  'conflicting_framing', 'body_not_allowed', 'connection_names_critical', 'method_override', 'path_override', 'bad_websocket', 'duplicate_query_param',
  'bad_percent', 'double_encoding', 'encoded_separator', 'backslash', 'dot_segment', 'path_parameter', 'control_char', 'invalid_utf8', 'unicode_lookalike',
]);
const DEFENSIVE_DETAIL = 'the request could not be normalised';

/** The request-target as Node hands it over: latin-1, one char per UTF-8 wire byte. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

// ---------------------------------------------------------------- generators

const METHOD = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE') },
  { weight: 1, arbitrary: fc.constantFrom('CONNECT', 'get', 'G\u0000T', 'GET ', '', 'M-SEARCH', 'A'.repeat(40)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);

const SEGMENT = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('allowed', 'exact', 're', 'abc', 'v1', 'info', 'refs', 'dns-query', 'git-upload-pack', 'git-receive-pack', 'repo.git', '', 'a-b_c~d', 'x%41y', '%7Euser') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '.', '..', '...', '. .', '.. ', '%2e', '%2E%2e', '.%2e', '%2f', '%2F', 'a%2Fb', '%5c', '%5C', '\\', ';x', 'a;b', '%3b', '%00', '%0a', '%', '%z', '%zz', '%2',
      '%252e', '%252f', '%25', '%C0%AE', '%C0%AF', '%E0%80%AE', '%C1%9C', '%ED%A0%80', '%F4%90%80%80', '%FF', '%EF%BC%8F', '%E2%88%95', '%EF%BC%8E', '%E2%80%AE',
      '%67it-receive-pack', 'GIT-RECEIVE-PACK', 'git-receive-pack ', '%20', ' ', '\t', '#frag', '?', '*', '@', ':', '~user', '%7e', '%41', '%7E',
      wire('é'), wire('ｇｉｔ-receive-pack'), wire('／'), wire('\u2215'), 'x'.repeat(300),
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }).map(wire) },
);

const QUERY_PIECE = fc.oneof(
  fc.constantFrom(
    'service=git-upload-pack', 'service=git-receive-pack', 'SERVICE=git-receive-pack', 's%65rvice=git-receive-pack', 'service=git%2Dreceive-pack',
    'dns=AAAB', 'dns', '_method=DELETE', '_method=get', 'a=b', 'a', '=', '%', '%00', '%2500', '+', 'a+b=c+d', ';service=x', 'x=%E2%80%AE', 'q=%zz',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 8 }),
);

const PATH = fc
  .tuple(
    fc.array(SEGMENT, { maxLength: 6 }),
    fc.constantFrom('/', '//', '/./'),
    fc.boolean(),
    fc.option(fc.tuple(fc.array(QUERY_PIECE, { maxLength: 4 }), fc.constantFrom('&', ';', '&&')).map(([q, sep]) => q.join(sep)), { nil: null }),
  )
  .map(([segs, sep, trailing, q]) => `/${segs.join(sep === '/./' ? '/' : sep)}${trailing ? '/' : ''}${q === null ? '' : `?${q}`}`);

interface Target {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}
const TARGET: fc.Arbitrary<Target> = fc
  .tuple(
    fc.constantFrom<Target['scheme']>('http', 'https'),
    fc.constantFrom(API, API, API, 'open.example.test', 'open.example.test', 'git.example.test', 'a.cdn.example.test', 'b.a.cdn.example.test', '127.0.0.1', '::1', 'dns.google', 'nowhere.test'),
    fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(443, 80, 8443, 8080, 1) }),
  )
  .map(([scheme, host, port]) => ({ scheme, host, port: port === 0 ? (scheme === 'https' ? 443 : 80) : port }));

const RAW_TARGET = (t: Target): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: PATH },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(t.scheme, 'http', 'https', 'HTTP', 'ftp'), fc.constantFrom(t.host, t.host.toUpperCase(), `[${t.host}]`, `${t.host}.`, `u:p@${t.host}`, 'other.test', ''), fc.constantFrom('', `:${t.port}`, ':0', ':99999', ':'), PATH)
        .map(([s, h, p, path]) => `${s}://${h}${p}${path}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('*', '', 'http://', '//x/y', '/?', '/#', 'a/b', 'http:/x') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  );

const HOST_VALUE = (t: Target): fc.Arbitrary<string> =>
  fc.constantFrom(
    t.host, t.host.toUpperCase(), `${t.host}.`, `${t.host}:${t.port}`, t.host.includes(':') ? `[${t.host}]` : `${t.host}:0`, `[${t.host}]:${t.port}`, ` ${t.host} `,
    'other.test', '', `${t.host}:${t.port}:1`, `${t.host}@evil.test`, `xn--${t.host}`, `${t.host}\u0000`, '2130706433', '0x7f.1',
  );

const HEADER: (t: Target) => fc.Arbitrary<[string, string]> = (t) =>
  fc.oneof(
    { weight: 1, arbitrary: HOST_VALUE(t).map((v): [string, string] => ['Host', v]) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH'), fc.constantFrom('0', '5', '05', '+5', '-1', '5, 5', ' 5 ', '0x5', '1e3', '', '99999999999999999', '٣')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Transfer-Encoding', 'transfer-encoding'), fc.constantFrom('chunked', 'Chunked', ' chunked', 'chunked, identity', 'identity', 'xchunked', 'chunked\t', 'gzip, chunked', '')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Connection', 'connection'), fc.constantFrom('close', 'keep-alive', 'Upgrade', 'upgrade, keep-alive', 'keep-alive, host', 'Content-Length', 'x-api-version', 'authorization', ',,')) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('Upgrade'), fc.constantFrom('websocket', 'WebSocket', 'h2c', 'websocket, h2c')) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('x-api-version', 'X-Api-Version'), fc.constantFrom('2', '1', '2 ', ' 2')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Content-Type', 'Accept'), fc.constantFrom('application/dns-message', 'application/DNS-JSON; q=1', 'application/x-git-receive-pack-request', 'application/x-git-upload-pack-result', 'text/plain', '')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('X-HTTP-Method-Override', 'x-method-override', 'X-Original-URL', 'x-rewrite-url'), fc.constantFrom('GET', 'DELETE', '/admin', '')) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Authorization', 'Proxy-Authorization', 'Cookie', 'x-bot-bottle-deny', 'Proxy-Connection', 'Keep-Alive', 'TE', 'Trailer', 'Content-Encoding'), fc.string({ maxLength: 20 })) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('X-Folded', 'X-A'), fc.constantFrom('a\r\n b', 'a\nb', 'a\rb', 'a\u0000b', '\u00ff\u00fe', 'x'.repeat(2000))) },
  );

interface Req {
  readonly input: NormalizeInput;
}
/** Mostly well-formed requests with one or two odd parts, so admission is reached often. */
const NEAR_BENIGN: fc.Arbitrary<Req> = TARGET.chain((t) =>
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE'),
      fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom('allowed', 'exact', 're', 'abc', 'v1', 'x%41y', '%7Euser', 'info', 'refs') }, { weight: 1, arbitrary: SEGMENT }), { maxLength: 4 }),
      fc.option(fc.array(QUERY_PIECE, { maxLength: 3 }).map((q) => q.join('&')), { nil: null, freq: 2 }),
      fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom<[string, string]>(['x-api-version', '2'], ['Accept', '*/*'], ['Content-Length', '0'], ['Connection', 'keep-alive'], ['Authorization', 'Bearer x']) }, { weight: 1, arbitrary: HEADER(t) }), { maxLength: 3 }),
    )
    .map(([method, segs, q, headers]) => {
      const hostValue = t.host.includes(':') ? `[${t.host}]` : t.host;
      const rawTarget = `/${segs.join('/')}${q === null ? '' : `?${q}`}`;
      return { input: { method, target: t, rawTarget, rawHeaders: [['Host', hostValue], ...headers].flat(), isConnectInner: t.scheme === 'https' } };
    }),
);

const HOSTILE: fc.Arbitrary<Req> = TARGET.chain((t) =>
  fc
    .tuple(METHOD, RAW_TARGET(t), fc.array(HEADER(t), { maxLength: 6 }), fc.boolean(), fc.boolean(), fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }))
    .map(([method, rawTarget, headers, withHost, hostFirst, schemeFits]) => {
      const list = (withHost || schemeFits) && !headers.some(([n]) => n.toLowerCase() === 'host') ? (hostFirst ? [['Host', t.host.includes(':') ? `[${t.host}]` : t.host], ...headers] : [...headers, ['Host', t.host]]) : headers;
      const isConnectInner = schemeFits ? t.scheme === 'https' : t.scheme === 'http';
      return { input: { method, target: t, rawTarget, rawHeaders: list.flat(), isConnectInner } };
    }),
);
const REQUEST = fc.oneof(NEAR_BENIGN, HOSTILE);

// ---------------------------------------------------------------- helpers for the properties

const freshJudge = () => ({ guard: new DnsExfilGuard(), rawHosts: [] as string[], nowMs: 1_700_000_000_000 });

/** The normalised request fed back in as a request (what the upstream receives, plus framing). */
function renormalizeInput(n: NormalizedRequest, isConnectInner: boolean): NormalizeInput {
  const framing = upstreamFramingHeaders(n.framing, null).flat();
  return { method: n.method, target: { scheme: n.scheme, host: n.host, port: n.port }, rawTarget: n.pathForUpstream, rawHeaders: [...n.headers, ...framing], isConnectInner };
}

function admissionKey(a: Admission): string {
  return a.ok ? `ok ${a.d.route.host}:${String(a.d.route.port)} #${String(a.d.match)} ${a.n.pathForUpstream}` : `deny ${a.code}`;
}

/** Printable ASCII only: what a canonical request-target may hold. */
const CANONICAL_TARGET = /^\/[\x21-\x7e]*$/;

function checkRequest(req: Req, tally: { ok: number; denied: number; codes: Map<string, number> }): void {
  const { input } = req;
  const r = normalizeRequest(input);
  if (!r.ok) {
    expect(NORMALIZE_CODES.has(r.code)).toBe(true);
    expect(REASONS.has(r.reason)).toBe(true);
    // The defensive catch means an exception inside the normaliser: a bug even though nothing crashes.
    expect(r.detail).not.toBe(DEFENSIVE_DETAIL);
  } else {
    const n = r.req;
    expect(n.pathForUpstream).toMatch(CANONICAL_TARGET);
    expect(n.path.includes('?')).toBe(false);
    expect(n.headers.length % 2).toBe(0);
    expect(n.headers[0]).toBe('Host');
    for (let i = 0; i < n.headers.length; i += 2) {
      expect(n.headers[i]).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
      expect(n.headers[i + 1]).not.toMatch(/[\r\n\0]/);
    }
    expect(n.matchPaths.length).toBeGreaterThan(0);
    for (const seg of n.decodedPath.split('/')) expect(seg === '.' || seg === '..').toBe(false);
    // Normalising twice equals once.
    const again = normalizeRequest(renormalizeInput(n, input.isConnectInner));
    if (!again.ok) throw new Error(`normalised request refused on a second pass: ${again.code}/${again.reason} for ${n.method} ${n.pathForUpstream}`);
    const m = again.req;
    expect({ path: m.path, decoded: m.decodedPath, target: m.pathForUpstream, q: m.query, headers: m.headers, framing: m.framing, git: m.gitService, ws: m.websocket, ce: m.contentEncoding, ct: m.contentType, mp: m.matchPaths }).toEqual({
      path: n.path, decoded: n.decodedPath, target: n.pathForUpstream, q: n.query, headers: n.headers, framing: n.framing, git: n.gitService, ws: n.websocket, ce: n.contentEncoding, ct: n.contentType, mp: n.matchPaths,
    });
  }

  // Decisions: deterministic, and an admitted request's normalised form is admitted the same way.
  const a = decideAdmission(TABLE, input, freshJudge());
  expect(admissionKey(decideAdmission(TABLE, input, freshJudge()))).toBe(admissionKey(a));
  if (a.ok) {
    tally.ok++;
    expect(r.ok).toBe(true);
    const b = decideAdmission(TABLE, renormalizeInput(a.n, input.isConnectInner), freshJudge());
    if (!b.ok) throw new Error(`admitted request's normalised form is refused (${b.code}): ${a.n.method} ${a.n.pathForUpstream}`);
    expect(b.d.route).toBe(a.d.route);
    expect(b.d.match).toBe(a.d.match);
    // Independent restatement of R4 for the one route with matches on a path prefix.
    if (a.d.route.host === API) {
      for (const p of a.n.matchPaths) expect(matchRequest(a.d.route, a.n.method, p, a.n.headerMap)).toBeGreaterThanOrEqual(0);
    }
    expect(a.n.isGitPush).toBe(false);
  } else {
    tally.denied++;
    const key = r.ok ? a.code : `${r.code}/${r.reason}`;
    tally.codes.set(key, (tally.codes.get(key) ?? 0) + 1);
  }
}

// ---------------------------------------------------------------- host and IP generators

const IPV4_FORMS = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 7 })).map(([a, b, c, d, form]) => {
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  switch (form) {
    case 0:
      return `${a}.${b}.${c}.${d}`;
    case 1:
      return String(n);
    case 2:
      return `0x${n.toString(16)}`;
    case 3:
      return `0${a.toString(8)}.0${b.toString(8)}.${c}.${d}`;
    case 4:
      return `${a}.${(b << 16) + (c << 8) + d}`;
    case 5:
      return `0x${a.toString(16)}.${b}.0x${c.toString(16)}.${d}`;
    case 6:
      return `${a}.${b}.${c}.${d}.`;
    default:
      return `${a}.${b}.${(c << 8) + d}`;
  }
});
const IPV6_FORMS = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 5 }), IPV4_FORMS).map(([g, form, v4]) => {
  const hex = g.map((x) => x.toString(16));
  switch (form) {
    case 0:
      return hex.join(':');
    case 1:
      return `${hex.slice(0, 2).join(':')}::${hex.slice(5).join(':')}`;
    case 2:
      return `::ffff:${v4}`;
    case 3:
      return `[${hex.join(':').toUpperCase()}]`;
    case 4:
      return `64:ff9b::${v4}`;
    default:
      return `${hex.join(':')}%eth0`;
  }
});
const HOST_INPUT = fc.oneof(
  IPV4_FORMS,
  IPV6_FORMS,
  fc.constantFrom(
    'Example.COM', 'example.com.', 'example.com..', '.example.com', 'bücher.example', 'xn--bcher-kva.example', 'xn--', 'xn--zz', 'ＥＸＡＭＰＬＥ.com', 'ex\u00adample.com',
    'a\u200bb.com', 'ß.de', 'ς.gr', '_egress.local', 'dns.google', 'localhost', '1.2.3.4.5', '1.2.3', '256.1.1.1', '0x100000000', '4294967296', '[::1]', '[::1', '::1]',
    '[1.2.3.4]', '[::ffff:1.2.3.4]', '::', '1::2::3', 'a'.repeat(64) + '.com', `${'a.'.repeat(130)}com`, 'a b', 'a%20b', '%41.com', 'a/b', 'a?b', 'a#b', 'a@b', '*', '*.x.com',
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

// ---------------------------------------------------------------- routes-file generator

const ROUTE_KEYS = ['host', 'port', 'matches', 'auth', 'tls_passthrough', 'allow_private_cidrs', 'git', 'dlp', 'origin', 'paths', 'methods', 'headers', 'type', 'value', 'name', 'scheme', 'token_env', 'header', 'fetch', 'outbound_detectors', 'inbound_detectors', 'outbound_on_match'];
const ROUTE_SCALARS = [
  'api.example.com', '*.example.com', '*.com', '127.0.0.1', '::1', 'API.example.com', 'exact', 'prefix', 'regex', '/v1', 'v1', '([', '(a+)+$', 'GET', 'get', 'Bearer', 'header',
  'EGRESS_TOKEN_0', 'GITHUB_TOKEN', 'x-api-key', 'host', 'cookie', '10.0.0.0/8', '::/0', '1.2.3.4/33', 'all', 'block', 'redact', 'supervise', 'token_patterns', 'entropy',
  'naive_injection_detection', 'provider', 'manifest', 'approved',
];
const RVALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, fc.constantFrom(...ROUTE_SCALARS), fc.integer({ min: -1, max: 70000 }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...ROUTE_KEYS), tie('v'), { maxKeys: 4 })),
})).v;
const ROUTES_DOC = fc.record({
  version: fc.constantFrom(1, 1, 1, 2, '1'),
  generation: fc.constantFrom(0, 1, 7, -1, 1.5),
  bottle: fc.constantFrom('b', ''),
  log: fc.constantFrom(0, 1, 2, 3),
  routes: fc.array(fc.oneof(fc.dictionary(fc.constantFrom(...ROUTE_KEYS), RVALUE, { maxKeys: 5 }), fc.record({ host: fc.constantFrom(...ROUTE_SCALARS) })), { maxLength: 4 }),
}, { requiredKeys: ['version', 'routes'] });
const ROUTES_TEXT = fc.oneof(
  ROUTES_DOC.map((d) => JSON.stringify(d)),
  ROUTES_DOC.map((d) => `version: 1\nroutes:\n${(d.routes as unknown[]).map((r) => `  - ${JSON.stringify(r)}`).join('\n')}\n`),
  fc.constantFrom('a: &a [x]\nb: *a', 'version: 1\nversion: 1\nroutes: []', '!!binary x', 'version: !!str 1\nroutes: []', `version: 1\nroutes: ${'['.repeat(3000)}`, 'routes: [{host: a.com}, {host: a.com}]'),
  fc.string({ maxLength: 200 }),
);

// ---------------------------------------------------------------- fuzzers

describe('fuzz regressions', () => {
  it('a host with two trailing dots is refused, so a normalised host normalises to itself', () => {
    expect(normalizeHost('example.com..')).toBeNull();
    expect(parseAuthority('example.com..:443')).toBeNull();
    expect(decideConnect(TABLE, `${API}..:443`)).toMatchObject({ action: 'deny', code: 'bad_request' });
    expect(normalizeHost('example.com.')).toEqual({ host: 'example.com', kind: 'name' });
  });
});

describe('egress request parsing fuzzing, pure layer (docs/decisions/fuzzing-budget.md)', () => {
  it('requests: normalise and decide never throw, normalising twice equals once, admitted ⇒ normalised form admitted', () => {
    const b = fuzzBudget();
    const tally = { ok: 0, denied: 0, codes: new Map<string, number>() };
    fc.assert(
      fc.property(REQUEST, (req) => bounded(b, 'normalize+decide', req.input, () => checkRequest(req, tally))),
      b.params(),
    );
    const top = [...tally.codes].sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
    fuzzNote(`fuzz egress requests: ${tally.ok} admitted, ${tally.denied} refused [${top}] (seed ${b.seed}, ${b.ms} ms)`);
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.denied).toBeGreaterThan(0);
  }, fuzzBudget().testTimeoutMs);

  it('hosts and IPs: host/authority parsing, CONNECT and absolute-form decisions, IP and CIDR arithmetic never throw and are stable', () => {
    const b = fuzzBudget();
    fc.assert(
      fc.property(HOST_INPUT, fc.constantFrom('', ':443', ':80', ':8080', ':8443', ':0', ':65536', ':x', ':'), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 140 }), (h, port, bytes, bits) =>
        bounded(b, 'hosts', { h, port }, () => {
          const n = normalizeHost(h);
          if (n) {
            const again = normalizeHost(n.host);
            expect(again).toEqual(n);
            if (n.kind === 'ipv4') expect(parseIPv4(n.host)).not.toBeNull();
            if (n.kind === 'ipv6') expect(parseIPv6(n.host)).not.toBeNull();
            if (n.kind === 'name') {
              expect(n.host).toBe(n.host.toLowerCase());
              expect(n.host.endsWith('.')).toBe(false);
              expect(parseIPv4(n.host)).toBeNull();
            }
          }
          const auth = parseAuthority(`${h}${port}`);
          if (auth?.port != null) expect(auth.port >= 1 && auth.port <= 65535).toBe(true);
          const c = decideConnect(TABLE, `${h}${port}`);
          expect(decideConnect(TABLE, `${h}${port}`)).toEqual(c);
          // An IP literal is only ever reached through an exact route (C5).
          if ((c.action === 'intercept' || c.action === 'passthrough') && c.kind !== 'name') expect(TABLE.exact.has(c.host)).toBe(true);
          const abs = parseAbsoluteHttp(`http://${h}${port}/x`);
          if (abs && abs !== 'bad_scheme') {
            const d = decideAbsolute(TABLE, abs);
            if (d.action === 'forward') expect(d.route.auth).toBeFalsy();
          }
          // IP arithmetic: parse(format(x)) = x; an address is inside its own /128 and ::/0.
          const ip = Uint8Array.from(bytes);
          const text = formatIp(ip);
          expect(parseIp(text)).toEqual(ip);
          const own = parseCidr(text.includes(':') ? `${text}/128` : `${text}/32`);
          expect(own && inCidr(ip, own)).toBe(true);
          expect(inCidr(ip, parseCidr('::/0')!)).toBe(true);
          parseIp(h);
          const cidr = parseCidr(`${h}/${bits}`);
          if (cidr) inCidr(ip, cidr);
        }),
      ),
      b.params(),
    );
  }, fuzzBudget().testTimeoutMs);

  it('routes file: parse → a table or RoutesFileError; a parsed table compiles and renders to a fixed point', () => {
    const b = fuzzBudget();
    const tally = { ok: 0, errors: 0 };
    fc.assert(
      fc.property(ROUTES_TEXT, (text) =>
        bounded(b, 'routes file', text, () => {
          let doc;
          try {
            doc = parseRoutesFile(text);
          } catch (e) {
            if (!(e instanceof RoutesFileError)) throw new Error(`expected RoutesFileError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
            expect(e.message).not.toMatch(/\n/);
            tally.errors++;
            return;
          }
          tally.ok++;
          const table = compileRouteTable(doc);
          for (const r of table.routes) matchRequest(r, 'GET', '/v1/x', { 'x-api-key': 'k' });
          const rendered = renderRoutesFile(doc);
          expect(renderRoutesFile(parseRoutesFile(rendered))).toBe(rendered);
        }),
      ),
      b.params(),
    );
    fuzzNote(`fuzz egress routes file: ${tally.ok} parsed, ${tally.errors} refused (seed ${b.seed}, ${b.ms} ms)`);
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.errors).toBeGreaterThan(0);
  }, fuzzBudget().testTimeoutMs);
});
