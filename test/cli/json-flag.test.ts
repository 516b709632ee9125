/**
 * docs/cli-json.md: every command that prints a result has `--json`, so its output can be piped.
 * Read from the real commander program, so a new command without `--json` fails here unless it is
 * listed below with the reason.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

/** Commands without a result document. */
const NO_RESULT: Readonly<Record<string, string>> = {
  completion: 'prints a shell script, not a result',
  help: "commander's help",
  sidecar: 'internal; its subcommands are daemons',
};

function leaves(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [path, ...leaves(c, path)];
  });
}

describe('--json on every command that prints a result', () => {
  it('each public command and subcommand has --json naming its schema', async () => {
    const program = await buildProgram();
    const paths = leaves(program).filter((p) => !(p[0]! in NO_RESULT));
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['list', 'list active', 'info', 'init', 'cleanup', 'demo']));
    const missing: string[] = [];
    for (const path of paths) {
      let cmd: Command = program;
      for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
      const json = cmd.options.find((o) => o.long === '--json');
      if (!json) missing.push(path.join(' '));
      else expect(json.description, path.join(' ')).toMatch(/bot-bottle\/[a-z]+@1|--format json/);
    }
    expect(missing).toEqual([]);
  });
});
