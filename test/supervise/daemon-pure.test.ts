/**
 * The supervise daemon's pure modules (docs/architecture.md §9): ULIDs, proposal validation,
 * limits and joins, the spool file formats, tool results, the internal API's proposal body.
 */
import { describe, expect, it } from 'vitest';
import { ulid, ulidTime, ULID_RE } from '../../src/supervise/ulid.js';
import {
  checkCapabilityBlock, checkEgressAllow, checkListRoutes, CREDENTIALS_REFUSED, firstInstructionIsFrom,
} from '../../src/supervise/proposal-schemas.js';
import { MAX_PENDING_AGENT, PendingBook, TOO_MANY_PENDING } from '../../src/supervise/pending-book.js';
import { canonicalJson, parseInternalProposal } from '../../src/supervise/proposal-kinds.js';
import { inboxId, parseInbox, parseOutbox, serialize } from '../../src/supervise/spool-format.js';
import { decisionResult, expiredNotes, routeViewFromFile, routeViewsFromAllowlist } from '../../src/supervise/tool-results.js';
import { decisionBody } from '../../src/supervise/internal-api.js';
import { superviseConfigFromEnv, SuperviseConfigError, AGENT_TOOL_TIMEOUT_SECONDS } from '../../src/supervise/config.js';

const JUST = 'the build needs the package index for this task';
const bytes = (v: number) => (n: number) => new Uint8Array(n).fill(v);

describe('ulid', () => {
  it('encodes time then 80 random bits in 26 Crockford characters, ordered by time', () => {
    const a = ulid(1_700_000_000_000, bytes(0));
    const b = ulid(1_700_000_000_001, bytes(31));
    expect(a).toMatch(ULID_RE);
    // The ULID spec's own example time: 1469918176385 ms → 01ARYZ6S41.
    expect(ulid(1469918176385, bytes(0))).toBe(`01ARYZ6S41${'0'.repeat(16)}`);
    expect(b.endsWith('Z'.repeat(16))).toBe(true);
    expect(a < b).toBe(true);
    expect(ulidTime(b)).toBe(1_700_000_000_001);
  });
  it('refuses a time outside 48 bits', () => {
    expect(() => ulid(-1, bytes(0))).toThrow(/out of range/);
    expect(() => ulid(2 ** 48, bytes(0))).toThrow(/out of range/);
  });
});

describe('egress-allow validation', () => {
  it('accepts a narrow route and keeps it as proposed', () => {
    const r = checkEgressAllow({ routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }], justification: JUST });
    expect(r).toEqual({ ok: true, value: { routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }], justification: JUST } });
  });
  it.each([
    ['auth', { host: 'a.test', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }],
    ['token_ref', { host: 'a.test', token_ref: 'GH_TOKEN' }],
    ['token_env', { host: 'a.test', token_env: 'EGRESS_TOKEN_1' }],
  ])('refuses credentials (%s) with the manifest hint', (_k, route) => {
    expect(checkEgressAllow({ routes: [route], justification: JUST })).toEqual({ ok: false, message: CREDENTIALS_REFUSED });
  });
  it('refuses a short justification, naming the field', () => {
    const r = checkEgressAllow({ routes: [{ host: 'a.test' }], justification: 'short' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^invalid proposal: justification: /);
  });
  it('refuses 0 and 21 routes, unknown keys, and what egress would not load', () => {
    const msg = (args: unknown) => {
      const r = checkEgressAllow(args);
      return r.ok ? 'ok' : r.message;
    };
    expect(msg({ routes: [], justification: JUST })).toMatch(/^invalid proposal: routes: /);
    expect(msg({ routes: Array.from({ length: 21 }, (_, i) => ({ host: `h${i}.test` })), justification: JUST })).toMatch(/^invalid proposal: routes: /);
    expect(msg({ routes: [{ host: 'a.test', origin: 'manifest' }], justification: JUST })).toMatch(/^invalid proposal: routes\.0: /);
    // The routes-file validator's own rule (egress would refuse this file).
    expect(msg({ routes: [{ host: 'a.test', tls_passthrough: true, matches: [{ methods: ['GET'] }] }], justification: JUST })).toMatch(/^invalid proposal: routes\[0\]\.matches: cannot be combined with tls_passthrough/);
    expect(msg({ routes: [{ host: 'a.test', matches: [{ methods: ['get'] }] }], justification: JUST })).toMatch(/upper-case method/);
  });
});

describe('capability-block validation', () => {
  it('needs FROM first (after comments, blanks and ARG) and no NUL', () => {
    expect(firstInstructionIsFrom('# c\n\nARG V=1\nFROM debian:${V}\nRUN true\n')).toBe(true);
    expect(firstInstructionIsFrom('RUN true\nFROM x\n')).toBe(false);
    expect(checkCapabilityBlock({ dockerfile: 'RUN apt-get install -y jq\n', justification: JUST })).toEqual({
      ok: false, message: 'invalid proposal: dockerfile: the first instruction (after comments, blank lines and ARG) must be FROM',
    });
    expect(checkCapabilityBlock({ dockerfile: 'FROM x\0\n', justification: JUST })).toEqual({ ok: false, message: 'invalid proposal: dockerfile: contains a NUL byte' });
    expect(checkCapabilityBlock({ dockerfile: 'FROM node:20\n', justification: JUST }).ok).toBe(true);
  });
  it('list-egress-routes takes no arguments', () => {
    expect(checkListRoutes({}).ok).toBe(true);
    expect(checkListRoutes({ x: 1 }).ok).toBe(false);
  });
});

describe('pending book', () => {
  it(`allows ${MAX_PENDING_AGENT} pending agent proposals, joins identical payloads, does not count sidecar kinds`, () => {
    const b = new PendingBook();
    for (let i = 0; i < MAX_PENDING_AGENT; i++) {
      expect(b.admit('egress-allow', { routes: [{ host: `h${i}` }] })).toEqual({ kind: 'new' });
      b.add(`ID${i}`, 'egress-allow', { routes: [{ host: `h${i}` }] });
    }
    expect(b.admit('egress-allow', { routes: [{ host: 'h3' }] })).toEqual({ kind: 'refused', message: TOO_MANY_PENDING });
    expect(b.admit('egress-allow', { routes: [{ host: 'h1' }] })).toEqual({ kind: 'join', id: 'ID1' });
    expect(b.admit('egress-token-allow', { host: 'x' })).toEqual({ kind: 'new' });
    b.remove('ID0');
    expect(b.admit('capability-block', { dockerfile: 'FROM x' })).toEqual({ kind: 'new' });
  });
  it('canonical JSON ignores key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });
});

describe('internal proposal body', () => {
  it('accepts sidecar kinds from their origin only', () => {
    expect(parseInternalProposal({ kind: 'egress-token-allow', origin: 'egress', payload: { host: 'h' }, timeout_seconds: 30 })).toEqual({
      ok: true, value: { kind: 'egress-token-allow', origin: 'egress', payload: { host: 'h' }, timeoutSeconds: 30 },
    });
    expect(parseInternalProposal({ kind: 'secret-allow', origin: 'egress', payload: {}, timeout_seconds: 30 })).toEqual({ ok: false, message: 'kind secret-allow must have origin git-gate' });
    expect(parseInternalProposal({ kind: 'egress-allow', origin: 'agent', payload: {}, timeout_seconds: 30 }).ok).toBe(false);
    expect(parseInternalProposal({ kind: 'nope', origin: 'egress', payload: {}, timeout_seconds: 30 }).ok).toBe(false);
    expect(parseInternalProposal({ kind: 'secret-allow', origin: 'git-gate', payload: {}, timeout_seconds: 0 }).ok).toBe(false);
    expect(parseInternalProposal({ kind: 'secret-allow', origin: 'git-gate', payload: [], timeout_seconds: 5 }).ok).toBe(false);
  });
  it('decision bodies: modified reads as approved, withdrawn as expired', () => {
    const o = { notes: 'n', reason: 'r', modifiedPayload: null, appliedGeneration: null };
    expect(decisionBody('pending')).toEqual({ status: 'pending', notes: '', reason: null });
    expect(decisionBody({ ...o, state: 'approved' })).toEqual({ status: 'approved', notes: 'n', reason: 'r' });
    expect(decisionBody({ ...o, state: 'modified' }).status).toBe('approved');
    expect(decisionBody({ ...o, state: 'withdrawn' }).status).toBe('expired');
  });
});

describe('spool formats', () => {
  const id = ulid(1_700_000_000_000, bytes(7));
  it('inbox: parses the host record, refuses a mismatched id or a bad decision', () => {
    const rec = { v: 1, id, decision: 'approved', notes: 'ok', reason: null, modified_payload: null, applied: { generation: 4 } };
    expect(parseInbox(JSON.stringify(rec), id)).toEqual({ ok: true, value: rec });
    expect(parseInbox(JSON.stringify({ ...rec, id: 'x' }), id)).toEqual({ ok: false, message: 'id does not match the file name' });
    expect(parseInbox(JSON.stringify({ ...rec, decision: 'yes' }), id).ok).toBe(false);
    expect(parseInbox('{', id)).toEqual({ ok: false, message: 'not JSON' });
    expect(parseInbox(JSON.stringify({ v: 1, id, decision: 'rejected' }), id)).toEqual({
      ok: true, value: { v: 1, id, decision: 'rejected', notes: '', reason: null, modified_payload: null, applied: {} },
    });
  });
  it('inbox file names: only <ULID>.json; temp files are skipped', () => {
    expect(inboxId(`${id}.json`)).toBe(id);
    expect(inboxId(`.${id}.json.1.ab.tmp`)).toBeNull();
    expect(inboxId(`${id}.closed.json`)).toBeNull();
  });
  it('outbox round trip', () => {
    const rec = { v: 1 as const, id, bottle: 'b', kind: 'egress-allow' as const, origin: 'agent' as const, justification: JUST, payload: { routes: [] }, created_at: 'a', expires_at: 'b' };
    expect(parseOutbox(serialize(rec))).toEqual({ ok: true, value: rec });
  });
});

describe('tool results', () => {
  const o = { notes: '', reason: null, modifiedPayload: null, appliedGeneration: null };
  it('timeout and withdrawal read as rejected with the spec notes', () => {
    expect(decisionResult('egress-allow', 'I', {}, { ...o, state: 'expired' }, 2, true)).toEqual({ status: 'rejected', notes: expiredNotes(2), proposal_id: 'I' });
    expect(expiredNotes(2)).toBe('no operator decision within 2s; you may propose again');
  });
  it('approved egress-allow returns the applied routes and generation; modified the edit', () => {
    const routes = [{ host: 'a.test' }];
    expect(decisionResult('egress-allow', 'I', { routes }, { ...o, state: 'approved', notes: 'fine', appliedGeneration: 3 }, 600, true)).toEqual({
      status: 'approved', notes: 'fine', proposal_id: 'I', routes, generation: 3,
    });
    const edited = [{ host: 'a.test', matches: [{ methods: ['GET'] }] }];
    const m = decisionResult('egress-allow', 'I', { routes }, { ...o, state: 'modified', modifiedPayload: { routes: edited }, appliedGeneration: 4 }, 600, false);
    expect(m.routes).toEqual(edited);
    expect(m.notes).toMatch(/may take a moment/);
  });
  it('rejection carries the reason; capability approval passes on the host note when the image takes effect', () => {
    expect(decisionResult('egress-allow', 'I', {}, { ...o, state: 'rejected', reason: 'too broad' }, 600, true).notes).toBe('too broad');
    // The host's notes say when the image takes effect; the daemon passes them through as they are.
    const note = 'The approved image is recorded but not built: the netns backend cannot build images.';
    expect(decisionResult('capability-block', 'I', { dockerfile: 'FROM x' }, { ...o, state: 'approved', notes: note }, 600, true)).toEqual({ status: 'approved', notes: note, proposal_id: 'I', dockerfile: 'FROM x' });
  });
  it('route views never carry slot names', () => {
    const v = routeViewFromFile({ host: 'api.test', port: 443, auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' }, dlp: { outbound_detectors: ['token_patterns'], inbound_detectors: false, outbound_on_match: 'redact' } });
    expect(JSON.stringify(v)).not.toContain('EGRESS_TOKEN');
    expect(v).toMatchObject({ host: 'api.test', authenticated: true, auth_scheme: 'Bearer', tls_passthrough: false, allow_private_cidrs: [] });
    const a = routeViewsFromAllowlist({ generation: 2, routes: [{ host: 'x', port: 443, authenticated: false, auth_scheme: null, slot: 'EGRESS_TOKEN_3' }] });
    expect(JSON.stringify(a)).not.toContain('EGRESS_TOKEN');
    expect(routeViewsFromAllowlist({ nope: 1 })).toBeNull();
  });
});

describe('config', () => {
  it('defaults, and a clear error for a bad setting', () => {
    const c = superviseConfigFromEnv({ BOT_BOTTLE_SLUG: 's' });
    expect(c).toMatchObject({ listen: { host: '0.0.0.0', port: 9100 }, toolTimeoutSeconds: 600, bottle: 's', introspectUrl: 'http://127.0.0.1:9099' });
    expect(() => superviseConfigFromEnv({ SUPERVISE_TOOL_TIMEOUT_SECONDS: 'x' })).toThrow(SuperviseConfigError);
    expect(() => superviseConfigFromEnv({ SUPERVISE_LISTEN: 'nope' })).toThrow('supervise: SUPERVISE_LISTEN must be host:port (e.g. 0.0.0.0:9100)');
    expect(AGENT_TOOL_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(c.toolTimeoutSeconds + 60);
  });
});
