/**
 * CONNECT tunnels (docs/architecture.md §7, C1–C8): decide the target, then either splice to the
 * upstream (passthrough routes) or answer `200 Connection Established`, terminate TLS with the
 * host's leaf and emit the TLS socket into the internal http.Server, whose requests go through the
 * request relay (keep-alive inside the tunnel).
 */
import type http from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { decideConnect } from './decide.js';
import { dnsExfilAuditEntry, redactedHost } from './dns-exfil.js';
import { connectPortAllowed } from './normalize.js';
import { msSince, type RelayContext, type TunnelCtx } from './relay-context.js';
import { respondDeny } from './respond-deny.js';
import type { CompiledRoute } from './route-table.js';
import { classifyUpstreamError, resolveChecked, UpstreamTimeout } from './upstream.js';

export function onConnect(ctx: RelayContext, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const started = performance.now();
  const id = ctx.nextId();
  const conn = ctx.connIds.get(socket) ?? 0;
  const authority = req.url ?? '';
  socket.on('error', destroySelf);
  const base = { id, conn, started, method: 'CONNECT', scheme: 'https' as const, path: '/', mode: 'connect' as const };
  if (ctx.shuttingDown) return respondDeny(ctx, socket, 'shutting_down', { ...base, host: authority, port: 0, route: null });
  const d = decideConnect(ctx.table, authority);
  if (d.action === 'deny') return respondDeny(ctx, socket, d.code, { ...base, host: d.host, port: d.port, route: d.route });
  let dnsAudit: Record<string, unknown> | null = null;
  if (d.action !== 'local') {
    // A route without `port` takes CONNECT on 443 only (docs/decisions/egress-normalisation.md).
    if (!connectPortAllowed(d.route.port, d.port)) return respondDeny(ctx, socket, 'no_route', { ...base, host: d.host, port: d.port, route: null });
    // A wildcard-routed name is judged before anything resolves it or a leaf is minted for it
    // (docs/decisions/egress-dns-exfil.md).
    const suffix = d.route.wildcardSuffix;
    if (suffix) {
      const v = ctx.dnsGuard.check({ host: d.host, rawHosts: [authority], wildcardSuffix: suffix, nowMs: Date.now() });
      dnsAudit = dnsExfilAuditEntry(v);
      if (v.decision === 'block') {
        return respondDeny(ctx, socket, 'dns_exfil', { ...base, host: redactedHost(d.host, suffix), port: d.port, route: d.route, findings: v.findings, ...(dnsAudit ? { auditFindings: [dnsAudit] } : {}) });
      }
    }
  }
  // Asynchronous steps end in a catch: whatever goes wrong costs this connection only.
  const lost = (err: unknown) => {
    ctx.logger.emit(0, 'egress_internal_error', { req: id, where: 'connect', error: err instanceof Error ? err.message : 'error' });
    socket.destroy();
  };
  if (d.action === 'passthrough') return void passthrough(ctx, socket, head, d.host, d.port, d.route, id, conn, started, dnsAudit).catch(lost);
  const host = d.host;
  const leaf = ctx.leaves.peek(host);
  const go = (context: tls.SecureContext) => intercept(ctx, socket, head, host, d.port, d.action === 'local', context, conn, id, started);
  if (leaf) go(leaf.context);
  else
    ctx.leaves
      .get(host)
      .then(
        (l) => go(l.context),
        () => respondDeny(ctx, socket, 'upstream_tls', { ...base, host, port: d.port, route: null }),
      )
      .catch(lost);
}

/**
 * What an intercepted tunnel needs after its handshake, kept in one record per tunnel and read by
 * module-level listeners: an idle tunnel then holds no closures of its own, only this record and
 * Node's socket objects (docs/decisions/egress-memory.md).
 */
interface Intercepted {
  ctx: RelayContext;
  tctx: TunnelCtx;
  raw: Duplex;
  id: number;
  started: number;
  /** Absolute handshake deadline; null once the handshake is done or the socket is gone. */
  hs: NodeJS.Timeout | null;
}

const intercepted = new WeakMap<tls.TLSSocket, Intercepted>();

function destroySelf(this: Duplex): void {
  this.destroy();
}

function destroyTls(sock: tls.TLSSocket): void {
  sock.destroy();
}

function onInterceptSecure(this: tls.TLSSocket): void {
  const s = intercepted.get(this);
  if (!s) return;
  if (s.hs) clearTimeout(s.hs);
  s.hs = null;
  const sni = (this as tls.TLSSocket & { servername?: string | false }).servername;
  if (sni) s.tctx.sni = sni;
  if (sni && sni !== s.tctx.host) s.ctx.logger.emit(1, 'egress_sni_mismatch', { req: s.id, host: s.tctx.host, sni });
}

function onInterceptError(this: tls.TLSSocket, err: Error): void {
  const s = intercepted.get(this);
  if (s?.hs) {
    // Still handshaking: the client refused our leaf (or spoke something else).
    clearTimeout(s.hs);
    s.hs = null;
    const { ctx, tctx, id, started } = s;
    ctx.logger.emit(1, 'egress_tls_client_error', { req: id, host: tctx.host, error: (err as { code?: string }).code ?? 'tls_error' });
    ctx.writeAudit({ id, conn: tctx.conn, mode: 'intercept', method: 'CONNECT', host: tctx.host, port: tctx.port, path: '/', route: null, match: null, decision: 'error', reason: 'tls_client_error', status: 0, injected: null, findings: [], proposal: null, bytes_up: 0, bytes_down: 0, ms_total: msSince(started) });
  }
  this.destroy();
}

function onInterceptClose(this: tls.TLSSocket): void {
  const s = intercepted.get(this);
  if (!s) return;
  if (s.hs) clearTimeout(s.hs);
  s.hs = null;
  intercepted.delete(this);
  s.ctx.tunnels.delete(this);
  s.raw.destroy();
}

function intercept(ctx: RelayContext, socket: Duplex, head: Buffer, host: string, port: number, local: boolean, context: tls.SecureContext, conn: number, id: number, started: number): void {
  if (socket.destroyed) return;
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length) socket.unshift(head);
  const tlsSock = new tls.TLSSocket(socket as Socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
  const tctx: TunnelCtx = { conn, host, port, local, mode: 'intercept', socket: tlsSock };
  ctx.tunnels.set(tlsSock, tctx);
  // An absolute deadline, not an idle timeout: a client trickling handshake bytes is still cut off.
  const hs = setTimeout(destroyTls, ctx.t.tlsHandshake, tlsSock);
  intercepted.set(tlsSock, { ctx, tctx, raw: socket, id, started, hs });
  tlsSock.on('secure', onInterceptSecure);
  tlsSock.on('error', onInterceptError);
  tlsSock.on('close', onInterceptClose);
  tlsSock.setTimeout(ctx.t.tunnelIdle);
  tlsSock.on('timeout', destroySelf);
  ctx.inner.emit('connection', tlsSock);
}

async function passthrough(ctx: RelayContext, socket: Duplex, head: Buffer, host: string, port: number, route: CompiledRoute, id: number, conn: number, started: number, dnsAudit: Record<string, unknown> | null): Promise<void> {
  const { t } = ctx;
  const base = { id, conn, started, method: 'CONNECT', scheme: 'https' as const, path: '/', mode: 'passthrough' as const, host, port, route };
  let address: string;
  try {
    ({ address } = await resolveChecked(ctx.resolve, host, route.allowCidrs));
  } catch (err) {
    return respondDeny(ctx, socket, classifyUpstreamError(err) === 'ssrf' ? 'ssrf' : 'upstream_unreachable', base);
  }
  if (socket.destroyed) return;
  const up = net.connect({ host: address, port, noDelay: true });
  const timer = setTimeout(() => up.destroy(new UpstreamTimeout('connect timeout')), t.upstreamConnect);
  let connected = false;
  let bytesUp = head.length;
  let bytesDown = 0;
  up.on('error', (err) => {
    clearTimeout(timer);
    if (!connected) respondDeny(ctx, socket, classifyUpstreamError(err) === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_unreachable', base);
    else socket.destroy();
  });
  up.on('connect', () => {
    connected = true;
    clearTimeout(timer);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) up.write(head);
    const tctx: TunnelCtx = { conn, host, port, local: false, mode: 'passthrough', socket };
    ctx.tunnels.set(socket, tctx);
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
      ctx.tunnels.delete(socket);
      ctx.writeAudit({ id, conn, mode: 'passthrough', method: 'CONNECT', host, port, path: '/', route: route.label, match: null, decision: 'allow', reason: null, status: 200, injected: null, findings: dnsAudit ? [dnsAudit] : [], proposal: null, bytes_up: bytesUp, bytes_down: bytesDown, ms_total: msSince(started) });
    });
  });
}
