/**
 * Spool I/O (docs/architecture.md §7a; formats in spool-format.ts). Every write is a temp file
 * plus rename in the same directory. The daemon watches inbox/ with fs.watch and, because
 * fs.watch misses events on some file systems (VM shares, overlay), also polls every 250 ms.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  closedName, HEARTBEAT, INBOX, inboxId, OUTBOX, outboxName, parseInbox, serialize,
  type ClosedRecord, type Heartbeat, type InboxRecord, type OutboxRecord,
} from './spool-format.js';

export const INBOX_POLL_MS = 250;

/** Writes `text` to dir/name through a dot-named temp file and a rename. */
export async function atomicWrite(dir: string, name: string, text: string, owner?: { uid: number; gid: number }): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    if (owner) chownSync(tmp, owner.uid, owner.gid);
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export class SpoolWriter {
  readonly outbox: string;
  readonly inbox: string;

  constructor(readonly dir: string) {
    this.outbox = join(dir, OUTBOX);
    this.inbox = join(dir, INBOX);
  }

  async init(): Promise<void> {
    await mkdir(this.outbox, { recursive: true, mode: 0o700 });
    await mkdir(this.inbox, { recursive: true, mode: 0o700 });
  }

  writeOutbox(rec: OutboxRecord): Promise<void> {
    return atomicWrite(this.outbox, outboxName(rec.id), serialize(rec));
  }

  writeClosed(rec: ClosedRecord): Promise<void> {
    return atomicWrite(this.outbox, closedName(rec.id), serialize(rec));
  }

  writeHeartbeat(hb: Heartbeat): Promise<void> {
    return atomicWrite(this.dir, HEARTBEAT, serialize(hb));
  }

  /**
   * Consumes every inbox file: parsed decisions go to `onDecision`, malformed ones to `onBad`;
   * each file is deleted once read. Returns a stop function.
   */
  watchInbox(onDecision: (rec: InboxRecord) => void, onBad: (file: string, message: string) => void): () => void {
    let scanning = false;
    let again = false;
    let stopped = false;
    const scan = async (): Promise<void> => {
      if (scanning) {
        again = true;
        return;
      }
      scanning = true;
      try {
        do {
          again = false;
          let names: string[];
          try {
            names = await readdir(this.inbox);
          } catch {
            return;
          }
          for (const name of names.sort()) {
            if (stopped) return;
            const id = inboxId(name);
            if (id === null) continue;
            const path = join(this.inbox, name);
            let text: string;
            try {
              text = await readFile(path, 'utf8');
            } catch {
              continue; // gone meanwhile, or not readable yet
            }
            await unlink(path).catch(() => undefined);
            const parsed = parseInbox(text, id);
            if (parsed.ok) onDecision(parsed.value);
            else onBad(name, parsed.message);
          }
        } while (again && !stopped);
      } finally {
        scanning = false;
      }
    };
    let watcher: FSWatcher | null = null;
    try {
      watcher = watch(this.inbox, () => void scan());
      watcher.on('error', () => undefined);
    } catch {
      watcher = null; // the poll alone still works
    }
    const timer = setInterval(() => void scan(), INBOX_POLL_MS);
    timer.unref();
    void scan();
    return () => {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
    };
  }
}
