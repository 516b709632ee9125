/**
 * The redacted dummy `auth.json` the guest gets with forward_host_credentials
 * (docs/configuration.md §3.2). Built by ALLOWLIST from the host file: only `auth_mode`,
 * `tokens.account_id`, `last_refresh`, JWT `exp` and the ChatGPT account id survive; every other
 * scalar becomes a placeholder, so a field Codex adds tomorrow cannot leak. Key spelling and order
 * are preserved.
 */
import { findKey } from './host-auth.js';
import { decodeJwtPayload, dummyJwt, isObject, type JsonObject } from './jwt.js';

export const AUTH_PLACEHOLDER = 'bot-bottle-placeholder';
const OPENAI_AUTH_CLAIM = 'https://api.openai.com/auth';

/** null and booleans kept; arrays and objects keep their shape; every other scalar is replaced. */
export function redactGeneric(value: unknown): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(redactGeneric);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactGeneric(v);
    return out;
  }
  return AUTH_PLACEHOLDER;
}

function is(key: string, wanted: string): boolean {
  return key.toLowerCase() === wanted.toLowerCase();
}

function dummyPayload(payload: JsonObject, fallbackExp: unknown): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(payload)) {
    if (is(k, 'exp')) {
      out[k] = v;
    } else if (is(k, OPENAI_AUTH_CLAIM) && isObject(v)) {
      const claim: JsonObject = {};
      for (const [ck, cv] of Object.entries(v)) {
        claim[ck] = is(ck, 'chatgpt_account_id') && typeof cv === 'string' ? cv : redactGeneric(cv);
      }
      out[k] = claim;
    } else {
      out[k] = redactGeneric(v);
    }
  }
  if (findKey(out, 'exp') === undefined && fallbackExp !== undefined) out.exp = fallbackExp;
  return out;
}

function dummyToken(token: string, fallbackExp: unknown): string {
  const payload = decodeJwtPayload(token);
  if (payload === null) return dummyJwt(fallbackExp === undefined ? {} : { exp: fallbackExp }, AUTH_PLACEHOLDER);
  return dummyJwt(dummyPayload(payload, fallbackExp), AUTH_PLACEHOLDER);
}

function redactTokens(tokens: unknown, accessExp: unknown): unknown {
  if (!isObject(tokens)) return redactGeneric(tokens);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(tokens)) {
    if ((is(k, 'access_token') || is(k, 'id_token')) && typeof v === 'string') out[k] = dummyToken(v, accessExp);
    else if (is(k, 'account_id') && typeof v === 'string' && v !== '') out[k] = v;
    else out[k] = redactGeneric(v);
  }
  return out;
}

export function buildDummyAuth(host: JsonObject): JsonObject {
  // The access token's exp: the fallback for an id token without one (and for undecodable ones).
  let accessExp: unknown;
  const tokensKey = findKey(host, 'tokens');
  const tokens = tokensKey === undefined ? undefined : host[tokensKey];
  if (isObject(tokens)) {
    const accessKey = findKey(tokens, 'access_token');
    const access = accessKey === undefined ? undefined : tokens[accessKey];
    if (typeof access === 'string') {
      const payload = decodeJwtPayload(access);
      const expKey = payload === null ? undefined : findKey(payload, 'exp');
      if (payload !== null && expKey !== undefined) accessExp = payload[expKey];
    }
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(host)) {
    if (is(k, 'auth_mode')) out[k] = typeof v === 'string' && v !== '' ? v : redactGeneric(v);
    else if (is(k, 'OPENAI_API_KEY')) out[k] = null;
    else if (is(k, 'tokens')) out[k] = redactTokens(v, accessExp);
    // A timestamp Codex must parse, not a credential (a decision of this code base).
    else if (is(k, 'last_refresh') && typeof v === 'string') out[k] = v;
    else out[k] = redactGeneric(v);
  }
  return out;
}
