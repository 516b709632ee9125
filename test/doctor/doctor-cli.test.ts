/**
 * `bot-bottle doctor` run as the real CLI (docs/cli.md, test C19/C36): the JSON document, the
 * verdict and exit codes per backend, broken manifests named, host variables by name only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { skipReason } from '../helpers/capabilities.js';
import { cliEnv, fm, type CliEnv } from '../cli/cli-fixtures.js';
import type { Check } from '../../src/doctor/check.js';
import { hostHasCommand } from '../../src/plan/agent-cli.js';
import { netnsAgentLookup } from '../../src/doctor/agents.js';

interface DoctorDoc {
  schema: string;
  defaultBackend: string | null;
  usable: string[];
  checks: Check[];
}

const ESC = '\u001b';
/** An engine socket that never answers: docker is unavailable here whatever engine the host runs (CI starts one). */
const NO_ENGINE = 'unix:///nonexistent/bot-bottle-test/docker.sock';

let e: CliEnv;
beforeEach(() => {
  e = cliEnv();
});
afterEach(() => e.cleanup());

async function doctorJson(args: string[] = [], env: Record<string, string | undefined> = {}): Promise<{ code: number; doc: DoctorDoc; raw: string }> {
  const r = await runCli(['doctor', '--json', ...args], { env: { ...e.env, BOT_BOTTLE_BACKEND: undefined, DOCKER_HOST: NO_ENGINE, ...env }, cwd: e.cwd });
  expect(r.stderr).toBe('');
  return { code: r.code, doc: JSON.parse(r.stdout) as DoctorDoc, raw: r.stdout };
}

const byId = (doc: DoctorDoc, id: string): Check | undefined => doc.checks.find((c) => c.id === id);

describe('bot-bottle doctor', () => {
  it('--json: bot-bottle/doctor@1 with its fixed fields; backends not usable here honest, with state and fix', async () => {
    const { doc } = await doctorJson();
    expect(Object.keys(doc)).toEqual(['schema', 'defaultBackend', 'usable', 'checks']);
    expect(doc.schema).toBe('bot-bottle/doctor@1');
    expect(Array.isArray(doc.usable)).toBe(true);
    for (const c of doc.checks) {
      expect(Object.keys(c)).toEqual(['id', 'scope', 'status', 'message', 'fix']);
      expect(['ok', 'fail', 'warn', 'skip']).toContain(c.status);
      expect(typeof c.message).toBe('string');
      if (c.status === 'fail') expect(typeof c.fix).toBe('string');
    }
    expect(new Set(doc.checks.map((c) => c.id)).size).toBe(doc.checks.length);
    expect(byId(doc, 'node')?.status).toBe('ok');
    // The real native module loads; this home has no store yet, and doctor does not create one.
    expect(byId(doc, 'database')).toMatchObject({ status: 'ok', message: expect.stringContaining('not created yet') });
    // docker without an engine: its own FAIL line with the fix, not usable.
    expect(byId(doc, 'docker.engine')).toMatchObject({ scope: 'docker', status: 'fail', fix: 'start the engine behind DOCKER_HOST' });
    expect(doc.usable).not.toContain('docker');
    // The CLI-driven backends: each with its state and fix on this host (Linux, no smolvm, no
    // /dev/kvm, no Apple container), never usable here.
    expect(byId(doc, 'macos-container.os')).toEqual({
      id: 'macos-container.os', scope: 'macos-container', status: 'fail',
      message: "macos-container needs macOS 26 with Apple's container runtime (this is linux)", fix: 'on Linux use --backend netns (root)',
    });
    expect(byId(doc, 'smolmachines.os')?.status).toBe('ok');
    const smol = doc.checks.filter((c) => c.scope === 'smolmachines');
    expect(smol.map((c) => c.id)).toEqual(expect.arrayContaining(['smolmachines.tool.smolvm', 'smolmachines.kvm', 'smolmachines.docker', 'smolmachines.untested']));
    for (const c of smol.filter((x) => x.status === 'fail')) expect(c.fix).toMatch(/smolvm|KVM|netns/);
    expect(byId(doc, 'smolmachines.untested')).toMatchObject({ status: 'warn', message: expect.stringContaining('has not run on real hardware') });
    for (const name of ['macos-container', 'smolmachines']) expect(doc.usable).not.toContain(name);
    expect(doc.checks.filter((c) => c.scope === 'netns').map((c) => c.id)).toEqual(
      expect.arrayContaining(['netns.linux', 'netns.root', 'netns.tool.bwrap', 'netns.tool.ip', 'netns.tool.nft', 'netns.git', 'netns.cgroups', 'netns.runtime-dir']),
    );
  });

  describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'git-http-backend'))('on a root host with the netns tools', () => {
    it('netns is usable and the default; exit 0; text lists it', async () => {
      const { code, doc } = await doctorJson();
      expect(doc.checks.filter((c) => c.scope === 'netns' && c.status === 'fail')).toEqual([]);
      expect(doc.usable).toEqual(['netns']);
      expect(doc.defaultBackend).toBe('netns');
      expect(code).toBe(0);
      expect(byId(doc, 'netns.tool.bwrap')?.message).toMatch(/^bwrap \d+\.\d+\.\d+ \(.*; needs ≥ 0\.8\)$/);
      const text = await runCli(['doctor'], { env: { ...e.env, BOT_BOTTLE_BACKEND: undefined, DOCKER_HOST: NO_ENGINE }, cwd: e.cwd });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('usable backends: netns\ndefault backend: netns\n');
      expect(text.stdout).toMatch(/^ {2}ok {3}running as root$/m);
    });

    it('BOT_BOTTLE_BACKEND=netns: the named default, exit 0', async () => {
      const { code, doc } = await doctorJson([], { BOT_BOTTLE_BACKEND: 'netns' });
      expect(doc.defaultBackend).toBe('netns');
      expect(byId(doc, 'backend-env')?.status).toBe('ok');
      expect(code).toBe(0);
    });
  });

  describe.skipIf(skipReason('root'))('as an unprivileged user (setpriv to nobody)', () => {
    it('netns fails with the root fix, nothing is usable, no default: exit 3', async () => {
      const { spawnSync } = await import('node:child_process');
      const { CLI_MAIN, REPO_ROOT } = await import('../helpers/cli.js');
      const loader = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
      const env = { PATH: process.env.PATH ?? '', HOME: tmpdir(), BOT_BOTTLE_HOME: join(tmpdir(), 'bb-doctor-nobody-absent'), NO_COLOR: '1' };
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', loader, CLI_MAIN, 'doctor', '--json'], {
        cwd: tmpdir(),
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const doc = JSON.parse(r.stdout) as DoctorDoc;
      expect(byId(doc, 'netns.root')).toMatchObject({ status: 'fail', fix: expect.stringContaining('sudo -E bot-bottle') });
      expect(byId(doc, 'netns.cgroups')?.status).toBe('skip');
      expect(byId(doc, 'home')).toMatchObject({ status: 'fail', fix: 'run "bot-bottle init"' });
      expect(doc.usable).toEqual([]);
      expect(doc.defaultBackend).toBeNull();
      expect(r.status).toBe(3);
    });
  });

  it('C36 --backend docker: FAIL line with its fix, exit 3, no ANSI off a TTY, only that backend checked', async () => {
    const r = await runCli(['doctor', '--backend', 'docker'], { env: { ...e.env, NO_COLOR: undefined, TERM: 'xterm', DOCKER_HOST: NO_ENGINE }, cwd: e.cwd });
    expect(r.code).toBe(3);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).toMatch(/^ {2}FAIL no docker engine answers on \/nonexistent\/bot-bottle-test\/docker\.sock — start the engine behind DOCKER_HOST$/m);
    expect(r.stdout).not.toMatch(/^netns$/m);
    expect(r.stdout).toContain('backend docker: not usable here');
    expect(r.stdout).not.toMatch(/[✓✗]/);
  });

  it('C19 --backend nope: exit 2, one stderr line listing the backends', async () => {
    const r = await runCli(['doctor', '--backend', 'nope'], { env: e.env, cwd: e.cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('bot-bottle: error: unknown backend "nope"; choose one of: macos-container, docker, netns, smolmachines\n');
  });

  it('exit 3 when the default backend is not usable (BOT_BOTTLE_BACKEND names an unimplemented or unknown one)', async () => {
    const docker = await doctorJson([], { BOT_BOTTLE_BACKEND: 'docker' });
    expect(docker.doc.defaultBackend).toBe('docker');
    expect(docker.doc.usable).not.toContain('docker');
    expect(docker.code).toBe(3);
    const bogus = await doctorJson([], { BOT_BOTTLE_BACKEND: 'bogus' });
    expect(bogus.doc.defaultBackend).toBeNull();
    expect(byId(bogus.doc, 'backend-env')).toMatchObject({ status: 'fail', message: 'BOT_BOTTLE_BACKEND names no known backend', fix: expect.stringContaining('netns') });
    expect(bogus.raw).not.toContain('bogus');
    expect(bogus.code).toBe(3);
  });

  it('broken manifests are named by file (own parse errors, a missing parent, an unknown default bottle)', async () => {
    e.write('bbhome/bottles/base.md', fm('egress: {log: 1}'));
    e.write('bbhome/bottles/typo.md', fm('egres: {}'));
    e.write('bbhome/bottles/orphan.md', fm('extends: nowhere'));
    e.write('bbhome/bottles/child-of-typo.md', fm('extends: typo'));
    e.write('bbhome/agents/lost.md', fm('bottle: missing-bottle'));
    e.write('bbhome/agents/fine.md', fm('bottle: base'));
    const { doc } = await doctorJson();
    const fails = doc.checks.filter((c) => c.scope === 'common' && c.status === 'fail');
    expect(byId(doc, 'manifest.bottle.typo')?.message).toMatch(/bottles\/typo\.md:2:1: unknown key "egres"/);
    expect(byId(doc, 'manifest.bottle.orphan')?.message).toMatch(/bottles\/orphan\.md:2:\d+: extends: bottle "nowhere" not found/);
    expect(byId(doc, 'manifest.agent.lost')?.message).toMatch(/^agent lost \(.*agents\/lost\.md\): unknown bottle "missing-bottle"/);
    // The child fails only because its parent is broken: that error is reported once, on the parent.
    expect(byId(doc, 'manifest.bottle.child-of-typo')).toBeUndefined();
    expect(fails.map((c) => c.id).sort()).toEqual(['manifest.agent.lost', 'manifest.bottle.orphan', 'manifest.bottle.typo']);
    expect(byId(doc, 'manifests')).toBeUndefined();
  });

  it('host variables: a missing credential is named, a set one is reported set, and its value never appears', async () => {
    const MARKER = 'doctor-marker-value-7f3a9c';
    e.write(
      'bbhome/bottles/creds.md',
      fm(
        [
          'env:',
          '  PLAIN: "${BB_DOCTOR_ENV}"',
          'egress:',
          '  routes:',
          '    - host: api.example.com',
          '      auth: {scheme: Bearer, token_ref: BB_DOCTOR_SET}',
          '    - host: other.example.com',
          '      auth: {scheme: token, token_ref: BB_DOCTOR_UNSET}',
        ].join('\n'),
      ),
    );
    const env = { BB_DOCTOR_SET: MARKER, BB_DOCTOR_UNSET: undefined, BB_DOCTOR_ENV: undefined };
    const { doc, raw } = await doctorJson([], env);
    expect(raw).not.toContain(MARKER);
    expect(byId(doc, 'host-variable.BB_DOCTOR_SET')).toMatchObject({ status: 'ok', message: 'BB_DOCTOR_SET is set (credential used by creds)' });
    expect(byId(doc, 'host-variable.BB_DOCTOR_UNSET')).toMatchObject({ status: 'warn', message: 'BB_DOCTOR_UNSET is not set (credential used by creds)', fix: expect.stringContaining('export BB_DOCTOR_UNSET') });
    expect(byId(doc, 'host-variable.BB_DOCTOR_ENV')).toMatchObject({ status: 'warn', message: expect.stringContaining('env variable used by creds') });
    const text = await runCli(['doctor'], { env: { ...e.env, ...env }, cwd: e.cwd });
    expect(`${text.stdout}${text.stderr}`).not.toContain(MARKER);
    expect(text.stdout).toMatch(/^ {2}warn BB_DOCTOR_UNSET is not set/m);
  });

  it('home writable by others fails with the chmod fix; a repo .bot-bottle/bottles is warned about', async () => {
    chmodSync(e.home, 0o777);
    mkdirSync(join(e.cwd, '.bot-bottle', 'bottles'), { recursive: true });
    const { doc } = await doctorJson();
    expect(byId(doc, 'home')).toMatchObject({ status: 'fail', message: expect.stringContaining('writable by group or others (mode 0777)'), fix: `chmod 700 ${e.home}` });
    expect(byId(doc, 'repo-bottles')).toMatchObject({ status: 'warn', message: expect.stringContaining('.bot-bottle/bottles exists and is ignored') });
    // The loader's own "ignoring …/bottles" warning is not repeated beside it.
    expect(doc.checks.filter((c) => c.message.includes('.bot-bottle/bottles'))).toHaveLength(1);
  });

  it('agent CLI: named per agent with the install fix; one on the operator PATH but outside the sandbox is located', async () => {
    const lookup = await netnsAgentLookup();
    if (hostHasCommand('claude', lookup).ok) {
      process.stderr.write('SKIP (claude is installed system-wide on this host; the missing-CLI case cannot be shown)\n');
      return;
    }
    e.write('bbhome/bottles/cl.md', fm('agent_provider: {template: claude}'));
    e.write('bbhome/agents/impl.md', fm('bottle: cl'));
    const missing = await doctorJson(['--backend', 'netns']);
    expect(byId(missing.doc, 'agent.impl.cli')).toMatchObject({
      scope: 'agents',
      status: 'fail',
      message: expect.stringContaining('agent impl: claude is not installed on the host'),
      fix: 'install it on the host (npm install -g @anthropic-ai/claude-code) or use --backend docker, whose agent image ships it',
    });
    // A user-level install (~/.local/bin style) is on the operator's PATH, not in the sandbox.
    const bin = join(e.userHome, '.local', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'claude'), '#!/bin/sh\necho fake\n', { mode: 0o755 });
    const hidden = await doctorJson(['--backend', 'netns'], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(byId(hidden.doc, 'agent.impl.cli')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`claude is at ${join(bin, 'claude')}, which the sandbox does not see`),
      fix: expect.stringContaining('npm install -g --prefix /usr/local @anthropic-ai/claude-code'),
    });
  });

  it('--help shows usage and an example', async () => {
    const r = await runCli(['doctor', '--help'], { env: e.env, cwd: e.cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--backend <name>');
    expect(r.stdout).toContain('$ bot-bottle doctor --backend netns');
  });
});

describe('messages that send people to doctor name flags that exist', () => {
  it('every `bot-bottle doctor …` hint in src/ parses', async () => {
    const { execFileSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('../helpers/cli.js');
    const out = execFileSync('grep', ['-rhoE', 'bot-bottle doctor[^"`]*', join(REPO_ROOT, 'src')], { encoding: 'utf8' });
    const hints = [...new Set(out.split('\n').filter(Boolean))];
    expect(hints.length).toBeGreaterThan(0);
    const flags = new Set(hints.flatMap((h) => h.split(/\s+/).filter((w) => w.startsWith('-'))));
    for (const f of flags) expect(['--backend', '--json']).toContain(f);
  });
});
