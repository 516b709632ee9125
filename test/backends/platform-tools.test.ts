/** How root-side tools are found: never through a relative PATH entry, never on the user's PATH. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable, findSystemTool } from '../../src/backends/platform.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-platform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tool(at: string, name: string): void {
  mkdirSync(at, { recursive: true });
  writeFileSync(join(at, name), '#!/bin/sh\nexit 0\n');
  chmodSync(join(at, name), 0o755);
}

describe('finding executables', () => {
  const name = `bb-only-here-${process.pid}`;
  tool(join(dir, 'bin'), name);

  it('an absolute PATH entry finds a tool there', () => {
    expect(findExecutable(name, join(dir, 'bin'))).toBe(join(dir, 'bin', name));
  });

  it('relative PATH entries ("bin", ".", "") are skipped even when the file exists relative to the cwd', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(findExecutable(name, 'bin')).toBeNull();
      expect(findExecutable(name, `.:bin:`)).toBeNull();
      process.chdir(join(dir, 'bin'));
      expect(findExecutable(name, '.')).toBeNull();
      expect(findExecutable(name, '')).toBeNull();
    } finally {
      process.chdir(cwd);
    }
  });

  it('a root-side tool is looked up only in the system directories, never on PATH', () => {
    const saved = process.env.PATH;
    process.env.PATH = `${join(dir, 'bin')}:${saved ?? ''}`;
    try {
      expect(findExecutable(name)).toBe(join(dir, 'bin', name));
      expect(findSystemTool(name)).toBeNull();
      // a shadowing `sh` first on PATH does not win for the system lookup
      tool(join(dir, 'bin'), 'sh');
      expect(findSystemTool('sh')).toMatch(/^\/(usr\/)?(local\/)?s?bin\/sh$/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
