/**
 * What the relays (relay-request.ts, tunnel.ts, relay-websocket.ts) share with the server that
 * wires them (docs/architecture.md §7): the options, the per-process DLP state, the live route
 * table and upstream pools, and the small header helpers they all use. One object per egress
 * instance, built by createEgressServer; the relays never hold module state.
 */
import type http from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FragmentAccumulator } from '../dlp/accumulator.js';
import type { DetectorName, Finding, Scanner } from '../dlp/types.js';
import type { Approver, HoldManager } from './approver.js';
import type { BufferBudget } from './body.js';
import type { LoadedCa } from './ca.js';
import type { LeafCache } from './leaf-cache.js';
import type { LocalState } from './local.js';
import type { AuditRecord, AuditSink, EgressLogger, LogLevel, LogSink } from './log.js';
import type { DnsExfilGuard } from './dns-exfil.js';
import type { Framing } from './normalize.js';
import type { CompiledRoute, RouteTable } from './route-table.js';
import type { Resolver, UpstreamAgents } from './upstream.js';

export interface EgressTimeouts {
  /** Agent request headers (slowloris), ms. */
  headers: number;
  tlsHandshake: number;
  keepAlive: number;
  upstreamConnect: number;
  upstreamHeaders: number;
  upstreamBodyIdle: number;
  tunnelIdle: number;
  /** Agent request body: no byte for this long → 408 / close (docs/decisions/egress-bounded-resources.md). */
  bodyIdle: number;
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
  bodyIdle: 30_000,
  shutdownGrace: 5_000,
};

/** Default payload cap of one client WebSocket frame and of one message (docs/decisions/egress-bounded-resources.md). */
export const DEFAULT_WS_MAX_MESSAGE = 16 * 1024 * 1024;

/** The per-bottle buffer cap: 64 MiB, and never below two bodies of the DLP scan limit. */
export function defaultBufferBudget(maxBody: number): number {
  return Math.max(64 * 1024 * 1024, 2 * maxBody);
}

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
  /** Bytes egress may hold in memory across all connections (default: defaultBufferBudget). */
  bufferBudgetBytes?: number;
  /** Cap on one client WebSocket frame's payload and one message (close 1009 above). */
  wsMaxMessageBytes?: number;
}

/** An accepted CONNECT (or upgraded socket): requests arriving on `socket` belong to it. */
export interface TunnelCtx {
  conn: number;
  host: string;
  port: number;
  local: boolean;
  mode: 'intercept' | 'passthrough' | 'websocket';
  socket: Duplex;
  /** The SNI the client sent, once its handshake is done (a spelling the DNS-exfil check reads). */
  sni?: string;
}

/** Where one request goes once its target is decided. */
export interface Target {
  scheme: 'https' | 'http';
  host: string;
  port: number;
  /** After admission: the normalised path and query sent upstream. */
  url: string;
  conn: number;
  /** After admission: the body framing the agent used (docs/decisions/egress-normalisation.md). */
  framing: Framing;
}

export interface RelayContext {
  readonly opts: EgressServerOptions;
  readonly t: EgressTimeouts;
  readonly scanner: Scanner;
  /** Cross-request fragment coverage (docs/decisions/dlp-fragments.md), one per process. */
  readonly accumulator: FragmentAccumulator;
  readonly hasCanary: boolean;
  readonly logger: EgressLogger;
  readonly holds: HoldManager;
  readonly leaves: LeafCache;
  readonly resolve: Resolver;
  readonly maxBody: number;
  readonly oversize: 'block' | 'stream';
  /** Shared by every connection of this egress (= this bottle). */
  readonly budget: BufferBudget;
  readonly wsMaxMessage: number;
  /** Wildcard-routed names are judged here before any lookup (docs/decisions/egress-dns-exfil.md). */
  readonly dnsGuard: DnsExfilGuard;
  readonly tunnels: Map<Duplex, TunnelCtx>;
  readonly connIds: WeakMap<object, number>;
  /** The internal http.Server intercepted TLS sockets are emitted into. */
  readonly inner: http.Server;
  /** Live state, swapped by reloads and shutdown. */
  table: RouteTable;
  agents: UpstreamAgents;
  shuttingDown: boolean;
  nextId(): number;
  lookupFor(route: CompiledRoute): LookupFunction;
  writeAudit(rec: Omit<AuditRecord, 'ts' | 'bottle'>): void;
  localState(): LocalState;
  /** Counts a forward in flight (graceful shutdown waits for them). */
  track(p: Promise<void>): void;
}

export const DLP_NO_DETECTORS: ReadonlySet<DetectorName> = new Set();

export function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}

export function pathOnly(url: string): string {
  const m = /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)?([^?#]*)/.exec(url);
  return m?.[1] || '/';
}

export function stripMasked(f: Record<string, unknown>): Record<string, unknown> {
  const { masked: _m, ...rest } = f;
  return rest;
}

export function requestHasBody(req: http.IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export function headerOf(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

export function removeHeader(raw: string[], name: string): void {
  for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]!.toLowerCase() === name) raw.splice(i, 2);
}

export function setHeader(raw: string[], name: string, value: string): void {
  removeHeader(raw, name);
  raw.push(name, value);
}

export function pairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

export function blocking(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'block');
}
