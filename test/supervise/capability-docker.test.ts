/**
 * Spec case 11 with a real docker bottle through the real CLI: `bot-bottle start --headless`
 * runs; the agent's `capability-block` (filed in the spool as the daemon files it) is approved
 * with `bot-bottle supervise approve`; the launcher waits, preserves the state
 * (`capability-approved`), tears down, rebuilds the image from `state/<slug>/Dockerfile` and
 * resumes the same slug with the headless resume argv and the fixed prompt. The resumed agent
 * reads a file only the approved Dockerfile puts into the image, and its transcript from before
 * the stop. Skips with a printed reason
 * when no engine answers (.ci/run starts one).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { namesFor } from '../../src/backends/docker/names.js';
import { CAPABILITY_RESUME_PROMPT } from '../../src/launch/capability.js';
import { BUNDLED_DOCKER_DIR } from '../../src/providers/paths.js';
import { openStore } from '../../src/supervise/store/index.js';
import { dockerLeftovers, dockerSkipReason } from '../backends/helpers/docker.js';
import { CLI_MAIN, runCli, TSX_LOADER } from '../helpers/cli.js';
import { hasTmux } from '../helpers/tmux.js';
import { fileProposal } from './store-helpers.js';

const skip = await dockerSkipReason();
if (skip) process.stdout.write(`capability rebuild (docker) tests skipped: ${skip}\n`);

const TAG = 'bot-bottle-shtool-cap:latest';
const MARKER = '/etc/bb-capability-marker';

/** A plugin provider whose agent is /bin/sh: the first run waits, the resumed one reports. */
function provider(): string {
  const plan = {
    template: 'shtool',
    image: { tag: TAG, dockerfile: null, context: null, buildArgs: {} },
    interactiveArgv: ['/bin/sh'],
    // Interactive resume: show what only the new image has, then the shell again.
    resumeArgv: ['/bin/sh', '-c', `cat ${MARKER}; exec /bin/sh`],
    headlessArgv: ['/bin/sh', '-c', '{{prompt}}'],
    // $0 is the prompt the launcher resumes with; exit 7 keeps the state for the checks below.
    headlessResumeArgv: ['/bin/sh', '-c', `cat ${MARKER}; cat ~/.shtool/sessions/s.txt; printf 'prompt: %s\\n' "$0"; exit 7`, '{{prompt}}'],
    guestEnv: {},
    hiddenEnvNames: [],
    files: [],
    transcriptPaths: ['/home/node/.shtool/sessions'],
    mcpRegisterArgv: null,
    egressRoutes: [],
    provisionedEnv: {},
    notes: [],
  };
  return `export default { apiVersion: 1, name: 'shtool', async plan(ctx) { return { ...${JSON.stringify(plan)}, skillsDir: ctx.guestHome + '/.shtool/skills' }; } };\n`;
}

function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'bb-cap-'));
  for (const d of ['bottles', 'agents', 'contrib/shtool']) mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, 'contrib', 'shtool', 'provider.mjs'), provider());
  // The plugin's image: the demo image's infrastructure (user node, sh, git, update-ca-certificates).
  writeFileSync(join(home, 'contrib', 'shtool', 'Dockerfile'), readFileSync(join(BUNDLED_DOCKER_DIR, 'Dockerfile.demo'), 'utf8'));
  for (const d of ['contrib', 'contrib/shtool']) chmodSync(join(home, d), 0o755);
  for (const f of ['provider.mjs', 'Dockerfile']) chmodSync(join(home, 'contrib', 'shtool', f), 0o644);
  writeFileSync(join(home, 'bottles', 'sh.md'), '---\nagent_provider:\n  template: shtool\n---\nshell bottle\n');
  writeFileSync(join(home, 'agents', 'runner.md'), '---\ndescription: runs a shell command\nbottle: sh\n---\nYou run shell.\n');
  chmodSync(home, 0o700);
  return home;
}

async function until<T>(what: string, probe: () => T | null | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function agentRunning(slug: string): boolean {
  try {
    return execFileSync('docker', ['ps', '--filter', `name=^${namesFor(slug).agent}$`, '--format', '{{.Names}}'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

describe.skipIf(skip)('capability-block approved with the launcher running (case 11, docker)', () => {
  const home = makeHome();
  const env = { BOT_BOTTLE_HOME: home };
  const stateRoot = join(home, 'state');
  const slugs: string[] = [];
  afterAll(async () => {
    if (slugs.length > 0) await runCli(['cleanup', '--yes', '--include-preserved', ...slugs], { env, timeoutMs: 120_000 });
    for (const slug of slugs) {
      try {
        execFileSync('docker', ['image', 'rm', '-f', `bot-bottle-${slug}-agent:latest`], { stdio: 'ignore' });
      } catch {
        // never built, or already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  /** The slug of the bottle `start` creates, once its agent container runs. */
  async function newBottle(before: ReadonlySet<string>): Promise<{ slug: string; state: string }> {
    const slug = await until('the bottle state', () => (existsSync(stateRoot) ? readdirSync(stateRoot).find((s) => !before.has(s)) : undefined), 300_000);
    slugs.push(slug);
    const state = join(stateRoot, slug);
    await until('the agent container', () => agentRunning(slug) && existsSync(join(state, 'session.json')), 600_000);
    return { slug, state };
  }

  const stateNames = (): Set<string> => new Set(existsSync(stateRoot) ? readdirSync(stateRoot) : []);

  /** Starts a headless bottle, files the agent's capability request and approves it with the CLI. */
  async function startAndApprove(dockerfile: string): Promise<{ run: ReturnType<typeof runCli>; slug: string; id: string; state: string }> {
    const before = stateNames();
    const run = runCli(['start', 'runner', '--headless', '--backend', 'docker', '--prompt', 'mkdir -p ~/.shtool/sessions; echo conversation-so-far > ~/.shtool/sessions/s.txt; echo first-run; sleep 600'], { env, timeoutMs: 900_000 });
    const { slug, state } = await newBottle(before);
    const id = await approveCapability(slug, state, dockerfile);
    return { run, slug, id, state };
  }

  async function approveCapability(slug: string, state: string, dockerfile: string): Promise<string> {
    const id = fileProposal(join(state, 'supervise', 'spool'), slug, {
      kind: 'capability-block',
      justification: 'the task needs a marker file installed system-wide in the image',
      payload: { dockerfile },
    });
    const store = openStore(home, { onNotice: () => undefined });
    try {
      // The launcher's relay imports it; the operator approves with the real CLI.
      await until('the launcher to import the proposal', () => store.get(id), 60_000);
    } finally {
      store.close();
    }
    const approve = await runCli(['supervise', 'approve', id], { env, timeoutMs: 60_000 });
    expect(approve.code, approve.stderr).toBe(0);
    expect(readFileSync(join(state, 'Dockerfile'), 'utf8')).toBe(dockerfile);
    return id;
  }

  it('Dockerfile written, state preserved as capability-approved, resumed on the new image, applied_at set, audited, nothing of the old run left', async () => {
    const { run, slug, id, state } = await startAndApprove(`FROM ${TAG}\nUSER root\nRUN echo cap-marker-ok > ${MARKER}\nUSER node\n`);
    const r = await run;
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toContain('first-run\n');
    // The resumed container runs the image built from the approved Dockerfile, with the resume prompt.
    expect(r.stdout).toContain('cap-marker-ok\n');
    expect(r.stdout).toContain(`prompt: ${CAPABILITY_RESUME_PROMPT}\n`);
    // The transcript was snapshotted before the stop and restored into the rebuilt bottle.
    expect(r.stdout).toContain('conversation-so-far\n');
    expect(r.stderr).toContain('restored the transcript');
    expect(r.stderr).toContain(`capability request ${id} approved: ${slug} stops in 3 s`);
    expect(r.stderr).toContain(`bottle ${slug} stopped for an approved capability request; state kept (capability-approved)`);
    expect(r.stderr).toContain(`rebuilding ${slug} on the approved Dockerfile`);
    expect(r.stderr).toContain(`building image bot-bottle-${slug}-agent:latest`);
    expect(r.stderr).toContain(`bottle ${slug} exited with 7; state kept`);

    const store = openStore(home, { onNotice: () => undefined });
    try {
      const p = store.get(id);
      expect(p?.response?.decision).toBe('approved');
      expect(p?.response?.appliedAt).not.toBeNull();
      const rows = store.readAudit({ bottle: slug }).filter((a) => a.proposalId === id);
      expect(rows.map((a) => a.event)).toContain('capability.rebuilt');
      expect(rows.map((a) => a.event)).not.toContain('apply.failed');
      expect(rows.find((a) => a.event === 'capability.rebuilt')?.detail).toMatchObject({ kind: 'capability-block', image: `bot-bottle-${slug}-agent:latest` });
    } finally {
      store.close();
    }
    // The final run ended with 7: preserved for that; nothing of either run is left.
    expect(JSON.parse(readFileSync(join(state, '.preserve'), 'utf8'))).toMatchObject({ reason: 'exit-nonzero', exitCode: 7 });
    expect(dockerLeftovers(slug)).toEqual([]);
  }, 900_000);

  it('a rebuild that fails (the Dockerfile COPYs state files: the build context is empty) keeps the state preserved, says how to resume in one line, audits apply.failed', async () => {
    const { run, slug, id, state } = await startAndApprove(`FROM ${TAG}\nCOPY metadata.json /tmp/stolen-metadata.json\n`);
    const r = await run;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('first-run\n');
    expect(r.stdout).not.toContain('prompt: ');
    const lines = r.stderr.split('\n').filter((l) => l.includes(`rebuilding ${slug} for the approved capability request failed`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`bot-bottle resume ${slug}`);
    expect(lines[0]).toContain('building image');
    expect(JSON.parse(readFileSync(join(state, '.preserve'), 'utf8'))).toMatchObject({ reason: 'capability-approved' });
    const store = openStore(home, { onNotice: () => undefined });
    try {
      expect(store.get(id)?.response?.appliedAt).toBeNull();
      const failed = store.readAudit({ bottle: slug }).find((a) => a.proposalId === id && a.event === 'apply.failed');
      expect(failed?.detail).toMatchObject({ kind: 'capability-block', stage: 'rebuild' });
    } finally {
      store.close();
    }
    expect(dockerLeftovers(slug)).toEqual([]);
  }, 900_000);

  it.skipIf(!hasTmux)('interactive: the terminal is re-attached to the resumed agent on the new image', async () => {
    const sock = `bbcap-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
    const screen = (): string => tmux('capture-pane', '-p', '-S', '-200', '-t', 'cap');
    const type = (line: string): void => void tmux('send-keys', '-t', 'cap', line, 'Enter');
    const passEnv = ['DOCKER_HOST', 'BOT_BOTTLE_BASE_IMAGE', 'BOT_BOTTLE_AGENT_SOURCE'].filter((k) => process.env[k]).map((k) => `${k}='${process.env[k]}'`).join(' ');
    const cmd = `env BOT_BOTTLE_HOME='${home}' ${passEnv} NO_COLOR=1 TERM=xterm '${process.execPath}' --import '${TSX_LOADER}' '${CLI_MAIN}' start runner --backend docker -y; echo START-EXIT=$?; sleep 120`;
    const before = stateNames();
    try {
      tmux('new-session', '-d', '-s', 'cap', '-x', '160', '-y', '50', cmd);
      const { slug, state } = await newBottle(before);
      type('echo typed-$((2+3))');
      await until('the first shell to answer', () => screen().includes('typed-5'), 60_000);
      const id = await approveCapability(slug, state, `FROM ${TAG}\nUSER root\nRUN echo cap-marker-ok > ${MARKER}\nUSER node\n`);
      await until('the resumed agent on the new image', () => screen().includes('cap-marker-ok'), 600_000);
      type('echo again-$((3+4))');
      await until('the resumed shell to answer', () => screen().includes('again-7'), 60_000);
      type('exit 6');
      await until('start to exit', () => screen().includes('START-EXIT='), 120_000);
      expect(screen()).toContain('START-EXIT=6');
      const store = openStore(home, { onNotice: () => undefined });
      try {
        expect(store.get(id)?.response?.appliedAt).not.toBeNull();
      } finally {
        store.close();
      }
      expect(dockerLeftovers(slug)).toEqual([]);
    } finally {
      spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    }
  }, 900_000);
});
