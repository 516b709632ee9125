/**
 * Fault behaviour of real netns bottles through the compiled CLI (docs/security-model.md §3): a
 * sidecar dying mid-session, dead and untrusted upstreams, SIGINT/SIGTERM at every launch step,
 * an invalid routes file on reload, 8 parallel launches. Every case ends with
 * `cleanup --dry-run --json` reporting nothing for the bottles it made.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { cleanupDryRun, curlLine, distMissing, loopbackRoute, makeHome, runDist, spawnCli, type CliRun } from './faults-cli.js';
import { acceptAndClose, httpOk, untrustedTls, type CountingServer } from './faults-upstreams.js';
import { daemonPids, pgidOf, ppidOf } from './faults-proc.js';

const START = ['start', 'runner', '--headless', '--backend', 'netns', '--prompt'];
/** Progress lines of a launch that has every optional provisioning step, in order (docs/architecture.md §4.6). */
const STEPS = [
  'writing state',
  'creating network namespace',
  'starting sidecars',
  'installing the bottle CA',
  'configuring git',
  'copying skills',
  'writing the prompt',
  'writing provider files',
  'copying the workspace',
];

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits for the agent (which blocks on `~/<name>`) to be released by the test. */
const gate = (name: string) => `while [ ! -e ~/${name} ]; do sleep 0.05; done`;

async function waitForFile(path: string, text: string | RegExp, ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const s = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
    if (Date.now() > until) throw new Error(`${path} never contained ${String(text)}:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Replaces a file atomically, keeping its mode and owner (the sidecars need not run as root). */
function replaceFile(path: string, text: string): void {
  const st = statSync(path);
  const tmp = `${path}.faults-tmp`;
  writeFileSync(tmp, text);
  chmodSync(tmp, st.mode & 0o7777);
  chownSync(tmp, st.uid, st.gid);
  renameSync(tmp, path);
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl') || distMissing())('faults (netns, through the CLI)', () => {
  let ok: CountingServer;
  let added: CountingServer;
  let never: CountingServer;
  let dead: CountingServer;
  let badTls: CountingServer;
  let refused: number;
  let home: string;
  let userHome: string;
  let env: Record<string, string>;
  const slugs: string[] = [];
  const kids: CliRun[] = [];

  beforeAll(async () => {
    [ok, added, never, dead, badTls] = await Promise.all([httpOk(), httpOk(), httpOk(), acceptAndClose(), untrustedTls()]);
    refused = await closedPort();
    home = makeHome({
      providerFiles: true,
      bottleYaml: `egress:\n  routes:\n${[ok.port, dead.port, badTls.port, refused].map((p) => loopbackRoute(p)).join('')}`,
      agentYaml: 'skills: [fx-skill]\ngit-gate:\n  user: {name: Faults Bot, email: faults@example.com}\n',
    });
    userHome = mkdtempSync(join(tmpdir(), 'bb-faults-user-'));
    mkdirSync(join(userHome, '.claude', 'skills', 'fx-skill'), { recursive: true });
    writeFileSync(join(userHome, '.claude', 'skills', 'fx-skill', 'SKILL.md'), '# fx skill\n');
    env = { BOT_BOTTLE_HOME: home, HOME: userHome };
  });

  afterAll(async () => {
    for (const k of kids) if (k.child.exitCode === null) k.child.kill('SIGKILL');
    // Only this file's bottles: an unfiltered cleanup would reap other tests' orphans too.
    if (slugs.length > 0) await runDist(['cleanup', '--yes', '--include-preserved', ...slugs], { BOT_BOTTLE_HOME: home }, 120_000);
    await Promise.all([ok, added, never, dead, badTls].map((s) => s?.close()));
    rmSync(home, { recursive: true, force: true });
    rmSync(userHome, { recursive: true, force: true });
  });

  function start(prompt: string, extra: string[] = [], cwd?: string): CliRun {
    const run = spawnCli([...START, prompt, ...extra], env, cwd);
    kids.push(run);
    return run;
  }
  async function slugOf(run: CliRun): Promise<string> {
    await run.waitFor('stderr', /^bot-bottle: started \S+$/m);
    const slug = run.slug()!;
    slugs.push(slug);
    return slug;
  }
  async function expectNothingLeft(forSlugs: string[]): Promise<void> {
    expect(await cleanupDryRun(home, forSlugs)).toEqual({ resources: [], removableState: [], keptPreserved: [] });
    for (const s of forSlugs) expect(leftovers(s), s).toEqual([]);
  }
  async function activeSidecars(slug: string): Promise<string[] | undefined> {
    const r = await runDist(['list', 'active', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { bottles: Array<{ slug: string; sidecars: string[] }> }).bottles.find((b) => b.slug === slug)?.sidecars;
  }

  for (const what of ['the egress daemon', 'the whole sidecar bundle', 'the supervisor alone'] as const) {
    it(`${what} killed mid-session → the agent loses its network, list active shows it down, teardown completes`, async () => {
      const run = start(`${curlLine('before', `http://127.0.0.1:${ok.port}/`)}; echo phase1; ${gate('go')}; ${curlLine('after', `http://127.0.0.1:${ok.port}/`)}; exit 0`);
      const slug = await slugOf(run);
      await run.waitFor('stdout', 'phase1');
      expect(run.stdout()).toContain('before 200');
      expect(await activeSidecars(slug)).toEqual(expect.arrayContaining(['egress', 'git-gate']));

      const [egress] = daemonPids(slug, 'egress');
      expect(egress).toBeDefined();
      if (what === 'the egress daemon') process.kill(egress!, 'SIGKILL');
      else if (what === 'the supervisor alone') process.kill(ppidOf(egress!), 'SIGKILL'); // it cannot forward SIGKILL: the lifeline must
      else process.kill(-pgidOf(egress!), 'SIGKILL'); // supervisor and every daemon it started
      await new Promise((r) => setTimeout(r, 300));
      if (what === 'the supervisor alone') {
        // Orphaned daemons would keep serving (the agent kept its network); they must exit.
        for (let i = 0; i < 40 && (daemonPids(slug, 'egress').length > 0 || daemonPids(slug, 'git-gate').length > 0); i += 1) await new Promise((r) => setTimeout(r, 50));
        expect(daemonPids(slug, 'egress')).toEqual([]);
        expect(daemonPids(slug, 'git-gate')).toEqual([]);
      }
      const up = await activeSidecars(slug);
      expect(up, 'list active must still list the bottle').toBeDefined();
      expect(up).not.toContain('egress');
      if (what !== 'the egress daemon') expect(up).toEqual([]);

      writeFileSync(join(home, 'state', slug, 'home', 'go'), '');
      expect(await run.exited, run.stderr()).toBe(0);
      expect(run.stdout()).toContain('after 000'); // fail closed: no proxy, no direct route
      expect(run.stderr()).toContain(`bottle ${slug} finished; state removed`);
      expect(existsSync(join(home, 'state', slug))).toBe(false);
      await expectNothingLeft([slug]);
    }, 120_000);
  }

  it('dead upstream / untrusted TLS / refused port → 502 with a clear reason, one connection attempt per request', async () => {
    const url = (scheme: string, port: number, path: string) => `${scheme}://127.0.0.1:${port}${path}`;
    const req = (u: string) => `curl -sS --noproxy '' -x http://egress:9099 --max-time 20 -w '\\nSTATUS %{http_code}\\n' ${u}`;
    const run = start([req(url('http', dead.port, '/dead')), req(url('https', badTls.port, '/tls')), req(url('http', refused, '/refused')), 'exit 0'].join('; '));
    const slug = await slugOf(run);
    expect(await run.exited, run.stderr()).toBe(0);
    const out = run.stdout();
    const blocks = out.split(/^STATUS /m);
    expect(blocks.length, out).toBe(4);
    expect(out.match(/^STATUS (\d+)$/gm)).toEqual(['STATUS 502', 'STATUS 502', 'STATUS 502']);
    expect(blocks[0]).toContain(`egress: error (upstream_unreachable) GET http://127.0.0.1:${dead.port}/dead`);
    expect(blocks[1]).toContain(`egress: error (upstream_tls) GET https://127.0.0.1:${badTls.port}/tls`);
    expect(blocks[1]).toContain('did not verify');
    expect(blocks[2]).toContain(`egress: error (upstream_unreachable) GET http://127.0.0.1:${refused}/refused`);
    // No retry storm: one request, one (at most two) connection attempts.
    expect(dead.connections()).toBeGreaterThanOrEqual(1);
    expect(dead.connections()).toBeLessThanOrEqual(2);
    expect(badTls.connections()).toBeGreaterThanOrEqual(1);
    expect(badTls.connections()).toBeLessThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 500)); // nothing arrives late either
    expect(dead.connections()).toBeLessThanOrEqual(2);
    expect(badTls.connections()).toBeLessThanOrEqual(2);
    await expectNothingLeft([slug]);
  }, 120_000);

  it('a complete launch prints exactly these progress steps, in order', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bb-faults-ws-'));
    writeFileSync(join(cwd, 'README'), 'workspace\n');
    try {
      const run = start('true', ['--cwd'], cwd);
      const slug = await slugOf(run);
      expect(await run.exited, run.stderr()).toBe(0);
      const progress = run.stderr().split('\n').filter((l) => l.startsWith('bot-bottle: ')).map((l) => l.slice(12));
      expect(progress.slice(1, progress.indexOf(`bottle ${slug} ready`))).toEqual(STEPS);
      await expectNothingLeft([slug]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  const signalled = (['SIGINT', 'SIGTERM'] as const).flatMap((sig) => STEPS.map((s): [string, NodeJS.Signals, number] => [s, sig, sig === 'SIGINT' ? 130 : 143]));
  it.each(signalled)('%s + %s → exit %i, reverse teardown, no state dir, cleanup finds nothing', async (step, signal, code) => {
    const cwd = mkdtempSync(join(tmpdir(), 'bb-faults-ws-'));
    writeFileSync(join(cwd, 'README'), 'workspace\n');
    try {
      const run = start('sleep 30', ['--cwd'], cwd);
      const slug = await slugOf(run);
      await run.waitFor('stderr', `bot-bottle: ${step}\n`);
      run.child.kill(signal);
      expect(await run.exited, run.stderr()).toBe(code);
      expect(run.stderr()).not.toContain(`bottle ${slug} ready`);
      expect(run.stderr()).toMatch(/^bot-bottle: error: .*interrupted/m);
      expect(existsSync(join(home, 'state', slug))).toBe(false);
      await expectNothingLeft([slug]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);

  it('routes file made invalid on reload → the last good table stays in force and the error is logged', async () => {
    const A = (tag: string) => curlLine(`${tag}-ok`, `http://127.0.0.1:${ok.port}/`);
    const B = (tag: string) => curlLine(`${tag}-added`, `http://127.0.0.1:${added.port}/`);
    const C = (tag: string) => curlLine(`${tag}-never`, `http://127.0.0.1:${never.port}/`);
    const phase = (n: number) => `${A(`p${n}`)}; ${B(`p${n}`)}; ${C(`p${n}`)}; echo phase${n}`;
    const run = start([phase(1), gate('go2'), phase(2), gate('go3'), phase(3), 'exit 0'].join('; '));
    const slug = await slugOf(run);
    const state = join(home, 'state', slug);
    const routesPath = join(state, 'live-config', 'routes.yaml');
    const log = join(state, 'logs', 'sidecar.log');
    const backend = createNetnsBackend();
    await run.waitFor('stdout', 'phase1');
    expect(run.stdout()).toMatch(/p1-ok 200\np1-added 403\np1-never 403\n/);

    // A valid reload first: the route for `added` becomes generation 2, the last good table.
    const good = readFileSync(routesPath, 'utf8');
    const okBlock = new RegExp(`( {2}- host: 127\\.0\\.0\\.1\\n {4}port: ${ok.port}\\n(?: {4}.*\\n)+)`).exec(good)?.[1];
    expect(okBlock, good).toBeDefined();
    replaceFile(routesPath, good.replace(/^generation: 1$/m, 'generation: 2') + okBlock!.replace(`port: ${ok.port}`, `port: ${added.port}`));
    await backend.reloadEgress(slug); // SIGHUP to the sidecar supervisor, forwarded to egress
    await waitForFile(log, /"event":"egress_reload","bottle":"[^"]+","generation":2/);
    writeFileSync(join(state, 'home', 'go2'), '');
    await run.waitFor('stdout', 'phase2');
    expect(run.stdout()).toMatch(/p2-ok 200\np2-added 200\np2-never 403\n/);

    replaceFile(routesPath, 'version: 1\ngeneration: 3\nroutes: [ {host: \n');
    await backend.reloadEgress(slug);
    const text = await waitForFile(log, '"event":"egress_reload_failed"');
    const failed = text.split('\n').find((l) => l.includes('"event":"egress_reload_failed"'))!;
    expect(failed).toContain('"kept_generation":2');
    expect(JSON.parse(failed.slice(failed.indexOf('{'))).error).toMatch(/\S{3,}/);
    writeFileSync(join(state, 'home', 'go3'), '');
    await run.waitFor('stdout', 'phase3');
    expect(run.stdout()).toMatch(/p3-ok 200\np3-added 200\np3-never 403\n/);
    expect(never.requests).toEqual([]);
    expect(await run.exited, run.stderr()).toBe(0);
    await expectNothingLeft([slug]);
  }, 120_000);

  it('8 parallel launches through `start` all succeed with distinct names and addresses, and all go away', async () => {
    // Each bottle holds its address until all 8 have printed theirs: a bottle that finished early
    // frees its block, and a later launch may rightly take it again.
    const prompt = `grep -w egress /etc/hosts | cut -d' ' -f1; ${curlLine('ok', `http://127.0.0.1:${ok.port}/`)}; ${gate('all-up')}`;
    const runs = Array.from({ length: 8 }, () => start(prompt));
    const names = await Promise.all(runs.map(slugOf));
    await Promise.all(runs.map((r) => r.waitFor('stdout', /^ok \S+$/m, 240_000)));
    for (const n of names) writeFileSync(join(home, 'state', n, 'home', 'all-up'), '');
    const codes = await Promise.all(runs.map((r) => r.exited));
    runs.forEach((r, i) => expect(codes[i], r.stderr()).toBe(0));
    expect(new Set(names).size).toBe(8);
    const addrs = runs.map((r) => r.stdout().split('\n')[0]);
    for (const a of addrs) expect(a).toMatch(/^10\.250\.\d+\.\d+$/);
    expect(new Set(addrs).size).toBe(8);
    runs.forEach((r, i) => {
      expect(r.stdout()).toContain('ok 200');
      expect(r.stderr()).toContain(`bottle ${names[i]} finished; state removed`);
    });
    await expectNothingLeft(names);
  }, 300_000);
});
