/**
 * doctor's database check (docs/cli.md, scope `common`): the SQLite module loads, and the
 * supervise store `<home>/bot-bottle.db`, where it exists, is a regular SQLite file only its owner
 * can read. The store itself is never opened here: even a read-only SQLite connection creates
 * `-wal`/`-shm` files (with the umask's mode, as whoever runs doctor), so the file is judged by
 * lstat and its 16-byte header.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { displayPath, shellPath } from '../manifest/home.js';
import { storePath } from '../supervise/store/open.js';
import { openDatabase } from '../supervise/store/sqlite.js';
import { fail, ok, warn, type Check } from './check.js';

const HEADER = 'SQLite format 3\0';

/** Loads better-sqlite3 and runs one query in memory; the error's first line when it cannot. */
export function sqliteModuleError(open: (path: string) => { prepare(sql: string): { get(): unknown }; close(): void } = openDatabase): string | null {
  try {
    const db = open(':memory:');
    try {
      db.prepare('SELECT 1').get();
    } finally {
      db.close();
    }
    return null;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';
  }
}

function header(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(HEADER.length);
    const n = readSync(fd, b, 0, b.length, 0);
    return b.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

export function databaseCheck(home: string, userHome: string, moduleError: string | null = sqliteModuleError()): Check {
  if (moduleError !== null) {
    return fail('common', 'database', `the SQLite module (better-sqlite3) does not load: ${moduleError}`, 'rebuild it where bot-bottle is installed: npm rebuild better-sqlite3 (needs python3, make and g++)');
  }
  const path = storePath(home);
  const shown = displayPath(path, userHome);
  const arg = shellPath(path, userHome);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return ok('common', 'database', `database ${shown} not created yet (the first supervise use creates it); the SQLite module loads`);
  }
  if (!st.isFile()) return fail('common', 'database', `${shown} is not a regular file`, `move it aside (mv ${arg} ${arg}.old); bot-bottle creates a new one`);
  if (st.size > 0 && header(path) !== HEADER) return fail('common', 'database', `${shown} is not a SQLite database`, `move it aside (mv ${arg} ${arg}.old); bot-bottle creates a new one`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return warn('common', 'database', `${shown} is readable or writable by others (mode 0${mode.toString(8)}): it holds every proposal and answer`, `chmod 600 ${arg}`);
  }
  return ok('common', 'database', `database ${shown} (SQLite, mode 0${mode.toString(8)}); the SQLite module loads`);
}
