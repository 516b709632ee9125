/**
 * Schema migrations, in order (docs/supervise.md). Each runs in its own `BEGIN IMMEDIATE`
 * and is recorded in `schema_migrations`; a database whose highest version is above the last one
 * here was written by a newer bot-bottle and is refused.
 */
import { migration0001 } from './0001_initial.js';
import { migration0002 } from './0002_remember.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
