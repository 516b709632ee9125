/**
 * One frame of the supervise TUI as lines of text (docs/cli.md#supervise). Pure: the state, the
 * clock and what the source says about bottles in, lines out. Colour only through paint(), which
 * the caller switches with useColor; without colour the selection is still visible (`>`).
 */
import { ANSI_COLORS, paint } from '../output.js';
import { HEARTBEAT_OFFLINE_SECONDS } from '../../supervise/host/relay.js';
import { selected, selectedIndex, type TuiState } from './model.js';
import type { TuiDetail, TuiProposal } from './types.js';

export interface FrameContext {
  readonly now: Date;
  readonly width: number;
  readonly height: number;
  readonly colour: boolean;
  readonly heartbeatAge: (slug: string) => number | null;
  readonly labelColor: (slug: string) => string | undefined;
  readonly summary: (p: TuiProposal) => string;
  readonly detail: (p: TuiProposal) => TuiDetail;
  /** A source error of the last refresh (shown, not fatal). */
  readonly error?: string | null;
}

const REVERSE = 7;
const BOLD = 1;

export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const cut = (line: string, width: number): string => ([...line].length > width ? `${[...line].slice(0, Math.max(1, width - 1)).join('')}…` : line);

/** `offline` when the bottle's supervise daemon has not written its heartbeat for 15 s (or never). */
export function isOffline(age: number | null): boolean {
  return age === null || age > HEARTBEAT_OFFLINE_SECONDS;
}

export const HELP_LINES = [
  'Keys',
  '  ↑/↓ or j/k   move',
  '  Enter        detail (diff, warnings, justification); Enter again: back',
  '  a            approve (sidecar kinds ask for a reason)',
  '  A            approve and remember: b this bottle, g this agent, f the bottle file (egress-allow)',
  '  m            modify in $VISUAL/$EDITOR, then approve (egress-allow, capability-block)',
  '  r            reject (asks for a reason)',
  '  Esc          back / cancel the reason prompt',
  '  ?            this help',
  '  q            quit',
  '',
  'A bell (and a desktop notification where the terminal shows one) marks new proposals.',
  'Bottles whose supervise daemon is silent for 15 s are marked offline.',
  '',
  'Press any key to go back.',
];

export function renderFrame(s: TuiState, c: FrameContext): string[] {
  const w = Math.max(20, c.width);
  const lines: string[] = [];
  const title = `bot-bottle supervise — ${s.items.length} pending`;
  lines.push(paint(cut(`${title}    (? help, q quit)`, w), BOLD, c.colour));
  if (s.view === 'help') {
    lines.push('', ...HELP_LINES.map((l) => cut(l, w)));
    return lines;
  }
  const p = selected(s);
  if (s.view === 'detail' && p) {
    // the detail scrolls (↑/↓) within the lines left under the title and above the status
    const all = detailLines(p, c, w);
    const room = Math.max(1, c.height - 4);
    const first = Math.max(0, Math.min(s.scroll, all.length - room));
    lines.push(...all.slice(first, first + room));
  } else lines.push(...listLines(s, c, w));
  // status line: the reason prompt, else the last message or source error
  lines.push('');
  if (s.editError) {
    lines.push(...s.editError.problems.split('\n').map((l) => paint(cut(l, w), ANSI_COLORS.red, c.colour)));
    lines.push(cut(`The edit of ${s.editError.id} is not valid: e edit again, c cancel`, w));
  } else if (s.rememberPick) {
    lines.push(cut(`Approve ${s.rememberPick.id} and remember it for: b this bottle, g this agent, f the bottle file (Esc cancels)`, w));
  } else if (s.prompt) {
    const what = s.prompt.action === 'rejected' ? 'rejecting' : s.prompt.remember ? `approving (remember: ${s.prompt.remember})` : 'approving';
    lines.push(cut(`Reason for ${what} ${s.prompt.id} (Enter to send, Esc to cancel): ${s.prompt.text}_`, w));
  } else if (s.message) lines.push(cut(s.message, w));
  if (c.error) lines.push(paint(cut(`store: ${c.error}`, w), ANSI_COLORS.red, c.colour));
  return lines.slice(0, Math.max(3, c.height));
}

/** The detail lines (scrolling is the caller's). */
export function detailText(p: TuiProposal, c: FrameContext): string[] {
  return detailLines(p, c, Math.max(20, c.width));
}

function listLines(s: TuiState, c: FrameContext, w: number): string[] {
  if (s.items.length === 0) return ['', 'No pending proposals.'];
  const rows = s.items.map((p) => {
    const offline = isOffline(c.heartbeatAge(p.bottle));
    return {
      p,
      cells: [
        p.id,
        duration((c.now.getTime() - Date.parse(p.createdAt)) / 1000),
        offline ? `${p.bottle} (offline)` : p.bottle,
        p.kind,
        duration((Date.parse(p.expiresAt) - c.now.getTime()) / 1000),
        c.summary(p),
      ],
    };
  });
  const head = ['ID', 'AGE', 'BOTTLE', 'KIND', 'EXPIRES', 'SUMMARY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r.cells[i]!].length)));
  const fmt = (cells: string[]): string => cells.map((x, i) => (i === cells.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  const out = ['', `  ${fmt(head)}`];
  const sel = selectedIndex(s);
  // Rows beyond the screen scroll with the selection (title, header, status lines stay).
  const room = Math.max(1, c.height - 6);
  const first = Math.max(0, Math.min(sel - room + 1, rows.length - room));
  rows.forEach((r, i) => {
    if (i < first || i >= first + room) return;
    const text = cut(`${i === sel ? '> ' : '  '}${fmt(r.cells)}`, w);
    const slug = r.p.bottle;
    const coloured = c.colour ? text.replace(slug, paint(slug, ANSI_COLORS[c.labelColor(slug) ?? ''], true)) : text;
    out.push(i === sel ? paint(text, REVERSE, c.colour) : coloured);
  });
  return out;
}

function detailLines(p: TuiProposal, c: FrameContext, w: number): string[] {
  const age = c.heartbeatAge(p.bottle);
  const out = [
    '',
    `id:        ${p.id}`,
    `bottle:    ${p.bottle}${isOffline(age) ? ' (offline: its supervise daemon is silent)' : ''}`,
    `kind:      ${p.kind}`,
    `filed:     ${p.createdAt} (${duration((c.now.getTime() - Date.parse(p.createdAt)) / 1000)} ago)`,
    `expires:   ${p.expiresAt} (in ${duration((Date.parse(p.expiresAt) - c.now.getTime()) / 1000)})`,
  ];
  if (p.justification) out.push('justification:', ...p.justification.split('\n').map((l) => `  ${l}`));
  for (let i = 0; i < out.length; i++) out[i] = cut(out[i]!, w);
  let d: TuiDetail;
  try {
    d = c.detail(p);
  } catch (err) {
    d = { text: `(cannot show the detail: ${(err as Error).message})\n`, warnings: [] };
  }
  if (d.warnings.length > 0) {
    out.push('warnings:');
    for (const x of d.warnings) out.push(paint(`  ! ${x}`, ANSI_COLORS.yellow, c.colour));
  }
  out.push('');
  for (const l of d.text.replace(/\n$/, '').split('\n')) {
    const code = l.startsWith('+') && !l.startsWith('+++') ? ANSI_COLORS.green : l.startsWith('-') && !l.startsWith('---') ? ANSI_COLORS.red : undefined;
    out.push(paint(cut(l, w), code, c.colour));
  }
  out.push('', 'a approve   A approve+remember   m modify   r reject   Enter/Esc back');
  return out;
}
