/**
 * Readiness by event (src/sidecar/supervisor.ts, src/sidecar/lifeline.ts): the supervisor reports
 * ready only once every daemon has written `listening` on its lifeline — a daemon that listens but
 * never says so keeps it waiting — and a daemon that fails before listening fails the start with
 * its name and code, leaving no process behind.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { buildChildEnv } from '../../src/sidecar/daemons.js';
import { SidecarReadyTimeout, SidecarStartError, Supervisor, type ChildSpec } from '../../src/sidecar/supervisor.js';
import type { DaemonName } from '../../src/plan/bottle-plan.js';
import { canConnect } from '../../src/util/can-connect.js';
import { pidAlive as alive } from '../../src/util/pid-alive.js';

const DAEMON = fileURLToPath(new URL('./fixtures/test-daemon.mjs', import.meta.url));
const LISTEN_VAR: Record<DaemonName, string> = { egress: 'EGRESS_LISTEN', 'git-gate': 'GIT_GATE_LISTEN', supervise: 'SUPERVISE_LISTEN' };
const loopback = () => `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;

/** A stand-in daemon; `delayMs` postpones loading it (as a slow module load would). */
function spec(daemon: DaemonName, listen: string, mode = 'normal', code = 0, delayMs = 0): ChildSpec {
  return {
    daemon,
    command: process.execPath,
    args: delayMs > 0
      ? ['-e', `setTimeout(() => { process.argv.splice(1, 0, ${JSON.stringify(DAEMON)}); import(${JSON.stringify(DAEMON)}); }, ${delayMs})`, '--', LISTEN_VAR[daemon], mode, String(code)]
      : [DAEMON, LISTEN_VAR[daemon], mode, String(code)],
    env: buildChildEnv({ daemon, parentEnv: { PATH: process.env.PATH, BOT_BOTTLE_SLUG: 't-ready' }, secrets: {}, listen }),
  };
}


const started: Supervisor[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) {
    await s.stop('SIGKILL');
  }
});

describe('sidecar readiness by event', () => {
  it('ready comes only after both daemons reported listening, and both then accept connections', async () => {
    const addr = loopback();
    // git-gate starts 600 ms late: ready must wait for it although egress listened long before.
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr, 'normal', 0, 600)]);
    started.push(sup);
    const out: string[] = [];
    sup.on('output', (d, _s, l) => out.push(`${d}:${l}`));
    const ports = await sup.start(20_000);
    expect(ports).toEqual({ egress: 9099, 'git-gate': 9420 });
    expect(out.some((l) => l.startsWith('egress:listening'))).toBe(true);
    expect(out.some((l) => l.startsWith('git-gate:listening'))).toBe(true);
    expect(await canConnect(addr, 9099)).toBe(true);
    expect(await canConnect(addr, 9420)).toBe(true);
    expect(sup.isReady()).toBe(true);
  }, 30_000);

  it('a daemon that listens without reporting is not ready: the start times out naming it, and stops every child', async () => {
    const addr = loopback();
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr, 'silent')]);
    started.push(sup);
    const err = await sup.start(1_500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SidecarReadyTimeout);
    expect((err as SidecarReadyTimeout).pending).toEqual(['git-gate']);
    expect((err as Error).message).toBe('sidecar daemons not listening in time: git-gate');
    expect(sup.isReady()).toBe(false);
    const pids = Object.values(sup.pids());
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid), `pid ${pid} left behind`).toBe(false);
  }, 30_000);

  it('a daemon failing before it listens fails the start with its name and code; no process is left', async () => {
    const addr = loopback();
    // egress would listen; git-gate fails at startup after a moment (as with exit 78 on a bad config).
    const sup = new Supervisor([spec('egress', addr), spec('git-gate', addr, 'exit-early', 78, 300)]);
    started.push(sup);
    const err = await sup.start(20_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SidecarStartError);
    expect((err as SidecarStartError).message).toBe('sidecar daemon git-gate exited with 78 before it was ready');
    expect(sup.isReady()).toBe(false);
    for (const pid of Object.values(sup.pids())) expect(alive(pid), `pid ${pid} left behind`).toBe(false);
  }, 30_000);
});
