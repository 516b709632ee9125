/**
 * Where `bot-bottle log` finds a bottle's audit and how it reads it (docs/cli.md#log): the two
 * files the sidecars write live into `state/<slug>/logs/` (docs/architecture.md §5), egress's
 * rotated generation first. Reads are bounded per call so `--follow` of a 64 MiB file never holds
 * it whole.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stateDirFor } from '../state/paths.js';
import { parseAuditLine, type LogEntry, type LogSource } from './entry.js';

export interface AuditFile {
  slug: string;
  source: LogSource;
  path: string;
}

/** The audit files of one state dir, oldest generation first. */
export function auditFilesOf(home: string, slug: string): AuditFile[] {
  const logs = join(stateDirFor(home, slug), 'logs');
  return [
    { slug, source: 'egress', path: join(logs, 'egress-audit.jsonl.1') },
    { slug, source: 'egress', path: join(logs, 'egress-audit.jsonl') },
    { slug, source: 'git-gate', path: join(logs, 'git-gate-audit.jsonl') },
  ];
}

/** Bytes read per file per call; a longer backlog is read over several calls. */
export const READ_CHUNK = 1 << 20;
/** A line longer than this without a newline is dropped (a torn or hostile line, never an audit record). */
export const MAX_LINE = 64 * 1024;

/** Incremental reader of a set of audit files: each `read()` returns the complete lines added since. */
export class AuditTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private files: AuditFile[] = [];

  add(files: readonly AuditFile[]): void {
    for (const f of files) if (!this.files.some((x) => x.path === f.path)) this.files.push(f);
  }

  /** New entries (sorted by time within the call) and whether a file has more than one chunk left. */
  read(): { entries: LogEntry[]; more: boolean } {
    const entries: LogEntry[] = [];
    let more = false;
    for (const f of this.files) {
      let size: number;
      try {
        size = statSync(f.path).size;
      } catch {
        continue; // not there (yet): a bottle without git repos, or rotation not happened
      }
      let offset = this.offsets.get(f.path) ?? 0;
      if (size < offset) {
        // Truncated in place by rotation (egress/log.ts): start over on the new generation.
        offset = 0;
        this.partial.delete(f.path);
      }
      if (size === offset) continue;
      const len = Math.min(size - offset, READ_CHUNK);
      if (size - offset > READ_CHUNK) more = true;
      const buf = Buffer.alloc(len);
      let n = 0;
      const fd = openSync(f.path, 'r');
      try {
        n = readSync(fd, buf, 0, len, offset);
      } finally {
        closeSync(fd);
      }
      this.offsets.set(f.path, offset + n);
      const text = (this.partial.get(f.path) ?? '') + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      const rest = lines.pop() ?? '';
      this.partial.set(f.path, rest.length > MAX_LINE ? '' : rest);
      for (const line of lines) {
        const e = parseAuditLine(line, f.source, f.slug);
        if (e) entries.push(e);
      }
    }
    entries.sort((a, b) => a.ts.localeCompare(b.ts));
    return { entries, more };
  }
}

/** Every entry of `files` so far, in time order. */
export function readAll(files: readonly AuditFile[]): LogEntry[] {
  const tail = new AuditTail();
  tail.add(files);
  const out: LogEntry[] = [];
  for (;;) {
    const { entries, more } = tail.read();
    out.push(...entries);
    if (!more) break;
  }
  return out.sort((a, b) => a.ts.localeCompare(b.ts));
}
