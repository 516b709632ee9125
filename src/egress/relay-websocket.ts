/**
 * The WebSocket relay (docs/decisions/egress-websocket-and-streams.md): an `Upgrade: websocket`
 * request is decided like a GET (DLP on path, query and headers), forwarded without
 * `Sec-WebSocket-Extensions`, and after the upstream's 101 the two sockets are spliced with the
 * client's frames inspected (websocket.ts).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { decideAbsolute, decideRequest, LOCAL_HOST, parseAbsoluteHttp } from './decide.js';
import { filterRequestHeaders, filterResponseHeaders, injectionHeader } from './inject.js';
import type { AuditRecord } from './log.js';
import { outboundDlp } from './outbound-dlp.js';
import { blocking, DLP_NO_DETECTORS, msSince, pathOnly, type RelayContext, type Target, type TunnelCtx } from './relay-context.js';
import { logDeny, respondDeny } from './respond-deny.js';
import { classifyUpstreamError, upstreamRequest, UpstreamTimeout } from './upstream.js';
import { CLOSE_1008_TO_CLIENT, CLOSE_1008_TO_UPSTREAM, WsFrameInspector } from './websocket.js';

/** An upgrade request on the listener (`tunnel` null) or inside an intercepted tunnel. */
export function onUpgrade(ctx: RelayContext, req: http.IncomingMessage, socket: Duplex, head: Buffer, tunnel: TunnelCtx | null): void {
  const { t, scanner } = ctx;
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
    target = { scheme: 'https', host: tunnel.host, port: tunnel.port, explicitPort: null, url, conn };
  } else {
    const abs = url.startsWith('/') ? null : parseAbsoluteHttp(url);
    if (abs === null || abs === 'bad_scheme') return respondDeny(ctx, socket, url.startsWith('/') ? 'origin_form' : 'bad_request', { ...base, host: '', port: 0, route: null });
    const td = decideAbsolute(ctx.table, abs);
    if (td.action !== 'forward') return respondDeny(ctx, socket, td.action === 'deny' ? td.code : 'bad_request', { ...base, host: abs.host, port: abs.port, route: td.action === 'deny' ? td.route : null });
    target = { scheme: 'http', host: abs.host, port: abs.port, explicitPort: abs.explicitPort, url: abs.target, conn };
  }
  const d = decideRequest(ctx.table, { method, url: target.url, headers: req.headers, scheme: target.scheme, host: target.host, port: target.explicitPort ?? target.port });
  if (d.action === 'deny') return respondDeny(ctx, socket, d.code, { ...base, host: target.host, port: target.port, route: d.route });
  if (!d.websocket) return respondDeny(ctx, socket, 'bad_request', { ...base, host: target.host, port: target.port, route: d.route });
  const route = d.route;
  const injected = route.auth ? { name: route.auth.header, slot: route.auth.slot } : null;
  const headersOut = filterRequestHeaders(req.rawHeaders, { injectedHeader: injected?.name ?? '', websocket: true });
  void outboundDlp(ctx, req, false, target, d, id, headersOut, (code, findings) =>
    respondDeny(ctx, socket, code, { ...base, host: target.host, port: target.port, route, ...(findings ? { findings } : {}) }),
  ).then((prepared) => {
    if (!prepared) return;
    const hdrs = prepared.headers;
    if (route.auth) hdrs.push(...injectionHeader(route.auth, ctx.opts.tokens[route.auth.slot] ?? ''));
    const upReq = upstreamRequest(ctx.agents, ctx.lookupFor(route), target, method, prepared.url, hdrs, false);
    const timer = setTimeout(() => upReq.destroy(new UpstreamTimeout('connect timeout')), t.upstreamConnect);
    upReq.on('error', (err) => {
      clearTimeout(timer);
      respondDeny(ctx, socket, classifyUpstreamError(err), { ...base, host: target.host, port: target.port, route });
    });
    upReq.on('response', (upRes) => {
      clearTimeout(timer);
      let headText = `HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\n`;
      const rh = filterResponseHeaders(upRes.rawHeaders, false);
      for (let i = 0; i < rh.length; i += 2) headText += `${rh[i]}: ${rh[i + 1]}\r\n`;
      headText += 'connection: close\r\n\r\n';
      socket.write(headText);
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
      const tctx: TunnelCtx = { conn, host: target.host, port: target.port, local: false, mode: 'websocket', socket };
      ctx.tunnels.set(socket, tctx);
      let up = head.length;
      let down = upHead.length;
      const detectors = route.outbound.size > 0 ? route.outbound : DLP_NO_DETECTORS;
      const inspect = route.outbound.size > 0 || ctx.hasCanary ? new WsFrameInspector((text) => blocking(scanner.scan([{ name: 'websocket', text }], detectors))) : null;
      const toUpstream = (c: Buffer) => {
        up += c.length;
        if (!inspect) return void upSocket.write(c);
        const ok = inspect.push(c);
        if (ok === null) {
          logDeny(ctx, 'dlp_block', { id, method, host: target.host, path: d.path, route: route.label, note: 'websocket frame' });
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
        ctx.tunnels.delete(socket);
        ctx.writeAudit({ id, conn, mode: base.mode, method, host: target.host, port: target.port, path: d.path, route: route.label, match: d.match, decision: 'allow', reason: 'websocket', status: 101, injected: route.auth ? { scheme: route.auth.scheme, slot: route.auth.slot } : null, findings: [], proposal: null, bytes_up: up, bytes_down: down, ms_total: msSince(started) });
      });
    });
    upReq.end();
  });
}
