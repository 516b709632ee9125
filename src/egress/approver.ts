/**
 * DLP `supervise` holds (docs/decisions/egress-supervise-holds.md). The approver is pluggable: the
 * default rejects (fail closed); `createSuperviseSocketApprover` files `egress-token-allow`
 * proposals over the supervise daemon's internal API (docs/architecture.md §7a). `HoldManager` adds the
 * memory rules: approvals for the process lifetime by (host, fingerprint), rejections for 15 min,
 * identical concurrent holds share one proposal, at most 32 holds.
 */
import { awaitDecision, fileProposal } from '../supervise/internal-client.js';

export interface ApprovalRequest {
  readonly bottle: string;
  readonly host: string;
  readonly method: string;
  /** Always the redacted path. */
  readonly path: string;
  readonly findings: ReadonlyArray<{ detector: string; rule: string; surface: string; masked: string; fingerprint: string }>;
}

export type ApprovalOutcome = { status: 'approved' | 'rejected' | 'timeout' | 'unavailable'; proposal: string | null };

export interface Approver {
  /** Must settle by `timeoutMs` (as `timeout`) and on `signal` abort (as `unavailable`). Never throws. */
  request(req: ApprovalRequest, timeoutMs: number, signal: AbortSignal): Promise<ApprovalOutcome>;
}

export const rejectingApprover: Approver = {
  request: async () => ({ status: 'unavailable', proposal: null }),
};

/** Files a proposal and long-polls its decision. Any protocol error is `unavailable` (fail closed). */
export function createSuperviseSocketApprover(socketPath: string): Approver {
  return {
    async request(r, timeoutMs, signal) {
      const deadline = Date.now() + timeoutMs;
      let id: string;
      try {
        id = await fileProposal(
          socketPath,
          {
            kind: 'egress-token-allow',
            origin: 'egress',
            payload: { bottle: r.bottle, host: r.host, method: r.method, path: r.path, findings: r.findings },
            timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
          },
          { signal },
        );
      } catch {
        return { status: 'unavailable', proposal: null };
      }
      const d = await awaitDecision(socketPath, id, { deadline, signal });
      return { status: d.state, proposal: id };
    },
  };
}

export const MAX_HOLDS = 32;
const REJECT_MEMORY_MS = 15 * 60_000;

export class HoldManager {
  private readonly approved = new Set<string>();
  private readonly rejected = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<ApprovalOutcome>>();
  private readonly controller = new AbortController();
  active = 0;

  constructor(
    private readonly approver: Approver,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves the hold; never throws. */
  async hold(req: ApprovalRequest): Promise<ApprovalOutcome> {
    const keys = req.findings.map((f) => `${req.host}\u0000${f.fingerprint}`);
    if (keys.length > 0 && keys.every((k) => this.approved.has(k))) return { status: 'approved', proposal: null };
    const t = this.now();
    for (const k of keys) {
      const until = this.rejected.get(k);
      if (until !== undefined && until > t) return { status: 'rejected', proposal: null };
    }
    if (this.controller.signal.aborted) return { status: 'unavailable', proposal: null };
    const shareKey = `${req.host}\u0000${req.method}\u0000${req.path}\u0000${[...keys].sort().join(',')}`;
    let p = this.inflight.get(shareKey);
    if (!p) {
      if (this.active >= MAX_HOLDS) return { status: 'unavailable', proposal: null };
      this.active += 1;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<ApprovalOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'timeout', proposal: null }), this.timeoutMs);
      });
      const abort = new Promise<ApprovalOutcome>((resolve) => {
        this.controller.signal.addEventListener('abort', () => resolve({ status: 'unavailable', proposal: null }), { once: true });
      });
      p = Promise.race([
        this.approver.request(req, this.timeoutMs, this.controller.signal).catch((): ApprovalOutcome => ({ status: 'unavailable', proposal: null })),
        deadline,
        abort,
      ])
        .finally(() => clearTimeout(timer))
        .then((out) => {
          this.active -= 1;
          this.inflight.delete(shareKey);
          if (out.status === 'approved') for (const k of keys) this.approved.add(k);
          if (out.status === 'rejected') for (const k of keys) this.rejected.set(k, this.now() + REJECT_MEMORY_MS);
          return out;
        });
      this.inflight.set(shareKey, p);
    }
    const out = await p;
    return this.controller.signal.aborted && out.status !== 'approved' ? { status: 'unavailable', proposal: out.proposal } : out;
  }

  /** Shutdown: every open hold ends as unavailable. */
  abortAll(): void {
    this.controller.abort();
  }
}
