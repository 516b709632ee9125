/**
 * doctor's database check: the real SQLite module, the real store file as `openStore` leaves it,
 * and the files a careless or hostile setup could leave at its path. doctor never opens the store,
 * so it creates no -wal/-shm files (a read-only SQLite connection would, with the umask's mode).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseCheck, sqliteModuleError } from '../../src/doctor/database.js';
import { openStore } from '../../src/supervise/store/store.js';

const homes: string[] = [];
afterEach(() => homes.splice(0).forEach((h) => rmSync(h, { recursive: true, force: true })));
function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'bb-doctor-db-'));
  homes.push(h);
  return h;
}

describe('doctor database check', () => {
  it('the SQLite module loads here (the real better-sqlite3)', () => {
    expect(sqliteModuleError()).toBeNull();
  });

  it('a module that cannot load fails with its error and the rebuild fix', () => {
    const err = sqliteModuleError(() => {
      throw new Error('Could not locate the bindings file.\n → more');
    });
    expect(err).toBe('Could not locate the bindings file.');
    const c = databaseCheck(home(), '/nonexistent', err);
    expect(c).toMatchObject({ id: 'database', scope: 'common', status: 'fail', message: 'the SQLite module (better-sqlite3) does not load: Could not locate the bindings file.' });
    expect(c.fix).toContain('npm rebuild better-sqlite3');
  });

  it('no store yet: ok, and nothing is created', () => {
    const h = home();
    expect(databaseCheck(h, '/nonexistent')).toMatchObject({ status: 'ok', message: expect.stringContaining('not created yet') });
    expect(readdirSync(h)).toEqual([]);
  });

  it('the store as openStore leaves it: ok with its mode, and no -wal/-shm added by doctor', () => {
    const h = home();
    const store = openStore(h, { onNotice: () => undefined });
    store.close();
    const before = readdirSync(h).sort();
    const c = databaseCheck(h, '/nonexistent');
    expect(c).toMatchObject({ status: 'ok', message: `database ${join(h, 'bot-bottle.db')} (SQLite, mode 0600); the SQLite module loads` });
    expect(readdirSync(h).sort()).toEqual(before);
  });

  it('a store others can read: warn with the chmod fix', () => {
    const h = home();
    openStore(h, { onNotice: () => undefined }).close();
    chmodSync(join(h, 'bot-bottle.db'), 0o644);
    const c = databaseCheck(h, '/nonexistent');
    expect(c).toMatchObject({ status: 'warn', fix: `chmod 600 ${join(h, 'bot-bottle.db')}` });
    expect(c.message).toContain('mode 0644');
  });

  it('not a SQLite file, or not a regular file (a link): fail with the move-aside fix, the file untouched', () => {
    const h = home();
    const db = join(h, 'bot-bottle.db');
    writeFileSync(db, 'not a database at all\n', { mode: 0o600 });
    expect(databaseCheck(h, '/nonexistent')).toMatchObject({ status: 'fail', message: `${db} is not a SQLite database`, fix: expect.stringContaining(`mv ${db} ${db}.old`) });
    rmSync(db);
    symlinkSync('/etc/passwd', db);
    expect(databaseCheck(h, '/nonexistent')).toMatchObject({ status: 'fail', message: `${db} is not a regular file` });
    expect(readdirSync(h)).toEqual(['bot-bottle.db']);
  });

  it('shows the path from the user home as ~, and quotes in a fix a path a shell would split', () => {
    const h = home();
    expect(databaseCheck(h, h)).toMatchObject({ message: expect.stringContaining('~/bot-bottle.db not created yet') });
    const spaced = join(h, 'my home');
    mkdirSync(spaced);
    writeFileSync(join(spaced, 'bot-bottle.db'), 'x', { mode: 0o600 });
    expect(databaseCheck(spaced, '/nonexistent').fix).toBe(`move it aside (mv '${spaced}/bot-bottle.db' '${spaced}/bot-bottle.db'.old); bot-bottle creates a new one`);
  });
});
