/**
 * `bot-bottle completion bash|zsh|fish`: scripts generated from the real commander program, run
 * in the real shells where they are installed (bash always; zsh and fish when present).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { completionScript, type CompletionCommand } from '../../src/cli/completion.js';
import { describeCommand } from '../../src/cli/commands/completion.js';
import { runCli } from '../helpers/cli.js';

const has = (shell: string): boolean => spawnSync('sh', ['-c', `command -v ${shell}`], { stdio: 'ignore' }).status === 0;

let program: Command;
let tree: CompletionCommand;
let dir: string;
const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };
const files: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };

beforeAll(async () => {
  program = await buildProgram();
  tree = describeCommand(program);
  dir = mkdtempSync(join(tmpdir(), 'bb-completion-'));
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    scripts[shell] = completionScript(shell, tree);
    files[shell] = join(dir, `bot-bottle.${shell}`);
    writeFileSync(files[shell], scripts[shell]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Public top-level commands as commander knows them (help order), without the internal one. */
const publicCommands = (): string[] => program.commands.map((c) => c.name()).filter((n) => n !== 'sidecar');

function run(shell: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(shell, args, { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What the bash function offers for a command line (a trailing space = an empty current word). */
function bashComplete(line: string): string[] {
  const r = run('bash', [
    '-c',
    'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ "$2" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _bot_bottle; printf "%s\\n" "${COMPREPLY[@]}"',
    '_',
    files.bash,
    line,
  ]);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('the command tree', () => {
  it('comes from the real program: every public command, the list subcommand, real options; no sidecar', () => {
    const names = tree.subcommands.map((c) => c.name);
    for (const n of publicCommands()) expect(names).toContain(n);
    expect(names).not.toContain('sidecar');
    const list = tree.subcommands.find((c) => c.name === 'list');
    expect(list?.subcommands.map((c) => c.name)).toEqual(['active']);
    const init = tree.subcommands.find((c) => c.name === 'init');
    expect(init?.options.find((o) => o.flags.includes('--provider'))).toMatchObject({ takesValue: true, choices: ['claude', 'codex', 'pi'] });
    expect(init?.options.find((o) => o.flags.includes('--json'))).toMatchObject({ takesValue: false });
    expect(tree.subcommands.find((c) => c.name === 'completion')?.argumentChoices).toEqual(['bash', 'zsh', 'fish']);
    expect(tree.options.flatMap((o) => o.flags)).toEqual(expect.arrayContaining(['-h', '--help', '-V', '--version']));
  });

  it('no script mentions the internal sidecar command or its options', () => {
    for (const s of Object.values(scripts)) {
      expect(s).not.toMatch(/\bsidecar\b/);
      expect(s).not.toContain('--tokens-from-stdin');
    }
  });
});

describe('bash', () => {
  it('parses (bash -n)', () => {
    const r = run('bash', ['-n', files.bash]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('completes commands, subcommands, options and option values in a real bash', () => {
    expect(bashComplete('bot-bottle st')).toEqual(['start']);
    expect(bashComplete('bot-bottle ')).toEqual(expect.arrayContaining(publicCommands()));
    expect(bashComplete('bot-bottle si')).toEqual([]);
    expect(bashComplete('bot-bottle list a')).toEqual(['active']);
    expect(bashComplete('bot-bottle list active --')).toEqual(['--json', '--help']);
    expect(bashComplete('bot-bottle init --provider ')).toEqual(['claude', 'codex', 'pi']);
    expect(bashComplete('bot-bottle init --provider c')).toEqual(['claude', 'codex']);
    expect(bashComplete('bot-bottle info --bottle x --b')).toEqual(['--bottle']); // the value "x" was skipped
    expect(bashComplete('bot-bottle completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete('bot-bottle completion bash ')).toEqual([]);
  });

  it('registers itself for bot-bottle', () => {
    const r = run('bash', ['-c', 'source "$1"; complete -p bot-bottle', '_', files.bash]);
    expect(r.stdout.trim()).toBe('complete -o default -F _bot_bottle bot-bottle');
  });
});

describe('zsh', () => {
  it('has a #compdef header, one described entry per public command, and registers with compdef', () => {
    expect(scripts.zsh.startsWith('#compdef bot-bottle\n')).toBe(true);
    for (const n of publicCommands()) expect(scripts.zsh).toMatch(new RegExp(`'${n}:[^']+'`));
    expect(scripts.zsh).toContain('compdef _bot_bottle bot-bottle');
    expect(scripts.zsh).toContain("'init|--provider') echo 'claude codex pi'");
  });

  it.skipIf(!has('zsh'))('parses (zsh -n) and offers the right words with the completion builtins stubbed', () => {
    expect(run('zsh', ['-n', files.zsh]).status).toBe(0);
    const offer = (line: string): string[] =>
      run('zsh', [
        '-c',
        // Outside a completion widget: record what would be offered instead of offering it.
        'compdef() { :; }; _describe() { local n=${@[-1]}; print -rl -- ${(P)n}; }; compadd() { print -rl -- ${(P)2}; }; _files() { print FILES; };' +
          ' source "$1"; words=(${=2}); [[ $2 == *" " ]] && words+=(""); CURRENT=${#words}; _bot_bottle',
        '_',
        files.zsh,
        line,
      ])
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]!);
    expect(offer('bot-bottle st')).toEqual(expect.arrayContaining(publicCommands()));
    expect(offer('bot-bottle list a')).toEqual(['active']);
    expect(offer('bot-bottle init --provider ')).toEqual(['claude', 'codex', 'pi']);
    expect(offer('bot-bottle list active --')).toEqual(['--json', '-h', '--help']);
    expect(offer('bot-bottle completion ')).toEqual(['bash', 'zsh', 'fish']);
  });
});

describe('fish', () => {
  it('has `complete -c bot-bottle` lines for every public command and the init --provider choices', () => {
    for (const n of publicCommands()) {
      expect(scripts.fish).toMatch(new RegExp(`^complete -c bot-bottle -n '__bot_bottle_at ""' -a '${n}' -d '[^']+'$`, 'm'));
    }
    expect(scripts.fish).toContain(`complete -c bot-bottle -n '__bot_bottle_at "init"' -l 'provider' -x -a 'claude codex pi'`);
    expect(scripts.fish).toContain(`complete -c bot-bottle -n '__bot_bottle_at "list active"' -l 'json' -d`);
  });

  it.skipIf(!has('fish'))('parses (fish -n) and completes in a real fish (complete -C)', () => {
    expect(run('fish', ['-n', files.fish]).status).toBe(0);
    const offer = (line: string): string[] =>
      run('fish', ['-c', 'source $argv[1]; complete -C $argv[2]', files.fish, line])
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    expect(offer('bot-bottle st')).toEqual(['start']);
    expect(offer('bot-bottle list a')).toEqual(['active']);
    expect(offer('bot-bottle init --provider ')).toEqual(['claude', 'codex', 'pi']);
    expect(offer('bot-bottle completion ')).toEqual(['bash', 'fish', 'zsh']);
    // fish falls back to subsequence matching ("si" → "supervise"): the point is that the internal
    // sidecar command is never offered.
    expect(offer('bot-bottle si')).not.toContain('sidecar');
  });
});

describe('bot-bottle completion (the command)', () => {
  it('prints on stdout the script of the whole program, nothing on stderr, exit 0', async () => {
    // Equal to the script of buildProgram() with every command: the command describes the program
    // main built, so a main that loaded only the command being run would fail here.
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(scripts.bash);
  });

  it('an unknown shell is a one-line usage error naming the allowed values, exit 2', async () => {
    const r = await runCli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bot-bottle: error: .*powershell.*bash, zsh, fish/);
  });

  it('a missing shell is a usage error, exit 2', async () => {
    const r = await runCli(['completion']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bot-bottle: error: .*shell/);
  });
});
