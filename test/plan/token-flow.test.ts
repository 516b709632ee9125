/**
 * The token flow (docs/architecture.md §4.3, steps 4–5): slots, route merge, resolveTokenValues.
 * The seed of this project: the Python original resolved manifest token refs and then slotted in
 * the Codex host credential in two copies, one per backend. Here there is one pure function and one
 * call.
 */
import { describe, expect, it } from 'vitest';
import { resolveTokenValues, TokenResolutionError } from '../../src/plan/resolve-token-values.js';
import { assignSlots } from '../../src/plan/slots.js';
import { mergeRoutes } from '../../src/plan/route-merge.js';
import { buildRoutesFile } from '../../src/plan/routes-doc.js';
import { renderRoutesFile } from '../../src/egress/routes-file.js';
import { codexProvider } from '../../src/providers/codex/provider.js';
import { claudeProvider } from '../../src/providers/claude/provider.js';
import type { Route, SourcedRoute } from '../../src/manifest/types.js';
import { NOW_S, T, fakeHost, makeCtx } from '../providers/fixtures.js';

const GH = 'ghp_markerGITHUBvalue000000000000000000';
const NPM = 'npm_markerNPMvalue0000000000';

function route(host: string, extra: Partial<Route> = {}): Route {
  return { host, tlsPassthrough: false, git: { fetch: true }, dlp: {}, allowPrivateCidrs: [], ...extra };
}
function bottle(r: Route, name = 'dev'): SourcedRoute {
  return { route: r, source: { bottle: name, file: `/home/ada/.bot-bottle/bottles/${name}.md` } };
}
const tokenRoute = (host: string, ref: string) => route(host, { auth: { scheme: 'Bearer', tokenRef: ref } });

/** What the pipeline does: merge, slot, resolve once with {...process.env, ...provisionedEnv}. */
function flow(providerRoutes: Parameters<typeof mergeRoutes>[1], bottleRoutes: SourcedRoute[], processEnv: Record<string, string>, provisionedEnv: Record<string, string>) {
  const merged = mergeRoutes('codex', providerRoutes, bottleRoutes);
  const slots = assignSlots(merged.routes.map((m) => m.route.auth?.tokenRef), 'EGRESS_TOKEN_');
  return { merged, slots, values: resolveTokenValues(slots.tokenEnvMap, { ...processEnv, ...provisionedEnv }) };
}

async function codexRoutes(forward: boolean, token: string) {
  const host = fakeHost({ '/home/ada/.codex/auth.json': JSON.stringify({ auth_mode: 'chatgpt', tokens: { access_token: token } }) });
  return codexProvider.plan(makeCtx({ host, config: { template: 'codex', forwardHostCredentials: forward } }));
}

describe('resolveTokenValues', () => {
  it('P1: empty map → a new empty object', () => {
    const map = {};
    const out = resolveTokenValues(map, { A: 'x' });
    expect(out).toEqual({});
    expect(out).not.toBe(map);
  });

  it('P2 (required): no routes → map {} → {} even with a provisioned codex token in hostEnv', async () => {
    const token = T(NOW_S + 3600);
    const codex = await codexRoutes(true, token);
    const { slots, values } = flow([], [], { PATH: '/usr/bin' }, codex.provisionedEnv);
    expect(slots.tokenEnvMap).toEqual({});
    expect(values).toEqual({});
  });

  it('P3 (required): routes with GITHUB_TOKEN, NPM_TOKEN, no forwarding → exactly the two manifest tokens', async () => {
    const codex = await codexRoutes(false, T(NOW_S + 3600));
    expect(codex.provisionedEnv).toEqual({});
    const { slots, values } = flow(
      codex.egressRoutes,
      [bottle(tokenRoute('api.github.com', 'GITHUB_TOKEN')), bottle(tokenRoute('registry.npmjs.org', 'NPM_TOKEN'))],
      { GITHUB_TOKEN: GH, NPM_TOKEN: NPM, OTHER: 'unrelated-value' },
      codex.provisionedEnv,
    );
    expect(slots.tokenEnvMap).toEqual({ EGRESS_TOKEN_0: 'GITHUB_TOKEN', EGRESS_TOKEN_1: 'NPM_TOKEN' });
    expect(values).toEqual({ EGRESS_TOKEN_0: GH, EGRESS_TOKEN_1: NPM });
  });

  it('P4 (required): forwarding → codex routes take slot 0, manifest GITHUB_TOKEN slot 1', async () => {
    const token = T(NOW_S + 3600);
    const codex = await codexRoutes(true, token);
    const { slots, values } = flow(codex.egressRoutes, [bottle(tokenRoute('api.github.com', 'GITHUB_TOKEN'))], { GITHUB_TOKEN: GH }, codex.provisionedEnv);
    expect(slots.tokenEnvMap).toEqual({ EGRESS_TOKEN_0: 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN', EGRESS_TOKEN_1: 'GITHUB_TOKEN' });
    expect(values).toEqual({ EGRESS_TOKEN_0: token, EGRESS_TOKEN_1: GH });
  });

  it('P5 (required): provisioned codex token but map only {EGRESS_TOKEN_0: GITHUB_TOKEN} → codex value absent', async () => {
    const token = T(NOW_S + 3600);
    const codex = await codexRoutes(true, token);
    const values = resolveTokenValues({ EGRESS_TOKEN_0: 'GITHUB_TOKEN' }, { GITHUB_TOKEN: GH, ...codex.provisionedEnv });
    expect(values).toEqual({ EGRESS_TOKEN_0: GH });
    expect(JSON.stringify(values)).not.toContain(token);
  });

  it('P6: missing variable → TOKEN_MISSING naming it, no values', () => {
    let err: unknown;
    try {
      resolveTokenValues({ EGRESS_TOKEN_0: 'A' }, { B: 'value-of-b-123' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TokenResolutionError);
    const e = err as TokenResolutionError;
    expect(e.code).toBe('TOKEN_MISSING');
    expect(e.variables).toEqual(['A']);
    expect(e.message).toBe('egress credential not set on the host: A (export it, or remove the route that uses it)');
    expect(e.message).not.toContain('value-of-b-123');
    expect(e.message).not.toContain(' B');
  });

  it('P7: empty string counts as missing', () => {
    expect(() => resolveTokenValues({ EGRESS_TOKEN_0: 'A' }, { A: '' })).toThrow(expect.objectContaining({ code: 'TOKEN_MISSING' }));
  });

  it('P8: two missing (B, A) → one error, first-appearance order, distinct', () => {
    try {
      resolveTokenValues({ EGRESS_TOKEN_0: 'B', EGRESS_TOKEN_1: 'A', GIT_GATE_TOKEN_0: 'B' }, {});
      expect.unreachable();
    } catch (e) {
      expect((e as TokenResolutionError).variables).toEqual(['B', 'A']);
    }
  });

  it('P9: the message never contains a present value', () => {
    try {
      resolveTokenValues({ EGRESS_TOKEN_0: 'A', EGRESS_TOKEN_1: 'B' }, { A: 'secret-value' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('secret-value');
      expect((e as Error).message).toContain('B');
    }
  });

  it('P10: provisionedEnv overrides process env for the same name', () => {
    const processEnv = { X: 'old' };
    const provisionedEnv = { X: 'new' };
    expect(resolveTokenValues({ EGRESS_TOKEN_0: 'X' }, { ...processEnv, ...provisionedEnv })).toEqual({ EGRESS_TOKEN_0: 'new' });
  });

  it('P11: a value with a newline → TOKEN_INVALID naming the variable', () => {
    try {
      resolveTokenValues({ EGRESS_TOKEN_0: 'A' }, { A: 'line1\nline2' });
      expect.unreachable();
    } catch (e) {
      expect((e as TokenResolutionError).code).toBe('TOKEN_INVALID');
      expect((e as Error).message).toContain('A');
      expect((e as Error).message).not.toContain('line1');
    }
    expect(() => resolveTokenValues({ EGRESS_TOKEN_0: 'A' }, { A: 'a\0b' })).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
    // Values are used verbatim otherwise: no trimming.
    expect(resolveTokenValues({ EGRESS_TOKEN_0: 'A' }, { A: ' padded ' })).toEqual({ EGRESS_TOKEN_0: ' padded ' });
  });

  it('P12: frozen inputs are not mutated; output is a new object', () => {
    const map = Object.freeze({ EGRESS_TOKEN_0: 'A' });
    const env = Object.freeze({ A: 'value-a', Z: 'z' });
    const out = resolveTokenValues(map, env);
    expect(out).toEqual({ EGRESS_TOKEN_0: 'value-a' });
    expect(Object.isFrozen(out)).toBe(false);
    out.EGRESS_TOKEN_0 = 'changed';
    expect(env.A).toBe('value-a');
  });

  it('P13a: egress and git-gate slots resolve in one call; a bad slot key is a TypeError', () => {
    expect(resolveTokenValues({ EGRESS_TOKEN_0: 'A', GIT_GATE_TOKEN_0: 'B' }, { A: 'aaa', B: 'bbb' })).toEqual({ EGRESS_TOKEN_0: 'aaa', GIT_GATE_TOKEN_0: 'bbb' });
    expect(() => resolveTokenValues({ FOO_1: 'A' }, { A: 'x' })).toThrow(TypeError);
    expect(() => resolveTokenValues({ EGRESS_TOKEN_CANARY: 'A' }, { A: 'x' })).toThrow(TypeError);
  });

  it('git-gate-only missing variable says git-gate credential', () => {
    expect(() => resolveTokenValues({ GIT_GATE_TOKEN_0: 'DOCS' }, {})).toThrow(/git-gate credential not set on the host: DOCS \(export it, or remove the repo that uses it\)/);
  });

  it('ignores inherited properties of hostEnv', () => {
    expect(() => resolveTokenValues({ EGRESS_TOKEN_0: 'toString' }, {})).toThrow(expect.objectContaining({ code: 'TOKEN_MISSING' }));
  });
});

describe('slots and the routes file', () => {
  it('P13: refs A, B, A → A→0, B→1, third route shares slot 0', () => {
    const merged = mergeRoutes('claude', [], [bottle(tokenRoute('a.example.com', 'A')), bottle(tokenRoute('b.example.com', 'B')), bottle(tokenRoute('c.example.com', 'A'))]);
    const slots = assignSlots(merged.routes.map((m) => m.route.auth?.tokenRef), 'EGRESS_TOKEN_');
    expect(slots.tokenEnvMap).toEqual({ EGRESS_TOKEN_0: 'A', EGRESS_TOKEN_1: 'B' });
    const doc = buildRoutesFile({ slug: 's-abcde', log: 1, routes: merged.routes, slotOf: slots.slotOf });
    expect(doc.routes.map((r) => r.auth?.token_env)).toEqual(['EGRESS_TOKEN_0', 'EGRESS_TOKEN_1', 'EGRESS_TOKEN_0']);
  });

  it('P14: the rendered routes file has slot names, not reference names, not values', async () => {
    const claude = await claudeProvider.plan(makeCtx({ config: { authToken: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN' } }));
    const merged = mergeRoutes('claude', claude.egressRoutes, [
      bottle(route('api.github.com', { auth: { scheme: 'token', tokenRef: 'GITHUB_TOKEN' }, matches: [{ paths: [{ type: 'prefix', value: '/repos/acme' }], methods: ['GET'] }] })),
      bottle(route('pinned.example.com', { tlsPassthrough: true })),
    ]);
    const slots = assignSlots(merged.routes.map((m) => m.route.auth?.tokenRef), 'EGRESS_TOKEN_');
    const env = { BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: 'sk-ant-oat-MARKERVALUE-000000', GITHUB_TOKEN: GH };
    resolveTokenValues(slots.tokenEnvMap, env);
    const text = renderRoutesFile(buildRoutesFile({ slug: 'impl-abcde', log: 1, routes: merged.routes, slotOf: slots.slotOf }));
    expect(text).toContain('token_env: EGRESS_TOKEN_0');
    expect(text).toContain('token_env: EGRESS_TOKEN_1');
    for (const forbidden of ['GITHUB_TOKEN', 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN', GH, 'MARKERVALUE']) expect(text).not.toContain(forbidden);
    const doc = buildRoutesFile({ slug: 'impl-abcde', log: 1, routes: merged.routes, slotOf: slots.slotOf });
    // Explicit DLP per origin (docs/configuration.md §3.4.3); passthrough routes carry none.
    expect(doc.routes[0]).toMatchObject({ origin: 'provider', dlp: { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: false, outbound_on_match: 'redact' } });
    expect(doc.routes[1]).toMatchObject({ origin: 'manifest', dlp: { outbound_detectors: ['token_patterns', 'known_secrets'], inbound_detectors: ['naive_injection_detection'], outbound_on_match: 'supervise' } });
    expect(doc.routes[2]).toEqual({ host: 'pinned.example.com', tls_passthrough: true, origin: 'manifest' });
  });

  it('declared DLP overrides the defaults; [] means off', () => {
    const merged = mergeRoutes('claude', [], [bottle(route('x.example.com', { dlp: { outboundDetectors: [], inboundDetectors: [], outboundOnMatch: 'block' } }))]);
    const doc = buildRoutesFile({ slug: 's', log: 0, routes: merged.routes, slotOf: new Map() });
    expect(doc.routes[0]!.dlp).toEqual({ outbound_detectors: false, inbound_detectors: false, outbound_on_match: 'block' });
  });
});

describe('route merge', () => {
  it('P15: a strong provider route claims its host; the bottle route is dropped with a note', async () => {
    const codex = await codexRoutes(true, T(NOW_S + 3600));
    const m = mergeRoutes('codex', codex.egressRoutes, [bottle(route('API.openai.com'.toLowerCase(), { matches: [{ methods: ['GET'] }] }))]);
    expect(m.routes.map((r) => [r.route.host, r.origin.kind])).toEqual([
      ['api.openai.com', 'provider'],
      ['chatgpt.com', 'provider'],
    ]);
    expect(m.notes).toEqual(['bottle route for api.openai.com ignored: owned by provider codex']);
    expect(m.dropped[0]).toMatchObject({ host: 'api.openai.com', origin: { kind: 'bottle', bottle: 'dev' } });
  });

  it('P16: an unclaimed bottle route is appended after provider routes, in order', async () => {
    const claude = await claudeProvider.plan(makeCtx({ config: { authToken: 'TOK' } }));
    const m = mergeRoutes('claude', claude.egressRoutes, [bottle(route('example.com')), bottle(route('b.example.com'), 'other')]);
    expect(m.routes.map((r) => r.route.host)).toEqual(['api.anthropic.com', 'example.com', 'b.example.com']);
    expect(m.routes[2]!.origin).toEqual({ kind: 'bottle', bottle: 'other', file: '/home/ada/.bot-bottle/bottles/other.md' });
    expect(m.notes).toEqual([]);
  });

  it('P17: a weak provider route is replaced by a bottle route for the same host', async () => {
    const claude = await claudeProvider.plan(makeCtx());
    const header = route('api.anthropic.com', { auth: { scheme: 'header', tokenRef: 'ANTHROPIC_API_KEY', header: 'x-api-key' } });
    const m = mergeRoutes('claude', claude.egressRoutes, [bottle(header)]);
    expect(m.routes).toHaveLength(1);
    expect(m.routes[0]!.origin.kind).toBe('bottle');
    expect(m.routes[0]!.route.auth?.header).toBe('x-api-key');
    expect(m.notes).toEqual(['provider default for api.anthropic.com replaced by bottle route']);
    // And the `weak` marker never leaks into the merged route.
    const kept = mergeRoutes('claude', claude.egressRoutes, []);
    expect(kept.routes[0]!.route).not.toHaveProperty('weak');
  });
});
