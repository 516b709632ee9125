/**
 * The exception path for inline allow markers (git-gate spec §6.3): one `secret-allow` proposal
 * to supervise over its internal Unix-socket API (supervise spec §4), then wait for the decision.
 * Pluggable so the daemon can run before supervise exists; every failure mode fails closed.
 */
import http from 'node:http';

export interface SecretAllowFinding {
  readonly commit: string;
  readonly file: string;
  readonly line: number | null;
  readonly rule: string;
  readonly masked_line: string;
  readonly reason: string;
}

export interface SecretAllowRequest {
  readonly repo: string;
  readonly refUpdates: ReadonlyArray<{ readonly ref: string; readonly old: string; readonly new: string }>;
  readonly findings: readonly SecretAllowFinding[];
}

export type ApprovalOutcome =
  | { readonly status: 'approved'; readonly id: string; readonly reason: string }
  | { readonly status: 'rejected'; readonly id: string; readonly notes: string }
  | { readonly status: 'timeout'; readonly id: string }
  | { readonly status: 'unavailable'; readonly detail: string };

export interface Approver {
  /** `onFiled` fires once the proposal exists, so the push can print the waiting line. */
  request(req: SecretAllowRequest, timeoutSeconds: number, onFiled: (id: string) => void): Promise<ApprovalOutcome>;
}

/** Used when no supervise socket is configured: nothing can be approved. */
export const unavailableApprover: Approver = {
  request: async () => ({ status: 'unavailable', detail: 'no supervise service configured' }),
};

function call(socketPath: string, method: string, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        method,
        path,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) req.destroy(new Error('response too large'));
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
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function createSuperviseApprover(socketPath: string, opts: { pollSeconds?: number } = {}): Approver {
  const poll = opts.pollSeconds ?? 30;
  return {
    async request(req, timeoutSeconds, onFiled) {
      let id: string;
      try {
        const filed = await call(
          socketPath,
          'POST',
          '/v1/proposals',
          {
            kind: 'secret-allow',
            origin: 'git-gate',
            payload: { repo: req.repo, ref_updates: req.refUpdates, findings: req.findings },
            timeout_seconds: timeoutSeconds,
          },
          10_000,
        );
        if (filed.status < 200 || filed.status > 299 || !isObj(filed.json) || typeof filed.json['id'] !== 'string' && typeof filed.json['id'] !== 'number') {
          return { status: 'unavailable', detail: `proposal not accepted (HTTP ${filed.status})` };
        }
        id = String(filed.json['id']);
      } catch (err) {
        return { status: 'unavailable', detail: (err as Error).message };
      }
      onFiled(id);
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        if (left <= 0) return { status: 'timeout', id };
        const wait = Math.min(poll, left);
        let answer: { status: number; json: unknown };
        try {
          answer = await call(socketPath, 'GET', `/v1/proposals/${encodeURIComponent(id)}/decision?wait=${wait}`, undefined, (wait + 10) * 1000);
        } catch (err) {
          return { status: 'unavailable', detail: (err as Error).message };
        }
        if (answer.status < 200 || answer.status > 299 || !isObj(answer.json)) return { status: 'unavailable', detail: `malformed decision (HTTP ${answer.status})` };
        const st = answer.json['status'];
        const notes = typeof answer.json['notes'] === 'string' ? answer.json['notes'] : '';
        const reason = typeof answer.json['reason'] === 'string' ? answer.json['reason'] : notes;
        if (st === 'approved') {
          if (reason.trim() === '') return { status: 'unavailable', detail: 'approval without an operator reason' };
          return { status: 'approved', id, reason };
        }
        if (st === 'rejected') return { status: 'rejected', id, notes: notes || reason };
        if (st === 'expired') return { status: 'timeout', id };
        if (st !== 'pending') return { status: 'unavailable', detail: 'malformed decision' };
      }
    },
  };
}
