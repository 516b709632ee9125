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
import { drainBody } from './body.js';
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
  /** Value-free detail for the body (e.g. the refused address class) and the audit. */
  detail?: string | undefined;
  /** Extra value-free audit findings (the DNS-exfil verdict entry). */
  auditFindings?: ReadonlyArray<Record<string, unknown>> | undefined;
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

/** A WebSocket after its 101: refusals are close frames; the audit carries the bytes relayed. */
export interface WebSocketSink {
  readonly kind: 'websocket';
  readonly client: Duplex;
  readonly upstream: Duplex;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** Codes after which the connection is closed rather than kept alive (the body is not worth reading). */
const CLOSE_AFTER: ReadonlySet<DenyCode | ErrorCode> = new Set(['body_timeout', 'buffer_budget', 'body_too_large']);

/** WebSocket close status per refusal (RFC 6455 §7.4.1): 1009 too big, 1002 protocol, 1008 policy. */
function wsCloseCode(code: DenyCode | ErrorCode): number {
  return code === 'ws_frame_too_large' ? 1009 : code === 'ws_protocol_error' ? 1002 : 1008;
}

/** A close frame whose reason is `egress: denied (<code>)`; `masked` for the upstream (zero key keeps it readable). */
export function wsCloseFrame(status: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason.slice(0, 120), 'utf8');
  const len = 2 + text.length;
  const head = masked ? [0x88, 0x80 | len, 0, 0, 0, 0] : [0x88, len];
  return Buffer.concat([Buffer.from(head), Buffer.from([status >> 8, status & 0xff]), text]);
}

/** Audits a request whose client went away before it could be answered (not a refusal: no response). */
export function auditGone(ctx: RelayContext, info: DenyInfo, reason: 'client_aborted'): void {
  ctx.writeAudit({
    id: info.id, conn: info.conn, mode: info.mode, method: info.method, host: info.host, port: info.port, path: info.path,
    route: info.route?.label ?? null, match: info.match ?? null, decision: 'error', reason, status: 0, injected: null,
    findings: [], proposal: null, bytes_up: 0, bytes_down: 0, ms_total: msSince(info.started),
  });
}

/** Answers `code` on `sink`, logs it and writes its audit record. */
export function respondDeny(ctx: RelayContext, sink: http.ServerResponse | Duplex | WebSocketSink, code: DenyCode | ErrorCode, info: DenyInfo): void {
  if ('kind' in sink) return denyWebSocket(ctx, sink, code, info);
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
      if (CLOSE_AFTER.has(code)) sink.shouldKeepAlive = false;
      if (ctx.shuttingDown || !sink.shouldKeepAlive) headers.connection = 'close';
      sink.writeHead(status, headers);
      sink.end(body);
    } else {
      sink.destroy();
    }
    // Whatever of the body is still coming is read and dropped, within bounds (body.ts).
    drainBody(sink.req, ctx.t.bodyIdle);
  } else {
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += 'connection: close\r\n\r\n';
    if (sink.writable) sink.end(head + body);
    else sink.destroy();
  }
  logDeny(ctx, code, { id: info.id, method: info.method, host: info.host, path: info.path, route: info.route?.label ?? null, findings: info.findings });
  writeDenyAudit(ctx, code, info, { decision: status >= 500 ? 'error' : 'deny', status, proposal: info.proposal ?? null, bytesUp: 0, bytesDown: 0 });
}

/** The one audit record of a denial, whichever way it was answered. */
function writeDenyAudit(
  ctx: RelayContext,
  code: DenyCode | ErrorCode,
  info: DenyInfo,
  o: { decision: 'deny' | 'error'; status: number; proposal: DenyInfo['proposal'] | null; bytesUp: number; bytesDown: number },
): void {
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
    decision: o.decision,
    reason: code,
    status: o.status,
    injected: null,
    findings: auditFindings(info),
    proposal: o.proposal ?? null,
    bytes_up: o.bytesUp,
    bytes_down: o.bytesDown,
    ms_total: msSince(info.started),
    ...(info.detail ? { detail: info.detail } : {}),
  });
}

function auditFindings(info: DenyInfo): Array<Record<string, unknown>> {
  const out = info.findings ? findingsForLog(info.findings, 'block').map(stripMasked) : [];
  if (info.auditFindings) out.push(...info.auditFindings);
  return out;
}

function denyWebSocket(ctx: RelayContext, sink: WebSocketSink, code: DenyCode | ErrorCode, info: DenyInfo): void {
  const status = wsCloseCode(code);
  const reason = `egress: denied (${code})`;
  if (sink.upstream.writable) sink.upstream.end(wsCloseFrame(status, reason, true));
  else sink.upstream.destroy();
  if (sink.client.writable) sink.client.end(wsCloseFrame(status, reason, false));
  else sink.client.destroy();
  logDeny(ctx, code, { id: info.id, method: info.method, host: info.host, path: info.path, route: info.route?.label ?? null, findings: info.findings, note: `websocket close ${status}` });
  writeDenyAudit(ctx, code, info, { decision: 'deny', status: 101, proposal: null, bytesUp: sink.bytesUp, bytesDown: sink.bytesDown });
}
