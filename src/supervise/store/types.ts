/**
 * The supervise store's public types (docs/supervise.md, "Store"). Host processes
 * only: the operator CLI, the TUI and the launcher open the store; sidecars reach it through their
 * bottle's spool directory (spool.ts). Everything here is API for src/cli/supervise-tui and
 * src/supervise/host: change it additively.
 */

export const PROPOSAL_KINDS = ['egress-allow', 'capability-block', 'egress-token-allow', 'secret-allow'] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];
export const PROPOSAL_ORIGINS = ['agent', 'egress', 'git-gate'] as const;
export type ProposalOrigin = (typeof PROPOSAL_ORIGINS)[number];
export type ProposalState = 'pending' | 'answered' | 'expired' | 'withdrawn';
export type Decision = 'approved' | 'modified' | 'rejected';

/** Kinds the operator may answer with `modified` (the agent's own requests). */
export const MODIFIABLE_KINDS: ReadonlySet<ProposalKind> = new Set(['egress-allow', 'capability-block']);
/** Kinds whose approval needs a reason (sidecar holds: a value reaches a host / a secret is pushed). */
export const REASON_ON_APPROVE_KINDS: ReadonlySet<ProposalKind> = new Set(['egress-token-allow', 'secret-allow']);

export interface Proposal {
  readonly id: string;
  /** Host arrival order: the FIFO key across bottles. */
  readonly seq: number;
  readonly bottle: string;
  readonly kind: ProposalKind;
  readonly origin: ProposalOrigin;
  readonly justification: string | null;
  /** Parsed JSON payload as filed (secrets masked at the source). */
  readonly payload: unknown;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: ProposalState;
}

export interface ResponseRecord {
  readonly proposalId: string;
  readonly decision: Decision;
  readonly notes: string;
  readonly reason: string | null;
  /** Parsed JSON; set for `modified` only. */
  readonly modifiedPayload: unknown;
  readonly operator: string;
  readonly decidedAt: string;
  readonly appliedAt: string | null;
  readonly deliveredAt: string | null;
}

export interface ProposalWithResponse extends Proposal {
  readonly response: ResponseRecord | null;
}

export interface DecideInput {
  readonly id: string;
  readonly decision: Decision;
  readonly notes?: string;
  readonly reason?: string | null;
  readonly modifiedPayload?: unknown;
  /** `<user>` of `operator:<user>`, or `remembered:<scope>` for a remembered rule's decision. */
  readonly operator: string;
  /** Set when the apply already happened (route changes): `applied_at` = decided_at. */
  readonly markApplied?: boolean;
  readonly now?: Date;
}

/** The audit actor of a decision: `operator:<user>`, or `remembered:<scope>` as it is. */
export function decisionActor(input: Pick<DecideInput, 'operator'>): string {
  return input.operator.startsWith('remembered:') ? input.operator : `operator:${input.operator}`;
}

export interface AuditInput {
  readonly bottle: string | null;
  readonly proposalId: string | null;
  /** agent | egress | git-gate | operator:<user> | launcher */
  readonly actor: string;
  readonly event: AuditEvent;
  /** JSON-able; ids, kinds, hosts, rule ids, masked values, fingerprints — never a secret. */
  readonly detail: Record<string, unknown>;
  readonly now?: Date;
}

export type AuditEvent =
  | 'proposal.filed'
  | 'proposal.withdrawn'
  | 'proposal.expired'
  | 'proposal.rejected_unsafe'
  /** A spool file that does not validate (moved aside as `*.bad`; the caller is answered `rejected`). */
  | 'proposal.invalid'
  | 'decision.recorded'
  | 'apply.succeeded'
  | 'apply.failed'
  | 'response.delivered'
  | 'capability.rebuilt'
  /** A proposal decided by a remembered rule (detail: rule id, scope). */
  | 'decision.remembered'
  | 'remember.added'
  | 'remember.forgotten';

/** Scopes a remembered rule is stored under (docs/decisions/supervise-remember.md). */
export type RememberScopeStored = 'bottle' | 'agent';

export interface RememberRule {
  readonly id: number;
  readonly scope: RememberScopeStored;
  /** The slug (`bottle`) or the agent name (`agent`). */
  readonly subject: string;
  readonly kind: ProposalKind;
  /** Parsed JSON (src/supervise/host/remember-match.ts); never a secret value. */
  readonly rule: unknown;
  readonly sourceProposal: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface RememberInput {
  readonly scope: RememberScopeStored;
  readonly subject: string;
  readonly kind: ProposalKind;
  readonly rule: unknown;
  readonly sourceProposal: string | null;
  /** `operator:<user>` */
  readonly createdBy: string;
  /** For the audit row. */
  readonly bottle: string | null;
  readonly now?: Date;
}

export interface AuditRow {
  readonly id: number;
  readonly ts: string;
  readonly bottle: string | null;
  readonly proposalId: string | null;
  readonly actor: string;
  readonly event: string;
  readonly detail: Record<string, unknown>;
}

export interface ImportResult {
  /** Newly stored proposal ids (a file another importer stored first is not listed). */
  readonly imported: string[];
  readonly closed: string[];
  readonly rejectedUnsafe: string[];
  /** One line per unreadable or invalid spool file (the file is moved aside as `*.bad`). */
  readonly errors: string[];
}

export interface OpenOptions {
  /** Receives one-line notices (e.g. the Python-original database was set aside). */
  readonly onNotice?: (line: string) => void;
}

/** The store API (docs/supervise.md). Synchronous: better-sqlite3 is. */
export interface SuperviseStore {
  readonly path: string;
  /** Imports one bottle's spool: outbox proposals and close events; deletes what it consumed. */
  importSpool(spoolDir: string, opts?: { now?: Date }): ImportResult;
  /** Several spools in one pass; proposals are filed in creation order across them (FIFO). */
  importSpools(spoolDirs: readonly string[], opts?: { now?: Date }): ImportResult;
  /**
   * Writes `inbox/<id>.json` for answered proposals of `bottle` not yet delivered, marking them
   * delivered in the same transaction (each response is delivered once across processes).
   */
  exportResponses(bottle: string, spoolDir: string, opts?: { now?: Date }): string[];
  /** Pending proposals past `expires_at` → `expired` (+ audit); returns their ids. */
  expireDue(now?: Date): string[];
  /** Pending proposals, oldest first (`seq`). */
  listPending(opts?: { bottle?: string }): Proposal[];
  get(id: string): ProposalWithResponse | null;
  /** One transaction; throws SuperviseStoreError (already_decided, expired, …). */
  decide(input: DecideInput): ResponseRecord;
  markApplied(id: string, now?: Date): void;
  audit(entry: AuditInput): void;
  /** Newest first. */
  readAudit(opts?: { bottle?: string; limit?: number }): AuditRow[];
  /** Stores a rule (an identical one is returned instead of a duplicate) and audits it. */
  addRememberRule(input: RememberInput): RememberRule;
  /** Rules, oldest first; filtered by scope/subject/kind when given. */
  listRememberRules(opts?: { scope?: RememberScopeStored; subject?: string; kind?: ProposalKind }): RememberRule[];
  /** Deletes a rule (audited); null when there is none with that id. */
  forgetRememberRule(id: number, by: string, now?: Date): RememberRule | null;
  close(): void;
}
