/**
 * Inline allow markers (docs/decisions/gate-approvals.md; attack 13): never silently honoured,
 * filed as a `secret-allow` proposal through supervise's internal socket, fail closed otherwise.
 * supervise's internal API is played by a small Unix-socket server (test/gate/helpers/fake-supervise.ts).
 */
import { readFileSync, renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { startFakeSupervise, type Decide, type FakeSupervise } from './helpers/fake-supervise.js';
import { fileRepo, startHarness, type Harness } from './helpers/gate-harness.js';
import { commitFile, makeAgent, makeTmp, makeUpstream, refsOf, type Agent, type Tmp, useGateTmp } from './helpers/git-env.js';

const AWS_KEY = 'AKIAZ7Q3M4X9K2L5P8R1';
const AWS_KEY_2 = 'AKIAQ2W3E4R5T6Y7U8I9';
const CANARY = 'bbcanary-7f3e9a21c4d85b60';

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate allow markers and supervise approval', { timeout: 180_000 }, () => {
  const fx = useGateTmp();

  async function setup(decide: Decide | null, opts: Parameters<typeof startHarness>[2] = {}, t: Tmp = fx.tmp) {
    const up = makeUpstream(t, 'widget');
    const socket = t.path('supervise.sock');
    let sup: FakeSupervise | null = null;
    if (decide) {
      sup = await startFakeSupervise(socket, decide);
      fx.defer(() => sup?.close());
    }
    const h: Harness = await startHarness(t, [fileRepo('widget', up)], {
      superviseSocket: socket,
      secrets: { tokens: {}, canary: CANARY },
      ...opts,
    });
    fx.defer(() => h.gate.close());
    const agent: Agent = makeAgent(t, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    return { up, h, agent, wc: `${agent.home}/w`, sup };
  }

  it('G13: the canary on a line with bot-bottle:allow is rejected without a proposal', async () => {
    const { up, agent, wc, sup } = await setup(() => ({ status: 'approved', reason: 'ok' }));
    const before = refsOf(up);
    await commitFile(agent, wc, 'c.txt', `token=${CANARY} # bot-bottle:allow test fixture\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: push rejected: 1 secret finding');
    expect(r.stderr).toContain('c.txt:1');
    expect(r.stderr).not.toContain(CANARY);
    expect(sup?.proposals).toHaveLength(0);
    expect(refsOf(up)).toEqual(before);
  });

  it('G14: one marked plus one unmarked finding is rejected without a proposal', async () => {
    const { up, agent, wc, sup } = await setup(() => ({ status: 'approved', reason: 'ok' }));
    const before = refsOf(up);
    await commitFile(agent, wc, 'two.txt', `a=${AWS_KEY} # bot-bottle:allow docs example\nb=${AWS_KEY_2}\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: push rejected: 2 secret findings');
    expect(sup?.proposals).toHaveLength(0);
    expect(refsOf(up)).toEqual(before);
  });

  it('G15: a marked finding approved with a reason lands; the audit line has the proposal id', async () => {
    const { up, h, agent, wc, sup } = await setup(() => ({ status: 'approved', reason: 'documented example key' }));
    const tip = await commitFile(agent, wc, 'docs.md', `Example: ${AWS_KEY} gitleaks:allow AWS docs sample key\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/git-gate: waiting up to 300s for operator approval \(proposal p1\)/);
    expect(refsOf(up)['refs/heads/main']).toBe(tip);
    expect(sup?.proposals).toHaveLength(1);
    const body = sup?.proposals[0]?.body as { kind: string; origin: string; payload: { repo: string; findings: Array<Record<string, unknown>> } };
    expect(body.kind).toBe('secret-allow');
    expect(body.origin).toBe('git-gate');
    expect(body.payload.repo).toBe('widget');
    expect(body.payload.findings[0]).toMatchObject({ file: 'docs.md', line: 1, rule: 'aws_access_key_id', commit: tip, reason: 'AWS docs sample key' });
    expect(JSON.stringify(body)).not.toContain(AWS_KEY);
    await h.gate.close();
    const audit = readFileSync(h.auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const push = audit.find((a) => a['event'] === 'gitgate_push');
    expect(push).toMatchObject({ outcome: 'accepted', proposal_id: 'p1', repo: 'widget' });
    expect(readFileSync(h.auditPath, 'utf8')).not.toContain(AWS_KEY);
  });

  it('G16: operator rejection, a 2 s timeout and a missing supervise socket each refuse with their text', async () => {
    const cases: Array<{ decide: Decide | null; text: string; allow?: number }> = [
      { decide: () => ({ status: 'rejected', notes: 'not a sample, rotate it' }), text: 'git-gate: operator rejected the allow request: not a sample, rotate it' },
      { decide: () => 'pending', text: 'git-gate: no operator decision within 2s; push refused', allow: 2 },
      { decide: null, text: 'git-gate: cannot reach the supervise service; allow markers cannot be approved; push refused' },
    ];
    for (const c of cases) {
      const sub = makeTmp();
      fx.defer(() => sub.cleanup());
      const { up, agent, wc } = await setup(c.decide, c.allow ? { allowTimeoutSeconds: c.allow } : {}, sub);
      const before = refsOf(up);
      await commitFile(agent, wc, 'm.txt', `k=${AWS_KEY} # bot-bottle:allow fixture\n`);
      const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(c.text);
      expect(refsOf(up)).toEqual(before);
    }
  });

  it('G17: an approved push that fails upstream is retried after recovery without a second proposal', async () => {
    const { up, agent, wc, sup } = await setup(() => ({ status: 'approved', reason: 'fixture' }));
    const tip = await commitFile(agent, wc, 'm.txt', `k=${AWS_KEY} # bot-bottle:allow fixture\n`);
    renameSync(up, `${up}.down`);
    const r1 = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('git-gate: upstream unreachable (');
    expect(sup?.proposals).toHaveLength(1);
    renameSync(`${up}.down`, up);
    const r2 = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).not.toContain('waiting up to');
    expect(sup?.proposals).toHaveLength(1);
    expect(refsOf(up)['refs/heads/main']).toBe(tip);
  });
});
