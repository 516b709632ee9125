/**
 * Colour (docs/cli-json.md#colour, C40): ANSI only on a TTY with NO_COLOR unset or empty and TERM ≠
 * dumb. Every command that colours decides through useColor and paints through paint(); the source
 * scan below keeps a new escape sequence from appearing anywhere else unreviewed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { paint, useColor } from '../../src/cli/output.js';
import { renderActiveText, type ActiveDocument } from '../../src/cli/commands/list-active.js';
import { demoStepLine } from '../../src/cli/commands/demo.js';
import { REPO_ROOT } from '../helpers/cli.js';

const ESC = '\u001b';
const tty = { isTTY: true };

afterEach(() => {
  vi.unstubAllEnvs();
});

function colourEnv(env: { NO_COLOR?: string; TERM?: string }): void {
  vi.stubEnv('NO_COLOR', env.NO_COLOR);
  vi.stubEnv('TERM', env.TERM ?? 'xterm-256color');
}

const active: ActiveDocument = {
  schema: 'bot-bottle/active@1',
  bottles: [
    {
      slug: 'implementer-k3x9q',
      label: 'implementer',
      color: 'red',
      agent: 'implementer',
      bottles: ['gitea-dev'],
      backend: 'netns',
      sidecars: ['egress', 'git-gate'],
      headless: false,
      startedAt: '2026-01-01T00:00:00.000Z',
    },
  ],
  skippedBackends: [],
};
const step = { id: 1, title: 'allowed + injected', passed: true, detail: 'token injected' };
const failed = { ...step, id: 2, passed: false };

describe('useColor', () => {
  it('colours a TTY with NO_COLOR unset or empty', () => {
    colourEnv({});
    expect(useColor(tty)).toBe(true);
    colourEnv({ NO_COLOR: '' });
    expect(useColor(tty)).toBe(true);
  });

  it('NO_COLOR (any non-empty value), TERM=dumb and a non-TTY stream turn colour off', () => {
    colourEnv({ NO_COLOR: '1' });
    expect(useColor(tty)).toBe(false);
    colourEnv({ NO_COLOR: '0' });
    expect(useColor(tty)).toBe(false);
    colourEnv({ TERM: 'dumb' });
    expect(useColor(tty)).toBe(false);
    colourEnv({});
    expect(useColor({ isTTY: false })).toBe(false);
  });

  it('paint leaves text alone when off or when the colour has no code', () => {
    expect(paint('x', 31, false)).toBe('x');
    expect(paint('x', undefined, true)).toBe('x');
    expect(paint('x', 31, true)).toBe(`${ESC}[31mx${ESC}[0m`);
  });
});

describe('commands that colour, with NO_COLOR=1 on a TTY (C40)', () => {
  it('list active: the label stays plain (and is red without NO_COLOR, so the check can fail)', () => {
    colourEnv({ NO_COLOR: '1' });
    const plain = renderActiveText(active, useColor(tty));
    expect(plain).not.toContain(ESC);
    expect(plain).toMatch(/implementer-k3x9q\s+implementer\s+implementer\s+netns\s+egress,git-gate\s+interactive/);
    colourEnv({});
    expect(renderActiveText(active, useColor(tty))).toContain(`${ESC}[31mimplementer${ESC}[0m`);
  });

  it('demo: PASS/FAIL stay plain (green/red without NO_COLOR)', () => {
    colourEnv({ NO_COLOR: '1' });
    const lines = demoStepLine(step, useColor(tty)) + demoStepLine(failed, useColor(tty));
    expect(lines).not.toContain(ESC);
    expect(lines).toContain('PASS');
    expect(lines).toContain('FAIL');
    colourEnv({});
    expect(demoStepLine(step, useColor(tty))).toContain(`${ESC}[32mPASS`);
    expect(demoStepLine(failed, useColor(tty))).toContain(`${ESC}[31mFAIL`);
  });
});

/**
 * Modules that may spell an escape sequence, and why. A module whose colour another module
 * switches names that module, which must decide with useColor.
 */
const ESCAPE_ALLOWED: Readonly<Record<string, { decidedBy?: string; why: string }>> = {
  'src/cli/output.ts': { why: 'paint(), the one CLI painter' },
  'src/doctor/render.ts': { decidedBy: 'src/cli/commands/doctor.ts', why: 'doctor check marks; the command passes useColor(stdout)' },
  'src/cli/supervise-tui/terminal.ts': { decidedBy: 'src/cli/supervise-tui/index.ts', why: 'the supervise TUI: key input, alternate screen, bell, desktop notification; colour goes through paint()' },
  'src/providers/claude/files.ts': { why: "the guest status-line command: Claude Code runs it in the agent's terminal, bot-bottle never prints it" },
};

describe('no colour outside useColor', () => {
  it('only the listed modules contain an ANSI escape, and their callers decide with useColor', () => {
    // Spelled escapes (\u001b, \x1b, \033, \u{1b}, \e[) and a raw ESC character.
    const escape = (src: string): boolean => /\\u001b|\\x1b|\\033|\\u\{1b\}|\\e\[/i.test(src) || src.includes(ESC);
    const files = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true, recursive: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => relative(REPO_ROOT, join(d.parentPath, d.name)).split(sep).join('/'));
    const withEscapes = files.filter((f) => escape(readFileSync(join(REPO_ROOT, f), 'utf8')));
    expect(withEscapes.filter((f) => !(f in ESCAPE_ALLOWED))).toEqual([]);
    for (const f of withEscapes) {
      const decidedBy = ESCAPE_ALLOWED[f]?.decidedBy;
      if (decidedBy) expect(readFileSync(join(REPO_ROOT, decidedBy), 'utf8'), decidedBy).toMatch(/\buseColor\(/);
    }
    expect(withEscapes).toContain('src/cli/output.ts'); // the scan finds what it looks for
  });
});
