import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { normalizeHost, parseAuthority } from '../../src/egress/host.js';
import { checkAddress, checkAddresses, compileCidrs } from '../../src/egress/ssrf.js';
import { parseIp, formatIp } from '../../src/egress/ip.js';
import { parseRoutesFile, renderRoutesFile, RoutesFileError } from '../../src/egress/routes-file.js';
import { compileRouteTable, selectRoute, type RouteTable } from '../../src/egress/route-table.js';
import { prefixMatches } from '../../src/egress/match.js';
import { decideConnect, decideNormalized, decideAbsolute, parseAbsoluteHttp, dlpVerdict } from '../../src/egress/decide.js';
import { normalizeRequest } from '../../src/egress/normalize.js';
import { injectionHeader, filterRequestHeaders } from '../../src/egress/inject.js';
import { denyBody, denyHeaders } from '../../src/egress/deny.js';
import type { Finding } from '../../src/dlp/types.js';
import type { RoutesFile } from '../../src/egress/routes-file-types.js';

const A = 'api.example.test';

function table(yaml: string) {
  return compileRouteTable(parseRoutesFile(`version: 1\ngeneration: 1\nbottle: b\nlog: 0\nroutes:\n${yaml}`));
}

const std = table(`
  - host: ${A}
    matches:
      - paths: [{type: prefix, value: /v1}]
        methods: [GET, POST]
    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}
    allow_private_cidrs: [127.0.0.0/8]
  - {host: ported.test, port: 8443}
  - {host: "*.cdn.test"}
  - {host: "*.x.test"}
  - {host: api.x.test, auth: {scheme: token, token_env: EGRESS_TOKEN_1}}
  - {host: 127.0.0.1}
  - {host: pinned.test, tls_passthrough: true}
  - host: gh.test
    matches:
      - paths: [{type: exact, value: /graphql}]
      - paths: [{type: regex, value: "/repos/[^/]+/issues"}]
      - paths: [{type: prefix, value: /h}]
        headers: [{name: x-api-version, type: exact, value: "2022-11-28"}]
  - {host: plain.test}
  - {host: nofetch.test, git: {fetch: false}}
`);

interface RequestInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  scheme: 'https' | 'http';
  host: string;
  port: number;
}
function req(over: Partial<RequestInput> & { url: string }): RequestInput {
  return { method: 'GET', headers: { host: over.host ?? A }, scheme: 'https', host: A, port: 443, ...over };
}
/** R2–R5b as the proxy decides them: normalise once, then decide on the normalised request. */
function decideRequest(table: RouteTable, r: RequestInput) {
  const n = normalizeRequest({
    method: r.method,
    target: { scheme: r.scheme, host: r.host, port: r.port },
    rawTarget: r.url,
    rawHeaders: Object.entries(r.headers).flat(),
    isConnectInner: r.scheme === 'https',
  });
  return n.ok ? decideNormalized(table, n.req) : { action: 'deny' as const, code: n.code };
}
/** The normaliser accepts a path (R3) when it yields a request at all. */
const pathIsSafe = (path: string): boolean =>
  normalizeRequest({ method: 'GET', target: { scheme: 'https', host: A, port: 443 }, rawTarget: path, rawHeaders: ['Host', A], isConnectInner: true }).ok;

describe('host normalisation (C2)', () => {
  it('normalises case, IDNA, trailing dot, legacy IPv4 forms, IPv6', () => {
    expect(normalizeHost('API.Example.Test.')).toEqual({ host: A, kind: 'name' });
    expect(normalizeHost('bücher.de')?.host).toBe('xn--bcher-kva.de');
    expect(normalizeHost('2130706433')).toEqual({ host: '127.0.0.1', kind: 'ipv4' });
    expect(normalizeHost('0x7f.1')).toEqual({ host: '127.0.0.1', kind: 'ipv4' });
    expect(normalizeHost('[::1]')).toEqual({ host: '::1', kind: 'ipv6' });
    expect(normalizeHost('::FFFF:127.0.0.1')?.host).toBe('::ffff:7f00:1');
    expect(normalizeHost('a b')).toBeNull();
    expect(normalizeHost('evil.test/x')).toBeNull();
    expect(normalizeHost('_egress.local')?.host).toBe('_egress.local');
  });
  it('parses authorities with ports', () => {
    expect(parseAuthority('a.test:443')).toEqual({ host: { host: 'a.test', kind: 'name' }, port: 443 });
    expect(parseAuthority('[::1]:443')?.port).toBe(443);
    expect(parseAuthority('a.test:0')).toBeNull();
    expect(parseAuthority('a.test:99999')).toBeNull();
    expect(parseAuthority('a.test:x')).toBeNull();
    expect(parseAuthority('::1:443')).toBeNull();
  });
  it('fuzz: never throws on arbitrary authorities', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      parseAuthority(s);
      decideConnect(std, s);
    }), { numRuns: 2000 });
  });
});

describe('SSRF address policy', () => {
  const none = compileCidrs([]);
  it('E13/E14/E15 private, metadata, mixed, mapped and NAT64', () => {
    expect(checkAddress('10.0.0.5', none).ok).toBe(false);
    expect(checkAddress('10.0.0.5', compileCidrs(['10.0.0.0/8'])).ok).toBe(true);
    expect(checkAddress('169.254.169.254', compileCidrs(['169.254.0.0/16']))).toMatchObject({ ok: false, why: 'metadata' });
    expect(checkAddress('169.254.170.2', compileCidrs(['0.0.0.0/0'])).ok).toBe(false);
    expect(checkAddress('fd00:ec2::254', compileCidrs(['fc00::/7'])).ok).toBe(false);
    expect(checkAddresses(['93.184.216.34', '127.0.0.1'], none).ok).toBe(false);
    expect(checkAddress('::ffff:127.0.0.1', none).ok).toBe(false);
    expect(checkAddress('::ffff:7f00:1', none).ok).toBe(false);
    expect(checkAddress('64:ff9b::a9fe:a9fe', compileCidrs(['169.254.0.0/16'])).ok).toBe(false);
    expect(checkAddress('64:ff9b::0a00:0001', none).ok).toBe(false);
    expect(checkAddress('64:ff9b::5db8:d822', none).ok).toBe(true);
    expect(checkAddress('93.184.216.34', none).ok).toBe(true);
    expect(checkAddress('2606:4700::1111', none).ok).toBe(true);
    for (const a of ['0.1.2.3', '100.64.0.1', '127.9.9.9', '172.16.0.1', '172.31.255.255', '192.0.0.1', '192.0.2.1', '192.168.1.1', '198.18.0.1', '198.51.100.1', '203.0.113.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'fc00::1', 'fe80::1', 'ff02::1', '2001:db8::1']) {
      expect(checkAddress(a, none).ok, a).toBe(false);
    }
    expect(checkAddress('172.32.0.1', none).ok).toBe(true);
    expect(checkAddress('::ffff:127.0.0.1', compileCidrs(['127.0.0.0/8'])).ok).toBe(true);
    expect(checkAddress('not-an-ip', none).ok).toBe(false);
    expect(checkAddresses([], none).ok).toBe(false);
  });
  it('round-trips IPv6 formatting', () => {
    expect(formatIp(parseIp('2001:db8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('::ffff:1.2.3.4')!)).toBe('1.2.3.4');
    expect(parseIp('1.2.3')).toBeNull();
    expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeNull();
  });
});

describe('routes file', () => {
  const head = 'version: 1\ngeneration: 3\nbottle: b\nlog: 1\nroutes:\n';
  it('parses an example file and fills dlp defaults', () => {
    const doc = parseRoutesFile(`${head}  - host: api.anthropic.com
    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}
    dlp: {outbound_detectors: [token_patterns, known_secrets], inbound_detectors: false, outbound_on_match: redact}
    origin: provider
  - host: api.github.com
    matches:
      - paths: [{type: prefix, value: /repos/acme/widget}]
        methods: [GET]
      - paths: [{type: exact, value: /graphql}]
        methods: [POST]
        headers: [{name: x-github-api-version, type: exact, value: "2022-11-28"}]
    auth: {scheme: token, token_env: EGRESS_TOKEN_1}
  - {host: registry.corp.test, port: 8443, allow_private_cidrs: [10.20.0.0/16]}
  - {host: pinned.example.com, tls_passthrough: true}
`);
    expect(doc.generation).toBe(3);
    expect(doc.routes).toHaveLength(4);
    const t = compileRouteTable(doc);
    expect(t.slots).toEqual(['EGRESS_TOKEN_0', 'EGRESS_TOKEN_1']);
    expect(t.routes[1]!.onMatch).toBe('block');
    expect([...t.routes[1]!.outbound]).toEqual(['token_patterns', 'known_secrets']);
    expect(t.routes[1]!.inbound).toBe(true);
    expect(t.routes[0]!.inbound).toBe(false);
  });
  const bad: Array<[string, string, RegExp]> = [
    ['alias', `${head}  - &r {host: a.test}\n  - *r\n`, /aliases/],
    ['duplicate key', `${head}  - {host: a.test, host: b.test}\n`, /duplicate key/],
    ['unknown key with hint', `${head}  - {host: a.test, prot: 1}\n`, /routes\[0\]\.prot: unknown key \(did you mean "port"\?\)/],
    ['unknown top key', `${head.replace('log: 1', 'logg: 1')}  - {host: a.test}\n`, /logg: unknown key/],
    ['duplicate host/port', `${head}  - {host: a.test}\n  - {host: a.test, port: 443}\n`, /routes\[1\]: duplicates routes\[0\]/],
    ['passthrough+auth', `${head}  - {host: a.test, tls_passthrough: true, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}}\n`, /routes\[0\]\.auth: cannot be combined with tls_passthrough/],
    ['bad slot', `${head}  - {host: a.test, auth: {scheme: Bearer, token_env: GITHUB_TOKEN}}\n`, /token_env: must be a slot name/],
    ['header scheme w/o header', `${head}  - {host: a.test, auth: {scheme: header, token_env: EGRESS_TOKEN_0}}\n`, /auth\.header: must be a string/],
    ['forbidden header', `${head}  - {host: a.test, auth: {scheme: header, token_env: EGRESS_TOKEN_0, header: cookie}}\n`, /cannot inject "cookie"/],
    ['header with Bearer', `${head}  - {host: a.test, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0, header: x-a}}\n`, /only allowed with scheme header/],
    ['bad regex', `${head}  - {host: a.test, matches: [{paths: [{type: regex, value: "(/x"}]}]}\n`, /matches\[0\]\.paths\[0\]\.value: invalid regex/],
    ['non-normal host', `${head}  - {host: API.test}\n`, /write "api.test"/],
    ['short wildcard', `${head}  - {host: "*.test"}\n`, /at least two labels/],
    ['empty match', `${head}  - {host: a.test, matches: [{}]}\n`, /needs at least one of/],
    ['lower method', `${head}  - {host: a.test, matches: [{methods: [get]}]}\n`, /write "GET"/],
    ['bad cidr', `${head}  - {host: a.test, allow_private_cidrs: [10.0.0.0/33]}\n`, /not a CIDR/],
    ['port', `${head}  - {host: a.test, port: 0}\n`, /port: must be an integer/],
    ['version', 'version: 2\nroutes: []\n', /version: must be 1/],
    ['syntax', `${head}  - {host: a.test\n`, /YAML syntax error at line/],
    ['detectors', `${head}  - {host: a.test, dlp: {outbound_detectors: [nope]}}\n`, /outbound_detectors\[0\]: must be one of/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects: ${name}`, () => {
      let err: unknown;
      try {
        parseRoutesFile(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RoutesFileError);
      expect((err as Error).message).toMatch(re);
    });
  }
  it('renderRoutesFile round-trips and writes explicit dlp per origin', () => {
    const doc: RoutesFile = {
      version: 1, generation: 7, bottle: 'b-1', log: 2,
      routes: [
        { host: 'api.anthropic.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' }, origin: 'provider' },
        { host: 'gh.test', matches: [{ paths: [{ type: 'prefix', value: '/x' }], methods: ['GET'] }], origin: 'manifest' },
        { host: 'p.test', tls_passthrough: true },
      ],
    };
    const text = renderRoutesFile(doc);
    const back = parseRoutesFile(text);
    expect(back.routes[0]!.dlp).toEqual({ outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: false, outbound_on_match: 'redact' });
    expect(back.routes[1]!.dlp?.outbound_on_match).toBe('supervise');
    expect(back.routes[2]!.dlp).toBeUndefined();
    expect(back.generation).toBe(7);
    expect(parseRoutesFile(renderRoutesFile(back))).toEqual(back);
    expect(() => renderRoutesFile({ ...doc, routes: [{ host: 'A.test' }] })).toThrow(RoutesFileError);
  });
  it('fuzz: arbitrary YAML never crashes with anything but RoutesFileError', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        parseRoutesFile(s);
      } catch (e) {
        expect(e).toBeInstanceOf(RoutesFileError);
      }
    }), { numRuns: 1000 });
  });
});

describe('route selection and CONNECT (C1–C6)', () => {
  it('E1/E3/E4 no_route and ports', () => {
    expect(decideConnect(std, 'evil.test:443')).toMatchObject({ action: 'deny', code: 'no_route' });
    expect(decideConnect(std, `${A}:443`)).toMatchObject({ action: 'intercept', host: A, port: 443 });
    expect(decideConnect(std, `${A}:8443`)).toMatchObject({ action: 'deny', code: 'no_route' });
    expect(decideConnect(std, 'ported.test:8443')).toMatchObject({ action: 'intercept' });
    expect(decideConnect(std, 'ported.test:443')).toMatchObject({ action: 'deny', code: 'no_route' });
    expect(decideConnect(std, 'ported.test')).toMatchObject({ action: 'deny', code: 'bad_request' });
  });
  it('E10/E11 IP literals', () => {
    expect(decideConnect(std, '93.184.216.34:443')).toMatchObject({ code: 'ip_literal' });
    expect(decideConnect(std, '[::1]:443')).toMatchObject({ code: 'ip_literal' });
    expect(decideAbsolute(std, parseAbsoluteHttp('http://2130706433/') as never)).toMatchObject({ action: 'forward', host: '127.0.0.1' });
    const t2 = table('  - {host: a.test}\n');
    expect(decideAbsolute(t2, parseAbsoluteHttp('http://2130706433/') as never)).toMatchObject({ code: 'ip_literal' });
    expect(decideConnect(std, '127.0.0.1:443')).toMatchObject({ action: 'intercept' });
    expect(decideConnect(std, '0x7f.1:443')).toMatchObject({ action: 'intercept', host: '127.0.0.1' });
  });
  it('E12 DoH hosts unless exactly routed', () => {
    expect(decideConnect(std, 'dns.google:443')).toMatchObject({ code: 'doh' });
    expect(decideConnect(table('  - {host: dns.google}\n'), 'dns.google:443')).toMatchObject({ action: 'intercept' });
    expect(decideConnect(table('  - {host: "*.quad9.net"}\n'), 'dns.quad9.net:443')).toMatchObject({ code: 'doh' });
  });
  it('E16/E17 wildcards', () => {
    expect(decideConnect(std, 'a.b.cdn.test:443')).toMatchObject({ action: 'intercept' });
    expect(decideConnect(std, 'cdn.test:443')).toMatchObject({ code: 'no_route' });
    expect(decideConnect(std, 'evilcdn.test:443')).toMatchObject({ code: 'no_route' });
    expect(selectRoute(std, 'api.x.test', 443)?.auth?.slot).toBe('EGRESS_TOKEN_1');
    expect(selectRoute(std, 'www.x.test', 443)?.auth).toBeNull();
    const t = table('  - {host: "*.a.example.com"}\n  - {host: "*.example.com", port: 8443}\n  - {host: "*.example.com"}\n');
    expect(selectRoute(t, 'x.a.example.com', 443)?.index).toBe(0);
    expect(selectRoute(t, 'x.b.example.com', 443)?.index).toBe(2);
    expect(selectRoute(t, 'x.b.example.com', 8443)?.index).toBe(1);
  });
  it('passthrough and local', () => {
    expect(decideConnect(std, 'pinned.test:443')).toMatchObject({ action: 'passthrough' });
    expect(decideConnect(std, '_egress.local:443')).toMatchObject({ action: 'local' });
  });
  it('E7/E8 absolute-form http', () => {
    expect(decideAbsolute(std, parseAbsoluteHttp('http://plain.test/x') as never)).toMatchObject({ action: 'forward', port: 80 });
    expect(decideAbsolute(std, parseAbsoluteHttp(`http://${A}/v1/x`) as never)).toMatchObject({ code: 'plain_http_credential' });
    expect(decideAbsolute(std, parseAbsoluteHttp('http://pinned.test/') as never)).toMatchObject({ code: 'no_route' });
    expect(parseAbsoluteHttp('ftp://a.test/')).toBe('bad_scheme');
    expect(parseAbsoluteHttp('http://u:p@a.test/')).toBeNull();
    expect(parseAbsoluteHttp('http://a.test')).toMatchObject({ target: '/' });
  });
});

describe('request decisions (R2–R5b)', () => {
  it('E5/E6 Host check', () => {
    expect(decideRequest(std, req({ url: '/v1/x', headers: { host: 'evil.test' } }))).toMatchObject({ code: 'host_mismatch' });
    expect(decideRequest(std, req({ url: '/v1/x', headers: { host: 'API.Example.Test:443' } }))).toMatchObject({ action: 'allow' });
    expect(decideRequest(std, req({ url: '/v1/x', headers: { host: `${A}:8443` } }))).toMatchObject({ code: 'host_mismatch' });
    expect(decideRequest(std, req({ url: 'https://evil.test/v1/x' }))).toMatchObject({ code: 'host_mismatch' });
    expect(decideRequest(std, req({ url: `https://${A}/v1/x` }))).toMatchObject({ action: 'allow', path: '/v1/x' });
    expect(decideRequest(std, req({ url: '/v1/x', headers: {} }))).toMatchObject({ code: 'bad_request' });
  });
  it('E18 prefix segment-wise and methods', () => {
    for (const p of ['/v1', '/v1/messages', '/v1/', '/v1?x=1']) expect(decideRequest(std, req({ url: p })).action, p).toBe('allow');
    for (const p of ['/v10', '/v1beta', '/v']) expect(decideRequest(std, req({ url: p })), p).toMatchObject({ code: 'no_match' });
    expect(decideRequest(std, req({ url: '/v1', method: 'PUT' }))).toMatchObject({ code: 'no_match' });
    expect(prefixMatches('/v1/', '/v1')).toBe(true);
    expect(prefixMatches('/', '/anything')).toBe(true);
  });
  const gh = (url: string, headers: Record<string, string> = {}) =>
    decideRequest(std, req({ url, host: 'gh.test', headers: { host: 'gh.test', ...headers } }));
  it('E19/E20/E21/E22 exact, regex, headers, any-of entries', () => {
    expect(gh('/graphql?x=1')).toMatchObject({ action: 'allow', match: 0 });
    expect(gh('/graphql/')).toMatchObject({ code: 'no_match' });
    expect(gh('/repos/a/issues')).toMatchObject({ action: 'allow', match: 1 });
    expect(gh('/repos/a/issues/1')).toMatchObject({ code: 'no_match' });
    expect(gh('/h/x')).toMatchObject({ code: 'no_match' });
    expect(gh('/h/x', { 'x-api-version': '2022-11-28' })).toMatchObject({ action: 'allow', match: 2 });
    expect(gh('/h/x', { 'x-api-version': '2022-11-29' })).toMatchObject({ code: 'no_match' });
  });
  it('E23 bad paths', () => {
    for (const p of ['/v1/../x', '/v1/%2e%2e/x', '/v1\\x', '/v1/%2E/x', '/v1/.%2e/x', '/v1/..%2fx', '/v1/./x', '/v1/..']) {
      expect(decideRequest(std, req({ url: p })), p).toMatchObject({ code: 'bad_path' });
    }
    expect(pathIsSafe('/api/v4/projects/acme%2Fwidget')).toBe(true);
    expect(pathIsSafe('/a/.b/c..d')).toBe(true);
    // an all-dots segment is refused too: some servers trim trailing dots (docs/decisions/egress-normalisation.md)
    expect(pathIsSafe('/a/...')).toBe(false);
  });
  it('E12 DoH-shaped requests on any route', () => {
    expect(decideRequest(std, req({ url: '/v1/q', method: 'POST', headers: { host: A, 'content-type': 'application/dns-message' } }))).toMatchObject({ code: 'doh' });
    expect(decideRequest(std, req({ url: '/v1/q', headers: { host: A, accept: 'text/html, application/dns-json;q=0.9' } }))).toMatchObject({ code: 'doh' });
    expect(decideRequest(std, req({ url: '/v1/dns-query?dns=AAAB' }))).toMatchObject({ code: 'doh' });
  });
  it('E28b git push refused, fetch per route', () => {
    const g = (url: string, method = 'GET', host = 'plain.test') => decideRequest(std, req({ url, method, host, headers: { host } }));
    expect(g('/r.git/info/refs?service=git-receive-pack')).toMatchObject({ code: 'git_push_via_egress' });
    expect(g('/r.git/git-receive-pack', 'POST')).toMatchObject({ code: 'git_push_via_egress' });
    expect(g('/r.git/info/refs?service=git-upload-pack')).toMatchObject({ action: 'allow' });
    expect(g('/r.git/git-upload-pack', 'POST', 'nofetch.test')).toMatchObject({ code: 'git_fetch_disabled' });
    const dumb = normalizeRequest({ method: 'GET', target: { scheme: 'https', host: A, port: 443 }, rawTarget: '/x/info/refs', rawHeaders: ['Host', A], isConnectInner: true });
    expect(dumb.ok && dumb.req.gitService).toBeNull();
  });
  it('fuzz: request decisions never throw', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.constantFrom('GET', 'POST', 'PUT'), (url, host, method) => {
      decideRequest(std, req({ url, method, headers: { host } }));
    }), { numRuns: 2000 });
  });
});

describe('injection and header filter (R6)', () => {
  it('E24–E27 schemes', () => {
    expect(injectionHeader({ scheme: 'Bearer', header: 'authorization' }, 'v')).toEqual(['authorization', 'Bearer v']);
    expect(injectionHeader({ scheme: 'token', header: 'authorization' }, 'v')).toEqual(['authorization', 'token v']);
    expect(injectionHeader({ scheme: 'Basic', header: 'authorization' }, 'alice:s3cret-XYZ123')).toEqual(['authorization', `Basic ${Buffer.from('alice:s3cret-XYZ123').toString('base64')}`]);
    expect(injectionHeader({ scheme: 'Basic', header: 'authorization' }, 'glpat-abcdefghij0123456789')).toEqual(['authorization', `Basic ${Buffer.from('x-access-token:glpat-abcdefghij0123456789').toString('base64')}`]);
    expect(injectionHeader({ scheme: 'header', header: 'x-api-key' }, 'v')).toEqual(['x-api-key', 'v']);
  });
  it('strips agent credentials, x-bot-bottle-*, hop-by-hop and Connection-named headers', () => {
    const raw = ['Host', 'a', 'Authorization', 'Bearer fake', 'Proxy-Authorization', 'Basic x', 'X-Api-Key', 'fake', 'x-bot-bottle-deny', 'no', 'Connection', 'keep-alive, X-Drop', 'X-Drop', '1', 'Keep-Alive', '5', 'TE', 'trailers', 'Accept', '*/*', 'Upgrade', 'h2c'];
    expect(filterRequestHeaders(raw, { injectedHeader: 'x-api-key', websocket: false })).toEqual(['Host', 'a', 'Accept', '*/*']);
    const ws = ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Extensions', 'permessage-deflate', 'Sec-WebSocket-Key', 'k'];
    expect(filterRequestHeaders(ws, { injectedHeader: '', websocket: true })).toEqual(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k']);
  });
});

describe('deny responses', () => {
  it('body has the marker, method, scheme, host, path; never the query', () => {
    const b = denyBody('no_route', { method: 'GET', scheme: 'https', host: 'evil.example', port: 443, path: '/' });
    expect(b).toBe('egress: denied (no_route) GET https://evil.example/\nThis bottle has no egress route for evil.example:443.\nSee allowed routes with the supervise tool `list-egress-routes`; ask the operator with `egress-allow`.\n');
    const d = denyBody('dlp_block', { method: 'POST', scheme: 'https', host: A, port: 443, path: '/v1/x', findings: [{ detector: 'token_patterns', rule: 'github_token', surface: 'body' }] });
    expect(d).toContain('POST https://api.example.test<redacted>');
    expect(d).toContain('token_patterns/github_token in body');
    expect(denyHeaders('upstream_tls', 3)).toMatchObject({ 'x-bot-bottle-error': 'upstream_tls' });
    expect(denyHeaders('ssrf', 3)).toMatchObject({ 'x-bot-bottle-deny': 'ssrf', 'cache-control': 'no-store' });
  });
});

describe('DLP verdict', () => {
  const f = (o: Partial<Finding>): Finding => ({ detector: 'token_patterns', rule: 'github_token', surface: 'body', start: 0, end: 4, severity: 'block', masked: 'ghp_… (len 40)', fingerprint: 'abcdefabcdef', ...o });
  const route = (onMatch: 'block' | 'redact' | 'supervise') => table(`  - {host: a.test, dlp: {outbound_detectors: all, inbound_detectors: false, outbound_on_match: ${onMatch}}}\n`).routes[0]!;
  it('canary always wins, slots always block, entropy only warns', () => {
    expect(dlpVerdict([f({ detector: 'canary', rule: 'raw' })], route('redact'))).toMatchObject({ action: 'deny', code: 'canary' });
    expect(dlpVerdict([f({ detector: 'known_secrets', secretKind: 'slot' })], route('redact'))).toMatchObject({ action: 'deny', code: 'dlp_block' });
    expect(dlpVerdict([f({ detector: 'entropy', severity: 'warn' })], route('block'))).toMatchObject({ action: 'allow' });
    expect(dlpVerdict([f({})], route('block'))).toMatchObject({ action: 'deny', code: 'dlp_block' });
    expect(dlpVerdict([f({})], route('redact'))).toMatchObject({ action: 'redact' });
    expect(dlpVerdict([f({ surface: 'host' })], route('redact'))).toMatchObject({ code: 'dlp_redact_failed' });
    expect(dlpVerdict([f({ start: null, end: null, rule: 'fragment' })], route('redact'))).toMatchObject({ code: 'dlp_redact_failed' });
    expect(dlpVerdict([f({ detector: 'known_secrets', secretKind: 'sensitive' })], route('supervise'))).toMatchObject({ action: 'supervise' });
  });
});
