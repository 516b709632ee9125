/**
 * The one place a refusal is answered (docs/architecture.md §7): every denial and upstream error,
 * on every relay path, goes through `respondDeny`, which writes the `egress:`-marked response
 * (deny.ts builds the body and headers), logs `egress_block`/`egress_canary` and writes the audit
 * record. Two kinds of sink: an http.ServerResponse (a parsed request still waiting for its
 * answer) or a raw socket (CONNECT, upgrades, client errors: the response is written by hand and
 * the connection closes).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Finding } from '../dlp/types.js';
import { DENY_STATUS, denyBody, denyHeaders, type DenyCode, type ErrorCode } from './deny.js';
import { findingsForLog, type AuditRecord } from './log.js';
import type { CompiledRoute } from './route-table.js';
import { msSince, stripMasked, type RelayContext } from './relay-context.js';

export interface DenyInfo {
  id: number;
  conn: number;
  started: number;
  method: string;
  scheme: 'https' | 'http';
  host: string;
  port: number;
  path: string;
  route: CompiledRoute | null;
  mode: AuditRecord['mode'];
  match?: number | null;
  findings?: readonly Finding[] | undefined;
  proposal?: string | null;
  /** Value-free detail for the body (e.g. the refused address class). */
  detail?: string | undefined;
}

/** Logs a refusal at level 1 (the canary at level 0). Also used for WebSocket closes. */
export function logDeny(ctx: RelayContext, code: DenyCode | ErrorCode, info: { id: number; method: string; host: string; path: string; route: string | null; findings?: readonly Finding[] | undefined; note?: string }): void {
  const fields = {
    req: info.id,
    reason: code,
    method: info.method,
    host: info.host,
    path: info.path,
    route: info.route,
    ...(info.findings ? { findings: findingsForLog(info.findings, 'block') } : {}),
    ...(info.note ? { note: info.note } : {}),
  };
  if (code === 'canary') ctx.logger.emit(0, 'egress_canary', fields);
  else ctx.logger.emit(1, 'egress_block', fields);
}

/** Answers `code` on `sink`, logs it and writes its audit record. */
export function respondDeny(ctx: RelayContext, sink: http.ServerResponse | Duplex, code: DenyCode | ErrorCode, info: DenyInfo): void {
  const body = denyBody(code, {
    method: info.method,
    scheme: info.scheme,
    host: info.host,
    port: info.port,
    path: info.path,
    ...(info.findings ? { findings: info.findings } : {}),
    ...(info.detail ? { detail: info.detail } : {}),
  });
  const status = DENY_STATUS[code];
  const headers = denyHeaders(code, Buffer.byteLength(body));
  if (sink instanceof http.ServerResponse) {
    if (!sink.headersSent) {
      if (ctx.shuttingDown) headers.connection = 'close';
      sink.writeHead(status, headers);
      sink.end(body);
    } else {
      sink.destroy();
    }
  } else {
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += 'connection: close\r\n\r\n';
    if (sink.writable) sink.end(head + body);
    else sink.destroy();
  }
  logDeny(ctx, code, { id: info.id, method: info.method, host: info.host, path: info.path, route: info.route?.label ?? null, findings: info.findings });
  ctx.writeAudit({
    id: info.id,
    conn: info.conn,
    mode: info.mode,
    method: info.method,
    host: info.host,
    port: info.port,
    path: info.path,
    route: info.route?.label ?? null,
    match: info.match ?? null,
    decision: status >= 500 ? 'error' : 'deny',
    reason: code,
    status,
    injected: null,
    findings: info.findings ? findingsForLog(info.findings, 'block').map(stripMasked) : [],
    proposal: info.proposal ?? null,
    bytes_up: 0,
    bytes_down: 0,
    ms_total: msSince(info.started),
  });
}
