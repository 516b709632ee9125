/**
 * The slice of better-sqlite3 the store uses, typed here (the package ships no types and we add no
 * @types dependency). Loaded with createRequire: it is a CommonJS native addon.
 */
import { createRequire } from 'node:module';

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): Database;
  pragma(source: string, opts?: { simple?: boolean }): unknown;
  close(): void;
  readonly open: boolean;
}

type DatabaseCtor = new (path: string, opts?: { fileMustExist?: boolean; timeout?: number }) => Database;

let ctor: DatabaseCtor | undefined;
// A CommonJS native addon, loaded on first open: hosts that never open the store never load it.
const requireCjs = createRequire(import.meta.url);

export function openDatabase(path: string): Database {
  ctor ??= requireCjs('better-sqlite3') as DatabaseCtor;
  return new ctor(path, { timeout: 5000 });
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (the write lock is taken up front, so two processes
 * never both read-then-write; busy_timeout makes the second wait), rolling back on a throw.
 */
export function immediate<T>(db: Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // already rolled back by SQLite (e.g. SQLITE_FULL)
    }
    throw err;
  }
}
