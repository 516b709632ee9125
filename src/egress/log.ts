/**
 * JSON-line logs on stderr (docs/configuration.md §3.3) and the audit file
 * (docs/security-model.md §2.3). Every string that could carry request content passes the DLP log
 * redactor (with the process scanner, so known secrets and the canary are covered too); credential
 * headers never print their values.
 */
import { copyFileSync, createWriteStream, type WriteStream, statSync, renameSync, mkdirSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactForLog } from '../dlp/redact.js';
import type { Finding, Scanner } from '../dlp/types.js';

export type LogLevel = 0 | 1 | 2;

export type LogSink = (line: string) => void;

export interface EgressLogger {
  readonly level: LogLevel;
  /** Emits `event` when `minLevel` ≤ the current level. Fields are redacted before printing. */
  emit(minLevel: LogLevel, event: string, fields: Record<string, unknown>): void;
  enabled(minLevel: LogLevel): boolean;
  setLevel(level: LogLevel): void;
  /** Redacts one string for output (DLP log redactor). */
  redact(text: string): string;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

export function createLogger(opts: { sink: LogSink; bottle: string; level: LogLevel; scanner: Scanner; fixedLevel?: boolean }): EgressLogger {
  let level = opts.level;
  const redact = (t: string): string => redactForLog(t, opts.scanner);
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = clean(x);
      return o;
    }
    return v;
  };
  return {
    get level() {
      return level;
    },
    enabled: (min) => level >= min,
    setLevel(l) {
      if (!opts.fixedLevel) level = l;
    },
    redact,
    emit(min, event, fields) {
      if (level < min) return;
      const line = { ts: new Date().toISOString(), level: min, event, bottle: opts.bottle, ...(clean(fields) as object) };
      opts.sink(`${JSON.stringify(line)}\n`);
    },
  };
}

/** Headers for logs: the injected one as `[injected:SLOT]`, credentials as `[redacted len=N]`. */
export function headersForLog(raw: readonly string[], injected: { name: string; slot: string } | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    let shown: string;
    if (injected && name === injected.name) shown = `[injected:${injected.slot}]`;
    else if (SECRET_HEADERS.has(name)) shown = `[redacted len=${value.length}]`;
    else shown = value;
    out[name] = out[name] === undefined ? shown : `${out[name]}, ${shown}`;
  }
  return out;
}

/** Findings as logged/audited: never a value, only ids, surfaces, masks and fingerprints. */
export function findingsForLog(findings: readonly Finding[], action: string): Array<Record<string, unknown>> {
  return findings.map((f) => ({ detector: f.detector, rule: f.rule, surface: f.surface, action, fingerprint: f.fingerprint, masked: f.masked, ...(f.secretName ? { secret: f.secretName } : {}) }));
}

export interface AuditRecord {
  ts: string;
  bottle: string;
  id: number;
  conn: number;
  mode: 'intercept' | 'passthrough' | 'http' | 'local' | 'connect';
  method: string;
  host: string;
  port: number;
  path: string;
  route: string | null;
  match: number | null;
  decision: 'allow' | 'deny' | 'error' | 'redact' | 'warn';
  reason: string | null;
  status: number;
  injected: { scheme: string; slot: string } | null;
  findings: Array<Record<string, unknown>>;
  proposal: string | null;
  bytes_up: number;
  bytes_down: number;
  ms_total: number;
  /** Value-free detail of a refusal (e.g. the normaliser's reason: `duplicate_header`). */
  detail?: string;
}

export interface AuditSink {
  write(rec: AuditRecord): void;
  close(): Promise<void>;
}

export const AUDIT_ROTATE_BYTES = 64 * 1024 * 1024;

/**
 * Appends JSON lines; at 64 MiB the file moves to `<path>.1` (two generations kept). Lines are
 * batched per 20 ms (one write instead of one per request: the hot path stays syscall-free);
 * `close()` flushes.
 *
 * Where the daemon may not rename in the directory (netns sidecars run as their own uid and own
 * only the two files, not root's logs/: docs/decisions/netns-sidecar-uid.md), rotation copies the
 * file over the pre-created `<path>.1` and truncates it in place; the O_APPEND stream then goes on
 * at offset 0. Either way the audit of a hostile agent's request flood stays within two
 * generations on disk.
 */
export function createAuditFile(path: string, rotateBytes = AUDIT_ROTATE_BYTES): AuditSink {
  mkdirSync(dirname(path), { recursive: true });
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    size = 0;
  }
  const open = (): WriteStream => {
    const s = createWriteStream(path, { flags: 'a', mode: 0o600 });
    s.on('error', () => {});
    return s;
  };
  let stream: WriteStream = open();
  let pending: string[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    timer = null;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    if (size + pendingBytes > rotateBytes && size > 0) {
      try {
        renameSync(path, `${path}.1`);
        stream.end();
        stream = open();
      } catch {
        try {
          // Records still queued in the stream land after the cut, in the new generation.
          copyFileSync(path, `${path}.1`);
          truncateSync(path, 0);
        } catch {
          /* neither possible: keep appending rather than lose records */
        }
      }
      size = 0;
    }
    size += pendingBytes;
    pendingBytes = 0;
    stream.write(chunk);
  };
  return {
    write(rec) {
      const line = `${JSON.stringify(rec)}\n`;
      pending.push(line);
      pendingBytes += Buffer.byteLength(line);
      if (pendingBytes > 256 * 1024) flush();
      else if (!timer) {
        timer = setTimeout(flush, 20);
        timer.unref();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearTimeout(timer);
        flush();
        stream.end(() => resolve());
      }),
  };
}

export function memoryAudit(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return { records, write: (r) => void records.push(r), close: async () => {} };
}
