/**
 * `bot-bottle log` against a REAL netns bottle's audit: the real sidecar bundle, an agent making
 * allowed and refused requests through egress to a loopback TLS stand-in, then `log --denied
 * --json`, the text view, `--suggest` and `--follow` read what egress wrote. Marker secrets (the
 * route's credential, sent back by the agent, and a GitHub-token-shaped value) never appear.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { skipReason } from '../helpers/capabilities.js';
import { CLI_MAIN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE } from '../../src/plan/bottle-plan.js';
import { Ctx } from '../../src/manifest/check.js';
import { parseRoute } from '../../src/manifest/route-schema.js';
import { makePlan, tempHome } from '../backends/helpers/plan.js';
import { writeRealState } from '../launch/real-state.js';
import { pathToFileURL } from 'node:url';

const SECRET = 'marker-log-secret-5f4e3d2c1b';
const GHP = `ghp_${'Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa'}`;
const CANARY = 'marker-log-canary-99887766';
const API = 'api.bot-bottle.test';
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function routes(slug: string, port: number): string {
  return [
    'version: 1', 'generation: 1', `bottle: ${slug}`, 'log: 1', 'routes:',
    `  - host: ${API}`, `    port: ${port}`,
    '    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}',
    '    matches: [{methods: [GET], paths: [{type: prefix, value: /allowed}]}]',
    '    allow_private_cidrs: [127.0.0.0/8]', '',
  ].join('\n');
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('bot-bottle log on a real netns bottle', () => {
  const home = tempHome();
  const env = { BOT_BOTTLE_HOME: home };
  let upstream: TlsUpstream | undefined;
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('--denied --json, text, --suggest and --follow over what egress audited; no secret printed', async () => {
    upstream = await startTlsUpstream({ names: [API] });
    const slug = `lg-${Math.random().toString(36).slice(2, 7)}`;
    const upstreamCa = join(home, 'upstream-ca.pem');
    writeFileSync(upstreamCa, upstream.ca.certPem);
    const plan = makePlan(home, slug, {
      daemons: ['egress'],
      agentEnv: { CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE },
      sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
    });
    await writeRealState(plan, routes(slug, upstream.port));
    const backend = createNetnsBackend();
    const b = (await backend.launch(plan, { EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: CANARY }, { onProgress: () => undefined })) as NetnsBottle;
    const base = `https://${API}:${upstream.port}`;
    const curl = (url: string, ...args: string[]) => b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', ...args, url]);
    let follower: ReturnType<typeof spawn> | undefined;
    try {
      await provision(plan, b, () => undefined, () => undefined);
      // session.json makes the bottle "live" for --follow (docs/architecture.md §5).
      writeFileSync(join(plan.stateDir, 'session.json'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      expect((await curl(`${base}/allowed/ok`)).stdout).toBe('200');
      expect((await curl(`${base}/private/a`)).stdout).toBe('403');
      expect((await curl(`${base}/private/b/c`)).stdout).toBe('403');
      expect((await curl(`${base}/allowed/x`, '-X', 'POST', '-d', 'x=1')).stdout).toBe('403');
      expect((await curl(`${base}/private/q?key=${GHP}`)).stdout).toBe('403');
      expect((await curl(`${base}/allowed/leak?v=${SECRET}`)).stdout).not.toBe('200');
      expect((await curl('https://blocked.bot-bottle.test/anything')).stdout).toMatch(/^(403|000)$/);

      // --follow: history first, then a request made now appears while the bottle runs.
      let followed = '';
      follower = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'log', slug, '--follow', '--json'], { env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      follower.stdout!.on('data', (c: Buffer) => (followed += c.toString()));
      const exited = new Promise<number | null>((r) => follower!.on('close', (code) => r(code)));
      expect(await until(() => followed.includes('/private/b/c'), 30_000), followed).toBe(true);
      expect((await curl(`${base}/private/live-now`)).stdout).toBe('403');
      expect(await until(() => followed.includes('/private/live-now'), 15_000), followed).toBe(true);
      rmSync(join(plan.stateDir, 'session.json')); // the bottle "ends": follow stops by itself
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))])).toBe(0);
      follower = undefined;
      for (const v of [SECRET, GHP, CANARY]) expect(followed).not.toContain(v);
    } finally {
      follower?.kill('SIGKILL');
      await b.close();
    }

    const denied = await runCli(['log', slug, '--denied', '--json'], { env });
    expect(denied.code, denied.stderr).toBe(0);
    const rows = denied.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.every((r) => r.schema === 'bot-bottle/log@1' && r.slug === slug && r.source === 'egress')).toBe(true);
    expect(rows.every((r) => r.decision === 'deny' || r.decision === 'error')).toBe(true);
    expect(rows).toContainEqual(expect.objectContaining({ method: 'GET', host: API, port: upstream.port, path: '/private/a', reason: 'no_match', status: 403 }));
    expect(rows).toContainEqual(expect.objectContaining({ method: 'POST', path: '/allowed/x', reason: 'no_match' }));
    expect(rows.some((r) => r.host === 'blocked.bot-bottle.test' && r.reason === 'no_route')).toBe(true);
    expect(rows.some((r) => r.path === '/allowed/ok')).toBe(false);
    for (const r of rows) for (const k of ['ts', 'host', 'method', 'path', 'rule', 'reason']) expect(r).toHaveProperty(k);

    const text = await runCli(['log', slug], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`egress\\s+ALLOW\\s+GET\\s+${API.replace(/\./g, '\\.')}:${upstream.port}/allowed/ok`));
    expect(text.stdout).toMatch(/DENY\s+GET\s+\S+\/private\/a\s+rule=\S+\s+reason=no_match/);

    const suggest = await runCli(['log', slug, '--suggest'], { env });
    expect(suggest.code, suggest.stderr).toBe(0);
    const doc = parse(suggest.stdout) as { egress: { routes: Array<Record<string, unknown>> } };
    const hosts = doc.egress.routes.map((r) => r.host);
    expect(hosts).toContain(API);
    expect(hosts).toContain('blocked.bot-bottle.test');
    for (const [i, r] of doc.egress.routes.entries()) {
      const ctx = new Ctx('');
      expect(parseRoute(ctx, r, ['routes', i]), JSON.stringify(ctx.issues)).toBeDefined();
      expect(r).not.toHaveProperty('auth');
    }
    const api = doc.egress.routes.find((r) => r.host === API)!;
    expect(api.port).toBe(upstream.port);
    expect(JSON.stringify(api.matches)).toContain('"/private"');
    expect(suggest.stdout).toContain('merge these matches into it');

    for (const out of [denied.stdout, text.stdout, suggest.stdout, denied.stderr, text.stderr]) {
      for (const v of [SECRET, GHP, CANARY]) expect(out).not.toContain(v);
    }
    // the audit file itself was the input: check the test exercised it
    expect(readFileSync(join(plan.stateDir, 'logs', 'egress-audit.jsonl'), 'utf8')).toContain('/private/a');
  }, 180_000);

  it('unknown slug → exit 1 naming the path; --suggest with --follow → exit 2', async () => {
    const r = await runCli(['log', 'nope-12345'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`bot-bottle: error: no saved state for "nope-12345" (looked in ${join(home, 'state', 'nope-12345')}); see "bot-bottle list"\n`);
    const u = await runCli(['log', '--suggest', '--follow'], { env });
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^bot-bottle: error: --suggest .* cannot be combined with --follow; drop one of them\n$/);
  }, 60_000);
});
