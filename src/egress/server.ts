/**
 * The egress daemon core (docs/architecture.md §7): one node:http listener for CONNECT,
 * absolute-form HTTP and `_egress.local`; intercepted tunnels are TLS-terminated with the bottle
 * CA's leaf and emitted into an internal http.Server. A factory, not module state: tests and the
 * supervisor may run several instances in one process.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import { FragmentAccumulator } from '../dlp/accumulator.js';
import { decodeBody, decodeText, encodeText, requestSurfaces } from '../dlp/decode.js';
import { InboundStreamScanner, isScannableInboundType, scanInbound } from '../dlp/inbound.js';
import { redactSurface } from '../dlp/redact.js';
import { createScanner } from '../dlp/scanner.js';
import type { DetectorName, Finding, InboundResult, KnownSecret, Scanner } from '../dlp/types.js';
import { HoldManager, rejectingApprover, type Approver } from './approver.js';
import type { LoadedCa } from './ca.js';
import { decideAbsolute, decideConnect, decideRequest, dlpVerdict, LOCAL_HOST, parseAbsoluteHttp, type Allow, type Deny } from './decide.js';
import { DENY_STATUS, denyBody, denyHeaders, type DenyCode, type ErrorCode } from './deny.js';
import { filterRequestHeaders, filterResponseHeaders, injectionHeader } from './inject.js';
import { LeafCache } from './leaf-cache.js';
import { localResponse, type ReloadStatus } from './local.js';
import { createLogger, findingsForLog, headersForLog, memoryAudit, type AuditRecord, type AuditSink, type EgressLogger, type LogLevel, type LogSink } from './log.js';
import { selectRoute, type CompiledRoute, type RouteTable } from './route-table.js';
import { checkAddresses } from './ssrf.js';
import { CLOSE_1008_TO_CLIENT, CLOSE_1008_TO_UPSTREAM, WsFrameInspector } from './websocket.js';
import {
  checkedLookup,
  classifyUpstreamError,
  createAgents,
  createResolver,
  resolveChecked,
  UpstreamTimeout,
  type Resolver,
  type UpstreamAgents,
} from './upstream.js';
import { VERSION } from '../version.js';

export interface EgressTimeouts {
  /** Agent request headers (slowloris), ms. */
  headers: number;
  tlsHandshake: number;
  keepAlive: number;
  upstreamConnect: number;
  upstreamHeaders: number;
  upstreamBodyIdle: number;
  tunnelIdle: number;
  shutdownGrace: number;
}

export const DEFAULT_TIMEOUTS: EgressTimeouts = {
  headers: 30_000,
  tlsHandshake: 10_000,
  keepAlive: 65_000,
  upstreamConnect: 10_000,
  upstreamHeaders: 600_000,
  upstreamBodyIdle: 300_000,
  tunnelIdle: 3_600_000,
  shutdownGrace: 5_000,
};

export interface EgressServerOptions {
  table: RouteTable;
  ca: LoadedCa;
  bottle: string;
  /** Slot values (`EGRESS_TOKEN_<n>` → value). Never logged. */
  tokens: Readonly<Record<string, string>>;
  canary?: string;
  /** Values of BOT_BOTTLE_SENSITIVE_PREFIXES variables (names kept for findings). */
  sensitive?: ReadonlyArray<{ name: string; value: string }>;
  /** EGRESS_LOG: fixes the level; else the table's `log`. */
  logLevel?: LogLevel;
  logSink?: LogSink;
  audit?: AuditSink;
  resolver?: Resolver;
  resolveMap?: ReadonlyMap<string, readonly string[]>;
  /** Test hook: called for every name egress resolves. */
  onLookup?: (host: string) => void;
  upstreamCaPem?: string;
  approver?: Approver;
  holdTimeoutMs?: number;
  dlpMaxBodyBytes?: number;
  dlpOversize?: 'block' | 'stream';
  timeouts?: Partial<EgressTimeouts>;
  maxConnections?: number;
}

interface TunnelCtx {
  conn: number;
  host: string;
  port: number;
  local: boolean;
  mode: 'intercept' | 'passthrough' | 'websocket';
  socket: Duplex;
}

interface Target {
  scheme: 'https' | 'http';
  host: string;
  port: number;
  explicitPort: number | null;
  url: string;
  conn: number;
}

const INBOUND_BUFFER = 2 * 1024 * 1024;
const MAX_HEADERS = 200;
const DLP_NO_DETECTORS: ReadonlySet<DetectorName> = new Set();

export interface EgressServer {
  readonly server: http.Server;
  readonly logger: EgressLogger;
  readonly scanner: Scanner;
  readonly leaves: LeafCache;
  listen(port: number, host: string): Promise<AddressInfo>;
  address(): AddressInfo;
  table(): RouteTable;
  /** Atomically swaps the table; closes tunnels whose (host, port) lost its route. */
  setTable(table: RouteTable): void;
  setReloadStatus(status: ReloadStatus): void;
  /** Graceful shutdown; resolves when every socket is gone and the audit is flushed. */
  shutdown(): Promise<void>;
  /** Immediate stop (second signal, tests). */
  destroy(): Promise<void>;
}

export function createEgressServer(opts: EgressServerOptions): EgressServer {
  const t: EgressTimeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const known: KnownSecret[] = [];
  for (const [name, value] of Object.entries(opts.tokens)) known.push({ name, value, kind: 'slot' });
  if (opts.canary) known.push({ name: 'EGRESS_TOKEN_CANARY', value: opts.canary, kind: 'canary' });
  for (const s of opts.sensitive ?? []) known.push({ name: s.name, value: s.value, kind: 'sensitive' });
  const scanner = createScanner({ knownSecrets: known, fingerprintKey: randomBytes(32) });
  const hasCanary = Boolean(opts.canary);
  const accumulator = new FragmentAccumulator();
  let table = opts.table;
  let loadedAt = new Date().toISOString();
  let lastReload: ReloadStatus = { at: null, ok: true, error: null };
  const logger = createLogger({
    sink: opts.logSink ?? ((l) => void process.stderr.write(l)),
    bottle: opts.bottle,
    level: opts.logLevel ?? table.doc.log,
    fixedLevel: opts.logLevel !== undefined,
    scanner,
  });
  const audit = opts.audit ?? memoryAudit();
  const resolver = opts.resolver ?? createResolver(opts.resolveMap ?? new Map());
  const resolve: Resolver = opts.onLookup
    ? (h) => {
        opts.onLookup!(h);
        return resolver(h);
      }
    : resolver;
  let agents: UpstreamAgents = createAgents(opts.upstreamCaPem);
  const lookups = new WeakMap<CompiledRoute, ReturnType<typeof checkedLookup>>();
  const lookupFor = (r: CompiledRoute) => {
    let l = lookups.get(r);
    if (!l) {
      l = checkedLookup(resolve, r.allowCidrs);
      lookups.set(r, l);
    }
    return l;
  };
  const leaves = new LeafCache({ ca: opts.ca });
  const holds = new HoldManager(opts.approver ?? rejectingApprover, opts.holdTimeoutMs ?? 300_000);
  const maxBody = opts.dlpMaxBodyBytes ?? 32 * 1024 * 1024;
  const oversize = opts.dlpOversize ?? 'block';

  let reqSeq = 0;
  let connSeq = 0;
  let inflight = 0;
  let shuttingDown = false;
  let idleWaiter: (() => void) | null = null;
  const connIds = new WeakMap<object, number>();
  const tunnels = new Map<Duplex, TunnelCtx>();
  const clientSockets = new Set<Socket>();

  // Node enforces headersTimeout only at each connectionsCheckingInterval (30 s by default), so a
  // slowloris client would get up to twice the budget: check often enough to keep the header-time
  // bound.
  const serverOpts: http.ServerOptions = {
    maxHeaderSize: 32 * 1024,
    requestTimeout: 0,
    headersTimeout: t.headers,
    keepAliveTimeout: t.keepAlive,
    noDelay: true,
    connectionsCheckingInterval: Math.max(250, Math.min(5000, Math.floor(t.headers / 4))),
  };
  const server = http.createServer(serverOpts);
  const inner = http.createServer(serverOpts);
  for (const s of [server, inner]) {
    s.maxHeadersCount = MAX_HEADERS + 1;
    s.keepAliveTimeout = t.keepAlive;
    s.headersTimeout = t.headers;
  }
  server.maxConnections = opts.maxConnections ?? 256;

  server.on('connection', (socket: Socket) => {
    connIds.set(socket, ++connSeq);
    clientSockets.add(socket);
    socket.on('close', () => clientSockets.delete(socket));
  });

  // ---------- helpers ----------

  function connOf(req: http.IncomingMessage): number {
    const ctx = tunnels.get(req.socket);
    return ctx?.conn ?? connIds.get(req.socket) ?? 0;
  }

  function writeAudit(rec: Omit<AuditRecord, 'ts' | 'bottle'>): void {
    // host and path come from the agent (a secret can hide in a wildcard subdomain): redact both.
    audit.write({ ts: new Date().toISOString(), bottle: opts.bottle, ...rec, host: logger.redact(rec.host), path: logger.redact(rec.path) });
  }

  function logDeny(code: DenyCode | ErrorCode, info: { id: number; method: string; host: string; path: string; route: string | null; findings?: readonly Finding[] }): void {
    const fields = { req: info.id, reason: code, method: info.method, host: info.host, path: info.path, route: info.route, ...(info.findings ? { findings: findingsForLog(info.findings, 'block') } : {}) };
    if (code === 'canary') logger.emit(0, 'egress_canary', fields);
    else logger.emit(1, 'egress_block', fields);
  }

  function sendDeny(
    res: http.ServerResponse,
    code: DenyCode | ErrorCode,
    ctx: { id: number; conn: number; started: number; method: string; scheme: 'https' | 'http'; host: string; port: number; path: string; route: CompiledRoute | null; match?: number | null; findings?: readonly Finding[]; mode: AuditRecord['mode']; proposal?: string | null; detail?: string },
  ): void {
    const body = denyBody(code, { method: ctx.method, scheme: ctx.scheme, host: ctx.host, port: ctx.port, path: ctx.path, ...(ctx.findings ? { findings: ctx.findings } : {}), ...(ctx.detail ? { detail: ctx.detail } : {}) });
    const status = DENY_STATUS[code];
    if (!res.headersSent) {
      const headers = denyHeaders(code, Buffer.byteLength(body));
      if (shuttingDown) headers.connection = 'close';
      res.writeHead(status, headers);
      res.end(body);
    } else {
      res.destroy();
    }
    logDeny(code, { id: ctx.id, method: ctx.method, host: ctx.host, path: ctx.path, route: ctx.route?.label ?? null, ...(ctx.findings ? { findings: ctx.findings } : {}) });
    writeAudit({
      id: ctx.id, conn: ctx.conn, mode: ctx.mode, method: ctx.method, host: ctx.host, port: ctx.port, path: ctx.path,
      route: ctx.route?.label ?? null, match: ctx.match ?? null, decision: status >= 500 ? 'error' : 'deny', reason: code, status,
      injected: null, findings: ctx.findings ? findingsForLog(ctx.findings, 'block').map(stripMasked) : [], proposal: ctx.proposal ?? null,
      bytes_up: 0, bytes_down: 0, ms_total: msSince(ctx.started),
    });
  }

  function rawDeny(socket: Duplex, code: DenyCode | ErrorCode, c: { id: number; conn: number; started: number; method: string; scheme: 'https' | 'http'; host: string; port: number; path: string; route: CompiledRoute | null; mode: AuditRecord['mode']; findings?: readonly Finding[] }): void {
    const body = denyBody(code, { method: c.method, scheme: c.scheme, host: c.host, port: c.port, path: c.path, ...(c.findings ? { findings: c.findings } : {}) });
    const status = DENY_STATUS[code];
    const headers = denyHeaders(code, Buffer.byteLength(body));
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += 'connection: close\r\n\r\n';
    if (socket.writable) socket.end(head + body);
    else socket.destroy();
    logDeny(code, { id: c.id, method: c.method, host: c.host, path: c.path, route: c.route?.label ?? null, ...(c.findings ? { findings: c.findings } : {}) });
    writeAudit({
      id: c.id, conn: c.conn, mode: c.mode, method: c.method, host: c.host, port: c.port, path: c.path, route: c.route?.label ?? null,
      match: null, decision: status >= 500 ? 'error' : 'deny', reason: code, status, injected: null,
      findings: c.findings ? findingsForLog(c.findings, 'block').map(stripMasked) : [], proposal: null, bytes_up: 0, bytes_down: 0, ms_total: msSince(c.started),
    });
  }

  function localState() {
    return { table, loadedAt, logLevel: logger.level, lastReload };
  }

  function serveLocal(req: http.IncomingMessage, res: http.ServerResponse, id: number, started: number, mode: AuditRecord['mode'], port: number): void {
    const url = req.url ?? '/';
    const m = /^(?:https?:\/\/[^/]*)?([^?]*)/.exec(url);
    const path = m?.[1] || '/';
    const out = localResponse(req.method ?? 'GET', path, localState());
    res.writeHead(out.status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(out.body) });
    res.end(req.method === 'HEAD' ? undefined : out.body);
    req.resume();
    writeAudit({ id, conn: connOf(req), mode: 'local', method: req.method ?? '', host: LOCAL_HOST, port, path, route: null, match: null, decision: out.status === 200 ? 'allow' : 'deny', reason: null, status: out.status, injected: null, findings: [], proposal: null, bytes_up: 0, bytes_down: out.body.length, ms_total: msSince(started) });
    void mode;
  }

  // ---------- request pipeline ----------

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse, tunnel: TunnelCtx | null): void {
    const started = performance.now();
    const id = ++reqSeq;
    const method = req.method ?? 'GET';
    const conn = tunnel?.conn ?? connIds.get(req.socket) ?? 0;
    const url = req.url ?? '/';
    if (shuttingDown) {
      res.shouldKeepAlive = false;
      sendDeny(res, 'shutting_down', { id, conn, started, method, scheme: tunnel ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: pathOnly(url), route: null, mode: tunnel ? 'intercept' : 'http' });
      req.resume();
      return;
    }
    if (req.rawHeaders.length > MAX_HEADERS * 2) {
      res.shouldKeepAlive = false;
      sendDeny(res, 'headers_too_large', { id, conn, started, method, scheme: tunnel ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: pathOnly(url), route: null, mode: tunnel ? 'intercept' : 'http' });
      req.resume();
      return;
    }
    let target: Target;
    if (tunnel) {
      if (tunnel.local) {
        const hostHeader = req.headers.host ?? '';
        if (!/^_egress\.local(?::\d+)?$/i.test(hostHeader)) {
          sendDeny(res, 'host_mismatch', { id, conn, started, method, scheme: 'https', host: LOCAL_HOST, port: tunnel.port, path: pathOnly(url), route: null, mode: 'local' });
          req.resume();
          return;
        }
        serveLocal(req, res, id, started, 'local', tunnel.port);
        return;
      }
      target = { scheme: 'https', host: tunnel.host, port: tunnel.port, explicitPort: null, url, conn };
    } else if (url.startsWith('/')) {
      const path = pathOnly(url);
      if (path === '/healthz' || path === '/allowlist') {
        serveLocal(req, res, id, started, 'local', 0);
        return;
      }
      sendDeny(res, 'origin_form', { id, conn, started, method, scheme: 'http', host: req.headers.host ?? '', port: 80, path, route: null, mode: 'http' });
      req.resume();
      return;
    } else {
      const abs = parseAbsoluteHttp(url);
      if (abs === null || abs === 'bad_scheme') {
        sendDeny(res, 'bad_request', { id, conn, started, method, scheme: 'http', host: '', port: 0, path: '/', route: null, mode: 'http' });
        req.resume();
        return;
      }
      const td = decideAbsolute(table, abs);
      if (td.action === 'deny') {
        sendDeny(res, td.code, { id, conn, started, method, scheme: 'http', host: td.host, port: td.port, path: pathOnly(abs.target), route: td.route, mode: 'http' });
        req.resume();
        return;
      }
      if (td.action === 'local') {
        serveLocal(req, res, id, started, 'local', abs.port);
        return;
      }
      target = { scheme: 'http', host: abs.host, port: abs.port, explicitPort: abs.explicitPort, url: abs.target, conn };
    }
    const d = decideRequest(table, { method, url: target.url, headers: req.headers, scheme: target.scheme, host: target.host, port: target.explicitPort ?? target.port });
    if (d.action === 'deny') {
      sendDeny(res, d.code, { id, conn, started, method, scheme: target.scheme, host: target.host, port: target.port, path: pathOnly(target.url), route: d.route, mode: tunnel ? 'intercept' : 'http' });
      req.resume();
      return;
    }
    inflight += 1;
    void forward(req, res, target, d, id, started, tunnel ? 'intercept' : 'http').finally(() => {
      inflight -= 1;
      if (inflight === 0 && idleWaiter) idleWaiter();
    });
  }

  interface Prepared {
    url: string;
    headers: string[];
    body: Buffer | null;
    findings: Finding[];
    decision: AuditRecord['decision'];
    proposal: string | null;
    streamRest: boolean;
  }

  /** Buffers (when DLP needs it), scans, applies the verdict. Returns null when it already answered. */
  async function outboundDlp(
    req: http.IncomingMessage,
    res: http.ServerResponse | null,
    target: Target,
    d: Allow,
    id: number,
    started: number,
    mode: AuditRecord['mode'],
    headersOut: string[],
    onDeny: (code: DenyCode, findings?: readonly Finding[], proposal?: string | null) => void,
  ): Promise<Prepared | null> {
    const route = d.route;
    const detectors = route.outbound;
    const needScan = detectors.size > 0 || hasCanary;
    const hasBody = res !== null && requestHasBody(req);
    let body: Buffer | null = null;
    let streamRest = false;
    if (hasBody && needScan) {
      const r = await readBody(req, maxBody);
      if (r.over) {
        if (oversize === 'block') {
          onDeny('body_too_large');
          req.resume();
          return null;
        }
        // stream: scan what was buffered, forward it, then keep scanning the rest in flight.
        streamRest = true;
      }
      body = r.body;
    }
    const result: Prepared = { url: target.url, headers: headersOut, body, findings: [], decision: 'allow', proposal: null, streamRest };
    if (!needScan) return result;
    const q = target.url.indexOf('?');
    const path = q < 0 ? target.url : target.url.slice(0, q);
    const query = q < 0 ? '' : target.url.slice(q + 1);
    let bodyText: string | undefined;
    let bodyEncoding: 'utf8' | 'latin1' = 'utf8';
    let decodedBytes: Buffer | null = null;
    const contentEncoding = headerOf(headersOut, 'content-encoding');
    if (body && body.length > 0) {
      const dec = decodeBody(body, contentEncoding);
      if (!dec.ok) {
        onDeny('unscannable_encoding');
        return null;
      }
      decodedBytes = dec.bytes;
      const txt = decodeText(dec.bytes);
      bodyText = txt.text;
      bodyEncoding = txt.encoding;
    }
    const scanHeaders = (): Array<[string, string]> => {
      const list: Array<[string, string]> = [];
      for (let i = 0; i < result.headers.length; i += 2) {
        const n = result.headers[i]!.toLowerCase();
        if (n !== 'host') list.push([n, result.headers[i + 1]!]);
      }
      return list;
    };
    const contentType = headerOf(headersOut, 'content-type');
    const surfaces = requestSurfaces({ host: target.host, path, query, headers: scanHeaders(), ...(bodyText !== undefined ? { body: bodyText } : {}), ...(contentType ? { contentType } : {}) });
    const detSet = detectors.size > 0 ? detectors : DLP_NO_DETECTORS;
    const findings = scanner.scan(surfaces, detSet, { accumulator, nowMs: Date.now() });
    result.findings = findings;
    if (findings.length === 0) return result;
    const v = dlpVerdict(findings, route);
    if (v.action === 'deny') {
      onDeny(v.code, v.findings);
      return null;
    }
    const logFields = (fs: readonly Finding[], action: string) => ({ req: id, method: req.method, host: target.host, path, route: route.label, findings: findingsForLog(fs, action) });
    if (v.action === 'allow') {
      if (v.warnings.length > 0) {
        result.decision = 'warn';
        logger.emit(1, 'egress_warn', { ...logFields(v.warnings, 'warn'), reason: 'dlp_warn' });
      }
      return result;
    }
    if (v.action === 'redact') {
      let newPath = redactSurface('path', path, v.findings);
      const newQuery = redactSurface('query', query, v.findings);
      const hdrs = result.headers.slice();
      for (let i = 0; i < hdrs.length; i += 2) {
        const surface = `header:${hdrs[i]!.toLowerCase()}`;
        if (v.findings.some((f) => f.surface === surface)) hdrs[i + 1] = redactSurface(surface, hdrs[i + 1]!, v.findings);
      }
      let newBody = body;
      let newBodyText = bodyText;
      if (bodyText !== undefined && v.findings.some((f) => f.surface === 'body')) {
        newBodyText = redactSurface('body', bodyText, v.findings);
        newBody = encodeText(newBodyText, bodyEncoding);
        removeHeader(hdrs, 'content-encoding');
        setHeader(hdrs, 'content-length', String(newBody.length));
      }
      const rescan = scanner.scan(
        requestSurfaces({ host: target.host, path: newPath, query: newQuery, headers: pairs(hdrs).filter(([n]) => n !== 'host'), ...(newBodyText !== undefined ? { body: newBodyText } : {}), ...(contentType ? { contentType } : {}) }),
        detSet,
      );
      if (rescan.some((f) => f.severity === 'block')) {
        onDeny('dlp_redact_failed', rescan.filter((f) => f.severity === 'block'));
        return null;
      }
      if (newPath === '') newPath = '/';
      result.url = newQuery || query ? `${newPath}?${newQuery}` : newPath;
      result.headers = hdrs;
      result.body = newBody;
      result.decision = 'redact';
      logger.emit(1, 'egress_redact', logFields(v.findings, 'redact'));
      void decodedBytes;
      return result;
    }
    // supervise
    logger.emit(1, 'egress_hold', { ...logFields(v.findings, 'hold'), reason: 'dlp_supervise' });
    const out = await holds.hold({
      bottle: opts.bottle,
      host: target.host,
      method: req.method ?? 'GET',
      path: logger.redact(path),
      findings: v.findings.map((f) => ({ detector: f.detector, rule: f.rule, surface: f.surface, masked: f.masked, fingerprint: f.fingerprint })),
    });
    result.proposal = out.proposal;
    if (out.status === 'approved') {
      if (shuttingDown) {
        onDeny('dlp_supervise_unavailable', v.findings, out.proposal);
        return null;
      }
      return result;
    }
    const code: DenyCode = out.status === 'rejected' ? 'dlp_supervise_rejected' : out.status === 'timeout' ? 'dlp_supervise_timeout' : 'dlp_supervise_unavailable';
    onDeny(code, v.findings, out.proposal);
    return null;
  }

  /**
   * One upstream request: our own lookup (SSRF-checked), verification against system roots plus
   * EGRESS_UPSTREAM_CA_FILE, servername = host. `pooled` false for WebSocket upgrades, whose
   * sockets leave the pool for good.
   */
  function upstreamRequest(target: Target, method: string, path: string, headers: unknown, route: CompiledRoute, pooled: boolean): http.ClientRequest {
    const isHttps = target.scheme === 'https';
    const reqOpts: https.RequestOptions & { secureContext?: tls.SecureContext } = {
      agent: pooled ? (isHttps ? agents.https : agents.http) : false,
      host: target.host,
      port: target.port,
      method,
      path,
      headers: headers as http.OutgoingHttpHeaders,
      setHost: false,
      lookup: lookupFor(route),
    };
    if (isHttps) {
      reqOpts.secureContext = agents.secureContext;
      if (!/^[\d.]+$|:/.test(target.host)) reqOpts.servername = target.host;
    }
    return (isHttps ? https : http).request(reqOpts);
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse, target: Target, d: Allow, id: number, started: number, mode: 'intercept' | 'http'): Promise<void> {
    const route = d.route;
    const path = d.path;
    const method = req.method ?? 'GET';
    const auditBase = { id, conn: target.conn, mode, method, host: target.host, port: target.port, path, route: route.label, match: d.match };
    const denyCtx = { id, conn: target.conn, started, method, scheme: target.scheme, host: target.host, port: target.port, path, route, match: d.match, mode };
    const injected = route.auth ? { name: route.auth.header, slot: route.auth.slot } : null;
    const headersOut = filterRequestHeaders(req.rawHeaders, { injectedHeader: injected?.name ?? '', websocket: false });
    const prepared = await outboundDlp(req, res, target, d, id, started, mode, headersOut, (code, findings, proposal) => {
      res.shouldKeepAlive = res.shouldKeepAlive && code !== 'body_too_large';
      sendDeny(res, code, { ...denyCtx, ...(findings ? { findings } : {}), proposal: proposal ?? null });
    });
    if (!prepared) {
      if (!req.complete) req.resume();
      return;
    }
    const hdrs = prepared.headers;
    if (prepared.body && !prepared.streamRest) {
      removeHeader(hdrs, 'transfer-encoding');
      setHeader(hdrs, 'content-length', String(prepared.body.length));
    }
    if (route.inbound) narrowAcceptEncoding(hdrs);
    if (route.auth) {
      const value = opts.tokens[route.auth.slot] ?? '';
      const [n, v] = injectionHeader(route.auth, value);
      hdrs.push(n, v);
    }
    if (logger.enabled(2)) {
      logger.emit(2, 'egress_request', { req: id, method, host: target.host, path, route: route.label, headers: headersForLog(hdrs, injected) });
    }
    // Routed IP literals never pass through lookup: check them here (SSRF guard,
    // docs/security-model.md §2.3).
    if (route.host === target.host && !route.wildcardSuffix && /^[\d.]+$|:/.test(target.host)) {
      const v = checkAddresses([target.host], route.allowCidrs);
      if (!v.ok) {
        sendDeny(res, 'ssrf', { ...denyCtx, detail: v.why });
        return;
      }
    }
    await new Promise<void>((done) => {
      let settled = false;
      let bytesUp = prepared.body?.length ?? 0;
      let bytesDown = 0;
      const finish = (rec: Partial<AuditRecord> & { status: number; decision: AuditRecord['decision']; reason: string | null }) => {
        if (settled) return;
        settled = true;
        writeAudit({ ...auditBase, injected: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null, findings: findingsForLog(prepared.findings, rec.decision).map(stripMasked), proposal: prepared.proposal, bytes_up: bytesUp, bytes_down: bytesDown, ms_total: msSince(started), ...rec });
        done();
      };
      const upReq = upstreamRequest(target, method, prepared.url, hdrs, route, true);
      let timedOut = false;
      let dlpAbort = false;
      const timeout = (what: string) => {
        timedOut = true;
        upReq.destroy(new UpstreamTimeout(what));
      };
      let connectTimer: NodeJS.Timeout | undefined = setTimeout(() => timeout('connect timeout'), t.upstreamConnect);
      let headerTimer: NodeJS.Timeout | undefined;
      upReq.on('socket', (s: Socket) => {
        const connected = () => {
          clearTimeout(connectTimer);
          connectTimer = undefined;
          headerTimer = setTimeout(() => timeout('response timeout'), t.upstreamHeaders);
        };
        if (!s.connecting && (!(s instanceof tls.TLSSocket) || (s as tls.TLSSocket).encrypted)) connected();
        else s.once(target.scheme === 'https' ? 'secureConnect' : 'connect', connected);
      });
      upReq.on('error', (err) => {
        clearTimeout(connectTimer);
        clearTimeout(headerTimer);
        if (settled) return;
        if (res.headersSent) {
          res.destroy();
          finish({ status: 502, decision: 'error', reason: classifyUpstreamError(err) });
          return;
        }
        const code = dlpAbort ? 'dlp_block' : timedOut ? 'upstream_timeout' : classifyUpstreamError(err);
        const detail = code === 'ssrf' ? (err as { verdict?: { why?: string } }).verdict?.why : undefined;
        settled = true;
        sendDeny(res, code, { ...denyCtx, findings: undefined as never, ...(detail ? { detail } : {}) });
        done();
      });
      res.on('close', () => {
        if (!res.writableFinished) upReq.destroy();
      });
      upReq.on('response', (upRes) => {
        clearTimeout(headerTimer);
        const status = upRes.statusCode ?? 502;
        upRes.setTimeout(t.upstreamBodyIdle, () => upRes.destroy(new UpstreamTimeout('body idle')));
        const respHeaders = filterResponseHeaders(upRes.rawHeaders, false);
        const ct = upRes.headers['content-type'];
        const scanIn = route.inbound && method !== 'HEAD' && status !== 204 && status !== 304 && isScannableInboundType(ct);
        if (logger.enabled(2)) logger.emit(2, 'egress_response', { req: id, status, headers: headersForLog(respHeaders, null) });
        upRes.on('error', () => res.destroy());
        if (!scanIn) {
          res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
          upRes.on('data', (c: Buffer) => {
            bytesDown += c.length;
            if (!res.write(c)) {
              upRes.pause();
              res.once('drain', () => upRes.resume());
            }
          });
          upRes.on('end', () => {
            res.end();
            finish({ status, decision: prepared.decision, reason: null });
          });
          upRes.on('close', () => {
            if (!upRes.complete) {
              res.destroy();
              finish({ status, decision: 'error', reason: 'upstream_aborted' });
            }
          });
          return;
        }
        const sse = typeof ct === 'string' && ct.toLowerCase().startsWith('text/event-stream');
        const encoding = upRes.headers['content-encoding'];
        const chunks: Buffer[] = [];
        let buffered = 0;
        let streaming = false;
        let stream: StreamInspector | null = null;
        const startStreaming = (warnHeader: boolean) => {
          streaming = true;
          if (warnHeader) respHeaders.push('x-bot-bottle-warn', 'inbound_injection');
          res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
          stream = new StreamInspector(encoding, (r) => {
            if (r.level === 'high') {
              logger.emit(1, 'egress_block', { req: id, reason: 'inbound_injection', method, host: target.host, path, route: route.label, phrases: r.phrases });
              res.destroy();
              upRes.destroy();
              finish({ status, decision: 'deny', reason: 'inbound_injection' });
            }
          });
          for (const c of chunks) {
            res.write(c);
            stream.push(c);
          }
          chunks.length = 0;
        };
        if (sse) startStreaming(false);
        upRes.on('data', (c: Buffer) => {
          bytesDown += c.length;
          if (streaming) {
            stream!.push(c);
            if (!res.write(c)) {
              upRes.pause();
              res.once('drain', () => upRes.resume());
            }
            return;
          }
          chunks.push(c);
          buffered += c.length;
          if (buffered > INBOUND_BUFFER) startStreaming(false);
        });
        upRes.on('end', () => {
          if (streaming) {
            stream!.end();
            if (!settled) {
              res.end();
              finish({ status, decision: prepared.decision, reason: null });
            }
            return;
          }
          const raw = Buffer.concat(chunks);
          const dec = decodeBody(raw, typeof encoding === 'string' ? encoding : undefined);
          const r: InboundResult = dec.ok ? scanInbound(decodeText(dec.bytes).text) : { level: 'none', phrases: [] };
          if (r.level === 'high') {
            logger.emit(1, 'egress_block', { req: id, reason: 'inbound_injection', method, host: target.host, path, route: route.label, phrases: r.phrases });
            settled = true;
            sendDeny(res, 'inbound_injection', denyCtx);
            done();
            return;
          }
          if (r.level === 'medium') {
            respHeaders.push('x-bot-bottle-warn', 'inbound_injection');
            logger.emit(1, 'egress_warn', { req: id, reason: 'inbound_injection', method, host: target.host, path, route: route.label, phrases: r.phrases });
          }
          if (logger.enabled(2) && dec.ok) logger.emit(2, 'egress_response_body', { req: id, body: decodeText(dec.bytes.subarray(0, 4096)).text });
          res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
          res.end(raw);
          finish({ status, decision: r.level === 'medium' ? 'warn' : prepared.decision, reason: r.level === 'medium' ? 'inbound_injection' : null });
        });
      });
      if (prepared.body) {
        if (prepared.streamRest) {
          upReq.write(prepared.body);
          const sc = new TextWindowScanner((text) => blocking(scanner.scan([{ name: 'body', text }], route.outbound.size > 0 ? route.outbound : DLP_NO_DETECTORS)));
          sc.push(prepared.body);
          req.on('data', (c: Buffer) => {
            bytesUp += c.length;
            if (sc.push(c)) {
              logger.emit(1, 'egress_block', { req: id, reason: 'dlp_block', method, host: target.host, path, route: route.label, note: 'found while streaming an oversized body' });
              dlpAbort = true;
              req.pause();
              upReq.destroy(new Error('dlp finding while streaming'));
              return;
            }
            upReq.write(c);
          });
          req.on('end', () => upReq.end());
          req.resume();
        } else {
          upReq.end(prepared.body);
        }
      } else if (requestHasBody(req)) {
        req.on('data', (c: Buffer) => (bytesUp += c.length));
        req.pipe(upReq);
      } else {
        upReq.end();
        req.resume();
      }
    });
  }

  // ---------- WebSocket ----------

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, tunnel: TunnelCtx | null): void {
    const started = performance.now();
    const id = ++reqSeq;
    const method = req.method ?? 'GET';
    const conn = tunnel?.conn ?? connIds.get(socket) ?? 0;
    const url = req.url ?? '/';
    const scheme = tunnel ? 'https' : 'http';
    const base = { id, conn, started, method, scheme: scheme as 'https' | 'http', path: pathOnly(url), mode: (tunnel ? 'intercept' : 'http') as AuditRecord['mode'] };
    socket.on('error', () => socket.destroy());
    if (shuttingDown) return rawDeny(socket, 'shutting_down', { ...base, host: tunnel?.host ?? '', port: tunnel?.port ?? 0, route: null });
    let target: Target;
    if (tunnel) {
      if (tunnel.local) return rawDeny(socket, 'bad_request', { ...base, host: LOCAL_HOST, port: tunnel.port, route: null });
      target = { scheme: 'https', host: tunnel.host, port: tunnel.port, explicitPort: null, url, conn };
    } else {
      const abs = url.startsWith('/') ? null : parseAbsoluteHttp(url);
      if (abs === null || abs === 'bad_scheme') return rawDeny(socket, url.startsWith('/') ? 'origin_form' : 'bad_request', { ...base, host: '', port: 0, route: null });
      const td = decideAbsolute(table, abs);
      if (td.action !== 'forward') return rawDeny(socket, td.action === 'deny' ? td.code : 'bad_request', { ...base, host: abs.host, port: abs.port, route: td.action === 'deny' ? td.route : null });
      target = { scheme: 'http', host: abs.host, port: abs.port, explicitPort: abs.explicitPort, url: abs.target, conn };
    }
    const d = decideRequest(table, { method, url: target.url, headers: req.headers, scheme: target.scheme, host: target.host, port: target.explicitPort ?? target.port });
    if (d.action === 'deny') return rawDeny(socket, d.code, { ...base, host: target.host, port: target.port, route: d.route });
    if (!d.websocket) return rawDeny(socket, 'bad_request', { ...base, host: target.host, port: target.port, route: d.route });
    const route = d.route;
    const injected = route.auth ? { name: route.auth.header, slot: route.auth.slot } : null;
    const headersOut = filterRequestHeaders(req.rawHeaders, { injectedHeader: injected?.name ?? '', websocket: true });
    void outboundDlp(req, null, target, d, id, started, base.mode, headersOut, (code, findings) =>
      rawDeny(socket, code, { ...base, host: target.host, port: target.port, route, ...(findings ? { findings } : {}) }),
    ).then((prepared) => {
      if (!prepared) return;
      const hdrs = prepared.headers;
      if (route.auth) hdrs.push(...injectionHeader(route.auth, opts.tokens[route.auth.slot] ?? ''));
      const upReq = upstreamRequest(target, method, prepared.url, hdrs, route, false);
      const timer = setTimeout(() => upReq.destroy(new UpstreamTimeout('connect timeout')), t.upstreamConnect);
      upReq.on('error', (err) => {
        clearTimeout(timer);
        rawDeny(socket, classifyUpstreamError(err), { ...base, host: target.host, port: target.port, route });
      });
      upReq.on('response', (upRes) => {
        clearTimeout(timer);
        let headText = `HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\n`;
        const rh = filterResponseHeaders(upRes.rawHeaders, false);
        for (let i = 0; i < rh.length; i += 2) headText += `${rh[i]}: ${rh[i + 1]}\r\n`;
        headText += 'connection: close\r\ntransfer-encoding: identity\r\n\r\n';
        socket.write(headText.replace('transfer-encoding: identity\r\n', ''));
        upRes.pipe(socket);
      });
      upReq.on('upgrade', (upRes, upSocket, upHead) => {
        clearTimeout(timer);
        let headText = `HTTP/1.1 101 Switching Protocols\r\n`;
        const rh = filterResponseHeaders(upRes.rawHeaders, true);
        for (let i = 0; i < rh.length; i += 2) {
          if (rh[i]!.toLowerCase() === 'sec-websocket-extensions') continue;
          headText += `${rh[i]}: ${rh[i + 1]}\r\n`;
        }
        socket.write(`${headText}\r\n`);
        if (upHead.length) socket.write(upHead);
        const ctx: TunnelCtx = { conn, host: target.host, port: target.port, local: false, mode: 'websocket', socket };
        tunnels.set(socket, ctx);
        let up = head.length;
        let down = upHead.length;
        const detectors = route.outbound.size > 0 ? route.outbound : DLP_NO_DETECTORS;
        const inspect = route.outbound.size > 0 || hasCanary ? new WsFrameInspector((text) => blocking(scanner.scan([{ name: 'websocket', text }], detectors))) : null;
        const toUpstream = (c: Buffer) => {
          up += c.length;
          if (!inspect) return void upSocket.write(c);
          const ok = inspect.push(c);
          if (ok === null) {
            logger.emit(1, 'egress_block', { req: id, reason: 'dlp_block', method, host: target.host, path: d.path, route: route.label, note: 'websocket frame' });
            upSocket.end(CLOSE_1008_TO_UPSTREAM);
            socket.end(CLOSE_1008_TO_CLIENT);
            return;
          }
          if (ok.length) upSocket.write(ok);
        };
        if (head.length) toUpstream(head);
        socket.on('data', toUpstream);
        upSocket.on('data', (c: Buffer) => {
          down += c.length;
          socket.write(c);
        });
        (socket as Socket).setTimeout(t.tunnelIdle, () => socket.destroy());
        const close = () => {
          socket.destroy();
          upSocket.destroy();
        };
        socket.on('close', close);
        upSocket.on('close', close);
        upSocket.on('error', close);
        socket.once('close', () => {
          tunnels.delete(socket);
          writeAudit({ id, conn, mode: base.mode, method, host: target.host, port: target.port, path: d.path, route: route.label, match: d.match, decision: 'allow', reason: 'websocket', status: 101, injected: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null, findings: [], proposal: null, bytes_up: up, bytes_down: down, ms_total: msSince(started) });
        });
      });
      upReq.end();
    });
  }

  // ---------- CONNECT ----------

  function onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = performance.now();
    const id = ++reqSeq;
    const conn = connIds.get(socket) ?? 0;
    const authority = req.url ?? '';
    socket.on('error', () => socket.destroy());
    const base = { id, conn, started, method: 'CONNECT', scheme: 'https' as const, path: '/', mode: 'connect' as const };
    if (shuttingDown) return rawDeny(socket, 'shutting_down', { ...base, host: authority, port: 0, route: null });
    const d = decideConnect(table, authority);
    if (d.action === 'deny') return rawDeny(socket, d.code, { ...base, host: d.host, port: d.port, route: d.route });
    if (d.action === 'passthrough') return void passthrough(socket, head, d.host, d.port, d.route, id, conn, started);
    const host = d.host;
    const leaf = leaves.peek(host);
    const go = (context: tls.SecureContext) => intercept(socket, head, host, d.port, d.action === 'local', context, conn, id, started);
    if (leaf) go(leaf.context);
    else
      leaves.get(host).then(
        (l) => go(l.context),
        () => rawDeny(socket, 'upstream_tls', { ...base, host, port: d.port, route: null }),
      );
  }

  function intercept(socket: Duplex, head: Buffer, host: string, port: number, local: boolean, context: tls.SecureContext, conn: number, id: number, started: number): void {
    if (socket.destroyed) return;
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    const tlsSock = new tls.TLSSocket(socket as Socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
    const ctx: TunnelCtx = { conn, host, port, local, mode: 'intercept', socket: tlsSock };
    tunnels.set(tlsSock, ctx);
    let secure = false;
    const hs = setTimeout(() => tlsSock.destroy(), t.tlsHandshake);
    tlsSock.on('secure', () => {
      secure = true;
      clearTimeout(hs);
      const sni = (tlsSock as tls.TLSSocket & { servername?: string | false }).servername;
      if (sni && sni !== host) logger.emit(1, 'egress_sni_mismatch', { req: id, host, sni });
    });
    tlsSock.on('error', (err: Error) => {
      if (!secure) {
        clearTimeout(hs);
        logger.emit(1, 'egress_tls_client_error', { req: id, host, error: (err as { code?: string }).code ?? 'tls_error' });
        writeAudit({ id, conn, mode: 'intercept', method: 'CONNECT', host, port, path: '/', route: null, match: null, decision: 'error', reason: 'tls_client_error', status: 0, injected: null, findings: [], proposal: null, bytes_up: 0, bytes_down: 0, ms_total: msSince(started) });
      }
      tlsSock.destroy();
    });
    tlsSock.on('close', () => {
      clearTimeout(hs);
      tunnels.delete(tlsSock);
      socket.destroy();
    });
    tlsSock.setTimeout(t.tunnelIdle, () => tlsSock.destroy());
    inner.emit('connection', tlsSock);
  }

  async function passthrough(socket: Duplex, head: Buffer, host: string, port: number, route: CompiledRoute, id: number, conn: number, started: number): Promise<void> {
    const base = { id, conn, started, method: 'CONNECT', scheme: 'https' as const, path: '/', mode: 'passthrough' as const, host, port, route };
    let address: string;
    try {
      ({ address } = await resolveChecked(resolve, host, route.allowCidrs));
    } catch (err) {
      return rawDeny(socket, classifyUpstreamError(err) === 'ssrf' ? 'ssrf' : 'upstream_unreachable', base);
    }
    if (socket.destroyed) return;
    const up = net.connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => up.destroy(new UpstreamTimeout('connect timeout')), t.upstreamConnect);
    let connected = false;
    let bytesUp = head.length;
    let bytesDown = 0;
    up.on('error', (err) => {
      clearTimeout(timer);
      if (!connected) rawDeny(socket, classifyUpstreamError(err) === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_unreachable', base);
      else socket.destroy();
    });
    up.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      const ctx: TunnelCtx = { conn, host, port, local: false, mode: 'passthrough', socket };
      tunnels.set(socket, ctx);
      socket.on('data', (c: Buffer) => (bytesUp += c.length));
      up.on('data', (c: Buffer) => (bytesDown += c.length));
      socket.pipe(up);
      up.pipe(socket);
      (socket as Socket).setTimeout(t.tunnelIdle, () => socket.destroy());
      const close = () => {
        socket.destroy();
        up.destroy();
      };
      socket.on('close', close);
      up.on('close', close);
      socket.once('close', () => {
        tunnels.delete(socket);
        writeAudit({ id, conn, mode: 'passthrough', method: 'CONNECT', host, port, path: '/', route: route.label, match: null, decision: 'allow', reason: null, status: 200, injected: null, findings: [], proposal: null, bytes_up: bytesUp, bytes_down: bytesDown, ms_total: msSince(started) });
      });
    });
  }

  // ---------- wiring ----------

  server.on('request', (req, res) => onRequest(req, res, null));
  server.on('connect', onConnect);
  server.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head, null));
  inner.on('request', (req, res) => onRequest(req, res, tunnels.get(req.socket) ?? null));
  inner.on('upgrade', (req, socket, head) => {
    const ctx = tunnels.get(socket as Duplex) ?? tunnels.get((req.socket as Duplex) ?? socket);
    onUpgrade(req, socket, head, ctx ?? null);
  });
  const onClientError = (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    const code: DenyCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return void socket.destroy();
    const ctx = tunnels.get(socket);
    rawDeny(socket, code, { id: ++reqSeq, conn: ctx?.conn ?? connIds.get(socket) ?? 0, started: performance.now(), method: '-', scheme: ctx ? 'https' : 'http', host: ctx?.host ?? '', port: ctx?.port ?? 0, path: '/', route: null, mode: ctx ? 'intercept' : 'http' });
  };
  server.on('clientError', onClientError);
  inner.on('clientError', onClientError);

  function closeLostTunnels(): void {
    for (const [sock, ctx] of tunnels) {
      if (ctx.local) continue;
      const r = selectRoute(table, ctx.host, ctx.port);
      const lost = !r || (ctx.mode === 'passthrough' ? !r.passthrough : r.passthrough);
      if (lost) sock.destroy();
    }
  }

  let shutdownPromise: Promise<void> | null = null;

  const api: EgressServer = {
    server,
    logger,
    scanner,
    leaves,
    listen(port, host) {
      return new Promise((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolveListen(server.address() as AddressInfo);
        });
      });
    },
    address: () => server.address() as AddressInfo,
    table: () => table,
    setTable(next) {
      table = next;
      loadedAt = new Date().toISOString();
      lastReload = { at: loadedAt, ok: true, error: null };
      logger.setLevel(next.doc.log);
      const old = agents;
      agents = createAgents(opts.upstreamCaPem);
      // Pooled sockets were checked against the old table's CIDRs: let in-flight ones finish.
      setTimeout(() => old.destroy(), 1000).unref();
      closeLostTunnels();
    },
    setReloadStatus(s) {
      lastReload = s;
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        shuttingDown = true;
        server.close();
        holds.abortAll();
        server.closeIdleConnections();
        inner.closeIdleConnections();
        if (inflight > 0) {
          await new Promise<void>((r) => {
            const timer = setTimeout(r, t.shutdownGrace);
            idleWaiter = () => {
              clearTimeout(timer);
              r();
            };
          });
        }
        for (const [s] of tunnels) s.destroy();
        for (const s of clientSockets) s.destroy();
        inner.closeAllConnections();
        agents.destroy();
        await audit.close();
      })();
      return shutdownPromise;
    },
    async destroy() {
      shuttingDown = true;
      holds.abortAll();
      server.close();
      for (const [s] of tunnels) s.destroy();
      for (const s of clientSockets) s.destroy();
      server.closeAllConnections();
      inner.closeAllConnections();
      agents.destroy();
      await audit.close();
    },
  };
  logger.emit(0, 'egress_boot_core', { version: VERSION, routes: table.routes.length, known_secrets: known.length, ca_sha256: opts.ca.fingerprint });
  for (const w of scanner.warnings) logger.emit(0, 'egress_warning', { message: w });
  return api;
}

// ---------- small helpers ----------

function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

function pathOnly(url: string): string {
  const m = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)?([^?#]*)/.exec(url);
  return m?.[1] || '/';
}

function stripMasked(f: Record<string, unknown>): Record<string, unknown> {
  const { masked: _m, ...rest } = f;
  return rest;
}

function requestHasBody(req: http.IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function readBody(req: http.IncomingMessage, max: number): Promise<{ body: Buffer; over: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      chunks.push(c);
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        resolve({ body: Buffer.concat(chunks), over: true });
      }
    };
    const onEnd = () => resolve({ body: Buffer.concat(chunks), over: false });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

function headerOf(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function removeHeader(raw: string[], name: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]!.toLowerCase() === name) raw.splice(i, 2);
}

function setHeader(raw: string[], name: string, value: string): void {
  removeHeader(raw, name);
  raw.push(name, value);
}

function pairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/**
 * On inbound-scanned routes only encodings egress can decode may come back
 * (docs/decisions/dlp-derived-views.md).
 */
function narrowAcceptEncoding(raw: string[]): void {
  const v = headerOf(raw, 'accept-encoding');
  if (v === undefined) return;
  const ok = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => ['gzip', 'deflate', 'br', 'identity'].includes(s.split(';')[0]!.trim().toLowerCase()));
  setHeader(raw, 'accept-encoding', ok.length ? ok.join(', ') : 'identity');
}

function blocking(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'block');
}

/** Scans streamed text with a 4 KiB overlap; returns true once a blocking finding appears. */
class TextWindowScanner {
  private tail = '';
  constructor(private readonly check: (text: string) => boolean) {}
  push(chunk: Buffer): boolean {
    const text = this.tail + chunk.toString('latin1');
    if (this.check(text)) return true;
    this.tail = text.slice(-4096);
    return false;
  }
}

/** Incremental inbound scan of a streamed response, decompressing when needed. */
class StreamInspector {
  private readonly scan = new InboundStreamScanner();
  private readonly decoder = new TextDecoder('utf-8');
  private readonly z: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null;
  private fired = false;

  constructor(
    encoding: string | string[] | undefined,
    private readonly onResult: (r: InboundResult) => void,
  ) {
    const enc = (typeof encoding === 'string' ? encoding : '').trim().toLowerCase();
    this.z = enc === 'gzip' || enc === 'x-gzip' ? zlib.createGunzip() : enc === 'deflate' ? zlib.createInflate() : enc === 'br' ? zlib.createBrotliDecompress() : null;
    if (this.z) {
      this.z.on('data', (c: Buffer) => this.text(this.decoder.decode(c, { stream: true })));
      this.z.on('error', () => {});
    }
  }

  push(chunk: Buffer): void {
    if (this.z) this.z.write(chunk);
    else this.text(this.decoder.decode(chunk, { stream: true }));
  }

  end(): void {
    this.z?.end();
  }

  private text(s: string): void {
    if (this.fired || !s) return;
    const r = this.scan.push(s);
    if (r.level === 'high') {
      this.fired = true;
      this.onResult(r);
    }
  }
}

export type { Deny };
