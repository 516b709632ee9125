/** Text and JSON-lines output of `bot-bottle log` (docs/cli.md#log). Pure. */
import { ANSI_COLORS, paint } from '../cli/output.js';
import type { LogEntry } from './entry.js';

export const LOG_SCHEMA = 'bot-bottle/log@1';

/** One JSON object per line, each carrying the schema (docs/cli.md#conventions). */
export function entryJson(e: LogEntry): string {
  return `${JSON.stringify({ schema: LOG_SCHEMA, ...e })}\n`;
}

const DECISION_COLOUR: Readonly<Record<string, number | undefined>> = {
  allow: ANSI_COLORS.green,
  deny: ANSI_COLORS.red,
  error: ANSI_COLORS.red,
  redact: ANSI_COLORS.yellow,
  warn: ANSI_COLORS.yellow,
};

/**
 * One line per entry with fixed-width leading columns, so `--follow` output lines up without
 * knowing the rows to come: time, slug, source, decision, method, destination, then rule and
 * reason as `key=value`.
 */
export function entryText(e: LogEntry, colour: boolean, showSlug: boolean): string {
  const dest = e.port !== null && e.port !== 443 ? `${e.host}:${e.port}` : e.host;
  const where = e.source === 'egress' ? `${dest}${e.path}` : `${dest} ${e.path}`;
  const cols = [e.ts.padEnd(24)];
  if (showSlug) cols.push(e.slug);
  cols.push(e.source.padEnd(8), paint(e.decision.toUpperCase().padEnd(5), DECISION_COLOUR[e.decision], colour), e.method.padEnd(7), where);
  if (e.rule) cols.push(`rule=${e.rule}`);
  if (e.reason) cols.push(`reason=${e.reason}`);
  return `${cols.join('  ')}\n`;
}
