/**
 * Locating and validating the host's Codex login for forward_host_credentials
 * (docs/configuration.md §3.2). Each failure is a distinct ProviderAuthError reason; messages show
 * the path with `~` and never a value from the file.
 */
import { join } from 'node:path';
import { ProviderAuthError } from '../errors.js';
import { tildePath } from '../paths.js';
import type { ProviderHost } from '../types.js';
import { decodeJwtPayload, isObject, type JsonObject } from './jwt.js';

/** Expiry within this margin counts as expired: the launch takes time, requests take time. */
export const EXPIRY_SKEW_MS = 60_000;

export interface HostCodexLogin {
  readonly path: string;
  /** The parsed file, used only to build the redacted dummy. */
  readonly document: JsonObject;
  readonly accessToken: string;
  readonly accessExp: number;
}

export function codexAuthPath(host: ProviderHost): string {
  const codexHome = host.env.CODEX_HOME;
  return codexHome ? join(codexHome, 'auth.json') : join(host.home, '.codex', 'auth.json');
}

/** Case-insensitive own-key lookup; returns the key as spelled in the file. */
export function findKey(obj: JsonObject, wanted: string): string | undefined {
  const lower = wanted.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

function get(obj: JsonObject, wanted: string): unknown {
  const key = findKey(obj, wanted);
  return key === undefined ? undefined : obj[key];
}

const RELOGIN = 'log in again with "codex login --device-auth"';

export async function readHostCodexLogin(host: ProviderHost, now: Date): Promise<HostCodexLogin> {
  const path = codexAuthPath(host);
  const shown = tildePath(path, host.home);
  const malformed = (why: string): ProviderAuthError =>
    new ProviderAuthError('CODEX_AUTH_MALFORMED', `codex: ${shown} is not a valid Codex login (${why}); ${RELOGIN}`);

  let bytes: Uint8Array | null;
  try {
    bytes = await host.readFile(path);
  } catch {
    throw malformed('not readable');
  }
  if (bytes === null) {
    throw new ProviderAuthError(
      'CODEX_AUTH_MISSING',
      `codex: forward_host_credentials is on but ${shown} does not exist; run "codex login --device-auth" on this machine, then start again`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw malformed('not JSON');
  }
  if (!isObject(parsed)) throw malformed('not a JSON object');

  const mode = get(parsed, 'auth_mode');
  const tokens = get(parsed, 'tokens');
  const apiKey = get(parsed, 'OPENAI_API_KEY');
  const modeIsApiKey = typeof mode === 'string' && ['apikey', 'api_key'].includes(mode.toLowerCase());
  const implicitApiKey = mode === undefined && tokens === undefined && typeof apiKey === 'string' && apiKey !== '';
  if (modeIsApiKey || implicitApiKey) {
    throw new ProviderAuthError(
      'CODEX_AUTH_API_KEY_MODE',
      'codex: the host login uses an API key; forward_host_credentials only forwards ChatGPT logins — run "codex login --device-auth", or drop forward_host_credentials and give api.openai.com an egress auth route',
    );
  }
  if (!isObject(tokens)) throw malformed('tokens is not an object');
  const access = get(tokens, 'access_token');
  if (typeof access !== 'string' || access === '') throw malformed('tokens.access_token is missing');
  const payload = decodeJwtPayload(access);
  if (payload === null) throw malformed('tokens.access_token is not a JWT');
  const exp = get(payload, 'exp');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw malformed('tokens.access_token has no exp claim');
  if (exp * 1000 <= now.getTime() + EXPIRY_SKEW_MS) {
    const at = new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    throw new ProviderAuthError(
      'CODEX_AUTH_EXPIRED',
      `codex: the host login expired at ${at}; run any codex command on the host to refresh it, then start again`,
    );
  }
  return { path, document: parsed, accessToken: access, accessExp: exp };
}
