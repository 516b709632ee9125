/**
 * The supervise store (docs/supervise.md; spec cases 17–20, 24): a real SQLite file under a
 * temp home, spool files written by hand as the daemon writes them.
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type SuperviseStoreError, type SuperviseStore } from '../../src/supervise/store/index.js';
import { openDatabase } from '../../src/supervise/store/sqlite.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { closeProposal, fileProposal, testHome, type TestHome } from './store-helpers.js';

let t: TestHome;
const stores: SuperviseStore[] = [];
const open = (): SuperviseStore => {
  const s = openStore(t.home, { onNotice: () => undefined });
  stores.push(s);
  return s;
};

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  t?.cleanup();
});

describe('store: opening and migrations (case 18)', () => {
  it('a fresh database has the tables, schema_migrations rows, WAL and mode 0600', () => {
    t = testHome();
    open().close();
    const path = join(t.home, 'bot-bottle.db');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const db = openDatabase(path);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(['audit', 'proposals', 'responses', 'schema_migrations']));
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'remember_rules' },
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    // Re-opening migrates nothing twice.
    open();
    const again = openDatabase(path);
    expect((again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(2);
    again.close();
  });

  it('a database with a higher migration version is refused', () => {
    t = testHome();
    open().close();
    const db = openDatabase(join(t.home, 'bot-bottle.db'));
    db.prepare('INSERT INTO schema_migrations VALUES (99, ?, ?)').run('future', new Date().toISOString());
    db.close();
    expect(() => open()).toThrow(/database was written by a newer bot-bottle/);
  });
});

describe('store: the Python original (case 19)', () => {
  it('is renamed with its -wal to bot-bottle.db.python-<ts>, a fresh store is created, a notice printed', () => {
    t = testHome();
    const path = join(t.home, 'bot-bottle.db');
    const py = openDatabase(path);
    py.exec('CREATE TABLE schema_versions (version INTEGER); INSERT INTO schema_versions VALUES (3)');
    py.close();
    writeFileSync(`${path}-wal`, '');
    const notices: string[] = [];
    const s = openStore(t.home, { onNotice: (l) => notices.push(l) });
    stores.push(s);
    const moved = readdirSync(t.home).filter((n) => /^bot-bottle\.db\.python-\d{8}T\d{6}Z$/.test(n));
    expect(moved).toHaveLength(1);
    expect(existsSync(join(t.home, `${moved[0]}-wal`))).toBe(true);
    expect(notices).toEqual([expect.stringContaining(moved[0]!)]);
    expect(s.listPending()).toEqual([]);
    const db = openDatabase(path);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'schema_versions'").get()).toBeUndefined();
    db.close();
  });
});

describe('store: import, decide, export', () => {
  it('imports outbox files FIFO across bottles, deletes them, audits proposal.filed', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    const b = t.spool('beta-2');
    const id1 = fileProposal(a, 'alpha-1');
    s.importSpool(a);
    const id2 = fileProposal(b, 'beta-2', { kind: 'capability-block', payload: { dockerfile: 'FROM node:20\n' } });
    s.importSpool(b);
    const id3 = fileProposal(a, 'alpha-1');
    s.importSpool(a);
    expect(s.listPending().map((p) => [p.id, p.bottle])).toEqual([[id1, 'alpha-1'], [id2, 'beta-2'], [id3, 'alpha-1']]);
    expect(readdirSync(join(a, 'outbox'))).toEqual([]);
    expect(s.readAudit().filter((r) => r.event === 'proposal.filed')).toHaveLength(3);
  });

  it('refuses a file naming another bottle, a bad kind/origin pair; applies close events', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    fileProposal(a, 'beta-2');
    fileProposal(a, 'alpha-1', { kind: 'egress-allow', origin: 'egress' });
    const ok = fileProposal(a, 'alpha-1');
    const r = s.importSpool(a);
    expect(r.imported).toEqual([ok]);
    expect(r.errors).toEqual([expect.stringMatching(/bottle must be this spool's bottle/), expect.stringMatching(/origin of egress-allow must be agent/)]);
    expect(readdirSync(join(a, 'outbox')).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/\.json\.bad$/)]));
    expect(s.readAudit().filter((x) => x.event === 'proposal.invalid')).toHaveLength(2);
    // The waiting callers are answered rather than left to time out.
    expect(readdirSync(join(a, 'inbox'))).toHaveLength(2);
    closeProposal(a, ok, 'withdrawn');
    expect(s.importSpool(a).closed).toEqual([ok]);
    expect(s.get(ok)?.state).toBe('withdrawn');
    expect(() => s.decide({ id: ok, decision: 'approved', operator: 'op' })).toThrow(/withdrawn/);
  });

  it('decide: reasons, modify only for agent kinds, a second decision fails "already decided"', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    const tok = fileProposal(a, 'alpha-1', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: { host: 'api.example.com', method: 'POST', path: '/v1', findings: [{ rule: 'github_token', masked: 'ghp_…(40)' }] } });
    const eg = fileProposal(a, 'alpha-1');
    s.importSpool(a);
    const err = (fn: () => unknown): SuperviseStoreError => {
      try {
        fn();
      } catch (e) {
        return e as SuperviseStoreError;
      }
      throw new Error('did not throw');
    };
    expect(err(() => s.decide({ id: tok, decision: 'approved', operator: 'op' })).refusal).toBe('reason_required');
    expect(err(() => s.decide({ id: tok, decision: 'modified', reason: 'x', modifiedPayload: {}, operator: 'op' })).refusal).toBe('modify_not_allowed');
    expect(err(() => s.decide({ id: eg, decision: 'rejected', operator: 'op' })).refusal).toBe('reason_required');
    expect(s.get(tok)?.response).toBeNull();
    s.decide({ id: tok, decision: 'approved', reason: 'test fixture', operator: 'op' });
    expect(err(() => s.decide({ id: tok, decision: 'rejected', reason: 'no', operator: 'op' })).refusal).toBe('already_decided');
    expect(err(() => s.decide({ id: 'nope', decision: 'rejected', reason: 'no', operator: 'op' })).refusal).toBe('not_found');
    expect(s.get(tok)?.state).toBe('answered');
    // Delivered once: the inbox file carries the decision, a second export writes nothing.
    expect(s.exportResponses('alpha-1', a)).toEqual([tok]);
    expect(s.exportResponses('alpha-1', a)).toEqual([]);
    const inbox = JSON.parse(readFileSync(join(a, 'inbox', `${tok}.json`), 'utf8')) as Record<string, unknown>;
    expect(inbox).toMatchObject({ v: 1, id: tok, decision: 'approved', reason: 'test fixture', applied: {} });
  });

  it('expireDue expires pending proposals past expires_at; a late decision is refused', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    const id = fileProposal(a, 'alpha-1', { createdAt: new Date(Date.now() - 10_000), ttlSeconds: 1 });
    s.importSpool(a);
    expect(() => s.decide({ id, decision: 'approved', operator: 'op' })).toThrow(/expired/);
    expect(s.expireDue()).toEqual([id]);
    expect(s.get(id)?.state).toBe('expired');
    expect(s.readAudit({ bottle: 'alpha-1', limit: 1 })[0]?.event).toBe('proposal.expired');
  });
});

describe('store: unsafe payloads (case 24)', () => {
  it('a spool payload with an unmasked ghp_ token is not imported; proposal.rejected_unsafe; the caller is told', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    const token = `ghp_${'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'}`;
    const id = fileProposal(a, 'alpha-1', { payload: { routes: [{ host: 'api.github.com', matches: [{ headers: [{ name: 'x-t', type: 'exact', value: token }] }] }] } });
    const r = s.importSpool(a);
    expect(r.imported).toEqual([]);
    expect(r.rejectedUnsafe).toEqual([id]);
    expect(s.get(id)).toBeNull();
    const row = s.readAudit().find((x) => x.event === 'proposal.rejected_unsafe');
    expect(row?.proposalId).toBe(id);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(readFileSync(join(t.home, 'bot-bottle.db')).includes(token)).toBe(false);
    const inbox = JSON.parse(readFileSync(join(a, 'inbox', `${id}.json`), 'utf8')) as { decision: string };
    expect(inbox.decision).toBe('rejected');
    // A masked value (first 4 characters and the length) is imported.
    const ok = fileProposal(a, 'alpha-1', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: { host: 'h.example.com', findings: [{ rule: 'github_token', masked: 'ghp_…(40)', fingerprint: 'a1b2c3d4e5f60718' }] } });
    expect(s.importSpool(a).imported).toEqual([ok]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('store: inbox ownership', () => {
  it('as root, inbox files (and an inbox dir it creates) belong to the spool owner, so the daemon can consume them', () => {
    t = testHome();
    const s = open();
    const a = t.spool('alpha-1');
    rmSync(join(a, 'inbox'), { recursive: true });
    chownSync(a, 65534, 65534);
    const id = fileProposal(a, 'alpha-1');
    s.importSpool(a);
    s.decide({ id, decision: 'rejected', reason: 'no', operator: 'op' });
    s.exportResponses('alpha-1', a);
    expect(statSync(join(a, 'inbox')).uid).toBe(65534);
    expect(statSync(join(a, 'inbox', `${id}.json`)).uid).toBe(65534);
  });
});

describe('store: concurrent importers (case 20)', () => {
  it('two processes importing one spool store each proposal once and deliver each response once', async () => {
    t = testHome();
    const a = t.spool('alpha-1');
    const s = open();
    const ids = Array.from({ length: 40 }, () => fileProposal(a, 'alpha-1'));
    // Two importer processes loop over the same spool while the files are there.
    const script = join(REPO_ROOT, 'test', 'supervise', 'store-importer.ts');
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', script, t.home, a, 'alpha-1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let errOut = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
        c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`importer exited ${code}: ${errOut}`))));
      });
    const first = await Promise.all([run(), run()]);
    const imported = first.flatMap((o) => (JSON.parse(o) as { imported: string[] }).imported);
    expect(imported.sort()).toEqual([...ids].sort());
    expect(s.listPending()).toHaveLength(40);
    for (const id of ids) s.decide({ id, decision: 'rejected', reason: 'not needed', operator: 'op' });
    const second = await Promise.all([run(), run()]);
    const delivered = second.flatMap((o) => (JSON.parse(o) as { delivered: string[] }).delivered);
    expect(delivered.sort()).toEqual([...ids].sort());
    expect(readdirSync(join(a, 'inbox')).filter((n) => n.endsWith('.json'))).toHaveLength(40);
    expect(s.readAudit().filter((r) => r.event === 'response.delivered')).toHaveLength(40);
  }, 60_000);
});
