/**
 * The launch lifecycle (docs/architecture.md §4.5–§4.8) on the real netns backend, with the
 * stand-in sidecar supervisor (the real daemons are exercised in sidecars.test.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { createTestCa } from '../helpers/test-ca.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { runLaunch, type LaunchEvent } from '../../src/launch/run.js';
import { BottleError } from '../../src/errors.js';
import { GUEST_PROMPT_FILE } from '../../src/plan/bottle-plan.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { makePlan, standinCommand, tempHome } from '../backends/helpers/plan.js';

const rnd = () => Math.random().toString(36).slice(2, 7);
const secrets = { EGRESS_TOKEN_0: 'marker-launch-secret-4b2a' };

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'git'))('launch lifecycle on netns', () => {
  const backend = createNetnsBackend({ sidecarCommand: standinCommand });
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  async function planWithCa(slug: string, over: Parameters<typeof makePlan>[2] = {}) {
    const plan = makePlan(home, slug, over);
    const ca = await createTestCa('bottle CA');
    mkdirSync(join(plan.stateDir, 'egress'), { recursive: true, mode: 0o700 });
    writeFileSync(plan.ca.hostCertPath, ca.certPem);
    writeFileSync(plan.ca.hostKeyPath, ca.keyPem, { mode: 0o600 });
    return { plan, caPem: ca.certPem };
  }

  it('provisions in order, runs the headless agent, tears down and removes state on exit 0 (C21)', async () => {
    const slug = `lr-${rnd()}`;
    const skill = mkdtempSync(join(tmpdir(), 'bb-skill-'));
    writeFileSync(join(skill, 'SKILL.md'), 'skill body\n');
    const cwd = mkdtempSync(join(tmpdir(), 'bb-cwd-'));
    writeFileSync(join(cwd, 'README.md'), 'workspace file\n');
    mkdirSync(join(cwd, '.git'));
    writeFileSync(join(cwd, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const { plan, caPem } = await planWithCa(slug, {
      copyCwd: true,
      cwd,
      workdir: '/home/node/workspace',
    });
    const full = {
      ...plan,
      agent: {
        ...plan.agent,
        gitConfig: [['user.name', 'Bot Tester'], ['url.http://git-gate:9420/x.git.insteadOf', 'https://example.com/x.git']] as const,
        skills: [{ hostPath: skill, guestPath: '/home/node/.claude/skills/run-tests' }],
        files: [
          { path: '/home/node/.config/tool/settings.json', content: '{"a":1}\n', mode: 0o600 },
          { path: GUEST_PROMPT_FILE, content: 'the prompt\n' },
        ],
        mcpRegisterArgv: ['/bin/sh', '-c', 'echo registered > ~/.mcp-registered'],
      },
    };
    const events: LaunchEvent[] = [];
    const out: string[] = [];
    const script = [
      'pwd', 'ls -A', 'cat ~/.claude/skills/run-tests/SKILL.md', 'git config --global user.name',
      'stat -c %a ~/.config/tool/settings.json', 'cat ~/.bot-bottle-prompt.txt', 'cat ~/.mcp-registered',
      'cat ~/.bot-bottle-ca.pem', 'echo "bundle=$(grep -c BEGIN ~/.bot-bottle-ca-bundle.pem)"', 'test ! -e ~/../../state && echo no-state',
    ].join('; ');
    const res = await runLaunch(
      { plan: full, secrets },
      { backend, prompt: script, onEvent: (e) => events.push(e), onOutput: (_s, c) => out.push(Buffer.from(c).toString()) },
    );
    const text = out.join('');
    expect(res).toEqual({ slug, exitCode: 0, preserved: false, reason: null, stateDir: null });
    expect(text).toContain('/home/node/workspace\n');
    expect(text).toContain('.git');
    expect(text).toContain('README.md');
    expect(text).toContain('skill body');
    expect(text).toContain('Bot Tester');
    expect(text).toContain('600\n');
    expect(text).toContain('the prompt');
    expect(text).toContain('registered');
    expect(text).toContain(caPem.trim());
    expect(Number(/bundle=(\d+)/.exec(text)?.[1] ?? '0')).toBeGreaterThan(1); // system roots + the bottle CA
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.message);
    const order = ['installing the bottle CA', 'configuring git', 'copying skills', 'writing the prompt', 'writing provider files', 'registering the supervise MCP server', 'copying the workspace'];
    expect(progress.filter((p) => order.includes(p))).toEqual(order);
    expect(events.map((e) => e.type)).toContain('ready');
    expect(events.at(-1)).toMatchObject({ type: 'finished', message: `bottle ${slug} finished; state removed` });
    expect(existsSync(plan.stateDir)).toBe(false);
    expect(leftovers(slug)).toEqual([]);
    rmSync(skill, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  });

  it('a failing supervise MCP registration is a warning: the agent still runs', async () => {
    const slug = `lr-${rnd()}`;
    const { plan } = await planWithCa(slug);
    const full = { ...plan, agent: { ...plan.agent, mcpRegisterArgv: ['/bin/sh', '-c', 'echo "claude: not found" >&2; exit 127'] } };
    const events: LaunchEvent[] = [];
    const out: string[] = [];
    const res = await runLaunch({ plan: full, secrets }, { backend, prompt: 'echo agent-ran', onEvent: (e) => events.push(e), onOutput: (_s, c) => out.push(Buffer.from(c).toString()) });
    expect(res).toMatchObject({ slug, exitCode: 0 });
    expect(out.join('')).toContain('agent-ran');
    expect(events).toContainEqual({ type: 'warning', slug, message: 'registering the supervise MCP server failed (exit 127: claude: not found); the agent runs without the supervise tools' });
    expect(leftovers(slug)).toEqual([]);
  });

  it('C22: a non-zero agent exit preserves state with a resume hint; logs saved; CA key deleted', async () => {
    const slug = `lr-${rnd()}`;
    const { plan } = await planWithCa(slug);
    const events: LaunchEvent[] = [];
    const res = await runLaunch({ plan, secrets }, { backend, prompt: 'echo hi; exit 3', onEvent: (e) => events.push(e), onOutput: () => undefined });
    expect(res).toMatchObject({ slug, exitCode: 3, preserved: true, reason: 'exit-nonzero', stateDir: plan.stateDir });
    expect(JSON.parse(readFileSync(join(plan.stateDir, '.preserve'), 'utf8'))).toMatchObject({ reason: 'exit-nonzero', exitCode: 3 });
    expect(events.at(-1)!.message).toBe(`bottle ${slug} exited with 3; state kept — resume with: bot-bottle resume ${slug}`);
    expect(existsSync(join(plan.stateDir, 'logs', 'sidecar.log'))).toBe(true);
    expect(readFileSync(join(plan.stateDir, 'logs', 'agent.log'), 'utf8')).toMatch(/exited 3/);
    expect(existsSync(plan.ca.hostKeyPath)).toBe(false);
    expect(existsSync(join(plan.stateDir, 'session.json'))).toBe(false);
    expect(leftovers(slug)).toEqual([]);
    // no secret in any file under state/
    for (const f of ['logs/sidecar.log', 'logs/agent.log', '.preserve']) expect(readFileSync(join(plan.stateDir, f), 'utf8')).not.toContain(secrets.EGRESS_TOKEN_0);
  });

  it('abort at any launch step: reverse teardown, new state dir removed, ABORTED', async () => {
    for (const step of ['creating network namespace', 'starting sidecars', 'installing the bottle CA', 'writing the prompt']) {
      const slug = `lr-${rnd()}`;
      const base = (await planWithCa(slug)).plan;
      const plan = { ...base, agent: { ...base.agent, files: [{ path: GUEST_PROMPT_FILE, content: 'p\n' }] } };
      const ac = new AbortController();
      const err = await runLaunch(
        { plan, secrets },
        { backend, prompt: 'true', signal: ac.signal, onEvent: (e) => e.type === 'progress' && e.message === step && ac.abort(130) },
      ).catch((e: unknown) => e);
      expect(err, step).toBeInstanceOf(BottleError);
      expect((err as BottleError).code, step).toBe('ABORTED');
      expect((err as BottleError).exitCode, step).toBe(130);
      expect(existsSync(plan.stateDir), step).toBe(false);
      expect(leftovers(slug), step).toEqual([]);
    }
  }, 180_000);

  it('abort while the agent runs: agent stopped, state preserved as interrupted, exit 143', async () => {
    const slug = `lr-${rnd()}`;
    const { plan } = await planWithCa(slug);
    const ac = new AbortController();
    const res = await runLaunch(
      { plan, secrets },
      { backend, prompt: 'sleep 30', signal: ac.signal, onEvent: (e) => e.type === 'ready' && setTimeout(() => ac.abort(143), 300), onOutput: () => undefined },
    );
    expect(res).toMatchObject({ exitCode: 143, preserved: true, reason: 'interrupted' });
    expect(leftovers(slug)).toEqual([]);
  });

  it('a failing launch (sidecar cannot start) removes the new state dir and names the problem', async () => {
    const slug = `lr-${rnd()}`;
    const { plan } = await planWithCa(slug);
    const broken = createNetnsBackend({ sidecarCommand: (args) => ({ command: process.execPath, args: ['-e', 'process.exit(78)', ...args] }) });
    const err = await runLaunch({ plan, secrets }, { backend: broken, prompt: 'true' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('LAUNCH_FAILED');
    expect(existsSync(plan.stateDir)).toBe(false);
    expect(leftovers(slug)).toEqual([]);
  });
});
