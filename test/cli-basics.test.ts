import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runCli } from './helpers/cli.js';
import { buildProgram } from '../src/cli/main.js';
import { commanderErrorLine } from '../src/cli/output.js';

const tmp = mkdtempSync(join(tmpdir(), 'bb-basics-'));
const env = { BOT_BOTTLE_HOME: join(tmp, 'home'), HOME: tmp };
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('CLI conventions (docs/cli.md)', () => {
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

  it('C1 --help on the program and on every command: usage, options and an example on stdout, exit 0', async () => {
    // In-process (the real commander program) so that every command is covered without spawning
    // one process each; the spawned test below checks the process-level behaviour.
    const paths = [[], ...commandPaths(await buildProgram())];
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['list', 'info', 'init']));
    for (const p of paths) {
      const program = await buildProgram();
      let out = '';
      let err = '';
      const capture = (c: Command): void => {
        c.configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
        c.commands.forEach(capture);
      };
      capture(program);
      const name = p.join(' ') || '(program)';
      const thrown = await program.parseAsync(['node', 'bot-bottle', ...p, '--help']).then(
        () => null,
        (e: unknown) => e as { code?: string; exitCode?: number },
      );
      expect({ name, code: thrown?.code, exit: thrown?.exitCode }).toEqual({ name, code: 'commander.helpDisplayed', exit: 0 });
      expect(err, name).toBe('');
      expect(out, name).toMatch(/^Usage: bot-bottle/);
      expect(out, name).toContain('Options:');
      expect(out, name).toContain('Example:');
    }
  });

  it('C1 -h works too', async () => {
    const r = await runCli(['info', '-h'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: bot-bottle info');
  });

  it('C2 unknown command: one stderr line with a suggestion, exit 2', async () => {
    const hasStart = (await buildProgram()).commands.some((c) => c.name() === 'start');
    const [typo, meant] = hasStart ? ['strat', 'start'] : ['lst', 'list'];
    const r = await runCli([typo], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`bot-bottle: error: unknown command "${typo}"; did you mean "${meant}"?\n`);
  });

  it('C2 the exact wording for "strat"', () => {
    expect(commanderErrorLine("error: unknown command 'strat'\n(Did you mean start?)\n", 'bot-bottle --help')).toBe(
      'bot-bottle: error: unknown command "strat"; did you mean "start"?\n',
    );
    expect(commanderErrorLine("error: unknown command 'zzz'\n", 'bot-bottle --help')).toBe('bot-bottle: error: unknown command "zzz"; see bot-bottle --help\n');
  });

  it('C2 unknown option: one line with a suggestion, exit 2', async () => {
    const r = await runCli(['list', '--jsn'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bot-bottle: error: unknown option "--jsn"; did you mean "--json"?\n');
  });

  it('missing argument: one line naming it and the help, exit 2', async () => {
    const r = await runCli(['info'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bot-bottle: error: missing required argument "agent"; see bot-bottle info --help\n');
  });

  it('C38 an error is exactly one stderr line without a stack; BOT_BOTTLE_DEBUG=1 shows the stack', async () => {
    const r = await runCli(['info', 'nobody'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(/^bot-bottle: error: unknown agent "nobody"; /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const d = await runCli(['info', 'nobody'], { env: { ...env, BOT_BOTTLE_DEBUG: '1' } });
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^bot-bottle: error: unknown agent "nobody"/);
    expect(d.stderr).toMatch(/\n\s+at /);
  });

  it('BOT_BOTTLE_HOME must be absolute (exit 1, one line)', async () => {
    const r = await runCli(['list'], { env: { ...env, BOT_BOTTLE_HOME: 'relative/home' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bot-bottle: error: BOT_BOTTLE_HOME must be an absolute path; .*\n$/);
  });
});
