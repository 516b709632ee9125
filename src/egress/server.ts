/**
 * The egress daemon core (docs/architecture.md §7): one node:http listener for CONNECT,
 * absolute-form HTTP and `_egress.local`; intercepted tunnels are TLS-terminated with the bottle
 * CA's leaf and emitted into an internal http.Server. A factory, not module state: tests and the
 * supervisor may run several instances in one process. This file only wires: the request relay
 * (relay-request.ts), CONNECT tunnels (tunnel.ts), the WebSocket relay (relay-websocket.ts) and
 * the one deny function (respond-deny.ts) do the work on a shared RelayContext.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FragmentAccumulator } from '../dlp/accumulator.js';
import { createScanner } from '../dlp/scanner.js';
import type { KnownSecret, Scanner } from '../dlp/types.js';
import { HoldManager, rejectingApprover } from './approver.js';
import type { DenyCode } from './deny.js';
import { DnsExfilGuard } from './dns-exfil.js';
import { LeafCache } from './leaf-cache.js';
import type { ReloadStatus } from './local.js';
import { createLogger, memoryAudit, type EgressLogger } from './log.js';
import { BufferBudget } from './body.js';
import { DEFAULT_TIMEOUTS, DEFAULT_WS_MAX_MESSAGE, defaultBufferBudget, type EgressServerOptions, type EgressTimeouts, type RelayContext, type TunnelCtx } from './relay-context.js';
import { MAX_HEADERS, onRequest } from './relay-request.js';
import { onUpgrade } from './relay-websocket.js';
import { respondDeny } from './respond-deny.js';
import { selectRoute, type CompiledRoute, type RouteTable } from './route-table.js';
import { onConnect } from './tunnel.js';
import { checkedLookup, createAgents, createResolver, upstreamTrust, type Resolver } from './upstream.js';
import { VERSION } from '../version.js';

export { DEFAULT_TIMEOUTS, type EgressServerOptions, type EgressTimeouts } from './relay-context.js';

export interface EgressServer {
  readonly server: http.Server;
  readonly logger: EgressLogger;
  readonly scanner: Scanner;
  readonly leaves: LeafCache;
  /** The per-bottle buffer budget (docs/decisions/egress-bounded-resources.md). */
  readonly budget: BufferBudget;
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
  const trust = upstreamTrust(opts.upstreamCaPem);
  let loadedAt = new Date().toISOString();
  let lastReload: ReloadStatus = { at: null, ok: true, error: null };
  const logger = createLogger({
    sink: opts.logSink ?? ((l) => void process.stderr.write(l)),
    bottle: opts.bottle,
    level: opts.logLevel ?? opts.table.doc.log,
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
  const lookups = new WeakMap<CompiledRoute, ReturnType<typeof checkedLookup>>();
  const leaves = new LeafCache({ ca: opts.ca });

  let reqSeq = 0;
  let connSeq = 0;
  let inflight = 0;
  let idleWaiter: (() => void) | null = null;
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
  // Node enforces headersTimeout from a per-server connection list that is set up when the server
  // starts listening. `inner` never listens (tunnels are emitted into it), so without this a
  // request inside a tunnel could trickle its headers for the whole tunnel idle time (slowloris
  // inside CONNECT). 'listening' runs exactly that setup and nothing else; close() clears it.
  inner.emit('listening');

  const ctx: RelayContext = {
    opts,
    t,
    scanner,
    accumulator: new FragmentAccumulator(),
    hasCanary: Boolean(opts.canary),
    logger,
    holds: new HoldManager(opts.approver ?? rejectingApprover, opts.holdTimeoutMs ?? 300_000),
    leaves,
    resolve,
    maxBody: opts.dlpMaxBodyBytes ?? 32 * 1024 * 1024,
    oversize: opts.dlpOversize ?? 'block',
    budget: new BufferBudget(opts.bufferBudgetBytes ?? defaultBufferBudget(opts.dlpMaxBodyBytes ?? 32 * 1024 * 1024)),
    wsMaxMessage: opts.wsMaxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE,
    dnsGuard: new DnsExfilGuard({ scanner }),
    tunnels: new Map<Duplex, TunnelCtx>(),
    connIds: new WeakMap<object, number>(),
    inner,
    table: opts.table,
    agents: createAgents(trust),
    shuttingDown: false,
    nextId: () => ++reqSeq,
    lookupFor(r) {
      let l = lookups.get(r);
      if (!l) {
        l = checkedLookup(resolve, r.allowCidrs);
        lookups.set(r, l);
      }
      return l;
    },
    writeAudit(rec) {
      // host and path come from the agent (a secret can hide in a wildcard subdomain): redact both.
      audit.write({ ts: new Date().toISOString(), bottle: opts.bottle, ...rec, host: logger.redact(rec.host), path: logger.redact(rec.path) });
    },
    localState: () => ({ table: ctx.table, loadedAt, logLevel: logger.level, lastReload }),
    track(p) {
      inflight += 1;
      void p.finally(() => {
        inflight -= 1;
        if (inflight === 0 && idleWaiter) idleWaiter();
      });
    },
  };
  const { tunnels, connIds, holds } = ctx;

  server.on('connection', (socket: Socket) => {
    connIds.set(socket, ++connSeq);
    clientSockets.add(socket);
    socket.on('close', () => clientSockets.delete(socket));
  });

  // ---------- wiring ----------

  // A handler that throws must cost one connection, never the daemon (no client action may crash
  // it; docs/decisions/egress-bounded-resources.md).
  const internalError = (where: string, err: unknown, socket: Duplex | null) => {
    logger.emit(0, 'egress_internal_error', { where, error: err instanceof Error ? err.message : 'error' });
    socket?.destroy();
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      onRequest(ctx, req, res, null);
    } catch (err) {
      internalError('request', err, req.socket);
    }
  });
  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onConnect(ctx, req, socket, head);
    } catch (err) {
      internalError('connect', err, socket);
    }
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onUpgrade(ctx, req, socket, head, null);
    } catch (err) {
      internalError('upgrade', err, socket);
    }
  });
  inner.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      onRequest(ctx, req, res, tunnels.get(req.socket) ?? null);
    } catch (err) {
      internalError('request', err, req.socket);
    }
  });
  inner.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const tunnel = tunnels.get(socket) ?? tunnels.get((req.socket as Duplex) ?? socket);
      onUpgrade(ctx, req, socket, head, tunnel ?? null);
    } catch (err) {
      internalError('upgrade', err, socket);
    }
  });
  const onClientError = (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    const code: DenyCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return void socket.destroy();
    const tunnel = tunnels.get(socket);
    respondDeny(ctx, socket, code, { id: ++reqSeq, conn: tunnel?.conn ?? connIds.get(socket) ?? 0, started: performance.now(), method: '-', scheme: tunnel ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: '/', route: null, mode: tunnel ? 'intercept' : 'http' });
  };
  server.on('clientError', onClientError);
  inner.on('clientError', onClientError);

  function closeLostTunnels(): void {
    for (const [sock, tunnel] of tunnels) {
      if (tunnel.local) continue;
      const r = selectRoute(ctx.table, tunnel.host, tunnel.port);
      const lost = !r || (tunnel.mode === 'passthrough' ? !r.passthrough : r.passthrough);
      if (lost) sock.destroy();
    }
  }

  let shutdownPromise: Promise<void> | null = null;

  const api: EgressServer = {
    server,
    logger,
    scanner,
    leaves,
    budget: ctx.budget,
    listen(port, host) {
      return new Promise((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          // Off the start path, ahead of the first upstream request (upstreamTrust).
          setImmediate(trust);
          resolveListen(server.address() as AddressInfo);
        });
      });
    },
    address: () => server.address() as AddressInfo,
    table: () => ctx.table,
    setTable(next) {
      ctx.table = next;
      loadedAt = new Date().toISOString();
      lastReload = { at: loadedAt, ok: true, error: null };
      logger.setLevel(next.doc.log);
      const old = ctx.agents;
      ctx.agents = createAgents(trust);
      // Pooled sockets were checked against the old table's CIDRs: let in-flight ones finish.
      setTimeout(() => old.destroy(), 1000).unref();
      closeLostTunnels();
    },
    setReloadStatus(s) {
      lastReload = s;
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        ctx.shuttingDown = true;
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
        inner.close();
        ctx.agents.destroy();
        await audit.close();
      })();
      return shutdownPromise;
    },
    async destroy() {
      ctx.shuttingDown = true;
      holds.abortAll();
      server.close();
      for (const [s] of tunnels) s.destroy();
      for (const s of clientSockets) s.destroy();
      server.closeAllConnections();
      inner.closeAllConnections();
      inner.close();
      ctx.agents.destroy();
      await audit.close();
    },
  };
  logger.emit(0, 'egress_boot_core', { version: VERSION, routes: ctx.table.routes.length, known_secrets: known.length, ca_sha256: opts.ca.fingerprint });
  for (const w of scanner.warnings) logger.emit(0, 'egress_warning', { message: w });
  return api;
}

