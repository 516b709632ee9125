/**
 * The supervise daemon's settings from its environment (docs/architecture.md §7a). Pure. The
 * daemon holds no credentials: nothing here is a secret, and the supervisor gives it none.
 */
export const SUPERVISE_DEFAULTS = {
  listen: '0.0.0.0:9100',
  internalSocket: '/run/bot-bottle/supervise.sock',
  spoolDir: '/var/lib/bot-bottle/supervise',
  toolTimeoutSeconds: 600,
  introspectUrl: 'http://127.0.0.1:9099',
  routesFile: '/etc/bot-bottle/live-config/routes.yaml',
} as const;

export interface SuperviseConfig {
  listen: { host: string; port: number };
  internalSocket: string;
  spoolDir: string;
  toolTimeoutSeconds: number;
  introspectUrl: string;
  routesFile: string;
  bottle: string;
}

export class SuperviseConfigError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

function listen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  // Port 0 (any free port) is for tests.
  if (!m || port > 65535) throw new SuperviseConfigError('supervise: SUPERVISE_LISTEN must be host:port (e.g. 0.0.0.0:9100)');
  return { host: (m[1] ?? m[2])!, port };
}

export function superviseConfigFromEnv(env: Env): SuperviseConfig {
  const timeoutText = env.SUPERVISE_TOOL_TIMEOUT_SECONDS;
  let toolTimeoutSeconds: number = SUPERVISE_DEFAULTS.toolTimeoutSeconds;
  if (timeoutText !== undefined && timeoutText !== '') {
    toolTimeoutSeconds = Number(timeoutText);
    if (!Number.isFinite(toolTimeoutSeconds) || toolTimeoutSeconds <= 0) {
      throw new SuperviseConfigError('supervise: SUPERVISE_TOOL_TIMEOUT_SECONDS must be a positive number of seconds');
    }
  }
  const introspectUrl = (env.EGRESS_INTROSPECT_URL || SUPERVISE_DEFAULTS.introspectUrl).replace(/\/+$/, '');
  if (!/^http:\/\/[^/]+$/.test(introspectUrl)) throw new SuperviseConfigError('supervise: EGRESS_INTROSPECT_URL must be http://host:port');
  const socket = env.SUPERVISE_INTERNAL_SOCKET || SUPERVISE_DEFAULTS.internalSocket;
  if (!socket.startsWith('/')) throw new SuperviseConfigError('supervise: SUPERVISE_INTERNAL_SOCKET must be an absolute path');
  const spoolDir = env.SUPERVISE_SPOOL_DIR || SUPERVISE_DEFAULTS.spoolDir;
  if (!spoolDir.startsWith('/')) throw new SuperviseConfigError('supervise: SUPERVISE_SPOOL_DIR must be an absolute path');
  return {
    listen: listen(env.SUPERVISE_LISTEN || SUPERVISE_DEFAULTS.listen),
    internalSocket: socket,
    spoolDir,
    toolTimeoutSeconds,
    introspectUrl,
    routesFile: env.SUPERVISE_ROUTES_FILE || SUPERVISE_DEFAULTS.routesFile,
    bottle: env.BOT_BOTTLE_SLUG ?? '',
  };
}

/**
 * The tool timeout agents are configured with (Claude `MCP_TOOL_TIMEOUT`, Codex
 * `tool_timeout_sec`): the daemon's wait plus a minute, so the daemon's `rejected` (timeout)
 * answer always reaches the agent before its client gives up.
 */
export const AGENT_TOOL_TIMEOUT_SECONDS = SUPERVISE_DEFAULTS.toolTimeoutSeconds + 60;
