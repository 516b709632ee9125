/**
 * The parts of `doctor` that are decisions rather than probes: the runtime-directory verdict on a
 * temp dir, bubblewrap versions, the exit code, text rendering, and the agent-CLI lookup (on real
 * files in a temp dir, and against the providers' own argv).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRuntimeDirs } from '../../src/backends/netns/runtime-dir.js';
import { bwrapVersionOk, parseBwrapVersion, runtimeDirCheck } from '../../src/doctor/netns.js';
import { doctorExitCode, type DoctorReport } from '../../src/doctor/report.js';
import { renderDoctorText } from '../../src/doctor/render.js';
import { fail, ok, skip, warn } from '../../src/doctor/check.js';
import { nodeCheck } from '../../src/doctor/common.js';
import { agentCliFor, hostHasCommand } from '../../src/plan/agent-cli.js';
import { BUILTIN_PROVIDERS } from '../../src/providers/registry.js';
import { makeCtx } from '../providers/fixtures.js';

const uid = process.getuid?.() ?? 0;
const made: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'bb-doctor-'));
  made.push(d);
  return d;
};
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('runtime directory check', () => {
  it('absent is ok: created on first launch', () => {
    const root = join(tmp(), 'bot-bottle');
    expect(runtimeDirCheck(root, uid)).toMatchObject({ status: 'ok', message: `${root} absent (it will be created on first launch)` });
  });

  it('healthy after a launch created it', () => {
    const root = join(tmp(), 'bot-bottle');
    ensureRuntimeDirs(root, uid);
    expect(runtimeDirCheck(root, uid).status).toBe('ok');
  });

  it('a wrong mode fails with the chmod fix; an open records dir fails too', () => {
    const root = join(tmp(), 'bot-bottle');
    ensureRuntimeDirs(root, uid);
    chmodSync(root, 0o700);
    const c = runtimeDirCheck(root, uid);
    expect(c).toMatchObject({ id: 'netns.runtime-dir', scope: 'netns', status: 'fail', fix: `chmod 0755 ${root}` });
    expect(c.message).toContain('has mode 0700, needs 0755');
    chmodSync(root, 0o777);
    expect(runtimeDirCheck(root, uid).message).toContain('has mode 0777, needs 0755');
    chmodSync(root, 0o755);
    chmodSync(join(root, 'netns'), 0o755);
    expect(runtimeDirCheck(root, uid)).toMatchObject({ status: 'fail', fix: `chmod 0700 ${join(root, 'netns')}` });
  });

  it('a foreign owner fails with the remove fix', () => {
    const root = join(tmp(), 'bot-bottle');
    mkdirSync(root, { mode: 0o755 });
    const c = runtimeDirCheck(root, uid + 1);
    expect(c.status).toBe('fail');
    expect(c.message).toContain(`is owned by uid ${uid}, not ${uid + 1}`);
    expect(c.fix).toContain(`remove ${root}`);
  });
});

describe('bubblewrap version', () => {
  it('parses `bwrap --version` and needs ≥ 0.8 (for --disable-userns)', () => {
    expect(parseBwrapVersion('bubblewrap 0.8.0\n')).toEqual([0, 8, 0]);
    expect(parseBwrapVersion('bubblewrap 0.11')).toEqual([0, 11, 0]);
    expect(parseBwrapVersion('no version')).toBeNull();
    expect(bwrapVersionOk([0, 7, 9])).toBe(false);
    expect(bwrapVersionOk([0, 8, 0])).toBe(true);
    expect(bwrapVersionOk([0, 10, 0])).toBe(true);
    expect(bwrapVersionOk([1, 0, 0])).toBe(true);
  });
});

describe('node version', () => {
  it('20 passes, 18 fails with a fix', () => {
    expect(nodeCheck('v20.0.0').status).toBe('ok');
    expect(nodeCheck('v22.1.0').status).toBe('ok');
    expect(nodeCheck('v18.19.0')).toMatchObject({ status: 'fail', fix: 'install Node 20 or later' });
  });
});

describe('exit code', () => {
  it('0 only when the requested (else the default) backend is usable', () => {
    expect(doctorExitCode({ defaultBackend: 'netns', usable: ['netns'] })).toBe(0);
    expect(doctorExitCode({ defaultBackend: 'docker', usable: ['netns'] })).toBe(3);
    expect(doctorExitCode({ defaultBackend: null, usable: [] })).toBe(3);
    expect(doctorExitCode({ defaultBackend: null, usable: ['netns'] }, 'netns')).toBe(0);
    expect(doctorExitCode({ defaultBackend: 'netns', usable: ['netns'] }, 'docker')).toBe(3);
  });
});

describe('text rendering', () => {
  const report: DoctorReport = {
    schema: 'bot-bottle/doctor@1',
    defaultBackend: 'netns',
    usable: ['netns'],
    checks: [
      ok('common', 'node', 'Node v20'),
      warn('common', 'host-variable.X', 'X is not set', 'export X'),
      skip('common', 'ssh-keygen', 'ssh-keygen: no bottle uses gitea keys'),
      ok('netns', 'netns.root', 'running as root'),
      fail('docker', 'docker.available', 'docker: not implemented', 'use --backend netns'),
    ],
  };

  it('words off a TTY, each failure followed by its fix, grouped by scope, then the verdict', () => {
    const text = renderDoctorText(report, { symbols: false, color: false });
    expect(text).toBe(
      [
        'common',
        '  ok   Node v20',
        '  warn X is not set — export X',
        '  skip ssh-keygen: no bottle uses gitea keys',
        '',
        'netns',
        '  ok   running as root',
        '',
        'docker',
        '  FAIL docker: not implemented — use --backend netns',
        '',
        'usable backends: netns',
        'default backend: netns',
        '',
      ].join('\n'),
    );
  });

  it('symbols on a TTY; colour only when asked; --backend prints that backend\'s verdict', () => {
    const plain = renderDoctorText(report, { symbols: true, color: false }, 'docker');
    expect(plain).toContain('  ✓ Node v20');
    expect(plain).toContain('  ✗ docker: not implemented — use --backend netns');
    expect(plain).toContain('  ! X is not set — export X');
    expect(plain).not.toContain('\u001b');
    expect(plain).toContain('backend docker: not usable here');
    expect(renderDoctorText(report, { symbols: true, color: true })).toContain('\x1b[31m✗\x1b[0m docker');
  });
});

describe('agent CLIs', () => {
  it('agentCliFor names the command each built-in provider actually runs', async () => {
    // pi cannot plan without its model settings; the others take none.
    const settings: Record<string, Record<string, unknown>> = { pi: { base_url: 'https://llm.example.com/v1', models: ['m'] } };
    for (const [name, provider] of Object.entries(BUILTIN_PROVIDERS)) {
      const plan = await provider.plan(makeCtx({ config: { template: name, settings: settings[name] ?? {} } }));
      expect(agentCliFor(name)?.command).toBe(plan.interactiveArgv[0]);
      expect(agentCliFor(name)?.install).toMatch(/^npm install -g @/);
    }
    expect(agentCliFor('my-plugin')).toBeNull();
    expect(agentCliFor('constructor')).toBeNull();
  });

  it('hostHasCommand: found, missing, outside the visible roots (symlink), interpreter outside', () => {
    const root = tmp();
    const visible = join(root, 'visible');
    const hidden = join(root, 'hidden');
    const bin = join(visible, 'bin');
    mkdirSync(bin, { recursive: true });
    mkdirSync(hidden);
    writeFileSync(join(bin, 'good'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
    writeFileSync(join(bin, 'viaenv'), '#!/usr/bin/env -S sh -e\necho ok\n', { mode: 0o755 });
    writeFileSync(join(hidden, 'real'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync(join(hidden, 'real'), join(bin, 'linked'));
    writeFileSync(join(hidden, 'interp'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(bin, 'odd'), `#!${join(hidden, 'interp')}\n`, { mode: 0o755 });
    const lookup = { path: bin, visibleRoots: [visible, '/usr', '/bin'] };

    expect(hostHasCommand('good', lookup)).toEqual({ ok: true, path: join(bin, 'good') });
    expect(hostHasCommand('viaenv', lookup)).toEqual({ ok: true, path: join(bin, 'viaenv') });
    expect(hostHasCommand('bb-no-such-command-x', lookup)).toMatchObject({ ok: false, reason: 'missing' });
    expect(hostHasCommand('linked', lookup)).toMatchObject({ ok: false, reason: 'invisible', problem: expect.stringContaining(`resolves to ${join(hidden, 'real')}`) });
    expect(hostHasCommand('odd', lookup)).toMatchObject({ ok: false, reason: 'interpreter', problem: expect.stringContaining(`runs ${join(hidden, 'interp')}`) });
    // Without visible roots only PATH matters.
    expect(hostHasCommand('linked', { path: bin })).toEqual({ ok: true, path: join(bin, 'linked') });
  });
});
