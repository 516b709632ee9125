/**
 * Golden command lines of the smolmachines backend (docs/decisions/smolmachines-cli-syntax.md):
 * every smolvm/docker/ifconfig argv a launch, an exec, a teardown and a cleanup run, in order,
 * through a capturing runner. The rest is real: the alias lock and claim files, and a stand-in
 * sidecar supervisor listening on the allocated loopback alias (all of 127/8 is local on Linux)
 * that receives the token values over its stdin.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import type { CliBottle } from '../../src/backends/cli-bottle.js';
import { readClaims, writeClaim } from '../../src/backends/loopback-alias-claims.js';
import { createSmolmachinesBackend, type SmolmachinesOptions } from '../../src/backends/smolmachines/index.js';
import type { SmolHost } from '../../src/backends/smolmachines/tools.js';
import type { BottlePlan } from '../../src/plan/bottle-plan.js';
import { canConnect } from '../../src/util/can-connect.js';
import { capturingRunner, type Answer } from './helpers/capturing-runner.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const TAG = 'bot-bottle-claude:latest';
const IMAGE_ID = 'a'.repeat(64);
const TOKEN = 'bb-test-token-7f3a9c2e';
const CANARY = 'canary-q1w2e3r4';
const LINUX: SmolHost = { platform: 'linux', smolvm: '/usr/local/bin/smolvm', docker: '/usr/local/bin/docker', kvm: true };

let home: string;
let work: string;
let claimDir: string;
let cacheRoot: string;
let sidecarArgv: string[][];
const open: CliBottle[] = [];

beforeEach(() => {
  home = tempHome();
  work = mkdtempSync(join(tmpdir(), 'bb-smol-'));
  claimDir = join(work, 'claims');
  cacheRoot = join(work, 'cache');
  sidecarArgv = [];
});
afterEach(async () => {
  for (const b of open.splice(0)) await b.close().catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function planFor(slug: string): BottlePlan {
  const p = makePlan(home, slug, { backend: 'smolmachines' });
  mkdirSync(join(p.stateDir, 'egress'), { recursive: true });
  writeFileSync(p.ca.hostCertPath, '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
  return { ...p, agent: { ...p.agent, image: { tag: TAG, dockerfile: null, context: null } } };
}

/** smolvm/docker as the tests script them: the image exists, packs, and the allowlist takes. */
function script(over: Record<string, Answer> = {}): Record<string, Answer> {
  return {
    'docker image inspect': { stdout: `sha256:${IMAGE_ID}\n` },
    'smolvm pack create': (c) => {
      writeFileSync(`${c.args[c.args.indexOf('--output') + 1]}.smolmachine`, 'pack');
      return {};
    },
    'smolvm machine ls --json': (c) => ({ stdout: JSON.stringify(lsAnswer(c.args)) }),
    ...over,
  };
}

let allowed: (alias: string) => string[] = (alias) => [`${alias}/32`];
let lastAlias = '';
/** Every machine a claim names, with the allowlist the test says smolvm recorded. */
function lsAnswer(_args: readonly string[]): unknown {
  const claims = readClaims(claimDir).filter((c) => c.machine !== '');
  lastAlias = claims.at(-1)?.alias ?? '';
  return claims.map((c) => ({ name: c.machine, state: 'stopped', network: { allowed_cidrs: allowed(c.alias) } }));
}

function backend(r: ReturnType<typeof capturingRunner>, over: Partial<SmolmachinesOptions> = {}): Backend {
  return createSmolmachinesBackend({
    run: r.run, host: LINUX, claimDir, cacheRoot,
    sidecarCommand: (args) => {
      sidecarArgv.push(args);
      return standinCommand(args);
    },
    readiness: { sleep: async () => undefined },
    ...over,
  });
}

const secrets = { EGRESS_TOKEN_0: TOKEN, EGRESS_TOKEN_CANARY: CANARY };

describe('smolmachines: golden argv', () => {
  it('launch, exec, close: every command line in order; the sidecar listens only on the alias and got the tokens over stdin', async () => {
    allowed = (alias) => [`${alias}/32`];
    let probes = 0;
    const r = capturingRunner(script({ 'smolvm machine exec --name bot-bottle-golden -- true': () => ({ code: probes++ === 0 ? 1 : 0 }) }));
    const plan = planFor('golden');
    const b = (await backend(r).launch(plan, secrets, { onProgress: () => undefined })) as CliBottle;
    open.push(b);
    const alias = b.sidecarAddr;
    expect(alias).toMatch(/^127\.0\.0\.(1[6-9]|2\d|3[01])$/);
    const tmp = join(cacheRoot, `${IMAGE_ID}.tmp-${process.pid}`);
    const m = 'bot-bottle-golden';
    expect(r.lines()).toEqual([
      `docker image inspect --format {{.Id}} ${TAG}`,
      `docker save --output ${tmp}/image.tar ${TAG}`,
      `smolvm pack create --image ${tmp}/image.tar --output ${tmp}/agent`,
      `smolvm machine create --name ${m} --from ${cacheRoot}/${IMAGE_ID}/agent.smolmachine --allow-cidr ${alias}/32`,
      'smolvm machine ls --json',
      `smolvm machine start --name ${m}`,
      `smolvm machine exec --name ${m} -- true`,
      `smolvm machine exec --name ${m} -- true`,
      `smolvm machine exec --name ${m} -i -- /bin/sh -c cat > /etc/hosts`,
      `smolvm machine exec --name ${m} -i -- /bin/sh -c mkdir -p /usr/local/share/ca-certificates && cat > /usr/local/share/ca-certificates/bot-bottle.crt && update-ca-certificates`,
    ]);
    expect(r.calls[8]!.input).toBe(`127.0.0.1 localhost\n::1 localhost\n${alias} egress git-gate supervise\n`);
    expect(existsSync(join(cacheRoot, IMAGE_ID, 'agent.smolmachine'))).toBe(true);
    expect(existsSync(tmp)).toBe(false);
    // The supervisor: --listen is the alias, nothing else.
    expect(sidecarArgv).toEqual([['sidecar', '--tokens-from-stdin', '--config', plan.stateDir, '--listen', alias, '--daemons', 'egress']]);
    const got = (await (await fetch(`http://${alias}:9099/`)).json()) as { secrets: number };
    expect(got.secrets).toBe(2);
    expect(readClaims(claimDir)).toMatchObject([{ alias, slug: 'golden', machine: m, ownerPid: process.pid }]);

    r.calls.length = 0;
    await b.exec(['id', '-un'], { env: { EXTRA: '1' } });
    expect(r.lines()).toEqual([
      [
        'smolvm machine exec --name', m,
        '-e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -e HOME=/home/node -e USER=node -e LOGNAME=node -e SHELL=/bin/sh -e LANG=C.UTF-8',
        `-e HTTP_PROXY=http://${alias}:9099 -e HTTPS_PROXY=http://${alias}:9099 -e http_proxy=http://${alias}:9099 -e https_proxy=http://${alias}:9099`,
        `-e NO_PROXY=localhost,127.0.0.1,git-gate,supervise,${alias} -e no_proxy=localhost,127.0.0.1,git-gate,supervise,${alias}`,
        '-e BOT_BOTTLE_SLUG=golden -e EXTRA=1 -- runuser -u node -m -- id -un',
      ].join(' '),
    ]);
    r.calls.length = 0;
    await b.exec(['cat'], { stdin: 'hello', cwd: '/home/node/workspace' });
    expect(r.lines()[0]).toMatch(new RegExp(`^smolvm machine exec --name ${m} -i -e PATH=.* -w /home/node/workspace -- runuser -u node -m -- cat$`));
    expect(r.calls[0]!.input).toBe('hello');

    r.calls.length = 0;
    await b.close();
    expect(r.lines()).toEqual([`smolvm machine stop --name ${m}`, `smolvm machine delete --name ${m} -f`]);
    expect(readClaims(claimDir)).toEqual([]);
    expect(await canConnect(alias, 9099)).toBe(false);
  });

  it('no token value appears in any argv, stdin of a smolvm command, claim file or state file', async () => {
    allowed = (alias) => [`${alias}/32`];
    const r = capturingRunner(script());
    const plan = planFor('tokens');
    const b = (await backend(r).launch(plan, secrets, { onProgress: () => undefined })) as CliBottle;
    open.push(b);
    await b.exec(['true']);
    const seen = [
      ...r.calls.flatMap((c) => [c.command, ...c.args, typeof c.input === 'string' ? c.input : Buffer.from(c.input ?? '').toString('latin1')]),
      ...sidecarArgv.flat(),
      ...readdirSync(claimDir).map((f) => readFileSync(join(claimDir, f), 'utf8')),
      JSON.stringify(plan),
    ].join('\n');
    for (const v of [TOKEN, CANARY]) expect(seen).not.toContain(v);
    // …and yet the supervisor holds both (they went over its stdin).
    expect(((await (await fetch(`http://${b.sidecarAddr}:9099/`)).json()) as { secrets: number }).secrets).toBe(2);
  });

  it('a second launch of the same image id reuses the cached pack (no docker save, no pack create)', async () => {
    allowed = (alias) => [`${alias}/32`];
    const r = capturingRunner(script());
    open.push((await backend(r).launch(planFor('first'), secrets, { onProgress: () => undefined })) as CliBottle);
    r.calls.length = 0;
    open.push((await backend(r).launch(planFor('second'), secrets, { onProgress: () => undefined })) as CliBottle);
    const lines = r.lines();
    expect(lines[0]).toBe(`docker image inspect --format {{.Id}} ${TAG}`);
    expect(lines.some((l) => l.startsWith('docker save') || l.startsWith('smolvm pack'))).toBe(false);
    expect(lines[1]).toMatch(new RegExp(`^smolvm machine create --name bot-bottle-second --from ${cacheRoot}/${IMAGE_ID}/agent\\.smolmachine --allow-cidr 127\\.0\\.0\\.\\d+/32$`));
    expect(open[0]!.sidecarAddr).not.toBe(open[1]!.sidecarAddr);
  });

  it('fails closed when the allowlist did not take: VM deleted (never started), sidecars stopped, alias released', async () => {
    allowed = () => [];
    const r = capturingRunner(script());
    const err = await backend(r).launch(planFor('open'), secrets, { onProgress: () => undefined }).then(() => expect.unreachable("the launch succeeded"), (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^VM bot-bottle-open did not record the network allowlist 127\.0\.0\.\d+\/32 \(recorded: empty\); refusing to start it$/);
    const lines = r.lines();
    expect(lines.some((l) => l.startsWith('smolvm machine start'))).toBe(false);
    expect(lines.at(-1)).toBe('smolvm machine delete --name bot-bottle-open -f');
    expect(readClaims(claimDir)).toEqual([]);
    expect(await canConnect(lastAlias, 9099)).toBe(false);
  });

  it('readiness: polls `machine exec … true` with backoff and gives up with a timeout message, tearing down', async () => {
    allowed = (alias) => [`${alias}/32`];
    const r = capturingRunner(script({ 'smolvm machine exec --name bot-bottle-slow -- true': { code: 1, stderr: 'agent not ready' } }));
    const err = await backend(r, { readiness: { timeoutMs: 1000, sleep: async () => undefined } })
      .launch(planFor('slow'), secrets, { onProgress: () => undefined })
      .then(() => expect.unreachable("the launch succeeded"), (e: unknown) => e as Error);
    expect(err.message).toMatch(/^VM bot-bottle-slow did not answer "smolvm machine exec … true" within 1s \(\d+ attempts\)$/);
    const probes = r.lines().filter((l) => l === 'smolvm machine exec --name bot-bottle-slow -- true');
    expect(probes.length).toBeGreaterThan(1);
    expect(r.lines().slice(-2)).toEqual(['smolvm machine stop --name bot-bottle-slow', 'smolvm machine delete --name bot-bottle-slow -f']);
    expect(readClaims(claimDir)).toEqual([]);
  });

  it('macOS: the alias is brought up on lo0 through sudo (interactive) when it is not up yet', async () => {
    allowed = (alias) => [`${alias}/32`];
    const r = capturingRunner(script({ 'ifconfig lo0': { stdout: 'lo0: flags=8049<UP,LOOPBACK>\n\tinet 127.0.0.1 netmask 0xff000000\n' } }));
    const b = (await backend(r, { host: { ...LINUX, platform: 'darwin', kvm: false } }).launch(planFor('mac'), secrets, { onProgress: () => undefined })) as CliBottle;
    open.push(b);
    expect(r.lines().slice(0, 2)).toEqual(['ifconfig lo0', `sudo ifconfig lo0 alias ${b.sidecarAddr} up`]);
    expect(r.calls[1]!.opts.interactive).toBe(true);
  });

  it('an image missing from Docker is one clear error, before any VM exists', async () => {
    const r = capturingRunner(script({ 'docker image inspect': { code: 1, stderr: 'Error: No such image: bot-bottle-claude:latest' } }));
    const err = await backend(r).launch(planFor('noimg'), secrets, { onProgress: () => undefined }).then(() => expect.unreachable("the launch succeeded"), (e: unknown) => e as Error & { fix?: string });
    expect(err.message).toBe(`agent image ${TAG} not found in Docker's image store: Error: No such image: bot-bottle-claude:latest`);
    expect(err.fix).toContain(`docker build -t ${TAG}`);
    expect(r.lines().some((l) => l.startsWith('smolvm machine'))).toBe(false);
    expect(readClaims(claimDir)).toEqual([]);
  });

  it('cleanup: machines by name prefix and claims of dead bottles; live ones are kept', async () => {
    const base = { schema: 'bot-bottle/alias-claim@1' as const, backend: 'smolmachines', stateDir: '/x', sidecarPid: null, agent: 'a', label: 'l', color: 'none', bottles: [], daemons: ['egress'], headless: true, startedAt: '' };
    writeClaim({ ...base, alias: '127.0.0.20', slug: 'gone', ownerPid: 2 ** 22 + 7, machine: 'bot-bottle-gone' }, claimDir);
    writeClaim({ ...base, alias: '127.0.0.21', slug: 'live', ownerPid: process.pid, machine: 'bot-bottle-live' }, claimDir);
    const ls = JSON.stringify([{ name: 'bot-bottle-gone', state: 'stopped' }, { name: 'bot-bottle-live', state: 'running' }, { name: 'someone-else', state: 'running' }]);
    const r = capturingRunner({ 'smolvm machine ls --json': { stdout: ls } });
    const be = backend(r);
    const plan = await be.cleanupPlan(new Set());
    expect(plan).toEqual({
      backend: 'smolmachines',
      resources: [{ kind: 'machine', name: 'bot-bottle-gone', slug: 'gone' }, { kind: 'alias-claim', name: '127.0.0.20', slug: 'gone' }],
    });
    r.calls.length = 0;
    await be.cleanup(plan);
    expect(r.lines()).toEqual(['smolvm machine stop --name bot-bottle-gone', 'smolvm machine delete --name bot-bottle-gone -f']);
    expect(readClaims(claimDir).map((c) => c.slug)).toEqual(['live']);
  });
});
