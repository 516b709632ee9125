/**
 * Route table reload (docs/architecture.md §7): SIGHUP (caller), fs.watch on the file's directory
 * with a 100 ms debounce, and a 2 s stat poll for bind mounts that lose events. Unchanged content
 * (sha256) is a no-op; a bad table keeps the last-known-good one.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { RouteTable } from './route-table.js';

export interface RoutesWatcherOptions {
  path: string;
  /** Parses, validates, checks slots and compiles; throws with a value-free message. */
  compile: (text: string) => RouteTable;
  onSwap: (table: RouteTable) => void;
  onFail: (message: string) => void;
  pollMs?: number;
  debounceMs?: number;
}

export class RoutesWatcher {
  private hash: string | null = null;
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private lastMtime = 0;
  private lastFailedHash: string | null = null;

  constructor(private readonly o: RoutesWatcherOptions) {}

  /** Marks `text` as the content already in force (the boot table). */
  setCurrent(text: string): void {
    this.hash = sha(text);
  }

  start(): void {
    const dir = dirname(this.o.path);
    const name = basename(this.o.path);
    try {
      this.watcher = watch(dir, { persistent: false }, (_ev, file) => {
        if (file === null || file === name || String(file).startsWith(name)) this.schedule();
      });
      this.watcher.on('error', () => {});
    } catch {
      this.watcher = null; // the poll still covers it
    }
    this.poll = setInterval(() => {
      stat(this.o.path).then(
        (s) => {
          if (s.mtimeMs !== this.lastMtime) {
            this.lastMtime = s.mtimeMs;
            void this.trigger();
          }
        },
        () => {},
      );
    }, this.o.pollMs ?? 2000);
    this.poll.unref();
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.trigger(), this.o.debounceMs ?? 100);
    this.debounce.unref();
  }

  /** One reload attempt (SIGHUP calls this). Concurrent triggers coalesce. */
  trigger(force = false): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.once(force);
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async once(force: boolean): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.o.path, 'utf8');
    } catch {
      this.o.onFail(`cannot read the routes file ${this.o.path}`);
      return;
    }
    const h = sha(text);
    if (!force && h === this.hash) return;
    // The same broken content is reported once, not every poll.
    if (!force && h === this.lastFailedHash) return;
    let table: RouteTable;
    try {
      table = this.o.compile(text);
    } catch (e) {
      this.lastFailedHash = h;
      this.o.onFail(e instanceof Error ? e.message : 'invalid routes file');
      return;
    }
    this.hash = h;
    this.lastFailedHash = null;
    this.o.onSwap(table);
  }

  stop(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
