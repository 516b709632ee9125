/** Just enough JWT handling to read `exp` and build unsigned dummies. Never verifies signatures. */

export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export function base64urlEncode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The payload of a three-segment JWT when it is a base64url JSON object, else null. */
export function decodeJwtPayload(token: string): JsonObject | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const payload = parts[1] ?? '';
  if (payload === '' || !B64URL.test(payload)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return isObject(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** An unsigned (`alg: none`) token with the given payload; the signature segment is a placeholder. */
export function dummyJwt(payload: JsonObject, placeholder: string): string {
  return [
    base64urlEncode(JSON.stringify({ alg: 'none', typ: 'JWT' })),
    base64urlEncode(JSON.stringify(payload)),
    base64urlEncode(placeholder),
  ].join('.');
}
