/**
 * Names bot-bottle owns in the agent env (docs/configuration.md §3.1) and reserved references
 * (docs/configuration.md §3.4.2). Pure.
 */

const RESERVED_EXACT = new Set([
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'CODEX_CA_CERTIFICATE',
]);
const RESERVED_ANY_CASE = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY']);
const RESERVED_PREFIXES = ['EGRESS_TOKEN_', 'GIT_GATE_', 'BOT_BOTTLE_'];

/** True when the pipeline owns this agent env name (the proxy, CA and bot-bottle variables). */
export function isReservedEnvName(name: string): boolean {
  return RESERVED_EXACT.has(name) || RESERVED_ANY_CASE.has(name.toUpperCase()) || RESERVED_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * Reference names no manifest may use (docs/configuration.md §3.4.2); providers only their own
 * synthetic ones. `fixedRefs` are the built-in providers' fixed synthetic references (from the
 * registry, so this file need not know them).
 */
export function isReservedReference(ref: string, fixedRefs: ReadonlySet<string>): boolean {
  return /^(EGRESS_TOKEN_|GIT_GATE_TOKEN_|BOT_BOTTLE_PROVIDER_)/.test(ref) || fixedRefs.has(ref);
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `BOT_BOTTLE_PROVIDER_<NAME>_` for a template (upper-cased, `-` → `_`). */
export function providerRefPrefix(template: string): string {
  return `BOT_BOTTLE_PROVIDER_${template.toUpperCase().replace(/-/g, '_')}_`;
}
