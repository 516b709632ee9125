/**
 * The netns runtime directory (docs/architecture.md, "Runtime directory"): each level is created
 * with its own mode whatever the umask and launch order, an old 0700 root is repaired, and what
 * was not made by us (symlink, foreign owner) is refused, never followed.
 */
import { chmodSync, lstatSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRuntimeDirs, inspectRuntimeDir, runtimeLevels } from '../../src/backends/netns/runtime-dir.js';
import { sandboxFailure } from '../../src/backends/netns/sandbox-failure.js';
import { provisionFailure } from '../../src/launch/provision.js';
import { BottleError } from '../../src/errors.js';

const uid = process.getuid?.() ?? 0;
const made: string[] = [];
const fresh = (): string => {
  const parent = mkdtempSync(join(tmpdir(), 'bb-rundir-'));
  made.push(parent);
  return join(parent, 'bot-bottle');
};
const mode = (p: string): number => lstatSync(p).mode & 0o777;

afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('netns runtime directory', () => {
  it('creates root 0755, records 0700, stage 0755 from nothing, even under umask 077', () => {
    const root = fresh();
    const old = process.umask(0o077);
    try {
      ensureRuntimeDirs(root, uid);
    } finally {
      process.umask(old);
    }
    const [r, records, stage] = runtimeLevels(root);
    expect(mode(r!.path)).toBe(0o755);
    expect(mode(records!.path)).toBe(0o700);
    expect(mode(stage!.path)).toBe(0o755);
    expect(records!.path).toBe(join(root, 'netns'));
    expect(stage!.path).toBe(join(root, 'stage'));
    expect(inspectRuntimeDir(root, uid)).toEqual([]);
  });

  it('an absent directory is healthy (the next launch creates it)', () => {
    expect(inspectRuntimeDir(fresh(), uid)).toEqual([]);
  });

  it('repairs the 0700 root an earlier version left behind, and doctor names it first', () => {
    const root = fresh();
    mkdirSync(join(root, 'netns'), { recursive: true, mode: 0o700 });
    chmodSync(root, 0o700);
    const problems = inspectRuntimeDir(root, uid);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.problem).toContain('has mode 0700, needs 0755');
    expect(problems[0]!.fix).toBe(`chmod 0755 ${root}`);
    ensureRuntimeDirs(root, uid);
    expect(mode(root)).toBe(0o755);
    expect(mode(join(root, 'stage'))).toBe(0o755);
  });

  it('a records directory opened to others is closed again', () => {
    const root = fresh();
    ensureRuntimeDirs(root, uid);
    chmodSync(join(root, 'netns'), 0o755);
    expect(inspectRuntimeDir(root, uid).map((p) => p.path)).toEqual([join(root, 'netns')]);
    ensureRuntimeDirs(root, uid);
    expect(mode(join(root, 'netns'))).toBe(0o700);
  });

  it('refuses a symlink or a foreign owner instead of following or chmodding it', () => {
    const root = fresh();
    mkdirSync(root, { mode: 0o755 });
    const elsewhere = join(root, '..', 'elsewhere');
    mkdirSync(elsewhere);
    chmodSync(elsewhere, 0o711);
    symlinkSync(elsewhere, join(root, 'stage'));
    let err: unknown;
    try {
      ensureRuntimeDirs(root, uid);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).oneLine()).toMatch(/stage is not a directory; remove .*stage \(no bottle may be running\)/);
    expect(mode(elsewhere)).toBe(0o711);
    const other = fresh();
    mkdirSync(other, { mode: 0o755 });
    expect(() => ensureRuntimeDirs(other, uid + 1)).toThrow(new RegExp(`is owned by uid ${uid}, not ${uid + 1}`));
  });

  it('two launches racing create the same levels without error', async () => {
    const root = fresh();
    await Promise.all([0, 1, 2, 3].map(async () => ensureRuntimeDirs(root, uid)));
    expect(inspectRuntimeDir(root, uid)).toEqual([]);
  });
});

describe('provisioning failures name the real cause', () => {
  it('a wrapper error is a sandbox failure, not a missing tool', () => {
    const line = "bwrap: Can't find source path /run/bot-bottle/stage/h: Permission denied";
    expect(sandboxFailure(1, `${line}\n`)).toBe(line);
    expect(sandboxFailure(0, line)).toBeNull();
    expect(sandboxFailure(1, 'cat: /x: No such file or directory\nbwrap: later')).toBeNull();
    expect(sandboxFailure(1, 'setpriv: setresuid failed: Operation not permitted')).toMatch(/^setpriv/);
    const e = provisionFailure('ca-trust', ['/bin/sh'], { code: 1, stdout: '', stderr: line, sandboxError: line });
    expect(e.oneLine()).toContain('the sandbox could not be built: bwrap: Can');
    expect(e.oneLine()).toContain('bot-bottle doctor');
    expect(e.oneLine()).not.toContain('missing');
  });

  it('exit 127 names the missing command; other failures show the last error line', () => {
    const missing = provisionFailure('mcp', ['claude', 'mcp', 'add'], { code: 127, stdout: '', stderr: 'sh: 1: claude: not found\n' });
    expect(missing.oneLine()).toMatch(/claude or a tool it runs is missing in the agent runtime \(exit 127\): sh: 1: claude: not found/);
    const other = provisionFailure('git-config', ['/bin/sh'], { code: 3, stdout: '', stderr: 'one\nerror: could not lock config file\n' });
    expect(other.oneLine()).toMatch(/provisioning step git-config failed \(exit 3\): error: could not lock config file/);
  });
});
