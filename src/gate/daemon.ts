/**
 * Builds the daemon's options from its environment (docs/architecture.md §7) and runs it until a
 * signal. Shared by `bot-bottle sidecar git-gate` and src/gate/main.ts; never prints: events go to
 * the `log` callback the caller supplies.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GateConfigError, parseGateConfig, TOKEN_SLOT_RE } from './config.js';
import { parseResolve } from './credentials.js';
import { DEFAULT_LIMITS, GateStartupError, startGitGate, type GateEvent, type GitGate, type GitGateOptions } from './server.js';

export const GATE_DEFAULTS = {
  config: '/etc/bot-bottle/git-gate/config.yaml',
  root: '/var/lib/bot-bottle/git-gate',
  listen: '0.0.0.0:9420',
  audit: '/var/log/bot-bottle/git-gate-audit.jsonl',
  superviseSocket: '/run/bot-bottle/supervise.sock',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

export function parseListen(value: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new GateStartupError(`git-gate: ${name} must be a positive number`);
  return n;
}

export async function gateOptionsFromEnv(env: Env): Promise<Omit<GitGateOptions, 'onEvent'>> {
  const configPath = resolve(env['GIT_GATE_CONFIG'] || GATE_DEFAULTS.config);
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch {
    throw new GateStartupError(`git-gate: cannot read GIT_GATE_CONFIG ${configPath}; relaunch the bottle to re-render it`);
  }
  let config;
  try {
    config = parseGateConfig(text, configPath);
  } catch (err) {
    if (err instanceof GateConfigError) throw new GateStartupError(`git-gate: ${err.message}`);
    throw err;
  }
  const listenText = env['GIT_GATE_LISTEN'] || GATE_DEFAULTS.listen;
  const listen = parseListen(listenText);
  if (!listen) throw new GateStartupError('git-gate: GIT_GATE_LISTEN must be host:port (e.g. 0.0.0.0:9420)');
  const tokens: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (TOKEN_SLOT_RE.test(k) && v !== undefined) tokens[k] = v;
  const sensitive: Record<string, string> = {};
  const prefixes = (env['BOT_BOTTLE_SENSITIVE_PREFIXES'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const [k, v] of Object.entries(env)) {
    if (v && prefixes.some((p) => k.startsWith(p)) && k !== 'BOT_BOTTLE_SENSITIVE_PREFIXES') sensitive[k] = v;
  }
  const resolveMap = parseResolve(env['GIT_GATE_RESOLVE']);
  if (!(resolveMap instanceof Map)) throw new GateStartupError(`git-gate: ${resolveMap.error}`);
  const canary = env['GIT_GATE_CANARY'];
  return {
    config,
    configDir: dirname(configPath),
    root: resolve(env['GIT_GATE_ROOT'] || GATE_DEFAULTS.root),
    listen,
    secrets: { tokens, ...(canary ? { canary } : {}), sensitive },
    fetchTimeoutSeconds: positiveNumber(env, 'GIT_GATE_FETCH_TIMEOUT_SECONDS', 60),
    allowTimeoutSeconds: positiveNumber(env, 'GIT_GATE_ALLOW_TIMEOUT_SECONDS', 300),
    maxBlobBytes: positiveNumber(env, 'GIT_GATE_SCAN_MAX_BLOB_BYTES', 20 * 1024 * 1024),
    // Bounds on hostile pushes (docs/decisions/gate-scan-every-object.md); unset = the defaults there.
    limits: {
      scanMaxObjects: positiveNumber(env, 'GIT_GATE_SCAN_MAX_OBJECTS', DEFAULT_LIMITS.scanMaxObjects),
      scanMaxTotalBytes: positiveNumber(env, 'GIT_GATE_SCAN_MAX_TOTAL_BYTES', DEFAULT_LIMITS.scanMaxTotalBytes),
      scanSeconds: positiveNumber(env, 'GIT_GATE_SCAN_TIMEOUT_SECONDS', DEFAULT_LIMITS.scanSeconds),
      maxBodyBytes: positiveNumber(env, 'GIT_GATE_MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes),
      bodyIdleSeconds: positiveNumber(env, 'GIT_GATE_BODY_IDLE_TIMEOUT_SECONDS', DEFAULT_LIMITS.bodyIdleSeconds),
      bodySeconds: positiveNumber(env, 'GIT_GATE_BODY_TIMEOUT_SECONDS', DEFAULT_LIMITS.bodySeconds),
      requestSeconds: positiveNumber(env, 'GIT_GATE_REQUEST_TIMEOUT_SECONDS', DEFAULT_LIMITS.requestSeconds),
    },
    ...(env['GIT_GATE_UPSTREAM_CA_FILE'] ? { upstreamCaFile: env['GIT_GATE_UPSTREAM_CA_FILE'] } : {}),
    ...(resolveMap.size > 0 ? { resolve: resolveMap } : {}),
    auditPath: env['GIT_GATE_AUDIT_PATH'] || GATE_DEFAULTS.audit,
    superviseSocket: env['SUPERVISE_INTERNAL_SOCKET'] || GATE_DEFAULTS.superviseSocket,
  };
}

/**
 * Starts the daemon and resolves with the exit code once SIGTERM/SIGINT closed it.
 * Startup failures resolve with 78 after logging one line (never a value).
 */
/** `onListening` runs once the server accepts connections (the supervisor's readiness event). */
export async function runGitGateDaemon(env: Env, log: (line: string) => void, onListening?: () => void): Promise<number> {
  let gate: GitGate;
  try {
    const opts = await gateOptionsFromEnv(env);
    gate = await startGitGate({ ...opts, onEvent: (e: GateEvent) => log(JSON.stringify({ ts: new Date().toISOString(), ...e })) });
  } catch (err) {
    if (err instanceof GateStartupError) {
      log(err.message);
      return err.exitCode;
    }
    log(`git-gate: startup failed: ${(err as Error).message}`);
    return 1;
  }
  onListening?.();
  return new Promise<number>((resolveExit) => {
    const stop = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void gate.close().then(() => resolveExit(sig === 'SIGINT' ? 130 : 0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
