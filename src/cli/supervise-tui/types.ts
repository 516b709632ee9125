/**
 * The small interface the supervise TUI needs (docs/cli.md#supervise). It is wired to the store
 * and host modules of src/supervise/ by store-source.ts and driven by a fake in unit tests, so the
 * screen logic never depends on SQLite.
 */
import type { ProposalKind } from '../../supervise/store/types.js';

export interface TuiProposal {
  readonly id: string;
  readonly seq: number;
  readonly bottle: string;
  readonly kind: ProposalKind;
  readonly justification: string | null;
  readonly payload: unknown;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface TuiDetail {
  /** Diff for route or Dockerfile changes, or the sidecar kinds' description; plain text. */
  readonly text: string;
  readonly warnings: readonly string[];
}

export interface TuiDecision {
  readonly id: string;
  readonly decision: 'approved' | 'modified' | 'rejected';
  readonly reason?: string;
  readonly notes?: string;
  readonly modifiedPayload?: unknown;
  /** Approve and remember with this scope (docs/decisions/supervise-remember.md). */
  readonly remember?: 'bottle' | 'agent' | 'file';
}

export interface TuiSource {
  /** Import spools, expire due proposals, deliver answers: once per refresh. Errors are shown, not fatal. */
  tick(now: Date): void | Promise<void>;
  /** Pending proposals of every bottle, oldest first. */
  listPending(): readonly TuiProposal[];
  /** Seconds since the bottle's supervise heartbeat; null when it never wrote one. */
  heartbeatAge(slug: string, now: Date): number | null;
  /** The bottle's label colour name (`red`…), if any. */
  labelColor(slug: string): string | undefined;
  summary(p: TuiProposal): string;
  detail(p: TuiProposal): TuiDetail;
  /** The text the operator edits for `modify`: routes as YAML, or the Dockerfile. */
  editText(p: TuiProposal): string;
  /** Edited text → the modified payload, or a thrown Error whose message lists the problems. */
  parseEdit(p: TuiProposal, text: string): unknown;
  /** Applies and records (apply-before-record); resolves with a one-line outcome, rejects on refusal. */
  decide(d: TuiDecision): Promise<string>;
}
