/**
 * The egress daemon as a real child process (src/egress/main.ts): reload, startup refusals,
 * passthrough, log levels, graceful shutdown, --check (E51–E53, E55–E57, E59, E60).
 * Every child is stopped by PID in afterEach; the planted secret and canary are grepped in all output.
 */
import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { A, CANARY, SECRET0, rawConnect, readAudit, routesYaml, startDaemon, upstream, upstreamCa, viaUndici, runCurl, type Daemon } from './harness.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { skipReason } from '../helpers/capabilities.js';

let daemons: Daemon[] = [];
let up: TlsUpstream;
beforeAll(async () => {
  up = await upstream((req, res) => {
    const wait = req.url.startsWith('/v1/slow') ? 2000 : 0;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    }, wait);
  });
});
afterAll(async () => {
  await up.close();
  for (const r of up.requests) expect(`${r.url}${r.body}`).not.toContain(CANARY);
});

afterEach(async () => {
  for (const d of daemons) {
    await d.stop('SIGKILL');
    const all = d.stderr() + d.stdout() + JSON.stringify(await readAudit(d.auditPath));
    expect(all, 'slot value in output').not.toContain(SECRET0);
    expect(all, 'canary in output').not.toContain(CANARY);
    await rm(d.dir, { recursive: true, force: true });
  }
  daemons = [];
});

async function daemon(routes: string, env: Record<string, string> = {}, log = 1, generation = 1): Promise<Daemon> {
  const d = await startDaemon(routesYaml(routes, log, generation), env);
  daemons.push(d);
  return d;
}

const aRoute = () => `  - {host: ${A}, port: ${up.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n`;
const ca = async (d: Daemon) => (await import('node:fs/promises')).readFile(d.caCertPath, 'utf8');

async function healthz(d: Daemon): Promise<Record<string, unknown>> {
  const r = await runCurl([`http://127.0.0.1:${d.port}/healthz`]);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function until(pred: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await pred()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

async function atomicWrite(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe.skipIf(skipReason('curl'))('egress daemon (child process)', () => {
  it('boots with egress_boot at level 0 and serves a request', async () => {
    const d = await daemon(aRoute(), {}, 0);
    expect(d.stderr()).toMatch(/"event":"egress_boot".*"log":"off".*"ca_sha256":"[0-9a-f]{64}".*"known_secrets":2/);
    const r = await viaUndici(d.proxy, await ca(d), `https://${A}:${up.port}/v1/x`);
    expect(r.status).toBe(200);
  });

  it('runs as `bot-bottle sidecar egress --routes … --listen …` (the supervisor\'s command)', async () => {
    const d = await startDaemon(routesYaml(aRoute(), 1), {}, { viaCli: true });
    daemons.push(d);
    const r = await viaUndici(d.proxy, await ca(d), `https://${A}:${up.port}/v1/cli`);
    expect(r.status).toBe(200);
    expect(up.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET0}`);
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('E51 route added + SIGHUP → allowed, generation +1; added with no signal → picked up < 3 s', async () => {
    const d = await daemon(aRoute());
    const caPem = await ca(d);
    expect((await rawConnect(d.port, `git.test:${up.port}`)).status).toBe(403);
    await writeFile(d.routesPath, routesYaml(`${aRoute()}  - {host: git.test, port: ${up.port}, allow_private_cidrs: [127.0.0.0/8]}\n`, 1, 2));
    d.child.kill('SIGHUP');
    await until(async () => (await healthz(d)).generation === 2, 3000);
    expect((await viaUndici(d.proxy, caPem, `https://git.test:${up.port}/`)).status).toBe(200);
    expect(d.stderr()).toContain('"event":"egress_reload"');
    await atomicWrite(d.routesPath, routesYaml(`${aRoute()}  - {host: git.test, port: ${up.port}, allow_private_cidrs: [127.0.0.0/8]}\n  - {host: plain.test, port: ${up.port}, allow_private_cidrs: [127.0.0.0/8]}\n`, 1, 3));
    const took = await until(async () => (await healthz(d)).generation === 3, 3000);
    expect(took).toBeLessThan(3000);
    expect((await viaUndici(d.proxy, caPem, `https://plain.test:${up.port}/`)).status).toBe(200);
  });

  it('E52 invalid YAML written → old table kept, egress_reload_failed, /healthz shows it', async () => {
    const d = await daemon(aRoute());
    await atomicWrite(d.routesPath, 'version: 1\nroutes: [ {host: \n');
    await until(async () => (await healthz(d)).last_reload !== undefined && ((await healthz(d)).last_reload as { ok: boolean }).ok === false, 3500);
    const h = await healthz(d);
    expect(h.generation).toBe(1);
    expect((h.last_reload as { error: string }).error).toMatch(/YAML syntax error/);
    expect(d.stderr()).toContain('"event":"egress_reload_failed"');
    expect((await viaUndici(d.proxy, await ca(d), `https://${A}:${up.port}/v1/x`)).status).toBe(200);
  });

  it('E53/E55 passthrough: upstream cert, no injection, audit with bytes; reload dropping the route closes the tunnel', async () => {
    const d = await daemon(`${aRoute()}  - {host: pinned.test, port: ${up.port}, tls_passthrough: true, allow_private_cidrs: [127.0.0.0/8]}\n`, { EGRESS_RESOLVE: `${A}=127.0.0.1,pinned.test=127.0.0.1` });
    const upCa = await upstreamCa();
    const c = await rawConnect(d.port, `pinned.test:${up.port}`);
    expect(c.status).toBe(200);
    const t = tls.connect({ socket: c.socket, ca: upCa.certPem, servername: 'pinned.test' });
    await new Promise<void>((r, j) => (t.once('secureConnect', () => r()), t.once('error', j)));
    const cert = new X509Certificate(t.getPeerCertificate().raw);
    expect(cert.checkIssued(new X509Certificate(upCa.certPem))).toBe(true);
    const n = up.requests.length;
    t.write(`GET /pass HTTP/1.1\r\nHost: pinned.test\r\n\r\n`);
    await new Promise<void>((r) => t.once('data', () => r()));
    expect(up.requests[n]!.headers.authorization).toBeUndefined();
    const closed = new Promise<void>((r) => t.once('close', () => r()));
    await atomicWrite(d.routesPath, routesYaml(aRoute(), 1, 2));
    d.child.kill('SIGHUP');
    await closed;
    await until(async () => (await readAudit(d.auditPath)).some((x) => x.mode === 'passthrough'), 3000);
    const rec = (await readAudit(d.auditPath)).find((x) => x.mode === 'passthrough')!;
    expect(rec).toMatchObject({ host: 'pinned.test', decision: 'allow' });
    expect(rec.bytes_up as number).toBeGreaterThan(0);
    expect(rec.bytes_down as number).toBeGreaterThan(0);
    void net;
  });

  it('E56 passthrough + auth → exit 78; route naming unset EGRESS_TOKEN_5 → exit 78 naming the slot only', async () => {
    const a = await startDaemon(routesYaml(`  - {host: a.test, tls_passthrough: true, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}}\n`), {}, { waitReady: false });
    daemons.push(a);
    expect(await a.exited).toBe(78);
    expect(a.stderr()).toMatch(/tls_passthrough/);
    const b = await startDaemon(routesYaml(`  - {host: a.test, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_5}}\n`), {}, { waitReady: false });
    daemons.push(b);
    expect(await b.exited).toBe(78);
    expect(b.stderr()).toContain('EGRESS_TOKEN_5');
    const c = await startDaemon(routesYaml(aRoute()), { EGRESS_TOKEN_0: 'bad\nvalue' }, { waitReady: false });
    daemons.push(c);
    expect(await c.exited).toBe(78);
    expect(c.stderr()).toContain('EGRESS_TOKEN_0 contains a CR');
    expect(c.stderr()).not.toContain('bad\nvalue');
    const dd = await startDaemon(routesYaml(aRoute()), { EGRESS_CA_KEY: '/nonexistent/ca-key.pem' }, { waitReady: false });
    daemons.push(dd);
    expect(await dd.exited).toBe(78);
    expect(dd.stderr()).toContain('/nonexistent/ca-key.pem');
    const e = await startDaemon(routesYaml(aRoute()), { EGRESS_ROUTES: '/nonexistent/routes.yaml' }, { waitReady: false });
    daemons.push(e);
    expect(await e.exited).toBe(78);
  });

  for (const level of [0, 1, 2] as const) {
    it(`E57 level ${level}: one allowed and one denied request`, async () => {
      const d = await daemon(aRoute(), {}, level);
      const caPem = await ca(d);
      expect((await viaUndici(d.proxy, caPem, `https://${A}:${up.port}/v1/ok`, { headers: { authorization: 'Bearer agent-fake' } })).status).toBe(200);
      expect((await rawConnect(d.port, 'evil.test:443')).status).toBe(403);
      await new Promise((r) => setTimeout(r, 200));
      const lines = d.stderr().split('\n').filter(Boolean);
      const events = lines.map((l) => (JSON.parse(l) as { event: string }).event);
      if (level === 0) expect(events.filter((x) => x.startsWith('egress_request') || x === 'egress_block')).toEqual([]);
      if (level >= 1) expect(events.filter((x) => x === 'egress_block')).toHaveLength(1);
      if (level === 2) {
        expect(d.stderr()).toContain('[injected:EGRESS_TOKEN_0]');
        expect(events).toContain('egress_request');
      }
      const audit = await readAudit(d.auditPath);
      expect(audit.length).toBeGreaterThanOrEqual(2);
      expect(audit.find((x) => x.reason === 'no_route')).toBeTruthy();
      expect(audit.find((x) => x.path === '/v1/ok')).toMatchObject({ injected: { scheme: 'Bearer', slot: 'EGRESS_TOKEN_0' }, status: 200 });
    });
  }

  it('E59 SIGTERM during a 2 s request: it completes; new connections refused; exit 0', async () => {
    const d = await daemon(aRoute());
    const caPem = await ca(d);
    const n = up.requests.length;
    const slow = viaUndici(d.proxy, caPem, `https://${A}:${up.port}/v1/slow`);
    await until(async () => up.requests.slice(n).some((r) => r.url === '/v1/slow'), 5000);
    d.child.kill('SIGTERM');
    const refusedAfter = await until(
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(d.port, '127.0.0.1');
          s.on('connect', () => (s.destroy(), resolve(false)));
          s.on('error', () => resolve(true));
        }),
      1500,
    );
    expect(refusedAfter).toBeLessThan(1500);
    const r = await slow;
    expect(r.status).toBe(200);
    expect(await d.exited).toBe(0);
    expect((await readAudit(d.auditPath)).some((x) => x.path === '/v1/slow')).toBe(true);
  });
});

describe('E60 --check', () => {
  const cli = join(REPO_ROOT, 'test', 'egress', 'fixtures', 'sidecar-egress-cli.ts');
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
  let dir: string;
  let routes: string;
  beforeAll(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    dir = await mkdtemp(join(tmpdir(), 'bb-check-'));
    routes = join(dir, 'routes.yaml');
    await writeFile(routes, routesYaml(`  - {host: ${A}, matches: [{paths: [{type: prefix, value: /v1}]}], auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}}\n`));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('through the real CLI: `bot-bottle sidecar egress --check`', async () => {
    const ok = await runCli(['sidecar', 'egress', '--routes', routes, '--check', `https://${A}/v1/x`], { env: { EGRESS_TOKEN_0: undefined } });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ decision: 'allow', inject: { slot: 'EGRESS_TOKEN_0' } });
    const no = await runCli(['sidecar', 'egress', '--routes', routes, '--check', 'https://evil.test/']);
    expect(no.code).toBe(1);
  });

  it('allowed URL → exit 0 with JSON; evil.test → exit 1; bad table → exit 2', async () => {
    const ok = await run(['--routes', routes, '--check', `https://${A}/v1/x`]);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ decision: 'allow', route: A, match: 0, mode: 'intercept', inject: { scheme: 'Bearer', slot: 'EGRESS_TOKEN_0' }, address_check: null });
    const no = await run(['--routes', routes, '--check', 'https://evil.test/']);
    expect(no.code).toBe(1);
    expect(JSON.parse(no.stdout)).toMatchObject({ decision: 'deny', reason: 'no_route' });
    const nm = await run(['--routes', routes, '--check', `https://${A}/v2`]);
    expect(JSON.parse(nm.stdout)).toMatchObject({ reason: 'no_match' });
    const ssrf = await run(['--routes', routes, '--check', `https://${A}/v1/x`, '--resolve', `${A}=10.1.2.3`]);
    expect(ssrf.code).toBe(1);
    expect(JSON.parse(ssrf.stdout)).toMatchObject({ address_check: { address: '10.1.2.3', ok: false } });
    const dlp = await run(['--routes', routes, '--check', `https://${A}/v1/x`, '--method', 'POST', '--header', `X-T: ghp_${'a'.repeat(36)}`]);
    expect(dlp.code).toBe(1);
    expect(JSON.parse(dlp.stdout)).toMatchObject({ reason: 'dlp_block', dlp: { findings: [{ rule: 'github_token', surface: 'header:x-t' }] } });
    await writeFile(join(dir, 'bad.yaml'), 'version: 1\nroutes: [{host: A.test}]\n');
    const bad = await run(['--routes', join(dir, 'bad.yaml'), '--check', 'https://a.test/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('routes[0].host');
  });
});
