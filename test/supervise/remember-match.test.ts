/**
 * Approve-and-remember coverage (docs/decisions/supervise-remember.md): a remembered rule covers
 * a request equal to or narrower than what was approved, and nothing broader or oddly spelled.
 */
import { describe, expect, it } from 'vitest';
import { covers, ruleFromPayload, type RememberRuleBody } from '../../src/supervise/host/remember-match.js';
import type { ProposalKind } from '../../src/supervise/store/types.js';

function rule(kind: ProposalKind, payload: unknown): RememberRuleBody {
  const r = ruleFromPayload(kind, payload);
  if (!r.ok) throw new Error(r.message);
  return r.rule;
}

const routes = (...rs: unknown[]) => ({ routes: rs });
const pypi = { host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET', 'HEAD'] }] };
const remembered = rule('egress-allow', routes(pypi));
const ok = (p: unknown) => covers('egress-allow', remembered, p);

describe('egress-allow coverage', () => {
  it('the same request is covered', () => {
    expect(ok(routes(pypi))).toBe(true);
  });

  it('narrower requests are covered: fewer methods, a longer prefix, an exact path under it', () => {
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/requests/' }], methods: ['GET'] }] }))).toBe(true);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'exact', value: '/simple/x' }], methods: ['HEAD'] }] }))).toBe(true);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'exact', value: '/simple/x' }], methods: ['GET'], headers: [{ name: 'accept', type: 'exact', value: 'text/html' }] }] }))).toBe(true);
  });

  it('broader requests are not: no matches, another method, a shorter prefix, a sibling prefix, a regex', () => {
    expect(ok(routes({ host: 'pypi.org' }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['POST'] }] }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }] }] }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/' }], methods: ['GET'] }] }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simplex' }], methods: ['GET'] }] }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'regex', value: '/simple/.*' }], methods: ['GET'] }] }))).toBe(false);
    expect(ok(routes({ host: 'pypi.org', matches: [{ methods: ['GET'] }] }))).toBe(false);
  });

  it('one uncovered route among several makes the whole proposal wait', () => {
    expect(ok(routes(pypi, { host: 'files.pythonhosted.org' }))).toBe(false);
  });

  it('a narrower prefix never covers a broader one, and a prefix is not covered by an exact rule', () => {
    const narrow = rule('egress-allow', routes({ host: 'api.example.com', matches: [{ paths: [{ type: 'prefix', value: '/v1/repos/' }] }] }));
    expect(covers('egress-allow', narrow, routes({ host: 'api.example.com', matches: [{ paths: [{ type: 'prefix', value: '/v1/' }] }] }))).toBe(false);
    const exact = rule('egress-allow', routes({ host: 'api.example.com', matches: [{ paths: [{ type: 'exact', value: '/v1' }] }] }));
    expect(covers('egress-allow', exact, routes({ host: 'api.example.com', matches: [{ paths: [{ type: 'prefix', value: '/v1' }] }] }))).toBe(false);
  });

  it('path tricks are never covered: dot segments, percent escapes, double slashes, backslashes', () => {
    for (const value of ['/simple/../admin', '/simple/./x', '/simple/%2e%2e/admin', '/simple//x', '/simple/%2F', '/simple/\\..\\x']) {
      expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'exact', value }], methods: ['GET'] }] })), value).toBe(false);
    }
  });

  it('host tricks are never covered: case, trailing dot, Unicode for punycode, another host, a suffix', () => {
    const idn = rule('egress-allow', routes({ host: 'xn--bcher-kva.example' }));
    expect(covers('egress-allow', idn, routes({ host: 'xn--bcher-kva.example' }))).toBe(true);
    expect(covers('egress-allow', idn, routes({ host: 'bücher.example' }))).toBe(false);
    for (const host of ['PYPI.ORG', 'pypi.org.', 'evil-pypi.org', 'pypi.org.evil.com', 'sub.pypi.org']) {
      expect(ok(routes({ ...pypi, host })), host).toBe(false);
    }
  });

  it('method case: a lower-case method does not validate and is not covered', () => {
    expect(ok(routes({ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['get'] }] }))).toBe(false);
  });

  it('wildcards: a narrow rule does not cover a wildcard; a wildcard rule covers only the same wildcard', () => {
    const narrow = rule('egress-allow', routes({ host: 'api.example.com' }));
    expect(covers('egress-allow', narrow, routes({ host: '*.example.com' }))).toBe(false);
    const wild = rule('egress-allow', routes({ host: '*.example.com' }));
    expect(covers('egress-allow', wild, routes({ host: '*.example.com' }))).toBe(true);
    expect(covers('egress-allow', wild, routes({ host: 'api.example.com' }))).toBe(false);
  });

  it('ports, passthrough, private CIDRs and DLP never widen', () => {
    const r443 = rule('egress-allow', routes({ host: 'a.example.com', port: 443 }));
    expect(covers('egress-allow', r443, routes({ host: 'a.example.com', port: 443 }))).toBe(true);
    expect(covers('egress-allow', r443, routes({ host: 'a.example.com' }))).toBe(false); // 443 and 80
    expect(covers('egress-allow', r443, routes({ host: 'a.example.com', port: 8443 }))).toBe(false);
    const any = rule('egress-allow', routes({ host: 'a.example.com' }));
    // A route without a port serves 443 and 80 only: it covers those, never another port.
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', port: 443 }))).toBe(true);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', port: 80 }))).toBe(true);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', port: 22 }))).toBe(false);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', port: 8443 }))).toBe(false);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', tls_passthrough: true }))).toBe(false);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', allow_private_cidrs: ['10.0.0.0/8'] }))).toBe(false);
    expect(covers('egress-allow', any, routes({ host: 'a.example.com', dlp: { outbound_detectors: false, inbound_detectors: false, outbound_on_match: 'block' } }))).toBe(false);
    const cidr = rule('egress-allow', routes({ host: 'a.example.com', allow_private_cidrs: ['10.0.0.0/8', '192.168.0.0/16'] }));
    expect(covers('egress-allow', cidr, routes({ host: 'a.example.com', allow_private_cidrs: ['10.0.0.0/8'] }))).toBe(true);
  });

  it('credentials: a route with auth needs exact equality, and an agent proposal with auth is not covered', () => {
    const withAuth = rule('egress-allow', routes({ host: 'api.example.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }));
    expect(covers('egress-allow', withAuth, routes({ host: 'api.example.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }))).toBe(true);
    expect(covers('egress-allow', withAuth, routes({ host: 'api.example.com', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_1' } }))).toBe(false);
    expect(covers('egress-allow', withAuth, routes({ host: 'api.example.com' }))).toBe(false);
    expect(ok(routes({ ...pypi, token_env: 'X' }))).toBe(false);
  });

  it('invalid payloads are never covered', () => {
    expect(ok(null)).toBe(false);
    expect(ok({ routes: [] })).toBe(false);
    expect(ok({ routes: [{ ...pypi, origin: 'manifest' }] })).toBe(false);
  });
});

describe('egress-token-allow coverage', () => {
  const held = { bottle: 'b', host: 'api.example.com', method: 'POST', path: '/x', findings: [{ detector: 'token_patterns', rule: 'github-pat', surface: 'body', masked: 'ghp_… (len 40)', fingerprint: 'a1b2c3d4e5f6' }] };
  const r = rule('egress-token-allow', held);

  it('same host and fingerprints: covered, whatever the method or path', () => {
    expect(covers('egress-token-allow', r, { ...held, method: 'PUT', path: '/y' })).toBe(true);
    expect(covers('egress-token-allow', r, { ...held, host: 'API.Example.com.' })).toBe(true); // the same host, canonically
  });

  it('another host, another fingerprint, an extra finding, no findings: not covered', () => {
    expect(covers('egress-token-allow', r, { ...held, host: 'evil.example.com' })).toBe(false);
    expect(covers('egress-token-allow', r, { ...held, findings: [{ ...held.findings[0], fingerprint: 'ffffffffffff' }] })).toBe(false);
    expect(covers('egress-token-allow', r, { ...held, findings: [...held.findings, { ...held.findings[0], fingerprint: '000000000000' }] })).toBe(false);
    expect(covers('egress-token-allow', r, { ...held, findings: [] })).toBe(false);
  });

  it('the stored rule holds no masked value, only rule and fingerprint', () => {
    expect(JSON.stringify(r)).not.toContain('ghp_');
  });
});

describe('secret-allow coverage', () => {
  const commit = 'a'.repeat(40);
  const push = { repo: 'app', ref_updates: [], findings: [{ commit, file: 'config.py', line: 3, rule: 'aws-key', masked_line: 'AKIA… (len 20)', reason: 'test fixture' }] };
  const r = rule('secret-allow', push);

  it('the same finding (repo, commit, file, line, rule) is covered', () => {
    expect(covers('secret-allow', r, push)).toBe(true);
  });

  it('another repo, commit, line or rule is not', () => {
    expect(covers('secret-allow', r, { ...push, repo: 'other' })).toBe(false);
    expect(covers('secret-allow', r, { ...push, findings: [{ ...push.findings[0], commit: 'b'.repeat(40) }] })).toBe(false);
    expect(covers('secret-allow', r, { ...push, findings: [{ ...push.findings[0], line: 4 }] })).toBe(false);
    expect(covers('secret-allow', r, { ...push, findings: [{ ...push.findings[0], rule: 'generic' }] })).toBe(false);
  });
});

describe('capability-block', () => {
  it('is never remembered', () => {
    const r = ruleFromPayload('capability-block', { dockerfile: 'FROM x\n', justification: 'j'.repeat(30) });
    expect(r.ok).toBe(false);
    expect(covers('capability-block', { routes: [] }, { dockerfile: 'FROM x\n' })).toBe(false);
  });
});
