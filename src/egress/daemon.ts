/**
 * The egress process (`bot-bottle sidecar egress`): reads its settings, refuses to start on a bad
 * table / CA / slot (exit 78), serves, reloads, and shuts down gracefully (docs/architecture.md §7).
 */
import { readFile } from 'node:fs/promises';
import { readCaFiles, CaError } from './ca.js';
import { configFromEnv, checkSlots, EgressStartupError, EXIT_CONFIG, type EgressConfig } from './config.js';
import { createAuditFile } from './log.js';
import { parseRoutesFile } from './routes-file.js';
import { compileRouteTable, type RouteTable } from './route-table.js';
import { RoutesWatcher } from './reload.js';
import { createEgressServer, type EgressServer } from './server.js';
import { createSuperviseSocketApprover, type Approver } from './approver.js';
import { VERSION } from '../version.js';

export interface DaemonHandle {
  server: EgressServer;
  watcher: RoutesWatcher;
  /** Resolves with the exit code once shut down. */
  done: Promise<number>;
}

function line(event: string, fields: Record<string, unknown>, bottle: string): string {
  return `${JSON.stringify({ ts: new Date().toISOString(), level: 0, event, bottle, ...fields })}\n`;
}

function compileFor(cfg: EgressConfig) {
  return (text: string): RouteTable => {
    const table = compileRouteTable(parseRoutesFile(text));
    checkSlots(table, cfg.tokens);
    return table;
  };
}

/** Starts the daemon; throws EgressStartupError (exit 78) on bad configuration. */
export async function startEgressDaemon(env: NodeJS.ProcessEnv, over: { routes?: string; listen?: string; approver?: Approver; installSignals?: boolean } = {}): Promise<DaemonHandle> {
  const cfg = configFromEnv(env, over);
  let text: string;
  try {
    text = await readFile(cfg.routesPath, 'utf8');
  } catch {
    throw new EgressStartupError(`cannot read the routes file ${cfg.routesPath} (EGRESS_ROUTES); check the path and the mount`);
  }
  const compile = compileFor(cfg);
  let table: RouteTable;
  try {
    table = compile(text);
  } catch (e) {
    if (e instanceof EgressStartupError) throw e;
    throw new EgressStartupError(`invalid routes file ${cfg.routesPath}: ${(e as Error).message}`);
  }
  let ca;
  try {
    ca = await readCaFiles(cfg.caCertPath, cfg.caKeyPath);
  } catch (e) {
    throw new EgressStartupError(e instanceof CaError ? `${e.message} (EGRESS_CA_CERT / EGRESS_CA_KEY)` : 'cannot load the egress CA');
  }
  let upstreamCaPem: string | undefined;
  if (cfg.upstreamCaFile) {
    try {
      upstreamCaPem = await readFile(cfg.upstreamCaFile, 'utf8');
    } catch {
      throw new EgressStartupError(`cannot read EGRESS_UPSTREAM_CA_FILE ${cfg.upstreamCaFile}`);
    }
  }
  let audit;
  try {
    audit = createAuditFile(cfg.auditPath);
  } catch {
    throw new EgressStartupError(`cannot open the audit file ${cfg.auditPath} (EGRESS_AUDIT_PATH)`);
  }
  // The per-bottle buffer cap (docs/decisions/egress-bounded-resources.md); never below one body
  // of the DLP scan limit, or every maximal body would be refused.
  let bufferBudgetBytes: number | undefined;
  const budgetText = env.EGRESS_BUFFER_BUDGET_BYTES;
  if (budgetText !== undefined && budgetText !== '') {
    if (!/^\d+$/.test(budgetText) || Number(budgetText) < cfg.dlpMaxBodyBytes) {
      throw new EgressStartupError('EGRESS_BUFFER_BUDGET_BYTES must be an integer ≥ EGRESS_DLP_MAX_BODY_BYTES');
    }
    bufferBudgetBytes = Number(budgetText);
  }
  const server = createEgressServer({
    table,
    ca,
    bottle: cfg.slug || table.doc.bottle,
    tokens: cfg.tokens,
    ...(cfg.canary ? { canary: cfg.canary } : {}),
    sensitive: cfg.sensitive,
    ...(cfg.logLevel !== undefined ? { logLevel: cfg.logLevel } : {}),
    audit,
    resolveMap: cfg.resolveMap,
    ...(upstreamCaPem ? { upstreamCaPem } : {}),
    approver: over.approver ?? createSuperviseSocketApprover(cfg.superviseSocket),
    holdTimeoutMs: cfg.holdTimeoutMs,
    dlpMaxBodyBytes: cfg.dlpMaxBodyBytes,
    dlpOversize: cfg.dlpOversize,
    maxConnections: cfg.maxConnections,
    ...(bufferBudgetBytes !== undefined ? { bufferBudgetBytes } : {}),
  });
  const addr = await server.listen(cfg.listenPort, cfg.listenHost).catch(() => {
    throw new EgressStartupError(`cannot listen on ${cfg.listenHost}:${cfg.listenPort} (EGRESS_LISTEN / --listen)`);
  });
  const level = server.logger.level;
  server.logger.emit(0, 'egress_boot', {
    version: VERSION,
    listen: `${addr.address}:${addr.port}`,
    routes: table.routes.length,
    generation: table.doc.generation,
    log: level === 0 ? 'off' : level === 1 ? 'blocks' : 'full',
    ca_sha256: ca.fingerprint,
    known_secrets: Object.keys(cfg.tokens).length + (cfg.canary ? 1 : 0) + cfg.sensitive.length,
  });
  const watcher = new RoutesWatcher({
    path: cfg.routesPath,
    compile,
    onSwap: (t) => {
      server.setTable(t);
      server.logger.emit(0, 'egress_reload', { generation: t.doc.generation, routes: t.routes.length });
    },
    onFail: (message) => {
      server.setReloadStatus({ at: new Date().toISOString(), ok: false, error: message });
      server.logger.emit(0, 'egress_reload_failed', { error: message, kept_generation: server.table().doc.generation });
    },
  });
  watcher.setCurrent(text);
  watcher.start();
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  if (over.installSignals !== false) {
    // Last resort (docs/decisions/egress-bounded-resources.md): every relay path handles its own
    // stream errors, so these never fire in tests; if one slips through, it costs that connection
    // and a loud log line, not the bottle's only way out.
    process.on('unhandledRejection', (err: unknown) => {
      server.logger.emit(0, 'egress_internal_error', { where: 'unhandledRejection', error: err instanceof Error ? err.message : 'error' });
    });
    process.on('uncaughtException', (err: Error) => {
      server.logger.emit(0, 'egress_internal_error', { where: 'uncaughtException', error: err.message });
    });
    let signals = 0;
    const onStop = (sig: string) => {
      signals += 1;
      if (signals > 1) {
        process.stderr.write(line('egress_exit', { signal: sig, immediate: true }, cfg.slug));
        process.exit(0);
      }
      watcher.stop();
      server.logger.emit(0, 'egress_shutdown', { signal: sig });
      void server.shutdown().then(() => resolveDone(0));
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => void watcher.trigger());
  }
  return { server, watcher, done };
}

/**
 * Runs until shutdown; returns the exit code (78 on bad configuration). `onListening` runs once
 * the server accepts connections (the supervisor's readiness event, src/sidecar/lifeline.ts).
 */
export async function runEgressDaemon(env: NodeJS.ProcessEnv, over: { routes?: string; listen?: string } = {}, onListening?: () => void): Promise<number> {
  try {
    const h = await startEgressDaemon(env, over);
    onListening?.();
    return await h.done;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(line('egress_startup_failed', { error: msg }, env.BOT_BOTTLE_SLUG ?? ''));
    process.stderr.write(`egress: error: ${msg}\n`);
    return e instanceof EgressStartupError ? EXIT_CONFIG : 1;
  }
}
