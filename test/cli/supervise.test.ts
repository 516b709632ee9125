/**
 * `bot-bottle supervise` verbs through the real CLI (spec cases 5, 6, 8, 13–17, 21): a temp
 * BOT_BOTTLE_HOME with stopped bottles' state dirs and spool files written as the daemon writes them.
 */
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { openStore } from '../../src/supervise/store/index.js';
import { openDatabase } from '../../src/supervise/store/sqlite.js';
import { runCli } from '../helpers/cli.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome, type TestHome } from '../supervise/store-helpers.js';

let t: TestHome;
afterEach(() => t?.cleanup());

const cli = (args: string[], env: Record<string, string> = {}) => runCli(['supervise', ...args], { env: { BOT_BOTTLE_HOME: t.home, ...env }, timeoutMs: 60_000 });
const inbox = (slug: string, id: string) => JSON.parse(readFileSync(join(t.spool(slug), 'inbox', `${id}.json`), 'utf8')) as Record<string, unknown>;
const live = (slug: string) => parseRoutesFile(readFileSync(join(t.stateDir(slug), 'live-config', 'routes.yaml'), 'utf8'));
const stored = (id: string) => {
  const s = openStore(t.home, { onNotice: () => undefined });
  try {
    return s.get(id);
  } finally {
    s.close();
  }
};
const auditEvents = (id: string) => {
  const s = openStore(t.home, { onNotice: () => undefined });
  try {
    return s.readAudit().filter((r) => r.proposalId === id).map((r) => r.event).reverse();
  } finally {
    s.close();
  }
};

describe('supervise --once / --json', () => {
  it('nothing pending: --once prints "No pending proposals.", exit 0 (case 16); no TTY and no verb: exit 2', async () => {
    t = testHome();
    const r = await cli(['--once']);
    expect(r).toMatchObject({ code: 0, stdout: 'No pending proposals.\n' });
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^bot-bottle: error: supervise needs a terminal for the interactive view; use --once, --json or a verb/);
  }, 60_000);

  it('--json lists two bottles interleaved oldest first with slugs, schema bot-bottle/pending@1 (case 15)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    bottleState(t, 'beta-2', LIVE_ROUTES.replace('bottle: alpha-1', 'bottle: beta-2'));
    const a = t.spool('alpha-1');
    const b = t.spool('beta-2');
    const base = Date.now() - 60_000;
    const ids = [
      fileProposal(a, 'alpha-1', { createdAt: new Date(base) }),
      fileProposal(b, 'beta-2', { createdAt: new Date(base + 1000), kind: 'capability-block', payload: { dockerfile: 'FROM node:22\nRUN apt-get install -y jq\n' } }),
      fileProposal(a, 'alpha-1', { createdAt: new Date(base + 2000) }),
    ];
    const r = await cli(['--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { schema: string; pending: Array<Record<string, unknown>> };
    expect(doc.schema).toBe('bot-bottle/pending@1');
    expect(doc.pending.map((p) => [p.id, p.slug])).toEqual([[ids[0], 'alpha-1'], [ids[1], 'beta-2'], [ids[2], 'alpha-1']]);
    expect(doc.pending[1]).toMatchObject({ kind: 'capability-block', summary: 'new image FROM node:22', payload: { dockerfile: expect.stringContaining('jq') } });
    expect(Object.keys(doc.pending[0]!).sort()).toEqual(['createdAt', 'id', 'justification', 'kind', 'payload', 'slug', 'summary']);
    const once = await cli(['--once']);
    expect(once.stdout.split('\n')[0]).toMatch(/^ID\s+AGE\s+SLUG\s+KIND\s+SUMMARY\s+EXPIRES$/);
    // beta-2's daemon wrote a heartbeat just now; alpha-1's never did.
    expect(once.stdout).toContain('alpha-1 (offline)');
    writeFileSync(join(b, 'heartbeat'), JSON.stringify({ at: new Date().toISOString(), pid: 1, version: '0.1.0' }));
    const again = await cli(['--once']);
    expect(again.stdout).toMatch(/^\S+\s+\S+\s+beta-2\s+capability-block/m);
  }, 60_000);
});

describe('supervise approve / reject / modify', () => {
  it('reject --reason: the caller gets rejected with the reason; routes unchanged (case 5)', async () => {
    t = testHome();
    const routes = bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const before = readFileSync(routes, 'utf8');
    const r = await cli(['reject', id, '--reason', 'too broad']);
    expect(r.code).toBe(0);
    expect(inbox('alpha-1', id)).toMatchObject({ v: 1, id, decision: 'rejected', reason: 'too broad', notes: 'too broad' });
    expect(readFileSync(routes, 'utf8')).toBe(before);
    expect((await cli(['reject', id])).code).toBe(2);
    const again = await cli(['reject', id, '--reason', 'x']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already decided/);
  }, 60_000);

  it('approve: generation + 1, the new route appended with approved defaults, delivered with the generation', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const r = await cli(['approve', id, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ schema: 'bot-bottle/decision@1', decision: 'approved', generation: 5 });
    const table = live('alpha-1');
    expect(table.generation).toBe(5);
    expect(table.routes.find((x) => x.host === 'pypi.org')).toMatchObject({ origin: 'approved', dlp: { outbound_on_match: 'supervise' } });
    expect(inbox('alpha-1', id)).toMatchObject({ decision: 'approved', applied: { generation: 5 } });
    expect(stored(id)?.response?.appliedAt).toBeTruthy();
    expect(readFileSync(join(t.stateDir('alpha-1'), 'approved-routes.yaml'), 'utf8')).toContain('pypi.org');
    expect(auditEvents(id)).toEqual(['proposal.filed', 'apply.succeeded', 'decision.recorded', 'response.delivered']);
  }, 60_000);

  it('a change to an authenticated route keeps its auth, in the diff and when applied (case 8)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', {
      payload: { routes: [{ host: 'api.github.com', matches: [{ paths: [{ type: 'prefix', value: '/repos/acme/' }], methods: ['GET', 'POST'] }] }] },
    });
    const show = await cli(['show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('credential: configured');
    expect(show.stdout).not.toContain('EGRESS_TOKEN_1');
    expect(show.stdout).toMatch(/^\+\s+- POST$/m);
    expect(show.stdout).toContain('api.github.com: methods other than GET/HEAD: POST');
    expect((await cli(['approve', id])).code).toBe(0);
    const gh = live('alpha-1').routes.find((x) => x.host === 'api.github.com');
    expect(gh).toMatchObject({ auth: { scheme: 'token', token_env: 'EGRESS_TOKEN_1' }, origin: 'manifest', matches: [{ methods: ['GET', 'POST'] }] });
  }, 60_000);

  it('modify with a scripted $EDITOR narrowing a path: modified, applied routes equal the edit (case 6)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const editor = join(t.home, 'narrow.sh');
    writeFileSync(editor, `#!/bin/sh\nsed -i 's#/simple/#/simple/requests/#' "$1"\n`, { mode: 0o755 });
    const r = await cli(['modify', id, '--notes', 'only requests'], { EDITOR: editor, VISUAL: '' });
    expect(r.code, r.stderr).toBe(0);
    const pypi = live('alpha-1').routes.find((x) => x.host === 'pypi.org');
    expect(pypi?.matches).toEqual([{ paths: [{ type: 'prefix', value: '/simple/requests/' }], methods: ['GET'] }]);
    expect(inbox('alpha-1', id)).toMatchObject({ decision: 'modified', notes: 'only requests', modified_payload: { routes: [{ host: 'pypi.org', matches: [{ paths: [{ value: '/simple/requests/' }] }] }] } });
    // An edit that adds a new credential is refused with the reason; nothing recorded.
    const id2 = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const bad = join(t.home, 'bad.yaml');
    writeFileSync(bad, '- host: pypi.org\n  auth: {scheme: Bearer, token_env: EGRESS_TOKEN_7}\n');
    const refused = await cli(['modify', id2, '--file', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/only a token_env slot already in the live table/);
    expect(stored(id2)?.state).toBe('pending');
  }, 60_000);

  it('approve of egress-token-allow / secret-allow without --reason: exit 2, nothing recorded (case 13); modify of a sidecar kind: exit 1 (case 14)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const sp = t.spool('alpha-1');
    const tok = fileProposal(sp, 'alpha-1', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: { host: 'api.example.com', method: 'POST', path: '/v1/upload', findings: [{ rule: 'github_token', surface: 'body', masked: 'ghp_…(40)', fingerprint: '9f2c4e1a' }] } });
    const sec = fileProposal(sp, 'alpha-1', { kind: 'gitleaks-allow', origin: 'git-gate', justification: null, payload: { repo: 'webapp', ref_updates: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4' }], findings: [{ commit: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4', file: 'a.env', line: 3, rule: 'aws_access_key', masked_line: 'AWS_KEY="AKIA… (len 20)"', reason: 'test fixture' }] } });
    for (const id of [tok, sec]) {
      const r = await cli(['approve', id]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/needs a reason/);
      expect(stored(id)).toMatchObject({ state: 'pending', response: null });
    }
    expect(stored(sec)?.kind).toBe('secret-allow');
    const m = await cli(['modify', tok], { EDITOR: 'true' });
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/cannot be modified/);
    const show = await cli(['show', tok]);
    expect(show.stdout).toContain('approving lets this value reach this host');
    const showSec = await cli(['show', sec]);
    expect(showSec.stdout).toContain('refs: refs/heads/main 00000000..e3b0c442');
    expect(showSec.stdout).toContain('a.env:3 commit e3b0c44298fc rule aws_access_key');
    expect(showSec.stdout).toContain("agent's reason: test fixture");
    const ok = await cli(['approve', tok, '--reason', 'ok']);
    expect(ok.code).toBe(0);
    expect(inbox('alpha-1', tok)).toMatchObject({ decision: 'approved', reason: 'ok' });
  }, 60_000);

  it('capability-block: show diffs against the bottle Dockerfile, approve writes it and says when it takes effect; audit --json newest first', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    writeFileSync(join(t.stateDir('alpha-1'), 'Dockerfile'), 'FROM node:20\n');
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { kind: 'capability-block', payload: { dockerfile: 'FROM node:22\nRUN apt-get install -y jq\n' } });
    const show = await cli(['show', id, '--json']);
    const doc = JSON.parse(show.stdout) as { schema: string; diff: string; warnings: string[] };
    expect(doc.schema).toBe('bot-bottle/proposal@1');
    expect(doc.diff).toContain('-FROM node:20\n+FROM node:22\n+RUN apt-get install -y jq');
    expect(doc.warnings).toEqual(['FROM changes: node:20 → node:22']);
    const r = await cli(['approve', id]);
    expect(r.code).toBe(0);
    // A netns bottle builds no images: the operator and the agent are told so.
    const note = 'recorded but not built: the netns backend cannot build images, and refuses to resume this slug until Dockerfile is removed from its state';
    expect(r.stdout).toContain(`the image is ${note}`);
    expect(inbox('alpha-1', id)).toMatchObject({ decision: 'approved', notes: `The approved image is ${note}.` });
    expect(readFileSync(join(t.stateDir('alpha-1'), 'Dockerfile'), 'utf8')).toBe('FROM node:22\nRUN apt-get install -y jq\n');
    expect(stored(id)?.response).toMatchObject({ decision: 'approved', appliedAt: null });
    const audit = await cli(['audit', '--bottle', 'alpha-1', '--limit', '3', '--json']);
    const rows = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { schema: string; event: string });
    expect(rows.map((x) => x.event)).toEqual(['response.delivered', 'decision.recorded', 'apply.succeeded']);
    expect(rows[0]?.schema).toBe('bot-bottle/audit@1');
    expect((await cli(['audit', '--limit', '0'])).code).toBe(2);
  }, 60_000);

  it('a late approval of an expired proposal is refused (exit 1) and applies nothing', async () => {
    t = testHome();
    const routes = bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { createdAt: new Date(Date.now() - 120_000), ttlSeconds: 60 });
    const before = readFileSync(routes, 'utf8');
    const r = await cli(['approve', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expired/);
    expect(readFileSync(routes, 'utf8')).toBe(before);
    expect(stored(id)?.state).toBe('expired');
  }, 60_000);

  it('two processes approve one id at once: one response row, the other exits 1 "already decided" (case 17)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const [a, b] = await Promise.all([cli(['approve', id]), cli(['approve', id])]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    expect([a, b].find((x) => x.code === 1)?.stderr).toMatch(/already decided/);
    expect(live('alpha-1').generation).toBe(5);
    expect(auditEvents(id).filter((e) => e === 'decision.recorded')).toHaveLength(1);
    const db = openDatabase(join(t.home, 'bot-bottle.db'));
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM responses WHERE proposal_id = ?').get(id)).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  }, 60_000);

  it('routes file unwritable during approve: exit 1, proposal still pending, apply.failed (case 21)', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1');
    const liveDir = join(t.stateDir('alpha-1'), 'live-config');
    // Root ignores mode bits: run the CLI as an unprivileged user who owns everything but live-config/.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      const chownTree = (p: string): void => {
        chownSync(p, 65534, 65534);
        for (const e of readdirSync(p, { withFileTypes: true })) {
          if (e.isDirectory()) chownTree(join(p, e.name));
          else chownSync(join(p, e.name), 65534, 65534);
        }
      };
      chownTree(join(t.home, '..'));
      chownSync(liveDir, 0, 0);
      chownSync(join(liveDir, 'routes.yaml'), 0, 0);
      chmodSync(liveDir, 0o755);
    } else chmodSync(liveDir, 0o555);
    const r = asRoot ? await runAsNobody(['approve', id]) : await cli(['approve', id]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/applying proposal .* failed: .*; it is still pending/);
    expect(stored(id)).toMatchObject({ state: 'pending', response: null });
    expect(auditEvents(id)).toContain('apply.failed');
  }, 60_000);
});

/** The CLI as uid/gid 65534 (see case 21). */
async function runAsNobody(args: string[]) {
  const { spawn } = await import('node:child_process');
  const { CLI_MAIN, REPO_ROOT } = await import('../helpers/cli.js');
  const { pathToFileURL } = await import('node:url');
  const loader = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', loader, CLI_MAIN, 'supervise', ...args], {
      cwd: '/',
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', NO_COLOR: '1', BOT_BOTTLE_HOME: t.home, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
