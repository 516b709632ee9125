/**
 * Opening the store (docs/supervise.md): `<home>/bot-bottle.db`, 0600, WAL, the pragmas, the
 * migrations; a newer database is refused; a Python-original one is set aside with its -wal/-shm.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { SuperviseStoreError } from './errors.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';
import { immediate, openDatabase, type Database } from './sqlite.js';
import type { OpenOptions } from './types.js';

export const DB_FILE = 'bot-bottle.db';

export function storePath(home: string): string {
  return join(home, DB_FILE);
}

function tableExists(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** `20261205T123456Z`: sortable, no characters that need quoting in a file name. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

function setAsidePythonStore(path: string, now: Date, notice: (line: string) => void): void {
  const target = `${path}.python-${stamp(now)}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  notice(`found a supervise database of the Python bot-bottle; moved it to ${target} and created a new one (its proposals are not carried over)`);
}

/** Opens (creating or migrating) the database; the caller wraps it in the store API. */
export function openDatabaseAt(home: string, opts: OpenOptions & { now?: Date } = {}): Database {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = storePath(home);
  const notice = opts.onNotice ?? ((line: string) => process.stderr.write(`bot-bottle: notice: ${line}\n`));
  // Create the file 0600 before SQLite does (it would honour the umask).
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  let db = openDatabase(path);
  if (tableExists(db, 'schema_versions') && !tableExists(db, 'schema_migrations')) {
    db.close();
    setAsidePythonStore(path, opts.now ?? new Date(), notice);
    closeSync(openSync(path, 'a', 0o600));
    db = openDatabase(path);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, opts.now ?? new Date());
  } catch (err) {
    db.close();
    throw err;
  }
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  return db;
}

function migrate(db: Database, now: Date): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  if (current > LATEST_VERSION) {
    throw new SuperviseStoreError(
      'newer_database',
      `database was written by a newer bot-bottle (schema version ${current}, this one knows ${LATEST_VERSION})`,
      'upgrade bot-bottle, or move the database aside',
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    immediate(db, () => {
      // Another process may have migrated while we waited for the write lock.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version) !== undefined) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now.toISOString());
    });
  }
}
