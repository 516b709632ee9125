/**
 * `bot-bottle cleanup` ends what a dead bottle's gate left behind (docs/decisions/gate-scan-every-object.md):
 * the gate daemon runs as a real process under a state dir laid out like a launch's, a receive-pack
 * request is left hanging, and the daemon is SIGKILLed — it cannot end its children then (they run
 * in their own process groups). SIGTERM, by contrast, ends them itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderGateConfig } from '../../src/gate/render.js';
import { applyCleanup, GATE_LEFTOVERS_PLAN, surveyCleanup } from '../../src/launch/cleanup.js';
import { skipReason } from '../helpers/capabilities.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { fileRepo } from './helpers/gate-harness.js';
import { makeUpstream, useGateTmp } from './helpers/git-env.js';
import { gateProcesses, killGateProcesses } from './helpers/proc-watch.js';

const MAIN = join(REPO_ROOT, 'src/gate/main.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe.skipIf(skipReason('git', 'git-http-backend'))('cleanup ends what a dead gate left', { timeout: 120_000 }, () => {
  const fx = useGateTmp();

  /** A bottle home with state/<slug>/git-gate and the daemon running from it; a push request left hanging. */
  async function deadlyState(): Promise<{ home: string; slug: string; gateRoot: string; daemon: ChildProcess; exited: Promise<void> }> {
    const home = fx.tmp.path('home');
    const slug = 'dead-abcde';
    const gateRoot = join(home, 'state', slug, 'git-gate');
    mkdirSync(gateRoot, { recursive: true });
    // No session.json: the bottle counts as dead for cleanup.
    const up = makeUpstream(fx.tmp, 'widget');
    writeFileSync(join(gateRoot, 'config.yaml'), renderGateConfig([fileRepo('widget', up)]).configYaml);
    const daemon = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', GIT_GATE_CONFIG: join(gateRoot, 'config.yaml'), GIT_GATE_ROOT: gateRoot, GIT_GATE_LISTEN: '127.0.0.1:0', GIT_GATE_AUDIT_PATH: join(home, 'state', slug, 'logs', 'audit.jsonl') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<void>((r) => daemon.on('close', () => r()));
    fx.defer(async () => {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
      await exited;
      killGateProcesses(gateRoot);
    });
    let err = '';
    daemon.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    expect(await waitFor(() => err.includes('"gitgate_boot"'), 30_000)).toBe(true);
    const listen = (JSON.parse(err.split('\n').find((l) => l.includes('"gitgate_boot"')) ?? '{}') as { listen: string }).listen;
    const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
    const sock = net.connect(port, host);
    sock.on('error', () => {});
    fx.defer(() => void sock.destroy());
    await new Promise((r) => sock.on('connect', r));
    // The request, kept open: http-backend waits for the rest of its body.
    sock.write('POST /widget.git/git-receive-pack HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-git-receive-pack-request\r\nContent-Length: 100000\r\n\r\n0100');
    expect(await waitFor(() => gateProcesses(gateRoot).some((p) => p.cmd.includes('http-backend')), 15_000)).toBe(true);
    return { home, slug, gateRoot, daemon, exited };
  }

  it('a SIGKILLed daemon leaves its http-backend; cleanup lists it as git-gate process resources and ends it', async () => {
    const { home, slug, gateRoot, daemon, exited } = await deadlyState();
    daemon.kill('SIGKILL');
    await exited;
    await sleep(300);
    const left = gateProcesses(gateRoot);
    expect(left.length).toBeGreaterThan(0);
    const survey = await surveyCleanup(home, []);
    const plan = survey.plans.find((p) => p.backend === GATE_LEFTOVERS_PLAN);
    // Children may still be starting (receive-pack under http-backend): the survey sees at least
    // everything seen above that is still there.
    const listed = new Set(plan?.resources.map((r) => Number(r.name)));
    const still = new Set(gateProcesses(gateRoot).map((p) => p.pid));
    for (const p of left) if (still.has(p.pid)) expect(listed.has(p.pid), JSON.stringify({ p, listed: [...listed] })).toBe(true);
    expect(plan?.resources.every((r) => r.kind === 'process' && r.slug === slug)).toBe(true);
    expect(survey.removableState).toEqual([slug]);
    const outcome = await applyCleanup(home, [], survey);
    expect(outcome.failed).toEqual([]);
    expect(gateProcesses(gateRoot)).toEqual([]);
  });

  it('SIGTERM: the daemon ends its children itself; nothing is left for cleanup', async () => {
    const { home, gateRoot, daemon, exited } = await deadlyState();
    daemon.kill('SIGTERM');
    await exited;
    expect(await waitFor(() => gateProcesses(gateRoot).length === 0, 3000)).toBe(true);
    const survey = await surveyCleanup(home, []);
    expect(survey.plans.find((p) => p.backend === GATE_LEFTOVERS_PLAN)).toBeUndefined();
  });
});
