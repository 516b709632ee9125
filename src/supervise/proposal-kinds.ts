/**
 * Proposal kinds, who may file them, and the request body of the internal API's
 * `POST /v1/proposals` (docs/architecture.md §7a). Pure.
 */
export const KINDS = ['egress-allow', 'capability-block', 'egress-token-allow', 'secret-allow'] as const;
export type Kind = (typeof KINDS)[number];
export type Origin = 'agent' | 'egress' | 'git-gate';

/** The one origin each kind comes from. */
export const KIND_ORIGIN: Readonly<Record<Kind, Origin>> = {
  'egress-allow': 'agent',
  'capability-block': 'agent',
  'egress-token-allow': 'egress',
  'secret-allow': 'git-gate',
};

/** Longest wait a sidecar may ask for (a day); anything longer is a bug on its side. */
export const MAX_INTERNAL_TIMEOUT_SECONDS = 86_400;
/** Largest payload accepted over the internal API (masked findings are small). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface InternalProposal {
  kind: Kind;
  origin: Origin;
  payload: Record<string, unknown>;
  timeoutSeconds: number;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Body of `POST /v1/proposals` → the proposal, or the reason for a 400. Only sidecar kinds come
 * this way: agent kinds are filed through the MCP tools, which validate their payload.
 */
export function parseInternalProposal(body: unknown): { ok: true; value: InternalProposal } | { ok: false; message: string } {
  if (!isObj(body)) return { ok: false, message: 'body must be a JSON object {kind, origin, payload, timeout_seconds}' };
  const { kind, origin, payload } = body;
  const timeout = body['timeout_seconds'];
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) return { ok: false, message: `unknown kind (known: ${KINDS.join(', ')})` };
  const k = kind as Kind;
  if (KIND_ORIGIN[k] === 'agent') return { ok: false, message: `kind ${k} is filed by the agent's MCP tools, not over the internal API` };
  if (origin !== KIND_ORIGIN[k]) return { ok: false, message: `kind ${k} must have origin ${KIND_ORIGIN[k]}` };
  if (!isObj(payload)) return { ok: false, message: 'payload must be a JSON object' };
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) return { ok: false, message: `payload exceeds ${MAX_PAYLOAD_BYTES} bytes` };
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > MAX_INTERNAL_TIMEOUT_SECONDS) {
    return { ok: false, message: `timeout_seconds must be a number in (0, ${MAX_INTERNAL_TIMEOUT_SECONDS}]` };
  }
  return { ok: true, value: { kind: k, origin: KIND_ORIGIN[k], payload, timeoutSeconds: timeout } };
}

/** JSON with object keys sorted, so two equal payloads give equal text whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
