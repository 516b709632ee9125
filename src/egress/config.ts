/**
 * Daemon settings from the environment (docs/architecture.md §7). Values of credentials are read
 * here and handed to the server only; every error names a variable or file, never a value.
 */
import { parseResolveMap } from './upstream.js';
import type { LogLevel } from './log.js';
import type { RouteTable } from './route-table.js';

export const EXIT_CONFIG = 78;

export class EgressStartupError extends Error {
  readonly exitCode = EXIT_CONFIG;
  constructor(message: string) {
    super(message);
    this.name = 'EgressStartupError';
  }
}

export interface EgressConfig {
  routesPath: string;
  listenHost: string;
  listenPort: number;
  caCertPath: string;
  caKeyPath: string;
  tokens: Record<string, string>;
  canary: string | undefined;
  sensitive: Array<{ name: string; value: string }>;
  holdTimeoutMs: number;
  logLevel: LogLevel | undefined;
  auditPath: string;
  superviseSocket: string;
  upstreamCaFile: string | undefined;
  dlpMaxBodyBytes: number;
  dlpOversize: 'block' | 'stream';
  slug: string;
  resolveMap: Map<string, string[]>;
  maxConnections: number;
}

export function parseListen(v: string, name: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new EgressStartupError(`${name} must be ADDR:PORT (e.g. 0.0.0.0:9099)`);
  return { host: (m[1] ?? m[2])!, port };
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number): number {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new EgressStartupError(`${name} must be an integer ≥ ${min}`);
  return Number(v);
}

export function configFromEnv(env: NodeJS.ProcessEnv, over: { routes?: string; listen?: string } = {}): EgressConfig {
  const listen = parseListen(over.listen ?? env.EGRESS_LISTEN ?? '0.0.0.0:9099', over.listen ? '--listen' : 'EGRESS_LISTEN');
  const tokens: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^EGRESS_TOKEN_[0-9]+$/.test(k) || v === undefined) continue;
    if (/[\r\n\0]/.test(v)) throw new EgressStartupError(`${k} contains a CR, LF or NUL character; fix the secret's value on the host`);
    tokens[k] = v;
  }
  const canary = env.EGRESS_TOKEN_CANARY || undefined;
  if (canary && /[\r\n\0]/.test(canary)) throw new EgressStartupError('EGRESS_TOKEN_CANARY contains a CR, LF or NUL character');
  const prefixes = (env.BOT_BOTTLE_SENSITIVE_PREFIXES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const sensitive: Array<{ name: string; value: string }> = [];
  for (const [k, v] of Object.entries(env)) {
    if (!v || k === 'BOT_BOTTLE_SENSITIVE_PREFIXES') continue;
    if (prefixes.some((p) => k.startsWith(p))) sensitive.push({ name: k, value: v });
  }
  let logLevel: LogLevel | undefined;
  if (env.EGRESS_LOG !== undefined && env.EGRESS_LOG !== '') {
    if (!['0', '1', '2'].includes(env.EGRESS_LOG)) throw new EgressStartupError('EGRESS_LOG must be 0, 1 or 2');
    logLevel = Number(env.EGRESS_LOG) as LogLevel;
  }
  const oversize = env.EGRESS_DLP_OVERSIZE ?? 'block';
  if (oversize !== 'block' && oversize !== 'stream') throw new EgressStartupError('EGRESS_DLP_OVERSIZE must be block or stream');
  let resolveMap: Map<string, string[]>;
  try {
    resolveMap = parseResolveMap(env.EGRESS_RESOLVE);
  } catch (e) {
    throw new EgressStartupError((e as Error).message);
  }
  return {
    routesPath: over.routes ?? env.EGRESS_ROUTES ?? '/etc/bot-bottle/live-config/routes.yaml',
    listenHost: listen.host,
    listenPort: listen.port,
    caCertPath: env.EGRESS_CA_CERT ?? '/etc/bot-bottle/egress/ca.pem',
    caKeyPath: env.EGRESS_CA_KEY ?? '/etc/bot-bottle/egress/ca-key.pem',
    tokens,
    canary,
    sensitive,
    holdTimeoutMs: int(env, 'EGRESS_TOKEN_ALLOW_TIMEOUT_SECONDS', 300, 1) * 1000,
    logLevel,
    auditPath: env.EGRESS_AUDIT_PATH ?? '/var/log/bot-bottle/egress-audit.jsonl',
    superviseSocket: env.SUPERVISE_INTERNAL_SOCKET ?? '/run/bot-bottle/supervise.sock',
    upstreamCaFile: env.EGRESS_UPSTREAM_CA_FILE || undefined,
    dlpMaxBodyBytes: int(env, 'EGRESS_DLP_MAX_BODY_BYTES', 32 * 1024 * 1024, 1),
    dlpOversize: oversize,
    slug: env.BOT_BOTTLE_SLUG ?? '',
    resolveMap,
    maxConnections: int(env, 'EGRESS_MAX_CLIENT_CONNECTIONS', 256, 1),
  };
}

/** Every slot a route references must be set and non-empty (names the slot only). */
export function checkSlots(table: RouteTable, tokens: Readonly<Record<string, string>>): void {
  for (const slot of table.slots) {
    if (!tokens[slot]) throw new EgressStartupError(`the routes file references ${slot}, which is unset or empty in the egress environment; relaunch the bottle so the supervisor passes it`);
  }
}
