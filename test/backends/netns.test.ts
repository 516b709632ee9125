/**
 * The netns backend against the real kernel: namespaces, veth, nftables, bubblewrap. Sidecars are
 * the stand-in supervisor here (fixtures/standin-sidecar.mjs); test/launch/ runs the real ones.
 * Attack numbers are ids of the sandbox-escape suite; the boundaries they test are described in
 * docs/security-model.md §2.
 */
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AGENT_CGROUP, listBottleCgroups } from '../../src/backends/netns/cgroups.js';
import { namesFor } from '../../src/backends/netns/names.js';
import { readRecords } from '../../src/backends/netns/records.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import type { RunningBottle } from '../../src/backends/backend.js';
import { BottleError } from '../../src/errors.js';
import { leftovers } from './helpers/leftovers.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const SECRET = 'marker-secret-5d1e0c7a9b';
const secrets = { EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: 'marker-canary-0f9e8d7c' };
const rnd = () => Math.random().toString(36).slice(2, 7);

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('netns backend (real namespaces)', () => {
  const backend = createNetnsBackend({ sidecarCommand: standinCommand });
  const home = tempHome();
  const open: RunningBottle[] = [];
  const servers: net.Server[] = [];
  const slugs: string[] = [];

  async function launch(slug = `nt-${rnd()}`) {
    slugs.push(slug);
    const plan = makePlan(home, slug, { agentEnv: { BOT_BOTTLE_CANARY: secrets.EGRESS_TOKEN_CANARY } });
    const b = (await backend.launch(plan, secrets, { onProgress: () => undefined })) as NetnsBottle;
    open.push(b);
    return b;
  }
  async function hostListener(host: string): Promise<number> {
    const s = net.createServer((c) => c.end('hello\n'));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, host, r));
    return (s.address() as net.AddressInfo).port;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close().catch(() => undefined)));
    servers.splice(0).forEach((s) => s.close());
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('the agent runs as uid 1000 with no capabilities and reaches its sidecar by name', async () => {
    const b = await launch();
    const id = await b.exec(['/bin/sh', '-c', 'id -u; id -g; grep CapEff /proc/self/status; cat /etc/hosts; echo $HOME; pwd']);
    expect(id.code).toBe(0);
    expect(id.stdout).toContain('1000\n1000\n');
    expect(id.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(id.stdout).toContain(`${b.hostAddr} egress git-gate supervise`);
    expect(id.stdout).toContain('/home/node\n/home/node');
    const r = await b.exec(['curl', '-sS', '--noproxy', '*', '--max-time', '5', 'http://egress:9099/']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ daemon: 'egress', secrets: 2 });
  });

  it('home is private and writable, the system read-only, host paths absent', async () => {
    const b = await launch();
    const r = await b.exec(['/bin/sh', '-c', `touch ~/ok && echo home-ok; touch /usr/x 2>/dev/null || echo usr-ro; ls /root 2>/dev/null || echo no-root; ls ${home} 2>/dev/null || echo no-state; ls /var 2>/dev/null || echo no-var; ls /home`]);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['home-ok', 'usr-ro', 'no-root', 'no-state', 'no-var', 'node']));
  });

  it('resource limits: every sandbox process is in the bottle\'s agent cgroup (pids.max 512); the cgroups go at teardown', async () => {
    const b = await launch();
    const dirs = listBottleCgroups().get(namesFor(b.slug).short) ?? [];
    expect(dirs.length).toBeGreaterThan(0);
    const pidsDir = dirs.find((d) => basename(d) === AGENT_CGROUP && existsSync(join(d, 'pids.max')))!;
    expect(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim()).toBe('512');
    const running = b.exec(['/bin/sh', '-c', 'sleep 2']);
    await new Promise((r) => setTimeout(r, 800));
    expect(readFileSync(join(pidsDir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).length).toBeGreaterThan(0);
    await running;
    await b.close();
    for (const d of dirs) expect(existsSync(d)).toBe(false);
  });

  it('attack 7: no DNS resolution', async () => {
    const b = await launch();
    const r = await b.exec(['/bin/sh', '-c', 'getent hosts example.com; echo "getent=$?"; curl -sS --noproxy "*" --max-time 3 http://8.8.8.8:53/ >/dev/null 2>&1; echo "curl=$?"']);
    expect(r.stdout).toContain('getent=2');
    expect(r.stdout).not.toContain('curl=0');
  });

  it('attack 8 + 10: no route to the host loopback, the host addresses or the sidecar host end\'s other ports', async () => {
    const b = await launch();
    const loPort = await hostListener('127.0.0.1');
    const anyPort = await hostListener('0.0.0.0');
    const hostIps = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === 'IPv4' && !i.internal).map((i) => i!.address);
    const targets = [`127.0.0.1:${loPort}`, `${b.hostAddr}:${anyPort}`, `${b.hostAddr}:22`, ...hostIps.map((ip) => `${ip}:${anyPort}`), '1.1.1.1:443'];
    const script = targets.map((t) => `curl -s --noproxy '*' --connect-timeout 2 --max-time 3 http://${t}/ >/dev/null 2>&1; echo "${t}=$?"`).join('; ');
    const r = await b.exec(['/bin/sh', '-c', script]);
    for (const t of targets) {
      const m = new RegExp(`${t.replace(/\./g, '\\.')}=(\\d+)`).exec(r.stdout);
      expect(m, `no result for ${t}: ${r.stdout}`).not.toBeNull();
      expect(m![1], `${t} must be unreachable`).not.toBe('0');
      // 52 = the connection opened and closed: that would be our host listener answering.
      expect(m![1], `${t} connected`).not.toBe('52');
    }
  });

  it('attack 8 (IPv6): the bottle has no IPv6 address at all; the host end has none either', async () => {
    const b = await launch();
    const inside = await b.exec(['/bin/sh', '-c', 'cat /proc/net/if_inet6 2>/dev/null | grep -v " lo$" | wc -l']);
    expect(inside.stdout.trim()).toBe('0');
    expect(execFileSync('ip', ['-6', 'addr', 'show', 'dev', namesFor(b.slug).vethHost], { encoding: 'utf8' })).not.toContain('inet6');
  });

  it('attack 11: printenv and /proc show no secret; attack 16: the sidecar process is invisible', async () => {
    const b = await launch();
    const r = await b.exec(['/bin/sh', '-c', 'printenv; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; ps -eo pid,args 2>/dev/null || ls /proc']);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('sidecar');
    expect(r.stdout).toContain('HTTPS_PROXY=http://egress:9099');
    const kill = await b.exec(['/bin/sh', '-c', 'kill -HUP 1 2>&1; echo done']);
    expect(kill.stdout).toContain('done');
  });

  it('attack 19: another bottle\'s sidecars are unreachable; parallel bottles get distinct /30s', async () => {
    const [a, c] = await Promise.all([launch(), launch()]);
    expect(a.hostAddr).not.toBe(c.hostAddr);
    const r = await a.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --connect-timeout 2 http://${c.hostAddr}:9099/; echo "rc=$?"`]);
    expect(r.stdout).toMatch(/rc=(7|28)/);
  });

  it('teardown leaves no netns, veth, nftables table or process; close is idempotent', async () => {
    const b = await launch();
    const slug = b.slug;
    expect(leftovers(slug).length).toBeGreaterThan(0);
    await b.close();
    await b.close();
    expect(leftovers(slug)).toEqual([]);
    expect(await backend.listActive()).not.toContainEqual(expect.objectContaining({ slug }));
  });

  it('aborting mid-launch tears down what was created', async () => {
    const ac = new AbortController();
    const slug = `nt-${rnd()}`;
    slugs.push(slug);
    const plan = makePlan(home, slug);
    const err = await backend
      .launch(plan, secrets, { onProgress: (s) => s === 'starting sidecars' && ac.abort(), signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('ABORTED');
    expect(leftovers(slug)).toEqual([]);
  });

  it('8 bottles launched in parallel all work with distinct addresses, and all go away', async () => {
    const bottles = await Promise.all(Array.from({ length: 8 }, () => launch()));
    expect(new Set(bottles.map((b) => b.hostAddr)).size).toBe(8);
    const active = await backend.listActive();
    for (const b of bottles) expect(active.map((x) => x.slug)).toContain(b.slug);
    const results = await Promise.all(bottles.map((b) => b.exec(['curl', '-sS', '--noproxy', '*', '--max-time', '10', 'http://egress:9099/'])));
    for (const r of results) expect(JSON.parse(r.stdout)).toMatchObject({ daemon: 'egress' });
    await Promise.all(bottles.map((b) => b.close()));
    for (const b of bottles) expect(leftovers(b.slug)).toEqual([]);
  }, 120_000);

  it('fault: the sidecar dies → the agent loses its network (fail closed), list active shows it down, teardown completes', async () => {
    const b = await launch();
    expect((await backend.listActive()).find((x) => x.slug === b.slug)?.sidecars).toEqual(['egress']);
    const rec = readRecords().find((r) => r.slug === b.slug)!;
    process.kill(rec.sidecarPid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const r = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --connect-timeout 2 http://egress:9099/ ; echo "rc=$?"`]);
    expect(r.stdout).toMatch(/rc=(7|28)/);
    expect((await backend.listActive()).find((x) => x.slug === b.slug)?.sidecars).toEqual([]);
    const slug = b.slug;
    await b.close();
    expect(leftovers(slug)).toEqual([]);
  });

  it('refuses a plan that needs an image build', async () => {
    const plan = makePlan(home, `nt-${rnd()}`);
    const withDockerfile = { ...plan, agent: { ...plan.agent, image: { tag: 'x', dockerfile: '/tmp/Dockerfile', context: null } } };
    await expect(backend.launch(withDockerfile, {}, { onProgress: () => undefined })).rejects.toThrow(/netns cannot build images.*/);
  });
});
