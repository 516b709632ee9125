/** `log --suggest` (pure): refusals → a routes snippet that loads with the manifest route schema. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collapsePaths, suggestRoutes } from '../../src/log/suggest.js';
import { fromEgress, fromGate, isDenied, parseAuditLine, type LogEntry } from '../../src/log/entry.js';
import { Ctx } from '../../src/manifest/check.js';
import { parseRoute } from '../../src/manifest/route-schema.js';

let n = 0;
function deny(host: string, method: string, path: string, reason: string, extra: Partial<LogEntry> = {}): LogEntry {
  n += 1;
  return { ts: `2026-12-05T12:00:${String(n % 60).padStart(2, '0')}.000Z`, slug: 's-1', source: 'egress', decision: 'deny', host, port: 443, method, path, rule: null, reason, status: 403, ...extra };
}

/** The snippet's routes, each validated by the manifest's own route parser. */
function loadRoutes(yaml: string): unknown[] {
  const doc = parse(yaml) as { egress?: { routes?: unknown[] } } | null;
  const routes = doc?.egress?.routes ?? [];
  for (const [i, r] of routes.entries()) {
    const ctx = new Ctx('');
    expect(parseRoute(ctx, r, ['egress', 'routes', i]), JSON.stringify(ctx.issues)).toBeDefined();
  }
  return routes;
}

describe('collapsePaths', () => {
  it('a lone path stays exact; siblings collapse to their common whole-segment prefix', () => {
    expect(collapsePaths(['/v2/repos/a/issues', '/v2/repos/b/pulls', '/health'])).toEqual([
      { type: 'exact', value: '/health' },
      { type: 'prefix', value: '/v2/repos' },
    ]);
    expect(collapsePaths(['/a/b', '/a/b'])).toEqual([{ type: 'exact', value: '/a/b' }]);
    // a path already inside another group's prefix is not listed again
    expect(collapsePaths(['/private/a', '/private/q', '/private/b/c'])).toEqual([{ type: 'prefix', value: '/private' }]);
  });
});

describe('suggestRoutes', () => {
  it('groups by host and port, lists methods per path set, and the YAML loads as valid routes', () => {
    const s = suggestRoutes([
      deny('api.example.com', 'GET', '/v2/repos/a?page=2', 'no_route'),
      deny('api.example.com', 'GET', '/v2/repos/b', 'no_route'),
      deny('api.example.com', 'POST', '/upload', 'no_route'),
      deny('files.example.org', 'GET', '/x', 'no_route', { port: 8443 }),
    ]);
    expect(s.routes.map((r) => [r.host, r.port])).toEqual([['api.example.com', null], ['files.example.org', 8443]]);
    expect(s.routes[0]!.matches).toEqual([
      { methods: ['POST'], paths: [{ type: 'exact', value: '/upload' }] },
      { methods: ['GET'], paths: [{ type: 'prefix', value: '/v2/repos' }] },
    ]);
    expect(s.yaml).toContain('# RISK: allows POST');
    expect(s.yaml).not.toContain('page=2'); // never a query string
    const routes = loadRoutes(s.yaml);
    expect(routes).toHaveLength(2);
    expect(routes[1]).toMatchObject({ host: 'files.example.org', port: 8443 });
  });

  it('never proposes credentials, DLP refusals or redacted paths; says what it left out', () => {
    const s = suggestRoutes([
      deny('api.example.com', 'GET', '/ok', 'no_route'),
      deny('api.example.com', 'GET', '/t/[redacted:github_pat]', 'no_route'),
      deny('api.example.com', 'POST', '/x', 'dlp_block', { rule: 'api.example.com:443#0 github_pat' }),
      deny('metadata.internal', 'GET', '/', 'ssrf'),
    ]);
    expect(s.skipped).toEqual({ dlp_block: 1, ssrf: 1 });
    expect(s.droppedPaths).toBe(1);
    expect(s.yaml).not.toMatch(/^\s*auth:/m);
    expect(s.yaml).not.toContain('redacted:github_pat');
    expect(s.yaml).toContain('1 × dlp_block, 1 × ssrf');
    expect(loadRoutes(s.yaml)).toEqual([{ host: 'api.example.com', matches: [{ methods: ['GET'], paths: [{ type: 'exact', value: '/ok' }] }] }]);
  });

  it('IP literals are commented out with the risk; many names under one parent warn instead of a wildcard', () => {
    const s = suggestRoutes([
      deny('203.0.113.7', 'GET', '/a', 'ip_literal'),
      deny('a.cdn.example.net', 'GET', '/x', 'no_route'),
      deny('b.cdn.example.net', 'GET', '/x', 'no_route'),
      deny('c.cdn.example.net', 'GET', '/x', 'no_route'),
    ]);
    expect(s.yaml).toMatch(/# RISK: IP literal/);
    expect(s.yaml).toMatch(/^ {4}# - host: "203\.0\.113\.7"$/m);
    expect(s.yaml).toContain('a wildcard *.cdn.example.net is not proposed');
    expect(s.yaml).not.toMatch(/host: "?\*\./);
    expect((loadRoutes(s.yaml) as Array<{ host: string }>).map((r) => r.host)).toEqual(['a.cdn.example.net', 'b.cdn.example.net', 'c.cdn.example.net']);
  });

  it('no_match on an existing route says to merge; CONNECT-only refusals propose the host with a risk note', () => {
    const s = suggestRoutes([
      deny('api.example.com', 'DELETE', '/v1/x', 'no_match', { rule: 'api.example.com:443#0' }),
      deny('tunnel.example.com', 'CONNECT', '', 'no_route'),
    ]);
    expect(s.yaml).toContain('a route for this host exists (api.example.com:443): merge these matches into it');
    expect(s.yaml).toContain('only CONNECTs were refused');
    expect(loadRoutes(s.yaml)).toHaveLength(2);
  });

  it('nothing routable → a comment only, no routes key', () => {
    const s = suggestRoutes([deny('x.example.com', 'GET', '/', 'canary')]);
    expect(s.routes).toEqual([]);
    expect(s.yaml).toContain('No refusal here is one that a route would fix');
    expect(parse(s.yaml)).toBeNull();
  });
});

describe('audit lines → entries', () => {
  it('egress: named fields only; a token in host/path is redacted again; headers never copied', () => {
    const token = `ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`;
    const e = fromEgress({ ts: '2026-12-05T12:00:00Z', decision: 'deny', host: 'api.example.com', port: 443, method: 'GET', path: `/x?t=${token}`, route: null, match: null, reason: 'no_route', status: 403, headers: { authorization: token } }, 's')!;
    expect(JSON.stringify(e)).not.toContain(token);
    expect(e.path).toContain('[redacted:');
    expect(isDenied(e)).toBe(true);
  });

  it('git-gate: a refused push is a denial with its rule ids; refresh lines are not requests; torn lines are skipped', () => {
    const e = fromGate({ ts: '2026-12-05T12:00:00Z', event: 'gitgate_push', repo: 'app', outcome: 'secret', refs: [{ ref: 'refs/heads/main', old: '0', new: '1' }], findings: [{ rule: 'aws-access-key', file: 'a', line: 1 }] }, 's')!;
    expect(e).toMatchObject({ source: 'git-gate', decision: 'deny', host: 'app', method: 'push', path: 'refs/heads/main', rule: 'aws-access-key', reason: 'secret' });
    expect(fromGate({ ts: 't', event: 'gitgate_refresh', repo: 'app', ok: true }, 's')).toBeNull();
    expect(parseAuditLine('{"ts": "2026-', 'egress', 's')).toBeNull();
    expect(parseAuditLine('[1,2]', 'egress', 's')).toBeNull();
  });
});
