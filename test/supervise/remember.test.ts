/**
 * Approve-and-remember end to end in one process (docs/decisions/supervise-remember.md): real
 * SQLite, real temp homes, proposals filed into the spool as the daemon files them, decided by
 * the same relay the launcher and the CLI run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { approveAndRemember, relayAndRemember, relayOnce } from '../../src/supervise/host/index.js';
import { openStore, type SuperviseStore } from '../../src/supervise/store/index.js';
import { openDatabase } from '../../src/supervise/store/sqlite.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome, type TestHome } from './store-helpers.js';

let t: TestHome;
let store: SuperviseStore | null = null;
afterEach(() => {
  store?.close();
  store = null;
  t?.cleanup();
});

const open = (): SuperviseStore => (store = openStore(t.home, { onNotice: () => undefined }));
const inbox = (slug: string, id: string) => JSON.parse(readFileSync(join(t.spool(slug), 'inbox', `${id}.json`), 'utf8')) as Record<string, unknown>;
const live = (slug: string) => parseRoutesFile(readFileSync(join(t.stateDir(slug), 'live-config', 'routes.yaml'), 'utf8'));
const noSignal = async () => ({ reloadEgress: async () => { throw new Error('not running'); } });

const pypi = (prefix = '/simple/', methods = ['GET']) => ({ routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: prefix }], methods }] }] });

/** Files a proposal, relays it in, approves it with `scope`. */
async function approveRemembered(slug: string, scope: 'bottle' | 'agent', payload: unknown = pypi()): Promise<string> {
  const id = fileProposal(t.spool(slug), slug, { payload });
  const s = store ?? open();
  relayOnce(s, t.home);
  await approveAndRemember(s, t.home, { id, decision: 'approved', operator: 'tester' }, scope, { backendOf: noSignal });
  return id;
}

describe('remember bottle', () => {
  it('a second identical proposal of the same slug is approved at import; the caller gets approved; audited with the rule id', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    await approveRemembered('alpha-1', 'bottle');
    const s = store!;
    expect(s.listRememberRules()).toMatchObject([{ id: 1, scope: 'bottle', subject: 'alpha-1', kind: 'egress-allow' }]);
    const gen = live('alpha-1').generation;
    const second = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: pypi() });
    const r = await relayAndRemember(s, t.home);
    expect(r.remembered).toEqual([second]);
    expect(s.get(second)?.response).toMatchObject({ decision: 'approved', operator: 'remembered:bottle' });
    // The tool call's answer: the inbox file the daemon hands back to the waiting caller.
    expect(inbox('alpha-1', second)).toMatchObject({ decision: 'approved', applied: { generation: gen + 1 } });
    // Applied through the normal path: the live table was rewritten (generation + 1).
    expect(live('alpha-1').generation).toBe(gen + 1);
    const rows = s.readAudit().filter((a) => a.proposalId === second);
    expect(rows.map((a) => a.event).reverse()).toEqual(['proposal.filed', 'apply.succeeded', 'decision.recorded', 'response.delivered', 'decision.remembered']);
    expect(rows.find((a) => a.event === 'decision.remembered')).toMatchObject({ actor: 'remembered:bottle', detail: { rule: 1, scope: 'bottle' } });
    // Recorded like an operator's decision, with the rule's scope as the actor.
    expect(rows.find((a) => a.event === 'decision.recorded')).toMatchObject({ actor: 'remembered:bottle', detail: { decision: 'approved', operator: 'remembered:bottle' } });
  });

  it('a narrower proposal is approved; a broader one (another method, a shorter prefix) still waits', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    await approveRemembered('alpha-1', 'bottle', pypi('/simple/', ['GET', 'HEAD']));
    const s = store!;
    const narrow = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: pypi('/simple/requests/', ['HEAD']) });
    const post = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: pypi('/simple/', ['POST']) });
    const wide = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: pypi('/', ['GET']) });
    const r = await relayAndRemember(s, t.home);
    expect(r.remembered).toEqual([narrow]);
    expect(s.listPending().map((p) => p.id)).toEqual([post, wide]);
  });

  it('another slug of the same agent is not covered by a bottle rule', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    bottleState(t, 'beta-2', LIVE_ROUTES.replace('bottle: alpha-1', 'bottle: beta-2'));
    await approveRemembered('alpha-1', 'bottle');
    const other = fileProposal(t.spool('beta-2'), 'beta-2', { payload: pypi() });
    const r = await relayAndRemember(store!, t.home);
    expect(r.remembered).toEqual([]);
    expect(store!.get(other)?.state).toBe('pending');
  });

  it('forget stops it: the next identical proposal waits for the operator', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    await approveRemembered('alpha-1', 'bottle');
    const s = store!;
    expect(s.forgetRememberRule(1, 'operator:tester')).toMatchObject({ id: 1 });
    expect(s.listRememberRules()).toEqual([]);
    const again = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: pypi() });
    expect((await relayAndRemember(s, t.home)).remembered).toEqual([]);
    expect(s.get(again)?.state).toBe('pending');
    expect(s.readAudit().some((a) => a.event === 'remember.forgotten' && a.detail.rule === 1)).toBe(true);
  });

  it('a capability-block approval cannot be remembered: refused before anything is decided', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { kind: 'capability-block', payload: { dockerfile: 'FROM node:22\n' } });
    const s = open();
    relayOnce(s, t.home);
    await expect(approveAndRemember(s, t.home, { id, decision: 'approved', operator: 'tester' }, 'bottle')).rejects.toThrow(/never remembered/);
    expect(s.get(id)?.state).toBe('pending');
    expect(s.listRememberRules()).toEqual([]);
  });
});

describe('remember agent', () => {
  it('covers every slug launched from the same agent, not another agent', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    bottleState(t, 'beta-2', LIVE_ROUTES.replace('bottle: alpha-1', 'bottle: beta-2'));
    bottleState(t, 'gamma-3', LIVE_ROUTES.replace('bottle: alpha-1', 'bottle: gamma-3'));
    // gamma-3 was launched from another agent.
    const metaPath = join(t.stateDir('gamma-3'), 'metadata.json');
    writeFileSync(metaPath, readFileSync(metaPath, 'utf8').replace('"implementer"', '"reviewer"'));
    await approveRemembered('alpha-1', 'agent');
    expect(store!.listRememberRules()).toMatchObject([{ scope: 'agent', subject: 'implementer' }]);
    const beta = fileProposal(t.spool('beta-2'), 'beta-2', { payload: pypi() });
    const gamma = fileProposal(t.spool('gamma-3'), 'gamma-3', { payload: pypi() });
    const r = await relayAndRemember(store!, t.home);
    expect(r.remembered).toEqual([beta]);
    expect(store!.get(beta)?.response?.operator).toBe('remembered:agent');
    expect(live('beta-2').routes.some((x) => x.host === 'pypi.org')).toBe(true);
    expect(store!.get(gamma)?.state).toBe('pending');
  });

  it('a pending identical proposal of another slug is approved as soon as the rule exists', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    bottleState(t, 'beta-2', LIVE_ROUTES.replace('bottle: alpha-1', 'bottle: beta-2'));
    const waiting = fileProposal(t.spool('beta-2'), 'beta-2', { payload: pypi() });
    await approveRemembered('alpha-1', 'agent');
    expect(store!.get(waiting)?.response).toMatchObject({ decision: 'approved', operator: 'remembered:agent' });
  });
});

describe('sidecar kinds and secrets', () => {
  it('egress-token-allow: the rule holds host, rule id and fingerprint, never the value; the same hold is approved with a reason', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    // Planted where a value-bearing field would be: the masked value and the path. The sidecar
    // never sends the value itself; the rule must not copy even what it does send.
    const MARKER = 'PLANTEDMARKER7';
    const held = {
      bottle: 'alpha-1', host: 'api.example.com', method: 'POST', path: `/upload/${MARKER}`,
      findings: [{ detector: 'token_patterns', rule: 'github-pat', surface: 'body', masked: `${MARKER}… (len 40)`, fingerprint: '0123456789ab' }],
    };
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: held });
    const s = open();
    relayOnce(s, t.home);
    const o = await approveAndRemember(s, t.home, { id, decision: 'approved', operator: 'tester', reason: 'test upload' }, 'bottle');
    expect(o.remembered.note).toMatch(/per egress process/);
    const again = fileProposal(t.spool('alpha-1'), 'alpha-1', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: held });
    expect((await relayAndRemember(s, t.home)).remembered).toEqual([again]);
    expect(s.get(again)?.response?.reason).toMatch(/remembered rule 1/);
    s.close();
    store = null;
    // The table itself, read with SQL: no marker in any column; audit rows of the rule neither.
    const db = openDatabase(join(t.home, 'bot-bottle.db'));
    try {
      const rows = db.prepare('SELECT * FROM remember_rules').all();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(MARKER);
      expect(JSON.stringify(rows)).toContain('0123456789ab');
      const audit = db.prepare("SELECT detail FROM audit WHERE event IN ('remember.added', 'decision.remembered')").all();
      expect(audit).toHaveLength(2);
      expect(JSON.stringify(audit)).not.toContain(MARKER);
    } finally {
      db.close();
    }
  });

  it('a rule cannot be planted through the spool: a proposal carrying rule-shaped fields is just a proposal', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    mkdirSync(join(t.spool('alpha-1'), 'outbox'), { recursive: true });
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload: { ...pypi(), remember: 'agent' } });
    const r = await relayAndRemember(open(), t.home);
    expect(r.remembered).toEqual([]);
    expect(store!.listRememberRules()).toEqual([]);
    expect(store!.get(id)?.state).toBe('pending');
  });
});
