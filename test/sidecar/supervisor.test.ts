import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../src/sidecar/daemons.js';
import { SidecarStartError, Supervisor, type ChildSpec } from '../../src/sidecar/supervisor.js';
import type { DaemonName } from '../../src/plan/bottle-plan.js';

const DAEMON = fileURLToPath(new URL('./fixtures/test-daemon.mjs', import.meta.url));
const LISTEN_VAR: Record<DaemonName, string> = { egress: 'EGRESS_LISTEN', 'git-gate': 'GIT_GATE_LISTEN', supervise: 'SUPERVISE_LISTEN' };
// A random 127.x.y.z per test so parallel runs never share the fixed sidecar ports.
const loopback = () => `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;

const secrets = { EGRESS_TOKEN_0: 'marker-egress-7f3a9', EGRESS_TOKEN_CANARY: 'marker-canary-1c2d', GIT_GATE_TOKEN_0: 'marker-gate-88b1', GIT_GATE_CANARY: 'marker-canary-1c2d' };

function spec(daemon: DaemonName, listen: string, mode = 'normal', code = 0): ChildSpec {
  return {
    daemon,
    command: process.execPath,
    args: [DAEMON, LISTEN_VAR[daemon], mode, String(code)],
    env: buildChildEnv({ daemon, parentEnv: { PATH: process.env.PATH, BOT_BOTTLE_SLUG: 't-1', SOME_HOST_SECRET: 'nope' }, secrets, listen }),
  };
}

const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    for (const pid of Object.values(s.pids())) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)) {
    const i = kv.indexOf('=');
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

describe('sidecar supervisor', () => {
  it('C45: each child process holds only its own secrets; no value in any argv', async () => {
    const addr = loopback();
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr), spec('supervise', addr)]);
    started.push(sup);
    const ports = await sup.start(10_000);
    expect(ports).toEqual({ egress: 9099, 'git-gate': 9420, supervise: 9100 });
    const pids = sup.pids();
    const eg = environOf(pids.egress!);
    const gate = environOf(pids['git-gate']!);
    const sv = environOf(pids.supervise!);
    expect(eg.EGRESS_TOKEN_0).toBe(secrets.EGRESS_TOKEN_0);
    expect(eg.GIT_GATE_TOKEN_0).toBeUndefined();
    expect(gate.GIT_GATE_TOKEN_0).toBe(secrets.GIT_GATE_TOKEN_0);
    expect(gate.EGRESS_TOKEN_0).toBeUndefined();
    expect(sv.EGRESS_TOKEN_0).toBeUndefined();
    expect(sv.GIT_GATE_TOKEN_0).toBeUndefined();
    for (const env of [eg, gate, sv]) expect(env.SOME_HOST_SECRET).toBeUndefined();
    for (const pid of Object.values(pids)) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      for (const v of Object.values(secrets)) expect(argv).not.toContain(v);
    }
    await sup.stop('SIGTERM');
    expect(await sup.wait()).toBe(0);
  });

  it('C46: a child ignoring SIGTERM is killed after the 8 s grace; exit = highest child code', async () => {
    const addr = loopback();
    const sup = new Supervisor([spec('egress', addr, 'normal', 3), spec('git-gate', addr, 'ignore-term')]);
    started.push(sup);
    const killed: string[] = [];
    sup.on('killed', (d) => killed.push(d));
    await sup.start(10_000);
    const t0 = Date.now();
    await sup.stop('SIGTERM');
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(7_900);
    expect(elapsed).toBeLessThan(12_000);
    expect(killed).toEqual(['git-gate']);
    expect(await sup.wait()).toBe(137); // SIGKILL = 128 + 9 > egress's 3
  }, 30_000);

  it('a child exiting before ready stops the others and reports its code', async () => {
    const addr = loopback();
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr, 'exit-early', 78)]);
    started.push(sup);
    const err = await sup.start(10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SidecarStartError);
    expect((err as SidecarStartError).daemon).toBe('git-gate');
    expect((err as SidecarStartError).exitCode).toBe(78);
    const egressPid = sup.pids().egress!;
    await sup.wait();
    expect(() => process.kill(egressPid, 0)).toThrow();
  });

  it('SIGHUP goes to egress only', async () => {
    const addr = loopback();
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr)]);
    started.push(sup);
    const lines: string[] = [];
    sup.on('output', (d, _s, l) => lines.push(`${d}:${l}`));
    await sup.start(10_000);
    sup.reload();
    const until = Date.now() + 5_000;
    while (!lines.includes('egress:got SIGHUP') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(lines).toContain('egress:got SIGHUP');
    expect(lines).not.toContain('git-gate:got SIGHUP');
    await sup.stop();
  });
});
