/**
 * The WebSocket relay (docs/decisions/egress-websocket-and-streams.md): an `Upgrade: websocket`
 * request is decided like a GET (DLP on path, query and headers), forwarded without
 * `Sec-WebSocket-Extensions`, and after the upstream's 101 the two sockets are spliced with the
 * client's frames inspected (websocket.ts).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Finding, FragmentAccumulatorLike } from '../dlp/types.js';
import { admit } from './admit.js';
import { NO_BODY } from './body.js';
import { decideAbsolute, dlpVerdict, LOCAL_HOST, parseAbsoluteHttp, type Allow } from './decide.js';
import { filterRequestHeaders, filterResponseHeaders, injectionHeader } from './inject.js';
import type { AuditRecord } from './log.js';
import { absolutePortAllowed } from './normalize.js';
import { outboundDlp } from './outbound-dlp.js';
import { blocking, DLP_NO_DETECTORS, msSince, pathOnly, type RelayContext, type Target, type TunnelCtx } from './relay-context.js';
import { respondDeny, type DenyInfo } from './respond-deny.js';
import { classifyUpstreamError, upstreamRequest, UpstreamTimeout } from './upstream.js';
import { WsFrameInspector } from './websocket.js';

/** An upgrade request on the listener (`tunnel` null) or inside an intercepted tunnel. */
export function onUpgrade(ctx: RelayContext, req: http.IncomingMessage, socket: Duplex, head: Buffer, tunnel: TunnelCtx | null): void {
  const { logger } = ctx;
  const started = performance.now();
  const id = ctx.nextId();
  const method = req.method ?? 'GET';
  const conn = tunnel?.conn ?? ctx.connIds.get(socket) ?? 0;
  const url = req.url ?? '/';
  const scheme = tunnel ? 'https' : 'http';
  const base = { id, conn, started, method, scheme: scheme as 'https' | 'http', path: pathOnly(url), mode: (tunnel ? 'intercept' : 'http') as AuditRecord['mode'] };
  socket.on('error', () => socket.destroy());
  if (ctx.shuttingDown) return respondDeny(ctx, socket, 'shutting_down', { ...base, host: tunnel?.host ?? '', port: tunnel?.port ?? 0, route: null });
  let target: Target;
  if (tunnel) {
    if (tunnel.local) return respondDeny(ctx, socket, 'bad_request', { ...base, host: LOCAL_HOST, port: tunnel.port, route: null });
    target = { scheme: 'https', host: tunnel.host, port: tunnel.port, url, conn, framing: NO_BODY };
  } else {
    const abs = url.startsWith('/') ? null : parseAbsoluteHttp(url);
    if (abs === null || abs === 'bad_scheme') return respondDeny(ctx, socket, url.startsWith('/') ? 'origin_form' : 'bad_request', { ...base, host: '', port: 0, route: null });
    const td = decideAbsolute(ctx.table, abs);
    if (td.action !== 'forward') return respondDeny(ctx, socket, td.action === 'deny' ? td.code : 'bad_request', { ...base, host: abs.host, port: abs.port, route: td.action === 'deny' ? td.route : null });
    if (!absolutePortAllowed(td.route.port, abs.port)) return respondDeny(ctx, socket, 'no_route', { ...base, host: abs.host, port: abs.port, route: null });
    target = { scheme: 'http', host: abs.host, port: abs.port, url: abs.target, conn, framing: NO_BODY };
  }
  const a = admit(ctx, req, target, tunnel);
  if (!a.ok) return respondDeny(ctx, socket, a.code, { ...base, host: a.host, port: target.port, route: a.route, findings: a.findings, detail: a.detail, auditFindings: a.auditFindings });
  const d = a.d;
  target = a.target;
  // A body on an upgrade would be read as frames: the upgrade must be a bodiless GET.
  if (!d.websocket || a.n.framing.kind !== 'none') return respondDeny(ctx, socket, 'bad_request', { ...base, host: target.host, port: target.port, route: d.route });
  const route = d.route;
  const injected = route.auth ? { name: route.auth.header, slot: route.auth.slot } : null;
  const headersOut = filterRequestHeaders(a.n.headers, { injectedHeader: injected?.name ?? '', websocket: true });
  const denyInfo: DenyInfo = { ...base, host: target.host, port: target.port, route, match: d.match, path: d.path, ...(a.dnsAudit ? { auditFindings: [a.dnsAudit] } : {}) };
  outboundDlp(ctx, req, null, target, d, id, headersOut, (code, findings) => respondDeny(ctx, socket, code, { ...denyInfo, ...(findings ? { findings } : {}) }))
    .then((prepared) => {
      if (prepared) relay(ctx, socket, head, a.target, prepared.url, prepared.headers, d, denyInfo);
    })
    .catch((err: unknown) => {
      // Nothing above should throw; if it does, this connection ends and the daemon serves on.
      logger.emit(0, 'egress_internal_error', { req: id, where: 'websocket', error: err instanceof Error ? err.message : 'error' });
      socket.destroy();
    });
}

/** Sends the upgrade upstream and, after its 101, splices the sockets with client frames inspected. */
function relay(ctx: RelayContext, socket: Duplex, head: Buffer, target: Target, url: string, hdrs: string[], d: Allow, info: DenyInfo): void {
  const { t, scanner } = ctx;
  const route = d.route;
  const { id, conn, started, method } = info;
  if (route.auth) hdrs.push(...injectionHeader(route.auth, ctx.opts.tokens[route.auth.slot] ?? ''));
  const upReq = upstreamRequest(ctx.agents, ctx.lookupFor(route), target, method, url, hdrs, false);
  const timer = setTimeout(() => upReq.destroy(new UpstreamTimeout('connect timeout')), t.upstreamConnect);
  // The agent may hang up while the upgrade is in flight.
  const onEarlyClose = () => upReq.destroy();
  socket.once('close', onEarlyClose);
  upReq.on('error', (err) => {
    clearTimeout(timer);
    socket.off('close', onEarlyClose);
    if (socket.destroyed) return;
    respondDeny(ctx, socket, classifyUpstreamError(err), info);
  });
  upReq.on('response', (upRes) => {
    clearTimeout(timer);
    socket.off('close', onEarlyClose);
    let headText = `HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\n`;
    const rh = filterResponseHeaders(upRes.rawHeaders, false);
    for (let i = 0; i < rh.length; i += 2) headText += `${rh[i]}: ${rh[i + 1]}\r\n`;
    headText += 'connection: close\r\n\r\n';
    socket.write(headText);
    upRes.on('error', () => socket.destroy());
    upRes.pipe(socket);
  });
  upReq.on('upgrade', (upRes, upSocket, upHead) => {
    clearTimeout(timer);
    socket.off('close', onEarlyClose);
    upSocket.on('error', () => upSocket.destroy());
    if (socket.destroyed) return void upSocket.destroy();
    let headText = `HTTP/1.1 101 Switching Protocols\r\n`;
    const rh = filterResponseHeaders(upRes.rawHeaders, true);
    for (let i = 0; i < rh.length; i += 2) {
      // No extension is ever negotiated (the request went without the header): frames stay plain.
      if (rh[i]!.toLowerCase() === 'sec-websocket-extensions') continue;
      headText += `${rh[i]}: ${rh[i + 1]}\r\n`;
    }
    socket.write(`${headText}\r\n`);
    if (upHead.length) socket.write(upHead);
    const tctx: TunnelCtx = { conn, host: target.host, port: target.port, local: false, mode: 'websocket', socket };
    ctx.tunnels.set(socket, tctx);
    const sink = { kind: 'websocket' as const, client: socket, upstream: upSocket, bytesUp: head.length, bytesDown: upHead.length };
    let denied = false;
    const detectors = route.outbound.size > 0 ? route.outbound : DLP_NO_DETECTORS;
    let findings: readonly Finding[] = [];
    // Pieces of a known secret spread over frames beyond the window are remembered for the
    // connection's life (one union per secret) and in the bottle's cross-request accumulator.
    const pieces = new ConnectionFragments(ctx.accumulator);
    const inspect =
      route.outbound.size > 0 || ctx.hasCanary
        ? new WsFrameInspector((data, control) => {
            const surfaces = [];
            if (data) surfaces.push({ name: 'websocket', text: data });
            if (control) surfaces.push({ name: 'websocket:control', text: control });
            const found = scanner.scan(surfaces, detectors, { accumulator: pieces, nowMs: Date.now() });
            if (!blocking(found)) return null;
            const v = dlpVerdict(found, route);
            findings = v.action === 'allow' ? [] : v.findings;
            return v.action === 'deny' && v.code === 'canary' ? 'canary' : 'dlp_block';
          }, ctx.wsMaxMessage)
        : null;
    // Backpressure both ways: a side that does not read pauses the other, so nothing queues here.
    const pipe = (from: Duplex, to: Duplex, c: Buffer) => {
      if (!to.write(c)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
    const toUpstream = (c: Buffer) => {
      if (denied) return;
      sink.bytesUp += c.length;
      if (!inspect) return pipe(socket, upSocket, c);
      const r = inspect.push(c);
      if (r.violation) {
        denied = true;
        socket.pause();
        respondDeny(ctx, sink, r.violation, { ...info, ...(findings.length ? { findings } : {}) });
        return;
      }
      if (r.forward) pipe(socket, upSocket, r.forward);
    };
    if (head.length) toUpstream(head);
    socket.on('data', toUpstream);
    upSocket.on('data', (c: Buffer) => {
      sink.bytesDown += c.length;
      pipe(upSocket, socket, c);
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
      ctx.tunnels.delete(socket);
      if (denied) return;
      ctx.writeAudit({ id, conn, mode: info.mode, method, host: target.host, port: target.port, path: d.path, route: route.label, match: d.match, decision: 'allow', reason: 'websocket', status: 101, injected: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null, findings: [...(info.auditFindings ?? [])], proposal: null, bytes_up: sink.bytesUp, bytes_down: sink.bytesDown, ms_total: msSince(started) });
    });
  });
  upReq.end();
}

/**
 * Fragment coverage for one WebSocket connection (docs/decisions/dlp-fragments.md): the scanner
 * re-reads the carried window, so the same pieces arrive again and again; a plain union per secret
 * (no list to evict from) keeps every piece the connection ever sent, and each new piece also goes
 * to the bottle's accumulator so pieces split between a socket and requests still add up.
 */
class ConnectionFragments implements FragmentAccumulatorLike {
  private readonly union = new Map<string, Uint8Array>();

  constructor(private readonly shared: FragmentAccumulatorLike) {}

  add(key: string, covered: Uint8Array, nowMs: number): number {
    let u = this.union.get(key);
    if (!u || u.length !== covered.length) {
      u = new Uint8Array(covered.length);
      this.union.set(key, u);
    }
    let fresh = false;
    let n = 0;
    for (let i = 0; i < u.length; i++) {
      if (covered[i] && !u[i]) {
        u[i] = 1;
        fresh = true;
      }
      n += u[i]!;
    }
    const across = fresh ? this.shared.add(key, u, nowMs) : 0;
    return Math.max(n, across);
  }
}
