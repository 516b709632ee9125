/** Where manifests live: `$BOT_BOTTLE_HOME` or `~/.bot-bottle` (docs/configuration.md §1.1). */
import { homedir } from 'node:os';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { BottleError } from '../errors.js';

export function userHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const h = env.HOME;
  return h && isAbsolute(h) ? normalize(h) : homedir();
}

export function resolveHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const raw = env.BOT_BOTTLE_HOME;
  if (raw !== undefined && raw !== '') {
    if (!isAbsolute(raw)) {
      throw new BottleError('CONFIG_INVALID', 'BOT_BOTTLE_HOME must be an absolute path', {
        fix: 'set it to an absolute directory, e.g. BOT_BOTTLE_HOME="$PWD/examples"',
      });
    }
    const n = normalize(raw);
    return n.length > 1 && n.endsWith(sep) ? n.slice(0, -1) : n;
  }
  return join(userHome(env), '.bot-bottle');
}

/** `/home/ada/.bot-bottle/x.md` → `~/.bot-bottle/x.md` (for messages only). */
export function displayPath(file: string, home: string = userHome()): string {
  if (!home || home === sep) return file;
  if (file === home) return '~';
  if (file.startsWith(home + sep)) return `~${file.slice(home.length)}`;
  return file;
}

/** A path for a fix line a person pastes: `~/x` when safe, else the absolute path, quoted when needed. */
export function shellPath(abs: string, home: string = userHome()): string {
  const shown = displayPath(abs, home);
  if (/^[\w./~-]+$/.test(shown)) return shown;
  return `'${abs.replace(/'/g, `'\\''`)}'`;
}

/** `~` / `~/x` expansion against the user's home; other forms unchanged. */
export function expandTilde(p: string, home: string = userHome()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}
