/**
 * The docker backend against a real engine (issue 13 acceptance): the real sidecar image and
 * supervisor, the demo's stand-in upstreams, the agent container. Skips with a printed reason when
 * no engine runs here; CI (.ci/run) starts one. Boundaries: docs/security-model.md (docker part).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createDockerBackend } from '../../src/backends/docker/index.js';
import { namesFor } from '../../src/backends/docker/names.js';
import type { DockerBottle } from '../../src/backends/docker/running.js';
import { DEMO_API_HOST, DEMO_GIT_HOST, startDemoUpstreams, type DemoUpstreams } from '../../src/launch/demo/upstreams.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT } from '../../src/plan/bottle-plan.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { writeRealState } from '../launch/real-state.js';
import { dockerLeftovers, dockerPlan, dockerSkipReason, inspect } from './helpers/docker.js';
import { tempHome } from './helpers/plan.js';

const skip = await dockerSkipReason();
if (skip) process.stdout.write(`docker backend tests skipped: ${skip}\n`);

const TOKEN = `demo-token-${Math.random().toString(36).slice(2)}-5c1f`;
const CANARY = `canary-${Math.random().toString(36).slice(2)}-77aa`;
const execFileP = promisify(execFile);
const rnd = () => Math.random().toString(36).slice(2, 7);
const DIST_INDEX = join(REPO_ROOT, 'dist', 'backends', 'docker', 'index.js');

function routes(slug: string): string {
  return [
    'version: 1', 'generation: 1', `bottle: ${slug}`, 'log: 1', 'routes:',
    `  - host: ${DEMO_API_HOST}`, '    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}', '    allow_private_cidrs: [127.0.0.0/8]', '',
  ].join('\n');
}

describe.skipIf(skip)('docker backend (real engine)', () => {
  const backend = createDockerBackend();
  const home = tempHome();
  const open: DockerBottle[] = [];
  const servers: net.Server[] = [];
  let upstreams: DemoUpstreams | null = null;

  async function launch(slug: string, withUpstreams: boolean, daemons: Array<'egress' | 'git-gate'> = ['egress', 'git-gate']): Promise<DockerBottle> {
    const ups = withUpstreams ? (upstreams ??= await startDemoUpstreams(join(home, `up-${rnd()}`), TOKEN)) : null;
    const plan = dockerPlan(home, slug, {
      daemons,
      agentEnv: { BOT_BOTTLE_CANARY: CANARY, CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE, NODE_EXTRA_CA_CERTS: GUEST_CA_CERT },
      sidecarEnv: ups ? { EGRESS_RESOLVE: `${DEMO_API_HOST}=${ups.address}`, EGRESS_UPSTREAM_CA_FILE: ups.caFile, GIT_GATE_RESOLVE: `${DEMO_GIT_HOST}=${ups.address}`, GIT_GATE_UPSTREAM_CA_FILE: ups.caFile } : {},
    });
    await writeRealState(plan, routes(slug));
    const b = (await backend.launch(plan, { EGRESS_TOKEN_0: TOKEN, EGRESS_TOKEN_CANARY: CANARY, GIT_GATE_CANARY: CANARY }, { onProgress: () => undefined })) as DockerBottle;
    open.push(b);
    await provision(plan, b, () => undefined, () => undefined);
    return b;
  }

  async function hostListener(): Promise<number> {
    const s = net.createServer((c) => c.end('host-service\n'));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
    return (s.address() as net.AddressInfo).port;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
    servers.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await upstreams?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('reaches the allowed upstream with the credential injected; neither container holds a secret in docker inspect', async () => {
    const slug = `dk-${rnd()}`;
    const b = await launch(slug, true);
    const r = await b.exec(['/bin/sh', '-c', `curl -sS --max-time 20 https://${DEMO_API_HOST}/whoami`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('"sawDemoToken":true');
    expect(upstreams!.sawToken).toBe(true);
    const env = await b.exec(['/bin/sh', '-c', 'id -u; grep CapEff /proc/self/status; printenv']);
    expect(env.stdout).toMatch(/^1000\n/);
    expect(env.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(env.stdout).toContain(`BOT_BOTTLE_CANARY=${CANARY}`);
    expect(env.stdout).not.toContain(TOKEN);
    const names = namesFor(slug);
    for (const c of [names.agent, names.sidecars]) {
      const text = inspect(c);
      expect(text.length).toBeGreaterThan(100);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(CANARY);
    }
  }, 240_000);

  it('has no route to the host (bridge gateway, any host address) and no DNS', async () => {
    const slug = `dk-${rnd()}`;
    const b = await launch(slug, false);
    const port = await hostListener();
    const addrs = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((i) => i.family === 'IPv4' && !i.internal).map((i) => i.address);
    const gateway = b.sidecarAddr.replace(/\.\d+$/, (m) => `.${Number(m.slice(1)) - 1}`);
    expect(addrs).toContain(gateway);
    // Positive control: the same listener answers a container on an ordinary bridge (the sidecar's
    // egress network). Async: a spawnSync would block this process's own listener.
    const gw = (await execFileP('docker', ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', namesFor(slug).egressNetwork])).stdout.trim();
    const control = await execFileP('docker', ['exec', namesFor(slug).sidecars, 'node', '-e',
      `require('net').connect(${port}, '${gw}').on('data', (d) => process.stdout.write(d)).on('error', () => process.exit(3))`], { timeout: 30_000 });
    expect(control.stdout).toContain('host-service');
    const probe = addrs.map((a) => `curl -s --noproxy '*' --max-time 3 http://${a}:${port}/ >/dev/null 2>&1 && echo "REACHED ${a}"`).join('; ');
    const r = await b.exec(['/bin/sh', '-c', `${probe}; echo done`]);
    expect(r.stdout).not.toContain('REACHED');
    expect(r.stdout).toContain('done');
    // The sidecar answers, but only on its ports.
    const side = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' http://egress:9099/; echo; curl -s --noproxy '*' --max-time 3 http://${b.sidecarAddr}:22/ >/dev/null 2>&1 && echo REACHED-22; echo end`]);
    expect(side.stdout).toMatch(/^\d{3}\n/);
    expect(side.stdout).not.toContain('REACHED');
    const dns = await b.exec(['/bin/sh', '-c', 'getent hosts deb.debian.org && echo RESOLVED; cat /etc/resolv.conf; ' +
      'if command -v node >/dev/null; then node -e "const r=new (require(\'dns\').promises.Resolver)({timeout:2000,tries:1});r.setServers([\'127.0.0.11\']);r.resolve4(\'deb.debian.org\').then(()=>console.log(\'RESOLVED-127.0.0.11\'),()=>console.log(\'no-dns\'))"; fi']);
    expect(dns.stdout).not.toContain('RESOLVED');
    expect(dns.stdout).not.toMatch(/^nameserver/m);
  }, 240_000);

  it('runs 4 bottles in parallel on distinct subnets, and teardown leaves no container, network or table', async () => {
    const slugs = [0, 1, 2, 3].map(() => `dkp-${rnd()}`);
    // egress only: four bottles' sidecars start at once on a shared two-core machine.
    const bottles = await Promise.all(slugs.map((s) => launch(s, false, ['egress'])));
    expect(new Set(bottles.map((b) => b.sidecarAddr)).size).toBe(4);
    for (const b of bottles) {
      const r = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' http://egress:9099/; echo " $BOT_BOTTLE_SLUG"`]);
      expect(r.stdout).toMatch(new RegExp(`^\\d{3} ${b.slug}`));
    }
    for (const s of slugs) expect(dockerLeftovers(s).length).toBeGreaterThan(0);
    await Promise.all(open.splice(0).map((b) => b.close()));
    for (const s of slugs) expect(dockerLeftovers(s)).toEqual([]);
  }, 300_000);

  it('cleanup finds and removes a bottle whose launcher died (containers, networks, table)', async () => {
    expect(existsSync(DIST_INDEX)).toBe(true);
    const slug = `dko-${rnd()}`;
    const plan = dockerPlan(home, slug, { daemons: ['egress'] });
    await writeRealState(plan, routes(slug));
    mkdirSync(join(home, 'plans'), { recursive: true });
    const planFile = join(home, 'plans', `${slug}.json`);
    writeFileSync(planFile, JSON.stringify(plan));
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'backends', 'fixtures', 'docker-orphan.mjs'), DIST_INDEX, planFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('launched') && resolve());
      child.once('exit', (code) => reject(new Error(`orphan launcher exited ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Still live for a concurrent launch's session: nothing is planned while the slug is live.
    expect((await backend.cleanupPlan(new Set([slug]))).resources.filter((r) => r.slug === slug)).toEqual([]);
    const plan2 = await backend.cleanupPlan(new Set());
    const mine = plan2.resources.filter((r) => r.slug === slug).map((r) => `${r.kind} ${r.name}`).sort();
    const n = namesFor(slug);
    expect(mine).toEqual([`container ${n.agent}`, `container ${n.sidecars}`, `network ${n.egressNetwork}`, `network ${n.network}`, `nftables-table ${n.table}`].sort());
    await backend.cleanup({ backend: 'docker', resources: plan2.resources.filter((r) => r.slug === slug) });
    expect(dockerLeftovers(slug)).toEqual([]);
  }, 240_000);

  it('commit snapshots the agent container and the next launch of the slug starts from it', async () => {
    const slug = `dkc-${rnd()}`;
    const b = await launch(slug, false);
    expect((await b.exec(['/bin/sh', '-c', 'echo kept-across-commit > "$HOME/note.txt"'])).code).toBe(0);
    // A link planted where the CA goes: the next launch must replace it, not write through it.
    const passwd = (await b.exec(['/bin/sh', '-c', 'rm -f "$HOME/.bot-bottle-ca.pem" && ln -s /etc/passwd "$HOME/.bot-bottle-ca.pem" && cat /etc/passwd'])).stdout;
    expect(passwd).toContain('node:x:1000');
    const r = await backend.commit!(slug);
    expect(r.image).toBe(namesFor(slug).committedImage);
    expect(readFileSync(join(home, 'state', slug, 'committed-image'), 'utf8').trim()).toBe(r.image);
    await open.splice(0).pop()!.close();
    const again = await launch(slug, false);
    expect((await again.exec(['/bin/sh', '-c', 'cat "$HOME/note.txt"'])).stdout).toBe('kept-across-commit\n');
    // The CA was written before the container started (docs/decisions/docker-ca-at-create.md):
    // this launch's CA, once, in the system store (the committed one's dropped) and in the home.
    const ca = readFileSync(dockerPlan(home, slug, {}).ca.hostCertPath, 'utf8');
    // find, not stat: gVisor 2022-12 answers coreutils' statx with EINVAL.
    const trust = await again.exec(['/bin/sh', '-c', 'grep -c "^# bot-bottle: the bottle CA" /etc/ssl/certs/ca-certificates.crt; find "$HOME/.bot-bottle-ca.pem" "$HOME/.bot-bottle-ca-bundle.pem" -printf "%U %y\\n"']);
    expect(trust.stdout).toBe('1\n1000 f\n1000 f\n');
    expect((await again.exec(['/bin/sh', '-c', 'cat "$HOME/.bot-bottle-ca.pem"'])).stdout).toBe(ca);
    expect((await again.exec(['/bin/sh', '-c', 'cat /etc/ssl/certs/ca-certificates.crt'])).stdout.endsWith(ca.endsWith('\n') ? ca : `${ca}\n`)).toBe(true);
    expect((await again.exec(['/bin/sh', '-c', 'cat /etc/passwd'])).stdout).toBe(passwd);
    await again.close();
    await execFileP('docker', ['rmi', '-f', r.image!]);
  }, 240_000);
});
