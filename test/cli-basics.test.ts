import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('CLI conventions (cli spec §1)', () => {
  it('prints the version with --version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints the command list to stderr and exits 2 with no command', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: bot-bottle');
  });
});
