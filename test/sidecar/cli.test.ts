/** C45 at the CLI: `bot-bottle sidecar` with real daemons, secrets from env and from stdin. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI_MAIN, runCli } from '../helpers/cli.js';
import { createBottleCa, writeBottleCa } from '../../src/egress/ca.js';
import { makePlan } from '../backends/helpers/plan.js';
import { writeRealState } from '../launch/real-state.js';

const secrets = { EGRESS_TOKEN_0: 'marker-cli-egress-77aa', EGRESS_TOKEN_CANARY: 'marker-cli-canary-88bb', GIT_GATE_TOKEN_0: 'marker-cli-gate-99cc', GIT_GATE_CANARY: 'marker-cli-canary-88bb' };
const loopback = () => `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;

function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return out;
}
const daemonsOf = (pid: number) =>
  execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
    .map((p) => ({ pid: p, argv: readFileSync(`/proc/${p}/cmdline`, 'utf8') }))
    .filter((p) => p.argv.includes('\0sidecar\0'));

describe('bot-bottle sidecar (CLI, real daemons)', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-sidecar-cli-'));
  const kids: ChildProcess[] = [];
  afterEach(() => {
    for (const k of kids.splice(0)) if (k.exitCode === null) k.kill('SIGKILL');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  for (const mode of ['env', 'stdin'] as const) {
    it(`C45 (${mode}): only egress holds EGRESS_TOKEN_0, only git-gate GIT_GATE_TOKEN_0, supervise none; no value in any argv or output`, async () => {
      const plan = makePlan(home, `c45-${mode}`);
      await writeRealState(plan, 'version: 1\ngeneration: 1\nbottle: x\nlog: 0\nroutes: []\n');
      await writeBottleCa(join(plan.stateDir, 'egress'), await createBottleCa(plan.slug, new Date()));
      const args = ['--import', 'tsx', CLI_MAIN, 'sidecar', '--daemons', 'egress,git-gate,supervise', '--config', plan.stateDir, '--listen', loopback()];
      if (mode === 'stdin') args.push('--tokens-from-stdin');
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, BOT_BOTTLE_SLUG: plan.slug, ...(mode === 'env' ? secrets : {}) };
      const sup = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      kids.push(sup);
      sup.stdin!.end(mode === 'stdin' ? `${JSON.stringify(secrets)}\n` : '');
      let out = '';
      let err = '';
      sup.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      sup.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const until = Date.now() + 60_000;
      while (!out.includes('ready') && Date.now() < until && sup.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      expect(out, err).toMatch(/^ready egress=9099 git-gate=9420 supervise=9100 version=\d+\.\d+\.\d+/);
      const d = daemonsOf(sup.pid!);
      const egress = environOf(d.find((x) => x.argv.endsWith('sidecar\0egress\0'))!.pid);
      const gate = environOf(d.find((x) => x.argv.endsWith('sidecar\0git-gate\0'))!.pid);
      const supervise = environOf(d.find((x) => x.argv.endsWith('sidecar\0supervise\0'))!.pid);
      for (const name of Object.keys(secrets)) expect(supervise[name]).toBeUndefined();
      expect(egress.EGRESS_TOKEN_0).toBe(secrets.EGRESS_TOKEN_0);
      expect(egress.EGRESS_TOKEN_CANARY).toBe(secrets.EGRESS_TOKEN_CANARY);
      expect(egress.GIT_GATE_TOKEN_0).toBeUndefined();
      expect(gate.GIT_GATE_TOKEN_0).toBe(secrets.GIT_GATE_TOKEN_0);
      expect(gate.EGRESS_TOKEN_0).toBeUndefined();
      expect(gate.EGRESS_TOKEN_CANARY).toBeUndefined();
      for (const p of [sup.pid!, ...d.map((x) => x.pid)]) {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        for (const v of Object.values(secrets)) expect(argv).not.toContain(v);
      }
      const exited = new Promise<number | null>((r) => sup.once('exit', (c) => r(c)));
      sup.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(err).toContain('[egress] ');
      for (const v of Object.values(secrets)) expect(err + out).not.toContain(v);
    }, 90_000);
  }

  it('usage errors: an unknown daemon, bad secrets JSON (names the key, never a value)', async () => {
    const a = await runCli(['sidecar', '--daemons', 'supervisor']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown daemon "supervisor" in --daemons (known: egress, git-gate, supervise)');
    const b = await runCli(['sidecar', '--tokens-from-stdin', '--daemons', 'egress'], { input: '{"GITHUB_TOKEN":"leak-me-not-42"}\n' });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('GITHUB_TOKEN');
    expect(b.stderr).not.toContain('leak-me-not-42');
  }, 60_000);
});
