/**
 * The supervise daemon with real components (docs/architecture.md §9): the SDK's MCP client over
 * Streamable HTTP on loopback, the real spool on disk (the host's side written by hand, as the
 * importer would), the internal API over its Unix socket through the client egress and the gate
 * use, and — for `list-egress-routes` — a real egress started by the real sidecar supervisor.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBottleCa, writeBottleCa } from '../../src/egress/ca.js';
import { startSuperviseDaemon, type SuperviseDaemon } from '../../src/supervise/daemon.js';
import { awaitDecision, fileProposal } from '../../src/supervise/internal-client.js';
import { writeInboxFile } from '../../src/supervise/store/spool.js';
import { parseOutbox, type InboxRecord } from '../../src/supervise/spool-format.js';
import { CREDENTIALS_REFUSED } from '../../src/supervise/proposal-schemas.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';

const JUST = 'the task needs the package index to install its test dependencies';
const ROUTES = `version: 1
generation: 1
bottle: sv-test
log: 0
routes:
  - host: api.example.test
    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}
    dlp: {outbound_detectors: [token_patterns], inbound_detectors: false, outbound_on_match: redact}
    origin: manifest
  - host: pypi.org
    matches: [{paths: [{type: prefix, value: /simple/}], methods: [GET]}]
    origin: manifest
  - host: github.com
    tls_passthrough: true
    origin: provider
`;
const SECRET = 'sv-test-secret-value-9c1e4b7a20d3';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bb-supervise-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function stateDir(name: string): Promise<string> {
  const dir = join(root, name);
  for (const d of ['live-config', 'supervise/spool', 'run', 'logs', 'egress']) await mkdir(join(dir, d), { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'live-config/routes.yaml'), ROUTES);
  return dir;
}

const daemons: SuperviseDaemon[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  for (const d of daemons.splice(0)) await d.close();
});

async function startDaemon(dir: string, env: Record<string, string> = {}): Promise<SuperviseDaemon> {
  const d = await startSuperviseDaemon(
    {
      BOT_BOTTLE_SLUG: 'sv-test',
      SUPERVISE_LISTEN: '127.0.0.1:0',
      SUPERVISE_SPOOL_DIR: join(dir, 'supervise/spool'),
      SUPERVISE_INTERNAL_SOCKET: join(dir, 'run/supervise/supervise.sock'),
      SUPERVISE_ROUTES_FILE: join(dir, 'live-config/routes.yaml'),
      // Nothing listens there: egress is "down" unless a test says otherwise.
      EGRESS_INTROSPECT_URL: 'http://127.0.0.1:1',
      ...env,
    },
    () => undefined,
  );
  daemons.push(d);
  return d;
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ name: 'supervise-test', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(c);
  return c;
}

async function outbox(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'supervise/spool/outbox'))).filter((n) => !n.startsWith('.')).sort();
}

async function waitFor<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves to 'pending' if `p` has not settled after `ms`. */
async function stillPending(p: Promise<unknown>, ms = 300): Promise<boolean> {
  return (await Promise.race([p.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))])) === 'pending';
}

function decision(id: string, over: Partial<InboxRecord> = {}): InboxRecord {
  return { v: 1, id, decision: 'approved', notes: '', reason: null, modified_payload: null, applied: {}, ...over };
}

const structured = (r: unknown) => (r as CallToolResult).structuredContent as Record<string, unknown>;
const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;
const LONG = { timeout: 120_000 };

describe('supervise daemon (in process, real HTTP, real spool)', () => {
  it('case 1: initialize + tools/list: bot-bottle-supervise with exactly 3 tools, each with input and output schemas', async () => {
    const dir = await stateDir('c1');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    expect(c.getServerVersion()?.name).toBe('bot-bottle-supervise');
    expect(c.getInstructions()).toMatch(/egress-allow/);
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['capability-block', 'egress-allow', 'list-egress-routes']);
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
    }
    const ea = tools.find((t) => t.name === 'egress-allow')!;
    expect(Object.keys(ea.inputSchema.properties ?? {}).sort()).toEqual(['justification', 'routes']);
    // `/` is an alias; GET and DELETE are refused in stateless mode.
    const alias = await connect(`http://127.0.0.1:${d.port}/`);
    expect((await alias.listTools()).tools).toHaveLength(3);
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`http://127.0.0.1:${d.port}/mcp`, { method });
      expect(res.status).toBe(405);
    }
  });

  it('case 2 (egress down): list-egress-routes falls back to the routes file, same shape, no slot names', async () => {
    const dir = await stateDir('c2');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const r = await c.callTool({ name: 'list-egress-routes', arguments: {} });
    const s = structured(r);
    expect(s.source).toBe('file');
    expect(s.generation).toBe(1);
    const routes = s.routes as Array<Record<string, unknown>>;
    expect(routes.map((x) => x.host)).toEqual(['api.example.test', 'pypi.org', 'github.com']);
    expect(routes[0]).toMatchObject({ authenticated: true, auth_scheme: 'Bearer', tls_passthrough: false });
    expect(Object.keys(routes[0]!).sort()).toEqual(['allow_private_cidrs', 'auth_scheme', 'authenticated', 'dlp', 'host', 'matches', 'port', 'tls_passthrough']);
    expect(text(r)).not.toMatch(/EGRESS_TOKEN|token_env/);
    expect(await outbox(dir)).toEqual([]);
  });

  it('case 3: a valid egress-allow files one outbox proposal and blocks until the host writes the inbox decision', async () => {
    const dir = await stateDir('c3');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const routes = [{ host: 'files.pythonhosted.org', matches: [{ paths: [{ type: 'prefix', value: '/packages/' }], methods: ['GET'] }] }];
    const call = c.callTool({ name: 'egress-allow', arguments: { routes, justification: JUST } }, undefined, LONG);
    const [name] = await waitFor('the outbox file', async () => ((await outbox(dir)).length === 1 ? outbox(dir) : null));
    const rec = parseOutbox(await readFile(join(dir, 'supervise/spool/outbox', name!), 'utf8'));
    expect(rec.ok).toBe(true);
    if (!rec.ok) return;
    expect(rec.value).toMatchObject({ v: 1, bottle: 'sv-test', kind: 'egress-allow', origin: 'agent', justification: JUST, payload: { routes } });
    expect(name).toBe(`${rec.value.id}.json`);
    expect(Date.parse(rec.value.expires_at) - Date.parse(rec.value.created_at)).toBe(600_000);
    expect(await stillPending(call)).toBe(true);
    // The heartbeat is there too.
    expect(JSON.parse(await readFile(join(dir, 'supervise/spool/heartbeat'), 'utf8'))).toMatchObject({ pid: process.pid });
    writeInboxFile(join(dir, 'supervise/spool'), decision(rec.value.id, { notes: 'ok for this task' }));
    const s = structured(await call);
    expect(s).toMatchObject({ status: 'approved', proposal_id: rec.value.id, routes });
    expect(s.notes).toMatch(/^ok for this task/);
    // The decision file was consumed.
    await waitFor('the inbox to be consumed', async () => (await readdir(join(dir, 'supervise/spool/inbox'))).length === 0);
  });

  it('case 7: credentials, a 5-character justification, a Dockerfile without FROM → isError each, nothing filed', async () => {
    const dir = await stateDir('c7');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const auth = await c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'a.test', auth: { scheme: 'Bearer', token_env: 'EGRESS_TOKEN_0' } }], justification: JUST } });
    expect(auth.isError).toBe(true);
    expect(text(auth)).toBe(CREDENTIALS_REFUSED);
    const ref = await c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'a.test', token_ref: 'GH_TOKEN' }], justification: JUST } });
    expect(ref.isError).toBe(true);
    expect(text(ref)).toBe(CREDENTIALS_REFUSED);
    const short = await c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'a.test' }], justification: 'short' } });
    expect(short.isError).toBe(true);
    expect(text(short)).toMatch(/^invalid proposal: justification: /);
    const noFrom = await c.callTool({ name: 'capability-block', arguments: { dockerfile: 'RUN apt-get install -y jq\n', justification: JUST } });
    expect(noFrom.isError).toBe(true);
    expect(text(noFrom)).toBe('invalid proposal: dockerfile: the first instruction (after comments, blank lines and ARG) must be FROM');
    // Hostile HTTP: a body over 1 MiB, not JSON, or not declared JSON is refused before the SDK.
    const post = (body: string, type = 'application/json') =>
      fetch(`http://127.0.0.1:${d.port}/mcp`, { method: 'POST', headers: { 'content-type': type, accept: 'application/json, text/event-stream' }, body }).then((r) => r.status);
    // (the client may see the 413 or, still sending, the connection closing under it)
    expect([413, 'reset']).toContain(await post('x'.repeat(2 * 1024 * 1024)).catch(() => 'reset'));
    expect(await post('{not json')).toBe(400);
    expect(await post('{}', 'text/plain')).toBe(415);
    expect(await outbox(dir)).toEqual([]);
  });

  it('case 9a: tool timeout 2 s → rejected with the timeout notes; the proposal is closed as expired', async () => {
    const dir = await stateDir('c9a');
    const d = await startDaemon(dir, { SUPERVISE_TOOL_TIMEOUT_SECONDS: '2' });
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const r = await c.callTool({ name: 'capability-block', arguments: { dockerfile: 'FROM node:20\nRUN apt-get install -y jq\n', justification: JUST } }, undefined, LONG);
    const s = structured(r);
    expect(s).toMatchObject({ status: 'rejected', notes: 'no operator decision within 2s; you may propose again' });
    const id = s.proposal_id as string;
    const closed = JSON.parse(await readFile(join(dir, 'supervise/spool/outbox', `${id}.closed.json`), 'utf8'));
    expect(closed).toMatchObject({ id, state: 'expired' });
    // A late approval never applies.
    writeInboxFile(join(dir, 'supervise/spool'), decision(id));
    await waitFor('the late decision to be consumed', async () => (await readdir(join(dir, 'supervise/spool/inbox'))).length === 0);
    expect(d.broker.peek(id)).toMatchObject({ state: 'expired' });
  });

  it('case 9b: the client disconnecting mid-wait withdraws the proposal', async () => {
    const dir = await stateDir('c9b');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const call = c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'a.test' }], justification: JUST } }, undefined, LONG).catch((e: unknown) => e);
    const [name] = await waitFor('the outbox file', async () => ((await outbox(dir)).length === 1 ? outbox(dir) : null));
    const id = name!.replace(/\.json$/, '');
    await c.close();
    await call;
    const closed = await waitFor('the withdrawn event', async () => {
      try {
        return JSON.parse(await readFile(join(dir, 'supervise/spool/outbox', `${id}.closed.json`), 'utf8')) as Record<string, unknown>;
      } catch {
        return null;
      }
    });
    expect(closed).toMatchObject({ id, state: 'withdrawn' });
  });

  it('case 10: a 4th pending agent proposal is refused; a duplicate of a pending one joins it (same id)', async () => {
    const dir = await stateDir('c10');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    const args = (h: string) => ({ routes: [{ host: h }], justification: JUST });
    const calls = ['a.test', 'b.test', 'c.test'].map((h) => c.callTool({ name: 'egress-allow', arguments: args(h) }, undefined, LONG));
    await waitFor('3 outbox files', async () => (await outbox(dir)).length === 3);
    const fourth = await c.callTool({ name: 'egress-allow', arguments: args('d.test') });
    expect(fourth.isError).toBe(true);
    expect(text(fourth)).toMatch(/too many pending proposals \(at most 3\); wait for the operator/);
    const dup = c.callTool({ name: 'egress-allow', arguments: args('a.test') }, undefined, LONG);
    expect(await stillPending(dup)).toBe(true);
    expect(await outbox(dir)).toHaveLength(3);
    const recs = await Promise.all((await outbox(dir)).map(async (n) => parseOutbox(await readFile(join(dir, 'supervise/spool/outbox', n), 'utf8'))));
    const a = recs.find((r) => r.ok && (r.value.payload.routes as Array<{ host: string }>)[0]!.host === 'a.test');
    if (!a?.ok) throw new Error('no a.test proposal');
    writeInboxFile(join(dir, 'supervise/spool'), decision(a.value.id, { decision: 'rejected', notes: 'too broad', reason: 'too broad' }));
    const [first, joined] = await Promise.all([calls[0]!, dup]);
    expect(structured(first)).toMatchObject({ status: 'rejected', notes: 'too broad', proposal_id: a.value.id });
    expect(structured(joined)).toMatchObject({ status: 'rejected', proposal_id: a.value.id });
    // Answer the others so their calls end.
    for (const r of recs) if (r.ok && r.value.id !== a.value.id) writeInboxFile(join(dir, 'supervise/spool'), decision(r.value.id, { decision: 'rejected', notes: 'no' }));
    await Promise.all(calls);
  });

  it('case 12 (daemon half): internal POST (egress-token-allow), inbox decision → the decision endpoint answers approved', async () => {
    const dir = await stateDir('c12');
    const d = await startDaemon(dir);
    const socket = d.config.internalSocket;
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    const payload = { bottle: 'sv-test', host: 'api.example.test', method: 'POST', path: '/v1/upload', findings: [{ rule: 'github-pat', surface: 'body', masked: 'ghp_…(40)', fingerprint: 'ab12' }] };
    const id = await fileProposal(socket, { kind: 'egress-token-allow', origin: 'egress', payload, timeoutSeconds: 60 });
    // An identical pending payload returns the same id.
    expect(await fileProposal(socket, { kind: 'egress-token-allow', origin: 'egress', payload, timeoutSeconds: 60 })).toBe(id);
    const rec = parseOutbox(await readFile(join(dir, 'supervise/spool/outbox', `${id}.json`), 'utf8'));
    expect(rec).toMatchObject({ ok: true, value: { kind: 'egress-token-allow', origin: 'egress', justification: null, payload } });
    const waiting = awaitDecision(socket, id, { deadline: Date.now() + 30_000, pollSeconds: 5 });
    expect(await stillPending(waiting)).toBe(true);
    writeInboxFile(join(dir, 'supervise/spool'), decision(id, { reason: 'ok', notes: 'ok' }));
    const got = await waiting;
    expect(got).toMatchObject({ state: 'approved', answer: { status: 'approved', reason: 'ok' } });
    // A bad kind/origin pair is a 400 the client reports; nothing filed.
    await expect(fileProposal(socket, { kind: 'secret-allow', origin: 'egress', payload: {}, timeoutSeconds: 5 })).rejects.toThrow('proposal not accepted (HTTP 400)');
    expect(await outbox(dir)).toEqual([`${id}.json`]);
  });

  it('case 22: a waiting call with a progress token gets notifications/progress within 20 s', async () => {
    const dir = await stateDir('c22');
    const d = await startDaemon(dir);
    const c = await connect(`http://127.0.0.1:${d.port}/mcp`);
    let progress = 0;
    let firstAt = 0;
    const t0 = Date.now();
    const call = c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'slow.test' }], justification: JUST } }, undefined, {
      ...LONG,
      resetTimeoutOnProgress: true,
      onprogress: () => {
        progress++;
        firstAt ||= Date.now();
      },
    });
    await waitFor('a progress notification', async () => progress > 0, 20_000);
    expect(firstAt - t0).toBeLessThan(20_000);
    const [name] = await outbox(dir);
    writeInboxFile(join(dir, 'supervise/spool'), decision(name!.replace(/\.json$/, ''), { decision: 'rejected', notes: 'no' }));
    expect(structured(await call).status).toBe('rejected');
  }, 40_000);
});

/** The real sidecar supervisor (built dist/) running egress and supervise on a private loopback address. */
async function startSupervisor(dir: string, env: Record<string, string> = {}): Promise<{ addr: string; stop: () => Promise<void>; pid: number }> {
  await writeBottleCa(join(dir, 'egress'), await createBottleCa('sv-test', new Date()));
  const addr = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
  const sup = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'sidecar', '--daemons', 'egress,supervise', '--config', dir, '--listen', addr], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, BOT_BOTTLE_SLUG: 'sv-test', EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: 'sv-canary-77aa', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  sup.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`supervisor not ready: ${log}`)), 30_000);
    sup.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/^ready /m.test(out)) {
        clearTimeout(t);
        if (!/^ready egress=9099 supervise=9100 version=/m.test(out)) reject(new Error(`unexpected ready line: ${out}`));
        else resolve();
      }
    });
    sup.on('exit', (code) => reject(new Error(`supervisor exited ${code}: ${log}`)));
  });
  return {
    addr,
    pid: sup.pid!,
    stop: async () => {
      if (sup.exitCode !== null) return;
      const gone = new Promise((r) => sup.once('exit', r));
      sup.kill('SIGTERM');
      await gone;
    },
  };
}

describe('supervise daemon under the real sidecar supervisor, with a real egress', () => {
  let sup: Awaited<ReturnType<typeof startSupervisor>>;
  let addr = '';
  let dir = '';
  beforeAll(async () => {
    dir = await stateDir('real');
    sup = await startSupervisor(dir);
    addr = sup.addr;
  });
  afterAll(async () => {
    await sup?.stop();
  });

  it('case 2 (egress up): list-egress-routes comes from egress /allowlist, without values, slots or host env names', async () => {
    const c = await connect(`http://${addr}:9100/mcp`);
    const r = await c.callTool({ name: 'list-egress-routes', arguments: {} });
    const s = structured(r);
    expect(s.source).toBe('egress');
    expect(s.generation).toBe(1);
    expect((s.routes as Array<{ host: string }>).map((x) => x.host)).toEqual(['api.example.test', 'pypi.org', 'github.com']);
    expect(text(r)).not.toMatch(/EGRESS_TOKEN|token_env|token_ref/);
    expect(text(r)).not.toContain(SECRET);
  });

  it('the daemon holds no credentials and its socket and spool are where egress looks', async () => {
    const pids = execFileSync('pgrep', ['-P', String(sup.pid)]).toString().trim().split('\n');
    const envs = pids.map((p) => ({ argv: readFileSync(`/proc/${p}/cmdline`, 'utf8'), env: readFileSync(`/proc/${p}/environ`, 'utf8') }));
    const sv = envs.find((e) => e.argv.includes('\0supervise'))!;
    expect(sv.env).not.toContain(SECRET);
    expect(sv.env).not.toContain('EGRESS_TOKEN');
    expect(sv.env).toContain(`SUPERVISE_INTERNAL_SOCKET=${dir}/run/supervise/supervise.sock`);
    const eg = envs.find((e) => e.argv.includes('\0egress'))!;
    expect(eg.env).toContain(`SUPERVISE_INTERNAL_SOCKET=${dir}/run/supervise/supervise.sock`);
    expect((await stat(join(dir, 'run/supervise/supervise.sock'))).isSocket()).toBe(true);
  });

  it('an approval whose generation egress already serves returns without the lag note', async () => {
    const c = await connect(`http://${addr}:9100/mcp`);
    const call = c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'pkg.test' }], justification: JUST } }, undefined, LONG);
    const [name] = await waitFor('the outbox file', async () => ((await outbox(dir)).length === 1 ? outbox(dir) : null));
    const id = name!.replace(/\.json$/, '');
    writeInboxFile(join(dir, 'supervise/spool'), decision(id, { notes: 'approved', applied: { generation: 1 } }));
    expect(structured(await call)).toEqual({ status: 'approved', notes: 'approved', proposal_id: id, routes: [{ host: 'pkg.test' }], generation: 1 });
  });
});

describe('case 12 end to end: an egress DLP hold through the real supervise daemon', () => {
  const GHP = `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`;
  let upstream: TlsUpstream;
  let sup: Awaited<ReturnType<typeof startSupervisor>> | undefined;
  afterAll(async () => {
    await sup?.stop();
    await upstream?.close();
  });

  it('held request → egress-token-allow in the outbox (masked) → `supervise approve --reason` → egress forwards it', async () => {
    upstream = await startTlsUpstream({ names: ['hold.example.test'] });
    // Laid out as BOT_BOTTLE_HOME/state/<slug>, so the operator's CLI finds the bottle's spool.
    const home = join(root, 'hold-home');
    const dir = await stateDir('hold-home/state/sv-test');
    await writeFile(join(dir, 'upstream-ca.pem'), upstream.ca.certPem);
    await writeFile(join(dir, 'live-config/routes.yaml'), `version: 1
generation: 1
bottle: sv-test
log: 0
routes:
  - host: hold.example.test
    port: ${upstream.port}
    allow_private_cidrs: [127.0.0.0/8]
    dlp: {outbound_detectors: [token_patterns], inbound_detectors: false, outbound_on_match: supervise}
    origin: manifest
`);
    sup = await startSupervisor(dir, { EGRESS_RESOLVE: 'hold.example.test=127.0.0.1', EGRESS_UPSTREAM_CA_FILE: join(dir, 'upstream-ca.pem') });
    const curl = new Promise<string>((resolve) => {
      execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '60', '-x', `http://${sup!.addr}:9099`, '--cacert', join(dir, 'egress/ca.pem'),
        '-d', `token=${GHP}`, `https://hold.example.test:${upstream.port}/upload`], (_e, stdout) => resolve(stdout.trim()));
    });
    const [name] = await waitFor('the held request\'s proposal', async () => ((await outbox(dir)).length === 1 ? outbox(dir) : null), 30_000);
    const raw = await readFile(join(dir, 'supervise/spool/outbox', name!), 'utf8');
    expect(raw).not.toContain(GHP);
    const rec = parseOutbox(raw);
    if (!rec.ok) throw new Error(rec.message);
    expect(rec.value).toMatchObject({ kind: 'egress-token-allow', origin: 'egress', bottle: 'sv-test', payload: { host: 'hold.example.test', method: 'POST' } });
    expect(upstream.requests).toHaveLength(0);
    // The operator's CLI imports it from the spool; a token release needs a reason (exit 2 without).
    const env = { BOT_BOTTLE_HOME: home };
    expect((await runCli(['supervise', 'approve', rec.value.id], { env, timeoutMs: 60_000 })).code).toBe(2);
    const approve = await runCli(['supervise', 'approve', rec.value.id, '--reason', 'ok'], { env, timeoutMs: 60_000 });
    expect(approve.code, approve.stderr).toBe(0);
    expect(`${approve.stdout}${approve.stderr}`).not.toContain(GHP);
    expect(await curl).toBe('200');
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.url).toBe('/upload');
    upstream.requests.splice(0); // it carried the token upstream (that is what approval means)
  }, 90_000);
});
