/**
 * The sidecar daemons the supervisor knows about and the environment each child gets
 * (docs/architecture.md §7). Pure: no I/O, so backends and tests can compute a child's env without
 * starting anything.
 */
import { SIDECAR_PORTS, type DaemonName } from '../plan/bottle-plan.js';
import { egressNodeFlags } from './node-flags.js';

export const DAEMON_PORTS: Readonly<Record<DaemonName, number>> = {
  egress: SIDECAR_PORTS.egress,
  'git-gate': SIDECAR_PORTS.gitGate,
  supervise: SIDECAR_PORTS.supervise,
};

/** The `*_LISTEN` variable of each daemon. */
export const LISTEN_VAR: Readonly<Record<DaemonName, string>> = {
  egress: 'EGRESS_LISTEN',
  'git-gate': 'GIT_GATE_LISTEN',
  supervise: 'SUPERVISE_LISTEN',
};

/** Host env every child inherits (children get an allowlisted env, docs/architecture.md §6). */
const BASE_VARS = ['PATH', 'HOME', 'LANG', 'TZ'] as const;

/**
 * Non-secret settings each daemon documents; when present in the supervisor's env they pass
 * through and win over the --config/--listen table (tests, `demo`). Token slots are NOT here.
 */
const OWN_SETTINGS: Readonly<Record<DaemonName, readonly string[]>> = {
  egress: [
    'EGRESS_ROUTES', 'EGRESS_LISTEN', 'EGRESS_CA_CERT', 'EGRESS_CA_KEY', 'EGRESS_TOKEN_ALLOW_TIMEOUT_SECONDS',
    'EGRESS_LOG', 'EGRESS_AUDIT_PATH', 'SUPERVISE_INTERNAL_SOCKET', 'EGRESS_UPSTREAM_CA_FILE',
    'EGRESS_DLP_MAX_BODY_BYTES', 'EGRESS_DLP_OVERSIZE', 'EGRESS_RESOLVE', 'EGRESS_BUFFER_BUDGET_BYTES', 'EGRESS_MAX_CLIENT_CONNECTIONS',
  ],
  'git-gate': [
    'GIT_GATE_CONFIG', 'GIT_GATE_ROOT', 'GIT_GATE_LISTEN', 'GIT_GATE_FETCH_TIMEOUT_SECONDS',
    'GIT_GATE_ALLOW_TIMEOUT_SECONDS', 'GIT_GATE_SCAN_MAX_BLOB_BYTES', 'GIT_GATE_UPSTREAM_CA_FILE',
    'GIT_GATE_RESOLVE', 'GIT_GATE_AUDIT_PATH', 'SUPERVISE_INTERNAL_SOCKET',
    'GIT_GATE_SCAN_MAX_OBJECTS', 'GIT_GATE_SCAN_MAX_TOTAL_BYTES', 'GIT_GATE_SCAN_TIMEOUT_SECONDS', 'GIT_GATE_MAX_BODY_BYTES',
    'GIT_GATE_BODY_IDLE_TIMEOUT_SECONDS', 'GIT_GATE_BODY_TIMEOUT_SECONDS', 'GIT_GATE_REQUEST_TIMEOUT_SECONDS',
  ],
  supervise: [
    'SUPERVISE_LISTEN', 'SUPERVISE_INTERNAL_SOCKET', 'SUPERVISE_SPOOL_DIR', 'SUPERVISE_TOOL_TIMEOUT_SECONDS',
    'EGRESS_INTROSPECT_URL', 'SUPERVISE_ROUTES_FILE',
  ],
};

/** Which daemon may hold a given secret name; null = not a sidecar secret name at all. */
export function secretOwner(name: string): DaemonName | null {
  if (/^EGRESS_TOKEN_(?:\d+|CANARY)$/.test(name)) return 'egress';
  if (/^GIT_GATE_TOKEN_\d+$/.test(name) || name === 'GIT_GATE_CANARY') return 'git-gate';
  return null;
}

/** Paths inside `--config <dir>` (= state/<slug>/) (docs/architecture.md §7). */
function configVars(daemon: DaemonName, dir: string): Record<string, string> {
  const socket = `${dir}/run/supervise.sock`;
  switch (daemon) {
    case 'egress':
      return {
        EGRESS_ROUTES: `${dir}/live-config/routes.yaml`,
        EGRESS_CA_CERT: `${dir}/egress/ca.pem`,
        EGRESS_CA_KEY: `${dir}/egress/ca-key.pem`,
        EGRESS_AUDIT_PATH: `${dir}/logs/egress-audit.jsonl`,
        SUPERVISE_INTERNAL_SOCKET: socket,
      };
    case 'git-gate':
      return {
        GIT_GATE_CONFIG: `${dir}/git-gate/config.yaml`,
        GIT_GATE_ROOT: `${dir}/git-gate`,
        GIT_GATE_AUDIT_PATH: `${dir}/logs/git-gate-audit.jsonl`,
        SUPERVISE_INTERNAL_SOCKET: socket,
      };
    case 'supervise':
      return {
        SUPERVISE_ROUTES_FILE: `${dir}/live-config/routes.yaml`,
        SUPERVISE_SPOOL_DIR: `${dir}/supervise/spool`,
        SUPERVISE_INTERNAL_SOCKET: socket,
      };
  }
}

function listenVars(daemon: DaemonName, addr: string): Record<string, string> {
  const hostPort = (port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
  const vars: Record<string, string> = { [LISTEN_VAR[daemon]]: hostPort(DAEMON_PORTS[daemon]) };
  if (daemon === 'supervise') vars.EGRESS_INTROSPECT_URL = `http://${hostPort(DAEMON_PORTS.egress)}`;
  return vars;
}

export interface ChildEnvInput {
  daemon: DaemonName;
  /** The supervisor's own environment. */
  parentEnv: Readonly<Record<string, string | undefined>>;
  /** Secret values (from stdin, or from parentEnv in the test-only mode). */
  secrets: Readonly<Record<string, string>>;
  configDir?: string | undefined;
  listen?: string | undefined;
}

/** The complete environment of one child: allowlist + table + own settings + its own secrets. */
export function buildChildEnv(input: ChildEnvInput): Record<string, string> {
  const { daemon, parentEnv } = input;
  const env: Record<string, string> = {};
  const copy = (name: string) => {
    const v = parentEnv[name];
    if (v !== undefined) env[name] = v;
  };
  BASE_VARS.forEach(copy);
  copy('BOT_BOTTLE_SLUG');
  if (input.configDir !== undefined) Object.assign(env, configVars(daemon, input.configDir));
  if (input.listen !== undefined) Object.assign(env, listenVars(daemon, input.listen));
  OWN_SETTINGS[daemon].forEach(copy);
  if (daemon === 'egress' || daemon === 'git-gate') {
    const prefixes = parentEnv.BOT_BOTTLE_SENSITIVE_PREFIXES;
    if (prefixes) {
      env.BOT_BOTTLE_SENSITIVE_PREFIXES = prefixes;
      const list = prefixes.split(',').map((p) => p.trim()).filter(Boolean);
      for (const [name, value] of Object.entries(parentEnv)) {
        if (value !== undefined && list.some((p) => name.startsWith(p)) && secretOwner(name) === null) env[name] = value;
      }
    }
  }
  for (const [name, value] of Object.entries(input.secrets)) {
    if (secretOwner(name) === daemon) env[name] = value;
  }
  if (daemon === 'egress') env.NODE_OPTIONS = egressNodeFlags(env);
  return env;
}

/** Secrets taken from the supervisor's own env (test-only mode without --tokens-from-stdin). */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && secretOwner(name) !== null) out[name] = value;
  }
  return out;
}

export type SecretsParseResult = { ok: true; secrets: Record<string, string> } | { ok: false; message: string };

/** Validates the one JSON object read from stdin. Messages name keys, never values. */
export function parseSecretsJson(text: string): SecretsParseResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, message: 'stdin is not one JSON object of sidecar secrets' };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, message: 'stdin is not one JSON object of sidecar secrets' };
  }
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    if (secretOwner(name) === null) {
      return { ok: false, message: `unexpected key "${name}" in the secrets on stdin (allowed: EGRESS_TOKEN_<n>, EGRESS_TOKEN_CANARY, GIT_GATE_TOKEN_<n>, GIT_GATE_CANARY)` };
    }
    if (typeof value !== 'string') return { ok: false, message: `secret "${name}" on stdin is not a string` };
    secrets[name] = value;
  }
  return { ok: true, secrets };
}

/** `--daemons a,b` → validated names (order kept, duplicates dropped). */
/**
 * `--daemons a,b` → validated names (order kept, duplicates dropped). A known daemon this build
 * does not implement is skipped (listed in `skipped`), never faked; only when nothing is left to
 * run is that an error.
 */
export function parseDaemonList(
  text: string,
  implemented: readonly DaemonName[],
): { ok: true; daemons: DaemonName[]; skipped: DaemonName[] } | { ok: false; message: string } {
  const known: readonly string[] = ['egress', 'git-gate', 'supervise'];
  const out: DaemonName[] = [];
  const skipped: DaemonName[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!known.includes(raw)) return { ok: false, message: `unknown daemon "${raw}" in --daemons (known: ${known.join(', ')})` };
    const name = raw as DaemonName;
    if (!implemented.includes(name)) {
      if (!skipped.includes(name)) skipped.push(name);
    } else if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) {
    const why = skipped.length > 0 ? `: ${skipped.join(', ')} ${skipped.length === 1 ? 'is' : 'are'} not implemented in this version of bot-bottle` : '';
    return { ok: false, message: `--daemons names no daemon to run${why}` };
  }
  return { ok: true, daemons: out, skipped };
}

/** Port a daemon listens on given its final env (its `*_LISTEN` may be overridden). */
export function listenTarget(daemon: DaemonName, env: Readonly<Record<string, string>>): { host: string; port: number } {
  const v = env[LISTEN_VAR[daemon]];
  let host = '0.0.0.0';
  let port = DAEMON_PORTS[daemon];
  if (v) {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v);
    if (m) {
      host = m[1] ?? m[2] ?? host;
      port = Number(m[3]);
    }
  }
  // A wildcard listener is probed over loopback.
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port };
}
