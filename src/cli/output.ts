import { BottleError } from '../errors.js';

const debug = (): boolean => process.env.BOT_BOTTLE_DEBUG === '1';

/** One stderr line per error (cli spec §1); stack only with BOT_BOTTLE_DEBUG=1. */
export function printError(err: unknown): void {
  const text = err instanceof BottleError ? err.oneLine() : err instanceof Error ? err.message : String(err);
  process.stderr.write(`bot-bottle: error: ${text.replace(/\s*\n\s*/g, ' ')}\n`);
  if (debug() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`bot-bottle: warning: ${message}\n`);
}

/** ANSI colour only on a TTY with NO_COLOR unset/empty and TERM != dumb (cli spec §1). */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}
