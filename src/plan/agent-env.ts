/**
 * The agent's environment (docs/configuration.md §9), computed once here and applied unchanged by
 * every backend. Pure.
 */
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, SIDECAR_PORTS } from './bottle-plan.js';

export const EGRESS_PROXY_URL = `http://egress:${SIDECAR_PORTS.egress}`;
export const SUPERVISE_MCP_URL = `http://supervise:${SIDECAR_PORTS.supervise}/mcp`;
export const NO_PROXY_VALUE = 'localhost,127.0.0.1,git-gate,supervise';

export interface AgentEnvInput {
  readonly slug: string;
  readonly label: string;
  readonly color: string;
  readonly canary: string;
  /** Provider guestEnv (already validated: no reserved names). */
  readonly providerEnv: Readonly<Record<string, string>>;
  readonly providerName: string;
  /** Resolved manifest env, declaration order. */
  readonly manifestEnv: Readonly<Record<string, string>>;
}

export interface AgentEnv {
  readonly env: Record<string, string>;
  /** `env NAME is also set by provider X; the provider value wins` (docs/configuration.md §3.1). */
  readonly warnings: string[];
}

export function buildAgentEnv(i: AgentEnvInput): AgentEnv {
  const env: Record<string, string> = {
    HTTP_PROXY: EGRESS_PROXY_URL,
    HTTPS_PROXY: EGRESS_PROXY_URL,
    http_proxy: EGRESS_PROXY_URL,
    https_proxy: EGRESS_PROXY_URL,
    NO_PROXY: NO_PROXY_VALUE,
    no_proxy: NO_PROXY_VALUE,
    NODE_EXTRA_CA_CERTS: GUEST_CA_CERT,
    SSL_CERT_FILE: GUEST_CA_BUNDLE,
    REQUESTS_CA_BUNDLE: GUEST_CA_BUNDLE,
    CURL_CA_BUNDLE: GUEST_CA_BUNDLE,
    GIT_SSL_CAINFO: GUEST_CA_BUNDLE,
    CODEX_CA_CERTIFICATE: GUEST_CA_BUNDLE,
    BOT_BOTTLE_CANARY: i.canary,
    BOT_BOTTLE_SLUG: i.slug,
    BOT_BOTTLE_LABEL: i.label,
    BOT_BOTTLE_COLOR: i.color,
  };
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(i.manifestEnv)) env[name] = value;
  for (const [name, value] of Object.entries(i.providerEnv)) {
    if (Object.prototype.hasOwnProperty.call(i.manifestEnv, name)) {
      warnings.push(`env ${name} is also set by provider ${i.providerName}; the provider value wins`);
    }
    env[name] = value;
  }
  return { env, warnings };
}
