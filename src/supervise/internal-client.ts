/**
 * Client of the supervise daemon's internal API (docs/architecture.md §7a; the server is
 * src/supervise/internal-api.ts): JSON over HTTP on a Unix socket. Shared by egress (`egress-token-allow`
 * holds) and the git gate (`secret-allow`), which only differ in the proposal they file and how
 * they phrase the outcome. Every failure mode is reported, never thrown past `awaitDecision`, so
 * callers can fail closed.
 */
import http from 'node:http';

const MAX_ANSWER_BYTES = 1 << 20;

export interface SuperviseAnswer {
  status: number;
  /** Parsed body; null when it was not JSON. */
  json: unknown;
}

export function superviseRequest(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<SuperviseAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        method,
        path,
        timeout: opts.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        headers: { host: 'supervise', ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error('supervise answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let json: unknown = null;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('supervise request timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ok = (status: number): boolean => status >= 200 && status <= 299;

/** Files a proposal; returns its id. Throws with a readable reason when supervise does not accept it. */
export async function fileProposal(
  socketPath: string,
  proposal: { kind: string; origin: string; payload: unknown; timeoutSeconds: number },
  opts: { signal?: AbortSignal } = {},
): Promise<string> {
  const res = await superviseRequest(
    socketPath,
    'POST',
    '/v1/proposals',
    { kind: proposal.kind, origin: proposal.origin, payload: proposal.payload, timeout_seconds: proposal.timeoutSeconds },
    { timeoutMs: 10_000, ...(opts.signal ? { signal: opts.signal } : {}) },
  );
  const id = isObj(res.json) ? res.json['id'] : undefined;
  if (!ok(res.status) || (typeof id !== 'string' && typeof id !== 'number')) {
    throw new Error(`proposal not accepted (HTTP ${res.status})`);
  }
  return String(id);
}

export type Decision =
  | { state: 'approved' | 'rejected'; answer: Record<string, unknown> }
  | { state: 'timeout' }
  | { state: 'unavailable'; detail: string };

/** Long-polls the decision until `deadline` (epoch ms). Never throws. */
export async function awaitDecision(
  socketPath: string,
  id: string,
  opts: { deadline: number; pollSeconds?: number; signal?: AbortSignal },
): Promise<Decision> {
  const poll = opts.pollSeconds ?? 30;
  for (;;) {
    const leftMs = opts.deadline - Date.now();
    if (leftMs <= 0) return { state: 'timeout' };
    const wait = Math.max(1, Math.min(poll, Math.ceil(leftMs / 1000)));
    let res: SuperviseAnswer;
    try {
      res = await superviseRequest(socketPath, 'GET', `/v1/proposals/${encodeURIComponent(id)}/decision?wait=${wait}`, undefined, {
        timeoutMs: Math.min(leftMs, wait * 1000) + 5000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (!opts.signal?.aborted && Date.now() >= opts.deadline) return { state: 'timeout' };
      return { state: 'unavailable', detail: (err as Error).message };
    }
    if (!ok(res.status) || !isObj(res.json)) return { state: 'unavailable', detail: `malformed decision (HTTP ${res.status})` };
    const st = res.json['status'];
    if (st === 'approved' || st === 'rejected') return { state: st, answer: res.json };
    if (st === 'expired') return { state: 'timeout' };
    if (st !== 'pending') return { state: 'unavailable', detail: 'malformed decision' };
  }
}
