import { BottleError } from '../errors.js';

const debug = (): boolean => process.env.BOT_BOTTLE_DEBUG === '1';

/** One stderr line per error (docs/cli.md#conventions); stack only with BOT_BOTTLE_DEBUG=1. */
export function printError(err: unknown): void {
  const text = err instanceof BottleError ? err.oneLine() : err instanceof Error ? err.message : String(err);
  process.stderr.write(`bot-bottle: error: ${text.replace(/\s*\n\s*/g, ' ')}\n`);
  if (debug() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

/**
 * Commander's multi-line usage errors → one line (docs/cli.md#conventions):
 * `unknown command 'strat'\n(Did you mean start?)` → `bot-bottle: error: unknown command "strat"; did you mean "start"?`
 */
export function commanderErrorLine(raw: string, helpHint: string): string {
  const lines = raw
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const first = (lines[0] ?? 'invalid usage').replace(/'([^']*)'/g, '"$1"').replace(/\.$/, '');
  const rest = lines.slice(1).join(' ');
  const dym = /\(Did you mean (one of )?(.+?)\?\)/.exec(rest);
  let text: string;
  if (dym) {
    const names = (dym[2] ?? '').split(/,\s*/).map((n) => `"${n}"`);
    text = `${first}; did you mean ${dym[1] ? `one of ${names.join(', ')}` : names[0]}?`;
  } else {
    text = `${first}; see ${helpHint}`;
  }
  return `bot-bottle: error: ${text.replace(/^error: /, '')}\n`;
}

export function warn(message: string): void {
  process.stderr.write(`bot-bottle: warning: ${message}\n`);
}

/**
 * ANSI colour only on a TTY with NO_COLOR unset/empty and TERM != dumb (docs/cli.md#conventions).
 */
export function useColor(stream: Pick<NodeJS.WriteStream, 'isTTY'>): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** SGR foreground codes of the label colours (`--color`, docs/cli.md#commands). */
export const ANSI_COLORS: Readonly<Record<string, number>> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37 };

/**
 * `text` in SGR colour `code` when `on`, which callers take from useColor, so NO_COLOR, TERM=dumb
 * and pipes are honoured in one place (docs/cli.md#conventions). Commands colour through this, not
 * with their own escapes; test/cli/no-color.test.ts lists the few modules allowed to hold one.
 */
export function paint(text: string, code: number | undefined, on: boolean): string {
  return on && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
