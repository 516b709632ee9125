import { describe, expect, it } from 'vitest';
import { validateRoute } from '../../src/manifest/route-schema.js';
import { hostMatches } from '../../src/manifest/host.js';
import { matchesAccept, prefixMatches } from '../../src/manifest/path-match.js';
import { ManifestError } from '../../src/manifest/errors.js';
import type { Route } from '../../src/manifest/types.js';
import { bottleError, expectMsg, manifestError, parseBottleYaml } from './helpers.js';

/** Parses one route through a whole bottle file (positions, key paths). */
function route(yaml: string): Route {
  const b = parseBottleYaml(`egress:\n  routes:\n    - ${yaml.split('\n').join('\n      ')}`);
  const r = b.routes?.[0]?.route;
  if (!r) throw new Error('no route');
  return r;
}
function routeErr(yaml: string): ManifestError {
  return bottleError(`egress:\n  routes:\n    - ${yaml.split('\n').join('\n      ')}`);
}

describe('egress routes', () => {
  it('M2 a bare host gives one route with defaults', () => {
    const r = route('host: api.example.com');
    expect(r).toEqual({ host: 'api.example.com', tlsPassthrough: false, git: { fetch: true }, dlp: {}, allowPrivateCidrs: [] });
    expect(r.matches).toBeUndefined();
    expect(r.auth).toBeUndefined();
    // outbound_on_match default is supervise for manifest routes (rendered by consumers):
    expect(r.dlp.outboundOnMatch ?? 'supervise').toBe('supervise');
  });

  it('M3 host is required', () => {
    const e = bottleError('egress:\n  routes:\n    - {port: 443}');
    expectMsg(e, 'egress.routes[0].host is required');
    expect(e.issues[0]?.keyPath).toBe('egress.routes[0]');
  });

  it('M4 empty host', () => {
    expectMsg(routeErr('host: ""'), 'egress.routes[0].host must not be empty');
  });

  it('M5 unknown key wat', () => {
    const e = routeErr('host: api.example.com\nwat: yes');
    expectMsg(e, 'unknown key "wat"', 'allowed keys: host, port');
    expect(e.issues[0]?.line).toBe(5);
  });

  it('M6 host normalised', () => {
    expect(route('host: API.Example.COM.').host).toBe('api.example.com');
  });

  it('M6 IDN converted to punycode', () => {
    expect(route('host: bücher.example').host).toBe('xn--bcher-kva.example');
  });

  it('M7 IP literals and *.com', () => {
    expect(route('host: 10.0.0.5').host).toBe('10.0.0.5');
    expect(route('host: "::1"').host).toBe('::1');
    expect(route('host: "[::1]"').host).toBe('::1');
    expectMsg(routeErr('host: "*.com"'), 'two labels');
  });

  it('M8 host with scheme or path', () => {
    expectMsg(routeErr('host: https://x.com/a'), 'no scheme, path or port');
    expectMsg(routeErr('host: x.com:443'), 'port');
  });

  it('M9 wildcard matches deeper names, never the apex', () => {
    const r = route('host: "*.example.com"');
    expect(r.host).toBe('*.example.com');
    expect(hostMatches(r.host, 'a.b.example.com')).toBe(true);
    expect(hostMatches(r.host, 'a.example.com')).toBe(true);
    expect(hostMatches(r.host, 'example.com')).toBe(false);
    expect(hostMatches(r.host, 'badexample.com')).toBe(false);
  });

  it('M10 other * placement', () => {
    expectMsg(routeErr('host: "foo*.example.com"'), '"*" only as a whole first label');
    expectMsg(routeErr('host: "a.*.example.com"'), '"*"');
  });

  it('M11 port 0 and "443"', () => {
    expectMsg(routeErr('host: a.com\nport: 0'), 'port must be an integer 1–65535');
    expectMsg(routeErr('host: a.com\nport: "443"'), 'without quotes');
    expect(route('host: a.com\nport: 8443').port).toBe(8443);
  });

  it('M11a allow_private_cidrs', () => {
    expect(route('host: a.com\nallow_private_cidrs: [10.0.0.0/8]').allowPrivateCidrs).toEqual(['10.0.0.0/8']);
    expectMsg(routeErr('host: a.com\nallow_private_cidrs: [banana]'), 'is not a CIDR');
    expectMsg(routeErr('host: a.com\nallow_private_cidrs: [169.254.0.0/16]'), 'metadata');
    expectMsg(routeErr('host: a.com\nallow_private_cidrs: [169.254.169.254/32]'), 'metadata');
    expect(route('host: a.com\nallow_private_cidrs: ["fd12:3456::/32", 192.168.1.7]').allowPrivateCidrs).toEqual(['fd12:3456::/32', '192.168.1.7/32']);
    // fd00::/8 contains the AWS IPv6 metadata address, so it is refused as a whole
    expectMsg(routeErr('host: a.com\nallow_private_cidrs: ["fd00::/8"]'), 'fd00:ec2::254');
  });

  it('M12 auth: {}', () => {
    expectMsg(routeErr('host: a.com\nauth: {}'), 'auth is empty');
  });

  it('M13 token_ref required', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer}'), 'token_ref is required');
  });

  it('M14 unknown scheme lists the schemes', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: Digest, token_ref: X}'), 'Bearer, token, Basic, header');
  });

  it('M15 scheme matched case-insensitively, stored canonical', () => {
    expect(route('host: a.com\nauth: {scheme: bearer, token_ref: X}').auth).toEqual({ scheme: 'Bearer', tokenRef: 'X' });
    expect(route('host: a.com\nauth: {scheme: BASIC, token_ref: X}').auth?.scheme).toBe('Basic');
  });

  it('M16 header required with scheme header', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: header, token_ref: X}'), 'header is required');
    expect(route('host: a.com\nauth: {scheme: header, token_ref: X, header: X-Api-Key}').auth).toEqual({ scheme: 'header', tokenRef: 'X', header: 'x-api-key' });
  });

  it('M16 forbidden injection headers', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: header, token_ref: X, header: Cookie}'), 'may not be Cookie');
    expectMsg(routeErr('host: a.com\nauth: {scheme: header, token_ref: X, header: Proxy-Authorization}'), 'may not be');
  });

  it('M17 header only with scheme header', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: X, header: X-Key}'), 'only allowed with scheme header');
  });

  it('M18 invalid variable name', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: github-token}'), 'name of a host environment variable');
  });

  it('M19 reserved token refs', () => {
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN}'), 'reserved');
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: EGRESS_TOKEN_0}'), 'reserved');
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: GIT_GATE_TOKEN_1}'), 'reserved');
    expectMsg(routeErr('host: a.com\nauth: {scheme: Bearer, token_ref: BOT_BOTTLE_PROVIDER_PI_KEY}'), 'reserved');
  });

  it('M20 tls_passthrough with auth / matches / dlp', () => {
    expectMsg(routeErr('host: a.com\ntls_passthrough: true\nauth: {scheme: Bearer, token_ref: X}'), 'tls_passthrough cannot be combined with auth');
    expectMsg(routeErr('host: a.com\ntls_passthrough: true\nmatches: [{methods: [GET]}]'), 'matches');
    expectMsg(routeErr('host: a.com\ntls_passthrough: true\ndlp: {outbound_on_match: block}'), 'dlp');
    expect(route('host: a.com\ntls_passthrough: true').tlsPassthrough).toBe(true);
  });

  it('M21 matches: [] and {} entries', () => {
    expectMsg(routeErr('host: a.com\nmatches: []'), 'must not be empty');
    expectMsg(routeErr('host: a.com\nmatches: [{}]'), 'matches[0] is empty');
  });

  it('M22 invalid regex', () => {
    expectMsg(routeErr('host: a.com\nmatches: [{paths: [{type: regex, value: "(["}]}]'), 'not a valid regular expression');
    expectMsg(routeErr(`host: a.com\nmatches: [{paths: [{type: regex, value: "${'a'.repeat(1025)}"}]}]`), 'longer than 1024');
  });

  it('M23 prefix matches whole segments', () => {
    const r = route('host: a.com\nmatches: [{paths: [{type: prefix, value: /v1}]}]');
    const req = (path: string) => ({ method: 'GET', path, headers: {} });
    expect(matchesAccept(r.matches, req('/v1/x'))).toBe(true);
    expect(matchesAccept(r.matches, req('/v1'))).toBe(true);
    expect(matchesAccept(r.matches, req('/v1x'))).toBe(false);
    // trailing slash in the value is ignored
    expect(route('host: a.com\nmatches: [{paths: [{type: PathPrefix, value: /v1/}]}]').matches?.[0]?.paths?.[0]).toEqual({ type: 'prefix', value: '/v1' });
    expect(prefixMatches('/', '/anything')).toBe(true);
  });

  it('M23 Gateway spellings, exact and regex anchoring', () => {
    const r = route('host: a.com\nmatches:\n  - paths: [{type: Exact, value: /a}, {type: RegularExpression, value: "/r/[0-9]+"}]');
    const req = (path: string) => ({ method: 'GET', path, headers: {} });
    expect(matchesAccept(r.matches, req('/a'))).toBe(true);
    expect(matchesAccept(r.matches, req('/a/b'))).toBe(false);
    expect(matchesAccept(r.matches, req('/r/12'))).toBe(true);
    expect(matchesAccept(r.matches, req('/r/12/x'))).toBe(false);
    expectMsg(routeErr('host: a.com\nmatches: [{paths: [{type: exact, value: a}]}]'), 'must start with "/"');
  });

  it('M24 methods upper-cased; headers lower-cased and matched', () => {
    const r = route('host: a.com\nmatches: [{methods: [get], headers: [{name: X-Env, value: prod}]}]');
    expect(r.matches?.[0]?.methods).toEqual(['GET']);
    expect(r.matches?.[0]?.headers).toEqual([{ name: 'x-env', value: 'prod', type: 'exact' }]);
    expect(matchesAccept(r.matches, { method: 'get', path: '/', headers: { 'x-env': 'prod' } })).toBe(true);
    expect(matchesAccept(r.matches, { method: 'GET', path: '/', headers: { 'x-env': 'dev' } })).toBe(false);
    expect(matchesAccept(r.matches, { method: 'POST', path: '/', headers: { 'x-env': 'prod' } })).toBe(false);
  });

  it('M25 unknown detector suggests token_patterns', () => {
    expectMsg(routeErr('host: a.com\ndlp: {outbound_detectors: [token_patern]}'), 'did you mean "token_patterns"');
  });

  it('M25 detector forms all / false / []', () => {
    expect(route('host: a.com\ndlp: {outbound_detectors: all}').dlp.outboundDetectors).toEqual(['token_patterns', 'known_secrets', 'entropy']);
    expect(route('host: a.com\ndlp: {outbound_detectors: false, inbound_detectors: []}').dlp).toEqual({ outboundDetectors: [], inboundDetectors: [] });
    expect(route('host: a.com\ndlp: {inbound_detectors: all}').dlp.inboundDetectors).toEqual(['naive_injection_detection']);
  });

  it('M26 outbound_on_match lists the three values', () => {
    expectMsg(routeErr('host: a.com\ndlp: {outbound_on_match: warn}'), 'supervise, redact, block');
  });

  it('M27 egress.log 3 / "1"', () => {
    expectMsg(bottleError('egress: {log: 3}'), 'egress.log must be the integer 0, 1 or 2');
    expectMsg(bottleError('egress: {log: "1"}'), 'remove the quotes');
    expect(parseBottleYaml('egress: {log: 2}').log).toBe(2);
  });

  it('route git.fetch', () => {
    expect(route('host: a.com\ngit: {fetch: false}').git).toEqual({ fetch: false });
    expectMsg(routeErr('host: a.com\ngit: {fetch: "no"}'), 'must be true or false');
  });

  it('validateRoute: same rules for provider routes, with an allow hook for synthetic refs', () => {
    expect(validateRoute({ host: 'api.openai.com', auth: { scheme: 'Bearer', token_ref: 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN' } }, { allowTokenRef: (n) => n === 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN' }).auth?.tokenRef).toBe(
      'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN',
    );
    const e = manifestError(() => validateRoute({ host: 'api.openai.com', auth: { scheme: 'Bearer', token_ref: 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN' } }, { keyPath: 'codex.egressRoutes[0]' }));
    expect(e.issues[0]?.keyPath).toBe('codex.egressRoutes[0].auth.token_ref');
    expect(e.message).toContain('reserved');
    expect(() => validateRoute('x')).toThrow(ManifestError);
  });
});
