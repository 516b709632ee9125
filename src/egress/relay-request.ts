/**
 * The request relay (docs/architecture.md §7, §6.2 and R2–R11): absolute-form `http://` requests
 * on the listener and the inner requests of intercepted tunnels. Decides, runs outbound DLP,
 * injects the credential, forwards with the pooled agents and relays the response (inbound
 * injection scan on text responses, docs/decisions/egress-websocket-and-streams.md).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { decodeBody, decodeText } from '../dlp/decode.js';
import { isScannableInboundType, scanInbound } from '../dlp/inbound.js';
import type { InboundResult } from '../dlp/types.js';
import { admit, type Admitted } from './admit.js';
import { drainBody, hasBody, NO_BODY, pumpBody, type BudgetLease } from './body.js';
import { decideAbsolute, LOCAL_HOST, parseAbsoluteHttp } from './decide.js';
import { inboundAuditEntries, inboundBlocks, inboundDetail, inboundRuleIds, sseDenyEvent, StreamInspector, type InspectState } from './inbound-scan.js';
import { filterRequestHeaders, filterResponseHeaders, injectionHeader } from './inject.js';
import { localResponse } from './local.js';
import { findingsForLog, headersForLog, type AuditRecord } from './log.js';
import { absolutePortAllowed, upstreamFramingHeaders } from './normalize.js';
import { outboundDlp } from './outbound-dlp.js';
import {
  blocking,
  DLP_NO_DETECTORS,
  headerOf,
  msSince,
  pathOnly,
  removeHeader,
  setHeader,
  stripMasked,
  type RelayContext,
  type Target,
  type TunnelCtx,
} from './relay-context.js';
import { auditGone, respondDeny, type DenyInfo } from './respond-deny.js';
import { checkAddresses } from './ssrf.js';
import { classifyUpstreamError, upstreamRequest, UpstreamTimeout } from './upstream.js';

const INBOUND_BUFFER = 2 * 1024 * 1024;
export const MAX_HEADERS = 200;

function connOf(ctx: RelayContext, req: http.IncomingMessage): number {
  const tunnel = ctx.tunnels.get(req.socket);
  return tunnel?.conn ?? ctx.connIds.get(req.socket) ?? 0;
}

function serveLocal(ctx: RelayContext, req: http.IncomingMessage, res: http.ServerResponse, id: number, started: number, port: number): void {
  const url = req.url ?? '/';
  const m = /^(?:https?:\/\/[^/]*)?([^?]*)/.exec(url);
  const path = m?.[1] || '/';
  const out = localResponse(req.method ?? 'GET', path, ctx.localState());
  res.writeHead(out.status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(out.body) });
  res.end(req.method === 'HEAD' ? undefined : out.body);
  drainBody(req, ctx.t.bodyIdle);
  ctx.writeAudit({ id, conn: connOf(ctx, req), mode: 'local', method: req.method ?? '', host: LOCAL_HOST, port, path, route: null, match: null, decision: out.status === 200 ? 'allow' : 'deny', reason: null, status: out.status, injected: null, findings: [], proposal: null, bytes_up: 0, bytes_down: out.body.length, ms_total: msSince(started) });
}

/** One request on the listener (`tunnel` null) or inside an intercepted tunnel. */
export function onRequest(ctx: RelayContext, req: http.IncomingMessage, res: http.ServerResponse, tunnel: TunnelCtx | null): void {
  const started = performance.now();
  const id = ctx.nextId();
  const method = req.method ?? 'GET';
  const conn = tunnel?.conn ?? ctx.connIds.get(req.socket) ?? 0;
  const url = req.url ?? '/';
  const deny = (code: Parameters<typeof respondDeny>[2], info: Omit<DenyInfo, 'id' | 'conn' | 'started' | 'method'>) => {
    respondDeny(ctx, res, code, { id, conn, started, method, ...info });
  };
  if (ctx.shuttingDown) {
    res.shouldKeepAlive = false;
    return deny('shutting_down', { scheme: tunnel ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: pathOnly(url), route: null, mode: tunnel ? 'intercept' : 'http' });
  }
  if (req.rawHeaders.length > MAX_HEADERS * 2) {
    res.shouldKeepAlive = false;
    return deny('headers_too_large', { scheme: tunnel ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: pathOnly(url), route: null, mode: tunnel ? 'intercept' : 'http' });
  }
  let target: Target;
  if (tunnel) {
    if (tunnel.local) {
      const hostHeader = req.headers.host ?? '';
      if (!/^_egress\.local(?::\d+)?$/i.test(hostHeader)) {
        return deny('host_mismatch', { scheme: 'https', host: LOCAL_HOST, port: tunnel.port, path: pathOnly(url), route: null, mode: 'local' });
      }
      return serveLocal(ctx, req, res, id, started, tunnel.port);
    }
    target = { scheme: 'https', host: tunnel.host, port: tunnel.port, url, conn, framing: NO_BODY };
  } else if (url.startsWith('/')) {
    const path = pathOnly(url);
    if (path === '/healthz' || path === '/allowlist') return serveLocal(ctx, req, res, id, started, 0);
    return deny('origin_form', { scheme: 'http', host: req.headers.host ?? '', port: 80, path, route: null, mode: 'http' });
  } else {
    const abs = parseAbsoluteHttp(url);
    if (abs === null || abs === 'bad_scheme') {
      return deny('bad_request', { scheme: 'http', host: '', port: 0, path: '/', route: null, mode: 'http' });
    }
    const td = decideAbsolute(ctx.table, abs);
    if (td.action === 'deny') {
      return deny(td.code, { scheme: 'http', host: td.host, port: td.port, path: pathOnly(abs.target), route: td.route, mode: 'http' });
    }
    if (td.action === 'local') return serveLocal(ctx, req, res, id, started, abs.port);
    // A route without `port` takes plain http:// on 80 only (docs/decisions/egress-normalisation.md).
    if (!absolutePortAllowed(td.route.port, abs.port)) {
      return deny('no_route', { scheme: 'http', host: td.host, port: td.port, path: pathOnly(abs.target), route: null, mode: 'http' });
    }
    target = { scheme: 'http', host: abs.host, port: abs.port, url: abs.target, conn, framing: NO_BODY };
  }
  const mode = tunnel ? 'intercept' : 'http';
  const a = admit(ctx, req, target, tunnel);
  if (!a.ok) {
    return deny(a.code, { scheme: target.scheme, host: a.host, port: target.port, path: pathOnly(url), route: a.route, mode, findings: a.findings, detail: a.detail, auditFindings: a.auditFindings });
  }
  ctx.track(forward(ctx, req, res, a, id, started, mode));
}

async function forward(ctx: RelayContext, req: http.IncomingMessage, res: http.ServerResponse, a: Admitted, id: number, started: number, mode: 'intercept' | 'http'): Promise<void> {
  // Two leases on the per-bottle budget: the request body (given back once it is handed to the
  // upstream socket) and the inbound buffer (given back when the response ends).
  const bodyLease = ctx.budget.lease();
  const inLease = ctx.budget.lease();
  try {
    await relay(ctx, req, res, a, id, started, mode, bodyLease, inLease);
  } finally {
    bodyLease.release();
    inLease.release();
  }
}

async function relay(ctx: RelayContext, req: http.IncomingMessage, res: http.ServerResponse, a: Admitted, id: number, started: number, mode: 'intercept' | 'http', bodyLease: BudgetLease, inLease: BudgetLease): Promise<void> {
  const { logger, scanner, t } = ctx;
  const { target, d } = a;
  const route = d.route;
  const path = d.path;
  const method = req.method ?? 'GET';
  const auditBase = { id, conn: target.conn, mode, method, host: target.host, port: target.port, path, route: route.label, match: d.match };
  const denyCtx: DenyInfo = { id, conn: target.conn, started, method, scheme: target.scheme, host: target.host, port: target.port, path, route, match: d.match, mode };
  const injected = route.auth ? { name: route.auth.header, slot: route.auth.slot } : null;
  // The normalised headers: Host rebuilt from the target, hop-by-hop and framing headers gone.
  const headersOut = filterRequestHeaders(a.n.headers, { injectedHeader: injected?.name ?? '', websocket: false });
  const prepared = await outboundDlp(ctx, req, { lease: bodyLease, gone: () => auditGone(ctx, denyCtx, 'client_aborted') }, target, d, id, headersOut, (code, findings, proposal) => {
    respondDeny(ctx, res, code, { ...denyCtx, ...(findings ? { findings } : {}), proposal: proposal ?? null });
  });
  if (!prepared) return;
  const hdrs = prepared.headers;
  // Explicit framing (docs/decisions/egress-normalisation.md): a buffered body gets its exact
  // length; a streamed one keeps the agent's Content-Length (its bytes pass unchanged) or is sent
  // chunked. Never unframed: Node sends a GET/DELETE body without framing unless told, and the
  // upstream would parse it as a second request.
  const buffered = prepared.body !== null && !prepared.streamRest;
  const streamed = prepared.body === null ? hasBody(target.framing) : prepared.streamRest;
  removeHeader(hdrs, 'content-length');
  removeHeader(hdrs, 'transfer-encoding');
  for (const [k, v] of upstreamFramingHeaders(target.framing, buffered ? prepared.body!.length : null)) hdrs.push(k, v);
  if (route.inbound) narrowAcceptEncoding(hdrs);
  if (route.auth) {
    const value = ctx.opts.tokens[route.auth.slot] ?? '';
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
      respondDeny(ctx, res, 'ssrf', { ...denyCtx, detail: v.why });
      return;
    }
  }
  const body = prepared.body;
  // The buffered body is referenced from here only, so it can be collected once written.
  prepared.body = null;
  await new Promise<void>((done) => {
    let settled = false;
    let bytesUp = body?.length ?? 0;
    let bytesDown = 0;
    // Inbound verdict entries (rule ids, never text) for the audit record of this response.
    let inboundAudit: Array<Record<string, unknown>> = [];
    const finish = (rec: { status: number; decision: AuditRecord['decision']; reason: string | null }) => {
      if (settled) return;
      settled = true;
      const findings = prepared.findings.length === 0 ? [] : findingsForLog(prepared.findings, rec.decision).map(stripMasked);
      if (a.dnsAudit) findings.push(a.dnsAudit);
      for (const x of inboundAudit) findings.push(x);
      // Built field by field (same fields, same order as the spread it replaces): this runs once
      // per proxied request.
      ctx.writeAudit({
        id: auditBase.id,
        conn: auditBase.conn,
        mode: auditBase.mode,
        method: auditBase.method,
        host: auditBase.host,
        port: auditBase.port,
        path: auditBase.path,
        route: auditBase.route,
        match: auditBase.match,
        injected: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null,
        findings,
        proposal: prepared.proposal,
        bytes_up: bytesUp,
        bytes_down: bytesDown,
        ms_total: msSince(started),
        status: rec.status,
        decision: rec.decision,
        reason: rec.reason,
      });
      done();
    };
    const upReq = upstreamRequest(ctx.agents, ctx.lookupFor(route), target, method, prepared.url, hdrs, true);
    upReq.once('finish', () => bodyLease.release());
    let timedOut = false;
    let dlpAbort = false;
    let bodyStalled = false;
    let clientGone = false;
    let selfClosed = false;
    const killRes = () => {
      selfClosed = true;
      res.destroy();
    };
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
      if (!s.connecting && (!(s instanceof tls.TLSSocket) || s.encrypted)) connected();
      else s.once(target.scheme === 'https' ? 'secureConnect' : 'connect', connected);
    });
    upReq.on('error', (err) => {
      clearTimeout(connectTimer);
      clearTimeout(headerTimer);
      if (settled) return;
      if (clientGone) {
        finish({ status: res.headersSent ? res.statusCode : 0, decision: 'error', reason: 'client_aborted' });
        return;
      }
      if (res.headersSent) {
        killRes();
        finish({ status: 502, decision: 'error', reason: classifyUpstreamError(err) });
        return;
      }
      const code = dlpAbort ? 'dlp_block' : bodyStalled ? 'body_timeout' : timedOut ? 'upstream_timeout' : classifyUpstreamError(err);
      const detail = code === 'ssrf' ? (err as { verdict?: { why?: string } }).verdict?.why : undefined;
      settled = true;
      respondDeny(ctx, res, code, { ...denyCtx, findings: undefined, ...(detail ? { detail } : {}) });
      done();
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      if (!selfClosed) clientGone = true;
      upReq.destroy();
    });
    upReq.on('response', (upRes) => {
      clearTimeout(headerTimer);
      const status = upRes.statusCode ?? 502;
      upRes.setTimeout(t.upstreamBodyIdle, () => upRes.destroy(new UpstreamTimeout('body idle')));
      const respHeaders = filterResponseHeaders(upRes.rawHeaders, false);
      const ct = upRes.headers['content-type'];
      const scanIn = route.inbound && method !== 'HEAD' && status !== 204 && status !== 304 && isScannableInboundType(ct);
      if (logger.enabled(2)) logger.emit(2, 'egress_response', { req: id, status, headers: headersForLog(respHeaders, null) });
      upRes.on('error', killRes);
      // Forwards one chunk to the agent; the upstream waits while the agent is slow to read.
      const relayChunk = (c: Buffer) => {
        if (!res.write(c)) {
          upRes.pause();
          res.once('drain', () => upRes.resume());
        }
      };
      if (!scanIn) {
        res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
        upRes.on('data', (c: Buffer) => {
          bytesDown += c.length;
          relayChunk(c);
        });
        upRes.on('end', () => {
          res.end();
          finish({ status, decision: prepared.decision, reason: null });
        });
        upRes.on('close', () => {
          if (!upRes.complete) {
            killRes();
            finish({ status, decision: 'error', reason: clientGone ? 'client_aborted' : 'upstream_aborted' });
          }
        });
        return;
      }
      const sse = typeof ct === 'string' && ct.toLowerCase().startsWith('text/event-stream');
      const encoding = upRes.headers['content-encoding'];
      const identity = encoding === undefined || (typeof encoding === 'string' && ['', 'identity'].includes(encoding.trim().toLowerCase()));
      const chunks: Buffer[] = [];
      let buffered = 0;
      let streaming = false;
      const stream = new StreamInspector(encoding);
      const logInbound = (event: 'egress_block' | 'egress_warn', r: InboundResult, note?: string) =>
        logger.emit(1, event, { req: id, reason: 'inbound_injection', method, host: target.host, path, route: route.label, rules: inboundRuleIds(r), score: r.score ?? null, phrases: r.phrases, ...(note ? { note } : {}) });
      // Nothing sent yet: the response is replaced by the refusal (docs/decisions/egress-inbound-block.md).
      const replace = (code: 'inbound_injection' | 'unscannable_encoding', r: InboundResult | null) => {
        if (settled) return;
        if (r) logInbound('egress_block', r);
        settled = true;
        upRes.destroy();
        respondDeny(ctx, res, code, {
          ...denyCtx,
          detail: r ? inboundDetail(r) : 'response Content-Encoding egress cannot decode',
          auditFindings: r ? inboundAuditEntries(r, 'block') : [{ detector: 'naive_injection_detection', rule: 'unscannable_encoding', surface: 'response', action: 'block' }],
        });
        done();
      };
      // Headers (and earlier chunks) already sent: the stream is cut; the agent's client sees an
      // aborted response. An identity-encoded SSE stream gets a last event saying why.
      const cut = (state: InspectState) => {
        if (settled) return;
        const r = stream.result;
        const code = state === 'block' ? 'inbound_injection' : 'unscannable_encoding';
        if (r && state === 'block') {
          logInbound('egress_block', r, 'stream cut');
          inboundAudit = inboundAuditEntries(r, 'block');
        } else {
          logger.emit(1, 'egress_block', { req: id, reason: code, method, host: target.host, path, route: route.label, note: 'stream cut: response not decodable' });
          inboundAudit = [{ detector: 'naive_injection_detection', rule: 'unscannable_encoding', surface: 'response', action: 'block' }];
        }
        upRes.destroy();
        if (r && state === 'block' && sse && identity) {
          // Destroy only once the last event is flushed (bounded: a client not reading is cut anyway).
          const timer = setTimeout(killRes, 1000);
          res.write(sseDenyEvent(inboundDetail(r)), () => {
            clearTimeout(timer);
            killRes();
          });
        } else {
          killRes();
        }
        finish({ status, decision: 'deny', reason: code });
      };
      // Forwards a chunk only once its text is scanned; the upstream waits meanwhile.
      const pipeChunk = (c: Buffer) => {
        upRes.pause();
        void stream.push(c).then((state) => {
          if (settled) return;
          if (state !== 'ok') return cut(state);
          if (!res.write(c)) res.once('drain', () => upRes.resume());
          else upRes.resume();
        });
      };
      // Past the buffer (or an SSE stream from its start): scan what is held first, then send the
      // headers and relay chunk by chunk.
      const startStreaming = async () => {
        streaming = true;
        upRes.pause();
        const held = chunks.splice(0);
        let state: InspectState = 'ok';
        for (const c of held) if ((state = await stream.push(c)) !== 'ok') break;
        if (settled) return;
        if (state !== 'ok') return replace(state === 'block' ? 'inbound_injection' : 'unscannable_encoding', state === 'block' ? stream.result : null);
        res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
        let ok = true;
        for (const c of held) ok = res.write(c);
        inLease.release();
        if (!ok) res.once('drain', () => upRes.resume());
        else upRes.resume();
      };
      if (sse) void startStreaming();
      upRes.on('data', (c: Buffer) => {
        bytesDown += c.length;
        if (streaming) return pipeChunk(c);
        chunks.push(c);
        buffered += c.length;
        // Past 2 MiB, or when the bottle's buffer budget is spent, scan incrementally instead of
        // holding the response: bounded memory, never a queue.
        if (buffered > INBOUND_BUFFER || !inLease.take(c.length)) void startStreaming();
      });
      upRes.on('close', () => {
        if (!upRes.complete && !settled) {
          killRes();
          finish({ status, decision: 'error', reason: clientGone ? 'client_aborted' : 'upstream_aborted' });
        }
      });
      upRes.on('end', () => {
        if (streaming) {
          void stream.end().then((state) => {
            if (settled) return;
            if (state !== 'ok') return cut(state);
            res.end();
            finish({ status, decision: prepared.decision, reason: null });
          });
          return;
        }
        const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
        chunks.length = 0;
        const dec = decodeBody(raw, typeof encoding === 'string' ? encoding : undefined);
        // A body egress cannot decode is not delivered unscanned (fail closed).
        if (!dec.ok) return replace('unscannable_encoding', null);
        const r: InboundResult = scanInbound(decodeText(dec.bytes).text);
        if (inboundBlocks(r)) return replace('inbound_injection', r);
        const warn = r.level === 'medium';
        if (warn) {
          respHeaders.push('x-bot-bottle-warn', 'inbound_injection');
          logInbound('egress_warn', r);
          inboundAudit = inboundAuditEntries(r, 'warn');
        }
        if (logger.enabled(2)) logger.emit(2, 'egress_response_body', { req: id, body: decodeText(dec.bytes.subarray(0, 4096)).text });
        res.writeHead(status, respHeaders as unknown as http.OutgoingHttpHeaders);
        res.end(raw);
        finish({ status, decision: warn ? 'warn' : prepared.decision, reason: warn ? 'inbound_injection' : null });
      });
    });
    const hooks = {
      onIdle: () => {
        bodyStalled = true;
        upReq.destroy(new Error('agent request body stalled'));
      },
      onAbort: () => {
        clientGone = true;
        upReq.destroy();
      },
    };
    if (body && prepared.streamRest) {
      upReq.write(body);
      const sc = new TextWindowScanner((text) => blocking(scanner.scan([{ name: 'body', text }], route.outbound.size > 0 ? route.outbound : DLP_NO_DETECTORS)));
      sc.push(body);
      pumpBody(req, upReq, t.bodyIdle, {
        ...hooks,
        onChunk: (c) => {
          bytesUp += c.length;
          if (!sc.push(c)) return true;
          logger.emit(1, 'egress_block', { req: id, reason: 'dlp_block', method, host: target.host, path, route: route.label, note: 'found while streaming an oversized body' });
          dlpAbort = true;
          upReq.destroy(new Error('dlp finding while streaming'));
          return false;
        },
      });
    } else if (body) {
      upReq.end(body);
    } else if (streamed) {
      pumpBody(req, upReq, t.bodyIdle, {
        ...hooks,
        onChunk: (c) => {
          bytesUp += c.length;
          return true;
        },
      });
    } else {
      upReq.end();
      req.resume();
    }
  });
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
