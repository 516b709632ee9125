/**
 * Text and JSON forms of a doctor report (docs/cli.md): one line per check, `✓`/`✗`/`!` on a
 * TTY and `ok`/`FAIL`/`warn` otherwise, a fix after ` — `; grouped by scope, then the verdict.
 */
import type { CheckStatus } from './check.js';
import type { DoctorReport } from './report.js';

export interface RenderStyle {
  /** Symbols (a TTY) instead of words. */
  readonly symbols: boolean;
  /** ANSI colour on the marks (a TTY without NO_COLOR). */
  readonly color: boolean;
}

const MARKS: Readonly<Record<CheckStatus, { symbol: string; word: string; ansi: string }>> = {
  ok: { symbol: '✓', word: 'ok', ansi: '32' },
  fail: { symbol: '✗', word: 'FAIL', ansi: '31' },
  warn: { symbol: '!', word: 'warn', ansi: '33' },
  skip: { symbol: '-', word: 'skip', ansi: '2' },
};

function mark(status: CheckStatus, style: RenderStyle): string {
  const m = MARKS[status];
  const text = style.symbols ? m.symbol : m.word.padEnd(4);
  return style.color ? `\x1b[${m.ansi}m${text}\x1b[0m` : text;
}

export function renderDoctorText(report: DoctorReport, style: RenderStyle, requested?: string): string {
  const lines: string[] = [];
  const scopes = [...new Set(report.checks.map((c) => c.scope))];
  for (const scope of scopes) {
    if (lines.length > 0) lines.push('');
    lines.push(scope);
    for (const c of report.checks.filter((x) => x.scope === scope)) {
      lines.push(`  ${mark(c.status, style)} ${c.message}${c.fix !== null ? ` — ${c.fix}` : ''}`);
    }
  }
  lines.push('');
  if (requested !== undefined) {
    lines.push(`backend ${requested}: ${report.usable.includes(requested) ? 'usable' : 'not usable here (see the failures above)'}`);
  } else {
    lines.push(`usable backends: ${report.usable.length > 0 ? report.usable.join(', ') : 'none'}`);
    const d = report.defaultBackend;
    lines.push(
      d === null
        ? 'default backend: none (no backend is usable here)'
        : `default backend: ${d}${report.usable.includes(d) ? '' : ' (not usable here; see the failures above)'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The `bot-bottle/doctor@1` document: exactly the report's fields, in a fixed order. */
export function doctorJson(report: DoctorReport): Record<string, unknown> {
  return {
    schema: report.schema,
    defaultBackend: report.defaultBackend,
    usable: [...report.usable],
    checks: report.checks.map((c) => ({ id: c.id, scope: c.scope, status: c.status, message: c.message, fix: c.fix })),
  };
}
