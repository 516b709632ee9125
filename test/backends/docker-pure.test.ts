/** The docker backend's pure parts: argv, subnet allocation, firewall, runtime choice, relay targets. */
import { describe, expect, it } from 'vitest';
import { pickSubnet, subnetAt, usedSubnets } from '../../src/backends/docker/alloc.js';
import { agentImageProbeScript } from '../../src/backends/docker/images.js';
import { agentCreateArgv, execArgv, internalNetworkArgv, sidecarConnectArgv, sidecarCreateArgv } from '../../src/backends/docker/argv.js';
import { firewallRuleset } from '../../src/backends/docker/firewall.js';
import { loopbackTargets } from '../../src/backends/docker/loopback-relay.js';
import { namesFor, TABLE_PREFIX } from '../../src/backends/docker/names.js';
import { clientEnvConflicts } from '../../src/backends/docker/running.js';
import { chooseRuntime, isRuntimeFailure, runscFix, runtimeMode } from '../../src/backends/docker/runtime.js';
import { BottleError } from '../../src/errors.js';
import { makePlan, tempHome } from './helpers/plan.js';

const SECRET_VALUE = 'agent-env-value-7f3a';
const plan = makePlan(tempHome(), 'dk-pure', { agentEnv: { MY_TOKEN_LIKE: SECRET_VALUE }, sidecarEnv: { EGRESS_RESOLVE: 'api.x.test=127.1.2.3' } });
const names = namesFor(plan.slug);
const subnet = subnetAt(5);

describe('docker names', () => {
  it('carry the slug, fit the 15-character interface limit, and never take netns shapes', () => {
    expect(names.agent).toBe('bot-bottle-dk-pure');
    expect(names.sidecars).toBe('bot-bottle-sidecars-dk-pure');
    expect(names.network).toBe('bot-bottle-net-dk-pure');
    expect(names.egressNetwork).toBe('bot-bottle-egress-dk-pure');
    expect(names.bridge.length).toBeLessThanOrEqual(15);
    expect(names.egressBridge.length).toBeLessThanOrEqual(15);
    // netns cleanup matches `bot_bottle_<8 hex>` and `bb-<8 hex>h`: a docker bottle's objects are not its orphans.
    expect(names.table).toMatch(new RegExp(`^${TABLE_PREFIX}[0-9a-f]{8}$`));
    expect(names.table).not.toMatch(/^bot_bottle_[0-9a-f]{8}$/);
    expect(names.bridge).not.toMatch(/^bb-[0-9a-f]{8}h$/);
  });
});

describe('docker subnet allocation', () => {
  it('hands out /28s of 10.251.0.0/16 with gateway .1, sidecar .2, agent .3', () => {
    expect(subnetAt(0)).toEqual({ index: 0, cidr: '10.251.0.0/28', gateway: '10.251.0.1', sidecar: '10.251.0.2', agent: '10.251.0.3' });
    expect(subnetAt(17).cidr).toBe('10.251.1.16/28');
  });
  it('skips blocks overlapped by docker networks and host addresses', () => {
    const used = usedSubnets(['10.251.0.0/28', '10.251.0.17', '172.17.0.0/16', '10.251.0.40/29']);
    expect([...used].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(pickSubnet(used)?.cidr).toBe('10.251.0.48/28');
  });
  it('a network wider than /16 (a host on 10/8) blocks only its own block', () => {
    const used = usedSubnets(['10.251.3.7/8']);
    expect(used.size).toBe(1);
    expect(pickSubnet(used)?.index).toBe(0);
  });
  it('a /16 covering the pool exhausts it', () => {
    expect(pickSubnet(usedSubnets(['10.251.0.0/16']))).toBeNull();
  });
});

describe('docker argv', () => {
  it('the internal network is --internal with an explicit bridge and the allocated subnet', () => {
    const a = internalNetworkArgv(plan, names, subnet);
    expect(a).toContain('--internal');
    expect(a.join(' ')).toContain(`--subnet ${subnet.cidr} --gateway ${subnet.gateway}`);
    expect(a).toContain(`com.docker.network.bridge.name=${names.bridge}`);
    expect(a).toContain(`bot-bottle.slug=${plan.slug}`);
  });
  it('the agent container: uid 1000, no capabilities, no privilege gain, our seccomp profile, limits, no resolver, sidecar names, init, sleep', () => {
    const a = agentCreateArgv(plan, names, subnet, { image: 'img:1', runtime: 'runsc', resolvConf: '/s/resolv.conf', seccompProfile: '/s/agent-seccomp.json', ownerPid: 42, startedAt: 't' });
    const s = a.join(' ');
    expect(s).toContain('--user 1000:1000');
    expect(s).toContain('--cap-drop ALL');
    expect(s).toContain('--security-opt no-new-privileges');
    // Our profile replaces the engine's default one (docs/decisions/docker-seccomp.md).
    expect(s).toContain('--security-opt seccomp=/s/agent-seccomp.json');
    expect(s).toContain('--pids-limit 512');
    expect(s).toContain('--memory');
    expect(s).toContain('--dns 0.0.0.0');
    expect(s).toContain('dst=/etc/resolv.conf,readonly');
    for (const n of ['egress', 'git-gate', 'supervise']) expect(s).toContain(`--add-host ${n}:${subnet.sidecar}`);
    expect(s).toContain('--init');
    expect(s).toContain('--runtime runsc');
    expect(a.slice(-2)).toEqual(['img:1', 'infinity']);
    // The agent env is never given at create time (the engine persists it in `docker inspect`).
    expect(a).not.toContain('-e');
    expect(s).not.toContain(SECRET_VALUE);
    expect(agentCreateArgv(plan, names, subnet, { image: 'i', runtime: null, resolvConf: '/r', seccompProfile: '/p', ownerPid: 1, startedAt: 't' })).not.toContain('--runtime');
  });
  it('the sidecar container: aliases, fixed address, directory mounts, env by name only, secrets from stdin', () => {
    const a = sidecarCreateArgv(plan, names, subnet, {
      image: 'sc:1', uid: 1234, gid: 1235, envNames: ['EGRESS_RESOLVE'],
      mounts: [{ host: '/h/live-config', guest: '/state/live-config', readOnly: true }, { host: '/h/logs', guest: '/state/logs', readOnly: false }],
    });
    const s = a.join(' ');
    expect(a[0]).toBe('create');
    expect(a).toContain('-i');
    // Created on its egress network, joined to the internal one with its address and names.
    expect(s).toContain(`--network ${names.egressNetwork} `);
    expect(s).not.toContain(names.network + ' ');
    expect(sidecarConnectArgv(names, subnet)).toEqual(['network', 'connect', '--ip', subnet.sidecar, '--alias', 'egress', '--alias', 'git-gate', '--alias', 'supervise', names.network, names.sidecars]);
    expect(s).toContain('--user 1234:1235');
    expect(s).toContain('--cap-drop ALL');
    expect(s).toContain('type=bind,src=/h/live-config,dst=/state/live-config,readonly');
    expect(s).toContain('type=bind,src=/h/logs,dst=/state/logs ');
    expect(s).toContain('-e EGRESS_RESOLVE ');
    expect(s).not.toContain('127.1.2.3');
    expect(s).toContain(`sidecar --tokens-from-stdin --config /state --listen ${subnet.sidecar}`);
    expect(a).not.toContain('--env-file');
  });
  it('exec passes env names only; values travel in the client environment', () => {
    const a = execArgv('c', ['sh', '-c', 'x'], { user: 'node', cwd: '/home/node', envNames: ['A', 'B'], tty: false, stdin: true });
    expect(a).toEqual(['exec', '-i', '-u', 'node', '-w', '/home/node', '-e', 'A', '-e', 'B', 'c', 'sh', '-c', 'x']);
    expect(execArgv('c', ['sh'], { user: 'node', cwd: '/', envNames: [], tty: true, stdin: true })).toEqual(['exec', '-i', '-t', '-u', 'node', '-w', '/', 'c', 'sh']);
  });
  it('agent env names that would reconfigure the docker client are refused', () => {
    expect(clientEnvConflicts({ DOCKER_HOST: 'x', PATH: '/bin', HOME: '/h' })).toEqual(['DOCKER_HOST']);
  });
});

describe('docker firewall ruleset', () => {
  const r = firewallRuleset({ table: 'bot_bottle_dk01234567', bridge: 'bbd-01234567', sidecar: '10.251.0.2', agent: '10.251.0.3', ports: [9420, 9099, 9099] });
  it('drops everything from the bridge to the host, and all forwarding in or out of it', () => {
    expect(r).toContain('table inet bot_bottle_dk01234567 {');
    expect(r).toMatch(/chain input \{\n {4}type filter hook input priority -10; policy accept;\n {4}iifname "bbd-01234567" drop/);
    expect(r).toContain('    iifname "bbd-01234567" drop\n    oifname "bbd-01234567" drop\n');
  });
  it('lets the agent reach only the sidecar ports, and the sidecar answer from them', () => {
    expect(r).toContain('ip saddr 10.251.0.3 ip daddr 10.251.0.2 tcp dport { 9099, 9420 } accept');
    expect(r).toContain('ip saddr 10.251.0.2 ip daddr 10.251.0.3 tcp sport { 9099, 9420 } accept');
    // the accepts come before the drops
    expect(r.indexOf('accept\n')).toBeLessThan(r.indexOf('iifname "bbd-01234567" drop\n    oifname'));
  });
});

describe('docker runtime choice', () => {
  it('auto uses runsc when registered, runc otherwise, and runc with a warning when runsc failed here before', () => {
    expect(chooseRuntime('auto', ['runc', 'runsc'], null)).toEqual({ runtime: 'runsc', warning: null });
    expect(chooseRuntime('auto', ['runc'], null)).toEqual({ runtime: null, warning: null });
    const broken = chooseRuntime('auto', ['runc', 'runsc'], 'cannot run with network enabled');
    expect(broken.runtime).toBeNull();
    expect(broken.warning).toContain('cannot run with network enabled');
  });
  it('a runsc that misreads network namespaces (gVisor 2022 on 6.x kernels) gets the --network=host fix; other failures a generic one', () => {
    const err = 'docker: Error response from daemon: OCI runtime start failed: starting container: setting up network: creating interfaces from net namespace "/proc/1/ns/net": cannot run with network enabled in root network namespace: unknown';
    expect(isRuntimeFailure(err)).toBe(true);
    expect(runscFix(err)).toMatch(/"runtimeArgs": \["--network=host"\]/);
    expect(runscFix('OCI runtime create failed: something else')).toMatch(/^check "runsc" on the engine host/);
  });
  it('runsc required but not registered is a clear failure; runc refuses it', () => {
    expect(() => chooseRuntime('runsc', ['runc'], null)).toThrow(/gVisor is required .* no "runsc" runtime registered/);
    expect(chooseRuntime('runsc', ['runsc'], 'earlier failure').runtime).toBe('runsc');
    expect(chooseRuntime('runc', ['runsc'], null).runtime).toBeNull();
  });
  it('BOT_BOTTLE_DOCKER_RUNTIME is validated with a one-line error', () => {
    expect(runtimeMode({})).toBe('auto');
    expect(runtimeMode({ BOT_BOTTLE_DOCKER_RUNTIME: 'runc' })).toBe('runc');
    expect(() => runtimeMode({ BOT_BOTTLE_DOCKER_RUNTIME: 'kata' })).toThrow(BottleError);
    expect(() => runtimeMode({ BOT_BOTTLE_DOCKER_RUNTIME: 'kata' })).toThrow(/must be auto, runsc or runc \(got "kata"\)/);
  });
  it('recognises a runtime failure', () => {
    expect(isRuntimeFailure('docker: Error response from daemon: OCI runtime start failed: starting container: x')).toBe(true);
    expect(isRuntimeFailure('docker: Error response from daemon: No such image: x')).toBe(false);
  });
});

describe('stand-in relay targets (test/demo settings only)', () => {
  it('relays only loopback addresses named by the RESOLVE settings', () => {
    expect(loopbackTargets({ EGRESS_RESOLVE: 'a.test=127.1.2.3,m.test=169.254.169.254', GIT_GATE_RESOLVE: 'g.test=127.1.2.3,p.test=10.0.0.5' })).toEqual(['127.1.2.3']);
    expect(loopbackTargets({})).toEqual([]);
  });
});

describe('agent image probe', () => {
  it('checks user node, git, update-ca-certificates and the agent command; a hostile command name is not interpolated', () => {
    const s = agentImageProbeScript('claude');
    for (const m of ['MISSING user node (uid 1000)', 'MISSING git', 'MISSING update-ca-certificates', 'command -v claude']) expect(s).toContain(m);
    expect(agentImageProbeScript('x; rm -rf /')).not.toContain('rm -rf');
    expect(agentImageProbeScript(null)).not.toContain('agent command');
  });
});
