/**
 * Every escape sequence of the supervise TUI, in one module (test/cli/no-color.test.ts): key
 * input, the alternate screen, cursor, the bell and desktop notifications. Colour itself goes
 * through paint() (src/cli/output.ts); index.ts decides it with useColor.
 */
import type { Key } from './model.js';

const ESC = '\u001b';
const BEL = '\u0007';

/** Alternate screen + hidden cursor on enter; the opposite on leave (the shell's screen comes back). */
export const ENTER_SCREEN = `${ESC}[?1049h${ESC}[?25l`;
export const LEAVE_SCREEN = `${ESC}[?25h${ESC}[?1049l`;
/** Home + clear: each frame is drawn whole (a few dozen lines once a second). */
export const CLEAR = `${ESC}[H${ESC}[2J`;
export const BELL = BEL;

/**
 * A desktop notification where the terminal is known to show one
 * (docs/decisions/supervise-tui.md): OSC 9 (iTerm2, WezTerm, Windows Terminal, ghostty, kitty),
 * OSC 777 (urxvt, foot, VTE terminals such as GNOME Terminal). Elsewhere '' — an unknown OSC can
 * print garbage — and the bell alone carries the arrival. Inside tmux or screen the sequence would
 * need passthrough, so only the bell is sent there too.
 */
export function desktopNotification(env: Readonly<Record<string, string | undefined>>, title: string, body: string): string {
  if (env.TMUX || (env.TERM ?? '').startsWith('screen')) return '';
  // Control characters would end the sequence early; `;` separates OSC 777 fields.
  const clean = (t: string): string => [...t].map((ch) => (ch.charCodeAt(0) < 0x20 || ch === '\u007f' || ch === ';' ? ' ' : ch)).join('').slice(0, 200);
  const prog = env.TERM_PROGRAM ?? '';
  if (['iTerm.app', 'WezTerm', 'ghostty'].includes(prog) || env.WT_SESSION || env.KITTY_WINDOW_ID) return `${ESC}]9;${clean(title)}: ${clean(body)}${BEL}`;
  if (env.VTE_VERSION || /^(rxvt|foot)/.test(env.TERM ?? '')) return `${ESC}]777;notify;${clean(title)};${clean(body)}${BEL}`;
  return '';
}

/** Raw terminal input → keys (one chunk may hold several keys, e.g. pasted text). */
export function parseKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  for (let i = 0; i < chunk.length; ) {
    const rest = chunk.slice(i);
    if (rest.startsWith(ESC) && (rest[1] === '[' || rest[1] === 'O') && rest.length > 2) {
      const arrow = rest[2] === 'A' ? 'up' : rest[2] === 'B' ? 'down' : null;
      if (arrow) {
        keys.push({ name: arrow });
        i += 3;
        continue;
      }
      // other CSI sequences (function keys, …) are ignored up to their final byte
      const m = /^[0-9;]*[~A-Za-z]/.exec(rest.slice(2));
      if (m) {
        i += 2 + m[0].length;
        continue;
      }
    }
    const c = rest[0]!;
    i += 1;
    if (c === '\r' || c === '\n') keys.push({ name: 'enter' });
    else if (c === ESC) keys.push({ name: 'escape' });
    else if (c === '\u007f' || c === '\b') keys.push({ name: 'backspace' });
    else if (c === '\u0003') keys.push({ name: 'ctrl-c' });
    else if (c >= ' ') keys.push({ name: 'char', ch: c });
  }
  return keys;
}
