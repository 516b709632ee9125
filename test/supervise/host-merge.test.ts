/**
 * The pure host-side pieces: the §3.2 merge (auth kept), proposal validation (no credentials),
 * warnings, the diff the operator reads, the modify round trip. docs/supervise.md.
 */
import { describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { unifiedDiff } from '../../src/supervise/host/line-diff.js';
import {
  editableText,
  mergeRoutes,
  parseEditedText,
  routeChangeView,
  routeWarnings,
  summarize,
  validateDockerfile,
  validateProposedRoutes,
  withApprovedRoutes,
} from '../../src/supervise/host/index.js';
import { LIVE_ROUTES } from './store-helpers.js';

const live = parseRoutesFile(LIVE_ROUTES);

describe('route merge (§3.2)', () => {
  it('replaces an existing (host, port) keeping auth, origin and DLP; appends others as approved with supervise DLP', () => {
    const merged = mergeRoutes(live.routes, validateProposedRoutes({ routes: [{ host: 'api.github.com', matches: [{ methods: ['GET', 'POST'] }] }, { host: 'pypi.org' }] }));
    expect(merged).toHaveLength(3);
    expect(merged[1]).toEqual({ host: 'api.github.com', matches: [{ methods: ['GET', 'POST'] }], auth: { scheme: 'token', token_env: 'EGRESS_TOKEN_1' }, origin: 'manifest' });
    expect(merged[2]).toEqual({ host: 'pypi.org', origin: 'approved', dlp: { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: ['naive_injection_detection'], outbound_on_match: 'supervise' } });
    // A different port is a different route.
    expect(mergeRoutes(live.routes, [{ host: 'api.github.com', port: 8443 }])).toHaveLength(3);
  });

  it('re-applying approvals on resume keeps the new table\'s auth and is idempotent', () => {
    const approvals = [{ proposal: 'p1', at: '', routes: [{ host: 'pypi.org' }] }, { proposal: 'p2', at: '', routes: [{ host: 'api.github.com', matches: [{ methods: ['HEAD'] }] }] }];
    const once = withApprovedRoutes(live, approvals);
    expect(once.routes.map((r) => r.host)).toEqual(['api.anthropic.com', 'api.github.com', 'pypi.org']);
    expect(once.routes[1]?.auth?.token_env).toBe('EGRESS_TOKEN_1');
    expect(withApprovedRoutes(once, approvals)).toEqual(once);
  });
});

describe('proposal validation', () => {
  it('refuses credentials, origin, bad sizes and unnormalised hosts with one-line reasons', () => {
    expect(() => validateProposedRoutes({ routes: [{ host: 'a.example.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }] })).toThrow(/credentials cannot be proposed; ask the operator to change the bottle manifest/);
    expect(() => validateProposedRoutes({ routes: [{ host: 'a.example.com', token_ref: 'GH' }] })).toThrow(/routes\[0\]\.token_ref: credentials cannot be proposed/);
    expect(() => validateProposedRoutes({ routes: [{ host: 'a.example.com', origin: 'provider' }] })).toThrow(/origin: set by the host/);
    expect(() => validateProposedRoutes({ routes: [] })).toThrow(/1 to 20 routes/);
    expect(() => validateProposedRoutes({ routes: [{ host: 'A.Example.com' }] })).toThrow(/not normalised/);
    // The operator may reuse a live slot, nothing else.
    expect(validateProposedRoutes([{ host: 'a.example.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }], { allowAuthSlots: new Set(['EGRESS_TOKEN_0']) })[0]?.auth?.token_env).toBe('EGRESS_TOKEN_0');
  });

  it('a Dockerfile must start with FROM (after comments and ARG) and hold no NUL', () => {
    expect(validateDockerfile({ dockerfile: '# base\nARG V=1\nFROM node:${V}\n' })).toContain('FROM');
    expect(() => validateDockerfile({ dockerfile: 'RUN true\nFROM x\n' })).toThrow(/must be FROM/);
    expect(() => validateDockerfile({ dockerfile: 'FROM x\0' })).toThrow(/NUL/);
  });
});

describe('what the operator reads', () => {
  it('warns on wildcard and IP hosts, passthrough, private CIDRs, weakened DLP, regex paths, non-GET/HEAD methods', () => {
    const w = routeWarnings(
      validateProposedRoutes([
        { host: '*.example.com', matches: [{ methods: ['GET'] }] },
        { host: '10.0.0.5', tls_passthrough: true },
        { host: 'a.example.com', allow_private_cidrs: ['10.0.0.0/8'], dlp: { outbound_detectors: false, outbound_on_match: 'block' }, matches: [{ paths: [{ type: 'regex', value: '/v[0-9]+/.*' }], methods: ['GET', 'DELETE'] }] },
        { host: 'b.example.com' },
      ]),
    );
    expect(w).toEqual([
      '*.example.com: wildcard host (covers every subdomain)',
      '10.0.0.5: IP-literal host',
      '10.0.0.5: tls_passthrough (not decrypted: no path rules, no DLP)',
      'a.example.com: allows private addresses 10.0.0.0/8',
      'a.example.com: weakened DLP',
      'a.example.com: regex path',
      'a.example.com: methods other than GET/HEAD: DELETE',
      'b.example.com: every method allowed (not only GET/HEAD)',
    ]);
  });

  it('the diff shows credentials as configured, never the slot', () => {
    const v = routeChangeView(live, { routes: [{ host: 'api.github.com', matches: [{ methods: ['GET', 'POST'] }] }] });
    expect(v.diff).toContain('credential: configured');
    expect(v.diff).not.toMatch(/EGRESS_TOKEN/);
    expect(v.diff).toMatch(/^-\s+value: \/repos\/acme\/$/m);
  });

  it('unifiedDiff: hunks with line numbers; equal texts → empty', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', { a: 'x', b: 'y' })).toBe('--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
    expect(unifiedDiff('a\n', 'a\n', { a: 'x', b: 'y' })).toBe('');
    expect(unifiedDiff('', 'FROM x\n', { a: 'x', b: 'y' })).toBe('--- x\n+++ y\n@@ -0,0 +1,1 @@\n+FROM x\n');
  });

  it('summaries per kind', () => {
    expect(summarize({ kind: 'egress-allow', payload: { routes: [{ host: 'pypi.org' }, { host: 'x.example.com', port: 8443 }] } })).toBe('allow pypi.org, x.example.com:8443');
    expect(summarize({ kind: 'egress-token-allow', payload: { host: 'h.example.com', method: 'POST', path: '/up', findings: [{ rule: 'github_token' }] } })).toBe('POST h.example.com/up carries github_token');
    expect(summarize({ kind: 'secret-allow', payload: { repo: 'webapp', findings: [{}, {}] } })).toBe('push to webapp with 2 findings');
  });

  it('modify round trip: editable YAML parses back to the same routes; invalid edits are refused', () => {
    const payload = { routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }] }] }] };
    expect(parseEditedText('egress-allow', editableText('egress-allow', payload), new Set())).toEqual(payload);
    expect(() => parseEditedText('egress-allow', '- host: [', new Set())).toThrow(/YAML/);
    expect(parseEditedText('capability-block', 'FROM a\n', new Set())).toEqual({ dockerfile: 'FROM a\n' });
  });
});
