/**
 * C40 on a real pseudo-terminal (util-linux `script`): with NO_COLOR=1 the CLI writes no escape
 * sequence even though stdout is a TTY. The probe shows the same TTY does get colour without
 * NO_COLOR, so a silent "never a TTY" cannot pass for "NO_COLOR honoured".
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_MAIN, REPO_ROOT } from '../helpers/cli.js';
import { cliEnv, fm, type CliEnv } from './cli-fixtures.js';

const TSX = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const hasScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;
const ESC = '\u001b';
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

let e: CliEnv;
beforeEach(() => {
  e = cliEnv();
});
afterEach(() => e.cleanup());

/** Runs node with `args` on a pseudo-terminal; returns what the terminal showed. */
function onTty(args: string[], env: Record<string, string | undefined>): { status: number | null; out: string } {
  const cmd = [process.execPath, '--import', TSX, ...args].map(shq).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: e.cwd,
    env: { ...process.env, ...e.env, TERM: 'xterm-256color', BOT_BOTTLE_DEBUG: undefined, ...env } as NodeJS.ProcessEnv,
    input: '',
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!hasScript)('NO_COLOR on a TTY (C40)', () => {
  it('the probe: the pseudo-terminal gets colour without NO_COLOR and none with it', () => {
    const probe = join(e.root, 'probe.mjs');
    const output = pathToFileURL(join(REPO_ROOT, 'src', 'cli', 'output.ts')).href;
    writeFileSync(probe, `const { paint, useColor } = await import(${JSON.stringify(output)});\nprocess.stdout.write(paint('x', 31, useColor(process.stdout)) + '\\n');\n`);
    expect(onTty([probe], { NO_COLOR: undefined }).out).toContain(`${ESC}[31mx`);
    expect(onTty([probe], { NO_COLOR: '1' }).out).not.toContain(ESC);
  });

  it('list, list active, info, init, cleanup --dry-run and completion write no escape with NO_COLOR=1', () => {
    e.write('bbhome/bottles/base.md', fm('egress: {log: 1}\nagent_provider: {template: pi, settings: {base_url: "http://127.0.0.1:1/v1", models: [m]}}'));
    e.write('bbhome/agents/helper.md', fm('description: helps\nbottle: base', 'Prompt.'));
    for (const args of [['list'], ['list', 'active'], ['info', 'helper'], ['init'], ['cleanup', '--dry-run'], ['completion', 'bash'], ['--help']]) {
      const r = onTty([CLI_MAIN, ...args], { NO_COLOR: '1' });
      expect(r.out, args.join(' ')).not.toContain(ESC);
      expect(r.out.trim(), args.join(' ')).not.toBe('');
    }
  });
});
