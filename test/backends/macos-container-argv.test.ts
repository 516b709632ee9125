/**
 * Golden command lines of the macos-container backend (docs/decisions/macos-container-network.md):
 * every `container` argv a launch, an exec, a teardown, `list active` and a cleanup run, through a
 * capturing runner. The sidecar's `container run -i …` is mapped to a real stand-in supervisor, so
 * the token values really travel over its stdin and the ready line really comes back.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import type { CliBottle } from '../../src/backends/cli-bottle.js';
import { createMacosContainerBackend } from '../../src/backends/macos-container/index.js';
import type { ContainerHost } from '../../src/backends/macos-container/tools.js';
import type { BottlePlan } from '../../src/plan/bottle-plan.js';
import { VERSION } from '../../src/version.js';
import { capturingRunner, type Answer } from './helpers/capturing-runner.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const TAG = 'bot-bottle-claude:latest';
const TOKEN = 'bb-test-token-c0ffee42';
const CANARY = 'canary-z9y8x7';
const MAC: ContainerHost = { platform: 'darwin', darwinMajor: 25, container: '/usr/local/bin/container' };
const SIDECAR_IP = '192.168.64.5';
// The stand-in supervisor listens here instead of the container's 0.0.0.0 (a free loopback address).
const STANDIN_ADDR = `127.77.${process.pid % 250}.${(process.pid >> 8) % 250 || 1}`;

let home: string;
let sidecarArgv: string[][];
const open: CliBottle[] = [];
beforeEach(() => {
  home = tempHome();
  sidecarArgv = [];
});
afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
});

function planFor(slug: string): BottlePlan {
  const p = makePlan(home, slug, { backend: 'macos-container', sidecarEnv: { EGRESS_LOG: 'debug' } });
  mkdirSync(join(p.stateDir, 'egress'), { recursive: true });
  writeFileSync(p.ca.hostCertPath, 'CERT\n');
  return { ...p, agent: { ...p.agent, image: { tag: TAG, dockerfile: null, context: null } } };
}

const inspect = (slug: string, addr: string | null) =>
  JSON.stringify([{ status: 'running', networks: addr === null ? [] : [{ network: `bot-bottle-net-${slug}`, ipv4Address: `${addr}/24` }, { network: `bot-bottle-egress-${slug}`, ipv4Address: '192.168.65.3/24' }] }]);

function backend(script: Record<string, Answer>): { be: Backend; r: ReturnType<typeof capturingRunner> } {
  const r = capturingRunner(script);
  const be = createMacosContainerBackend({
    run: r.run, host: MAC,
    sidecarSpawn: (a) => {
      sidecarArgv.push([a.command, ...a.args]);
      const sup = a.args.slice(a.args.indexOf('bot-bottle') + 1);
      sup[sup.indexOf('--listen') + 1] = STANDIN_ADDR;
      return standinCommand(sup);
    },
  });
  return { be, r };
}

const lines = (r: ReturnType<typeof capturingRunner>) => r.lines().map((l) => l.replace(/bot-bottle\.started=\S+/, 'bot-bottle.started=<t>'));
const secrets = { EGRESS_TOKEN_0: TOKEN, EGRESS_TOKEN_CANARY: CANARY };

describe('macos-container: golden argv', () => {
  it('launch, exec, close: every command line in order; tokens only on the sidecar stdin', async () => {
    const { be, r } = backend({ 'container inspect bot-bottle-sidecars-golden': { stdout: inspect('golden', SIDECAR_IP) } });
    const plan = planFor('golden');
    const b = (await be.launch(plan, secrets, { onProgress: () => undefined })) as CliBottle;
    open.push(b);
    const L = '--label bot-bottle.slug=golden';
    expect(lines(r)).toEqual([
      `container image inspect bot-bottle-sidecars:${VERSION}`,
      `container image inspect ${TAG}`,
      `container network create --internal ${L} --label bot-bottle.role=network bot-bottle-net-golden`,
      `container network create ${L} --label bot-bottle.role=network bot-bottle-egress-golden`,
      'container inspect bot-bottle-sidecars-golden',
      `container run --detach --name bot-bottle-golden ${L} --label bot-bottle.role=agent --label bot-bottle.owner-pid=${process.pid} --label bot-bottle.agent=tester --label bot-bottle.label=golden --label bot-bottle.color=none --label bot-bottle.bottles=test --label bot-bottle.headless=true --label bot-bottle.daemons=egress --label bot-bottle.started=<t> --network bot-bottle-net-golden ${TAG} sleep infinity`,
      'container exec --interactive bot-bottle-golden /bin/sh -c cat > /etc/hosts',
      'container exec --interactive bot-bottle-golden /bin/sh -c cat > /etc/resolv.conf',
      'container exec --interactive bot-bottle-golden /bin/sh -c mkdir -p /usr/local/share/ca-certificates && cat > /usr/local/share/ca-certificates/bot-bottle.crt && update-ca-certificates',
    ]);
    expect(r.calls[6]!.input).toBe(`127.0.0.1 localhost\n::1 localhost\n${SIDECAR_IP} egress git-gate supervise\n`);
    expect(r.calls[7]!.input).toContain('no DNS resolver');
    const sd = plan.stateDir;
    expect(sidecarArgv).toEqual([[
      'container', 'run', '--rm', '--interactive', '--name', 'bot-bottle-sidecars-golden',
      '--label', 'bot-bottle.slug=golden', '--label', 'bot-bottle.role=sidecars', '--label', `bot-bottle.owner-pid=${process.pid}`,
      '--network', 'bot-bottle-net-golden', '--network', 'bot-bottle-egress-golden',
      '--volume', `${sd}/live-config:/state/live-config:ro`, '--volume', `${sd}/egress:/state/egress:ro`, '--volume', `${sd}/git-gate:/state/git-gate:ro`,
      '--volume', `${sd}/supervise/spool:/state/supervise/spool`, '--volume', `${sd}/logs:/state/logs`, '--volume', `${sd}/run:/state/run`,
      '--env', 'EGRESS_LOG=debug', '--env', 'BOT_BOTTLE_SLUG=golden',
      `bot-bottle-sidecars:${VERSION}`, 'bot-bottle', 'sidecar', '--tokens-from-stdin', '--config', '/state', '--listen', '0.0.0.0', '--daemons', 'egress',
    ]]);
    expect(((await (await fetch(`http://${STANDIN_ADDR}:9099/`)).json()) as { secrets: number }).secrets).toBe(2);

    r.calls.length = 0;
    await b.exec(['id', '-un'], { env: { EXTRA: '1' }, cwd: '/home/node' });
    expect(lines(r)).toEqual([
      [
        'container exec --user node',
        '--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env HOME=/home/node --env USER=node --env LOGNAME=node --env SHELL=/bin/sh --env LANG=C.UTF-8',
        `--env HTTP_PROXY=http://${SIDECAR_IP}:9099 --env HTTPS_PROXY=http://${SIDECAR_IP}:9099 --env http_proxy=http://${SIDECAR_IP}:9099 --env https_proxy=http://${SIDECAR_IP}:9099`,
        `--env NO_PROXY=localhost,127.0.0.1,git-gate,supervise,${SIDECAR_IP} --env no_proxy=localhost,127.0.0.1,git-gate,supervise,${SIDECAR_IP}`,
        '--env BOT_BOTTLE_SLUG=golden --env EXTRA=1 --workdir /home/node bot-bottle-golden id -un',
      ].join(' '),
    ]);

    const seen = [...r.calls, ...[]].flatMap((c) => [...c.args, String(c.input ?? '')]).concat(sidecarArgv.flat()).join('\n');
    for (const v of [TOKEN, CANARY]) expect(seen).not.toContain(v);

    r.calls.length = 0;
    await b.close();
    expect(lines(r)).toEqual([
      'container stop bot-bottle-golden', 'container delete --force bot-bottle-golden',
      'container stop bot-bottle-sidecars-golden', 'container delete --force bot-bottle-sidecars-golden',
      'container network delete bot-bottle-egress-golden', 'container network delete bot-bottle-net-golden',
    ]);
  });

  it("no sidecar address on the host-only network: one clear error, everything created is removed", async () => {
    const { be, r } = backend({ 'container inspect bot-bottle-sidecars-noip': { stdout: inspect('noip', null) } });
    const err = await be.launch(planFor('noip'), secrets, { onProgress: () => undefined }).then(() => expect.unreachable("the launch succeeded"), (e: unknown) => e as Error);
    expect(err.message).toBe('could not read the sidecar\'s address on bot-bottle-net-noip from "container inspect bot-bottle-sidecars-noip"');
    expect(lines(r).some((l) => l.startsWith('container run --detach'))).toBe(false);
    expect(lines(r).slice(-4)).toEqual([
      'container stop bot-bottle-sidecars-noip', 'container delete --force bot-bottle-sidecars-noip',
      'container network delete bot-bottle-egress-noip', 'container network delete bot-bottle-net-noip',
    ]);
  });

  it('a missing agent image is refused before any network exists', async () => {
    const { be, r } = backend({ [`container image inspect ${TAG}`]: { code: 1, stderr: 'not found' } });
    await expect(be.launch(planFor('noimg'), secrets, { onProgress: () => undefined })).rejects.toThrow(`image ${TAG} not found in the container image store`);
    expect(lines(r).some((l) => l.startsWith('container network'))).toBe(false);
  });

  it('list active and cleanup read containers and networks by name prefix and label', async () => {
    const dead = 2 ** 22 + 11;
    const containers = JSON.stringify([
      { status: 'stopped', configuration: { id: 'bot-bottle-dead', labels: { 'bot-bottle.slug': 'dead', 'bot-bottle.role': 'agent', 'bot-bottle.owner-pid': String(dead) } } },
      { status: 'running', configuration: { id: 'bot-bottle-live', labels: { 'bot-bottle.slug': 'live', 'bot-bottle.role': 'agent', 'bot-bottle.owner-pid': String(process.pid), 'bot-bottle.agent': 'impl', 'bot-bottle.daemons': 'egress,git-gate', 'bot-bottle.started': '2026-01-01T00:00:00.000Z' } } },
      { status: 'running', configuration: { id: 'bot-bottle-sidecars-live', labels: { 'bot-bottle.slug': 'live', 'bot-bottle.role': 'sidecars' } } },
      { status: 'running', configuration: { id: 'postgres', labels: {} } },
    ]);
    const networks = JSON.stringify([{ id: 'bot-bottle-net-dead' }, { id: 'bot-bottle-egress-live' }, { id: 'default' }]);
    const { be, r } = backend({ 'container list': { stdout: containers }, 'container network list': { stdout: networks } });
    expect(await be.listActive()).toEqual([{
      slug: 'live', agent: 'impl', label: 'live', color: 'none', backend: 'macos-container', bottles: [], sidecars: ['egress', 'git-gate'], headless: false, startedAt: '2026-01-01T00:00:00.000Z',
    }]);
    const plan = await be.cleanupPlan(new Set());
    expect(plan.resources).toEqual([{ kind: 'container', name: 'bot-bottle-dead', slug: 'dead' }, { kind: 'network', name: 'bot-bottle-net-dead', slug: 'dead' }]);
    r.calls.length = 0;
    await be.cleanup(plan);
    expect(lines(r)).toEqual(['container stop bot-bottle-dead', 'container delete --force bot-bottle-dead', 'container network delete bot-bottle-net-dead']);
  });

  it('refuses on Linux with the backend to use instead', async () => {
    const b = createMacosContainerBackend({ host: { platform: 'linux', darwinMajor: 0, container: null } });
    expect(await b.available()).toEqual({ ok: false, reason: "macos-container needs macOS 26 with Apple's container runtime (this is linux)", fix: 'on Linux use --backend netns (root)' });
  });
});
