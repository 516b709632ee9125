/**
 * The exception path for inline allow markers (docs/decisions/gate-approvals.md): one
 * `secret-allow` proposal to supervise over its internal Unix-socket API, then wait for the
 * decision. Pluggable so the daemon can run before supervise exists; every failure mode fails
 * closed.
 */
import { awaitDecision, fileProposal } from '../supervise/internal-client.js';

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

export function createSuperviseApprover(socketPath: string, opts: { pollSeconds?: number } = {}): Approver {
  return {
    async request(req, timeoutSeconds, onFiled) {
      let id: string;
      try {
        id = await fileProposal(socketPath, {
          kind: 'secret-allow',
          origin: 'git-gate',
          payload: { repo: req.repo, ref_updates: req.refUpdates, findings: req.findings },
          timeoutSeconds,
        });
      } catch (err) {
        return { status: 'unavailable', detail: (err as Error).message };
      }
      onFiled(id);
      const d = await awaitDecision(socketPath, id, {
        deadline: Date.now() + timeoutSeconds * 1000,
        ...(opts.pollSeconds !== undefined ? { pollSeconds: opts.pollSeconds } : {}),
      });
      if (d.state === 'timeout') return { status: 'timeout', id };
      if (d.state === 'unavailable') return { status: 'unavailable', detail: d.detail };
      const notes = typeof d.answer['notes'] === 'string' ? d.answer['notes'] : '';
      const reason = typeof d.answer['reason'] === 'string' ? d.answer['reason'] : notes;
      if (d.state === 'approved') {
        // secret-allow approvals need an operator reason; one without is not trusted.
        if (reason.trim() === '') return { status: 'unavailable', detail: 'approval without an operator reason' };
        return { status: 'approved', id, reason };
      }
      return { status: 'rejected', id, notes: notes || reason };
    },
  };
}
