/**
 * The store API over SQLite (docs/supervise.md): proposals, responses, audit. Host processes
 * only. Every write that depends on a read runs in BEGIN IMMEDIATE, so concurrent importers store
 * each proposal once, two deciders cannot both answer, and a response is delivered once.
 */
import { readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SuperviseStoreError } from './errors.js';
import { openDatabaseAt, storePath } from './open.js';
import {
  INBOX,
  isSpoolId,
  MAX_SPOOL_FILE_BYTES,
  OUTBOX,
  parseSpoolClose,
  parseSpoolProposal,
  writeInboxFile,
  type SpoolProposal,
} from './spool.js';
import { immediate, type Database } from './sqlite.js';
import { unsafeFindings } from './unsafe.js';
import {
  decisionActor,
  MODIFIABLE_KINDS,
  REASON_ON_APPROVE_KINDS,
  type AuditInput,
  type AuditRow,
  type DecideInput,
  type ImportResult,
  type OpenOptions,
  type Proposal,
  type ProposalWithResponse,
  type RememberInput,
  type RememberRule,
  type RememberScopeStored,
  type ResponseRecord,
  type SuperviseStore,
} from './types.js';

interface ProposalRow {
  id: string;
  seq: number;
  bottle: string;
  kind: Proposal['kind'];
  origin: Proposal['origin'];
  justification: string | null;
  payload: string;
  created_at: string;
  expires_at: string;
  state: Proposal['state'];
}

interface RuleRow {
  id: number;
  scope: RememberScopeStored;
  subject: string;
  kind: Proposal['kind'];
  rule: string;
  source_proposal: string | null;
  created_by: string;
  created_at: string;
}

function toRule(r: RuleRow): RememberRule {
  return {
    id: r.id,
    scope: r.scope,
    subject: r.subject,
    kind: r.kind,
    rule: parseJson(r.rule),
    sourceProposal: r.source_proposal,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

interface ResponseRow {
  proposal_id: string;
  decision: ResponseRecord['decision'];
  notes: string;
  reason: string | null;
  modified_payload: string | null;
  operator: string;
  decided_at: string;
  applied_at: string | null;
  delivered_at: string | null;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toProposal(r: ProposalRow): Proposal {
  return {
    id: r.id,
    seq: r.seq,
    bottle: r.bottle,
    kind: r.kind,
    origin: r.origin,
    justification: r.justification,
    payload: parseJson(r.payload),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    state: r.state,
  };
}

function toResponse(r: ResponseRow): ResponseRecord {
  return {
    proposalId: r.proposal_id,
    decision: r.decision,
    notes: r.notes,
    reason: r.reason,
    modifiedPayload: parseJson(r.modified_payload),
    operator: r.operator,
    decidedAt: r.decided_at,
    appliedAt: r.applied_at,
    deliveredAt: r.delivered_at,
  };
}

/** Spool file names sorted so one scan files proposals in their creation order. */
function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Reads a spool file; null when another importer consumed it first. */
function readSpoolJson(path: string): unknown {
  try {
    if (statSync(path).size > MAX_SPOOL_FILE_BYTES) throw new Error(`larger than ${MAX_SPOOL_FILE_BYTES} bytes`);
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function unlinkQuiet(path: string): void {
  rmSync(path, { force: true });
}

/** A file the importer cannot use is moved aside (kept for the operator, never retried). */
function setAside(path: string): void {
  try {
    renameSync(path, `${path}.bad`);
  } catch {
    unlinkQuiet(path);
  }
}

class SqliteStore implements SuperviseStore {
  constructor(
    private readonly db: Database,
    readonly path: string,
  ) {}

  importSpool(spoolDir: string, opts: { now?: Date } = {}): ImportResult {
    return this.importSpools([spoolDir], opts);
  }

  importSpools(spoolDirs: readonly string[], opts: { now?: Date } = {}): ImportResult {
    const now = opts.now ?? new Date();
    const result: { imported: string[]; closed: string[]; rejectedUnsafe: string[]; errors: string[] } = { imported: [], closed: [], rejectedUnsafe: [], errors: [] };
    const proposals: Array<{ p: SpoolProposal; path: string; spoolDir: string }> = [];
    const closes: Array<{ id: string; bottle: string; state: 'expired' | 'withdrawn'; at: string; path: string }> = [];
    for (const spoolDir of spoolDirs) {
      const bottle = bottleOfSpool(spoolDir);
      const outbox = join(spoolDir, OUTBOX);
      for (const name of listDir(outbox)) {
        if (name.startsWith('.') || !name.endsWith('.json')) continue;
        const path = join(outbox, name);
        const isClose = name.endsWith('.closed.json');
        const fileId = name.slice(0, -(isClose ? '.closed.json' : '.json').length);
        try {
          const raw = readSpoolJson(path);
          if (raw === null) continue;
          if (isClose) closes.push({ ...parseSpoolClose(raw, fileId), bottle, path });
          else proposals.push({ p: parseSpoolProposal(raw, fileId, bottle), path, spoolDir });
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          result.errors.push(`${bottle}: ${name}: ${why}`);
          const id = isSpoolId(fileId) ? fileId : null;
          this.audit({ bottle, proposalId: id, actor: 'launcher', event: 'proposal.invalid', detail: { file: name, error: why }, now });
          setAside(path);
          // A caller may be waiting on this id: answer it rather than let it time out.
          if (id && !isClose && !this.get(id)) {
            writeInboxFile(spoolDir, { v: 1, id, decision: 'rejected', notes: `invalid proposal: ${why}`, reason: 'invalid proposal', modified_payload: null, applied: {} });
          }
        }
      }
    }
    // Arrival order across bottles within one pass follows the daemons' creation times.
    proposals.sort((a, b) => a.p.createdAt.localeCompare(b.p.createdAt) || a.p.id.localeCompare(b.p.id));
    for (const { p, path, spoolDir } of proposals) {
      const findings = unsafeFindings(p.justification, p.payload);
      if (findings.length > 0) {
        this.rejectUnsafe(spoolDir, p, findings.map((f) => ({ rule: f.rule, surface: f.surface, masked: f.masked })), now);
        result.rejectedUnsafe.push(p.id);
        unlinkQuiet(path);
        continue;
      }
      const stored = immediate(this.db, () => {
        const r = this.db
          .prepare(
            `INSERT OR IGNORE INTO proposals (id, seq, bottle, kind, origin, justification, payload, created_at, expires_at, state)
             VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM proposals), ?, ?, ?, ?, ?, ?, ?, 'pending')`,
          )
          .run(p.id, p.bottle, p.kind, p.origin, p.justification, JSON.stringify(p.payload), p.createdAt, p.expiresAt);
        if (r.changes === 1) this.audit({ bottle: p.bottle, proposalId: p.id, actor: p.origin, event: 'proposal.filed', detail: { kind: p.kind }, now });
        return r.changes === 1;
      });
      if (stored) result.imported.push(p.id);
      unlinkQuiet(path);
    }
    for (const c of closes) {
      const changed = immediate(this.db, () => {
        const r = this.db.prepare(`UPDATE proposals SET state = ? WHERE id = ? AND bottle = ? AND state = 'pending'`).run(c.state, c.id, c.bottle);
        if (r.changes === 1) {
          this.audit({ bottle: c.bottle, proposalId: c.id, actor: 'agent', event: c.state === 'expired' ? 'proposal.expired' : 'proposal.withdrawn', detail: { at: c.at, by: 'daemon' }, now });
        }
        return r.changes === 1;
      });
      if (changed) result.closed.push(c.id);
      unlinkQuiet(c.path);
    }
    return result;
  }

  /** Not stored; the waiting caller gets a rejection so it does not hang until its timeout. */
  private rejectUnsafe(spoolDir: string, p: SpoolProposal, findings: Array<{ rule: string; surface: string; masked: string }>, now: Date): void {
    this.audit({ bottle: p.bottle, proposalId: p.id, actor: p.origin, event: 'proposal.rejected_unsafe', detail: { kind: p.kind, findings }, now });
    writeInboxFile(spoolDir, {
      v: 1,
      id: p.id,
      decision: 'rejected',
      notes: 'the proposal still contained a secret-shaped value and was not filed; remove it and propose again',
      reason: 'unmasked secret in the proposal',
      modified_payload: null,
      applied: {},
    });
  }

  exportResponses(bottle: string, spoolDir: string, opts: { now?: Date } = {}): string[] {
    const now = (opts.now ?? new Date()).toISOString();
    // The write lock is held while the files are written: a second exporter waits, then finds
    // them delivered. A failed write rolls the marks back, so the next pass retries.
    return immediate(this.db, () => {
      const rows = this.db
        .prepare(
          `SELECT r.* FROM responses r JOIN proposals p ON p.id = r.proposal_id
           WHERE p.bottle = ? AND r.delivered_at IS NULL ORDER BY p.seq`,
        )
        .all(bottle) as ResponseRow[];
      const ids: string[] = [];
      for (const r of rows) {
        const generation = this.appliedGeneration(r.proposal_id);
        writeInboxFile(spoolDir, {
          v: 1,
          id: r.proposal_id,
          decision: r.decision,
          notes: r.notes,
          reason: r.reason,
          modified_payload: parseJson(r.modified_payload),
          applied: generation === undefined ? {} : { generation },
        });
        this.db.prepare('UPDATE responses SET delivered_at = ? WHERE proposal_id = ?').run(now, r.proposal_id);
        this.audit({ bottle, proposalId: r.proposal_id, actor: 'launcher', event: 'response.delivered', detail: { decision: r.decision }, now: new Date(now) });
        ids.push(r.proposal_id);
      }
      return ids;
    });
  }

  /** The generation recorded by the apply step (apply.succeeded), if any. */
  private appliedGeneration(id: string): number | undefined {
    const row = this.db
      .prepare(`SELECT detail FROM audit WHERE proposal_id = ? AND event = 'apply.succeeded' ORDER BY id DESC LIMIT 1`)
      .get(id) as { detail: string } | undefined;
    const g = row ? (parseJson(row.detail) as { generation?: unknown } | null)?.generation : undefined;
    return typeof g === 'number' ? g : undefined;
  }

  expireDue(now: Date = new Date()): string[] {
    const at = now.toISOString();
    return immediate(this.db, () => {
      const due = this.db.prepare(`SELECT id, bottle, kind FROM proposals WHERE state = 'pending' AND expires_at <= ? ORDER BY seq`).all(at) as Array<{ id: string; bottle: string; kind: string }>;
      for (const d of due) {
        this.db.prepare(`UPDATE proposals SET state = 'expired' WHERE id = ?`).run(d.id);
        this.audit({ bottle: d.bottle, proposalId: d.id, actor: 'launcher', event: 'proposal.expired', detail: { kind: d.kind }, now });
      }
      return due.map((d) => d.id);
    });
  }

  listPending(opts: { bottle?: string } = {}): Proposal[] {
    const rows = (
      opts.bottle === undefined
        ? this.db.prepare(`SELECT * FROM proposals WHERE state = 'pending' ORDER BY seq`).all()
        : this.db.prepare(`SELECT * FROM proposals WHERE state = 'pending' AND bottle = ? ORDER BY seq`).all(opts.bottle)
    ) as ProposalRow[];
    return rows.map(toProposal);
  }

  get(id: string): ProposalWithResponse | null {
    const p = this.db.prepare('SELECT * FROM proposals WHERE id = ?').get(id) as ProposalRow | undefined;
    if (!p) return null;
    const r = this.db.prepare('SELECT * FROM responses WHERE proposal_id = ?').get(id) as ResponseRow | undefined;
    return { ...toProposal(p), response: r ? toResponse(r) : null };
  }

  decide(input: DecideInput): ResponseRecord {
    const now = input.now ?? new Date();
    const at = now.toISOString();
    const reason = input.reason?.trim() ? input.reason.trim() : null;
    return immediate(this.db, () => {
      const p = this.db.prepare('SELECT * FROM proposals WHERE id = ?').get(input.id) as ProposalRow | undefined;
      const problem = decisionProblem(p ? toProposal(p) : null, this.db.prepare('SELECT 1 FROM responses WHERE proposal_id = ?').get(input.id) !== undefined, input, now);
      if (problem) throw problem;
      if (!p) throw new SuperviseStoreError('not_found', `no proposal "${input.id}"`);
      const row: ResponseRow = {
        proposal_id: p.id,
        decision: input.decision,
        notes: input.notes ?? '',
        reason,
        modified_payload: input.decision === 'modified' ? JSON.stringify(input.modifiedPayload) : null,
        operator: input.operator,
        decided_at: at,
        applied_at: input.markApplied ? at : null,
        delivered_at: null,
      };
      this.db
        .prepare(
          `INSERT INTO responses (proposal_id, decision, notes, reason, modified_payload, operator, decided_at, applied_at, delivered_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
        )
        .run(row.proposal_id, row.decision, row.notes, row.reason, row.modified_payload, row.operator, row.decided_at, row.applied_at);
      this.db.prepare(`UPDATE proposals SET state = 'answered' WHERE id = ?`).run(p.id);
      this.audit({
        bottle: p.bottle,
        proposalId: p.id,
        actor: decisionActor(input),
        event: 'decision.recorded',
        detail: { kind: p.kind, decision: row.decision, operator: row.operator, reason: row.reason, notes: row.notes },
        now,
      });
      return toResponse(row);
    });
  }

  markApplied(id: string, now: Date = new Date()): void {
    this.db.prepare('UPDATE responses SET applied_at = ? WHERE proposal_id = ? AND applied_at IS NULL').run(now.toISOString(), id);
  }

  audit(e: AuditInput): void {
    this.db
      .prepare('INSERT INTO audit (ts, bottle, proposal_id, actor, event, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run((e.now ?? new Date()).toISOString(), e.bottle, e.proposalId, e.actor, e.event, JSON.stringify(e.detail));
  }

  readAudit(opts: { bottle?: string; limit?: number } = {}): AuditRow[] {
    const limit = opts.limit ?? -1;
    const rows = (
      opts.bottle === undefined
        ? this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM audit WHERE bottle = ? ORDER BY id DESC LIMIT ?').all(opts.bottle, limit)
    ) as Array<{ id: number; ts: string; bottle: string | null; proposal_id: string | null; actor: string; event: string; detail: string }>;
    return rows.map((r) => ({
      id: r.id,
      ts: r.ts,
      bottle: r.bottle,
      proposalId: r.proposal_id,
      actor: r.actor,
      event: r.event,
      detail: (parseJson(r.detail) as Record<string, unknown> | null) ?? {},
    }));
  }

  addRememberRule(input: RememberInput): RememberRule {
    const now = input.now ?? new Date();
    const text = JSON.stringify(input.rule);
    return immediate(this.db, () => {
      const same = this.db
        .prepare('SELECT * FROM remember_rules WHERE scope = ? AND subject = ? AND kind = ? AND rule = ?')
        .get(input.scope, input.subject, input.kind, text) as RuleRow | undefined;
      if (same) return toRule(same);
      const r = this.db
        .prepare('INSERT INTO remember_rules (scope, subject, kind, rule, source_proposal, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(input.scope, input.subject, input.kind, text, input.sourceProposal, input.createdBy, now.toISOString());
      const row = this.db.prepare('SELECT * FROM remember_rules WHERE id = ?').get(Number(r.lastInsertRowid)) as RuleRow;
      this.audit({
        bottle: input.bottle,
        proposalId: input.sourceProposal,
        actor: input.createdBy,
        event: 'remember.added',
        detail: { rule: row.id, scope: row.scope, subject: row.subject, kind: row.kind },
        now,
      });
      return toRule(row);
    });
  }

  listRememberRules(opts: { scope?: RememberScopeStored; subject?: string; kind?: Proposal['kind'] } = {}): RememberRule[] {
    const filters = (
      [
        ['scope', opts.scope],
        ['subject', opts.subject],
        ['kind', opts.kind],
      ] as const
    ).filter(([, v]) => v !== undefined);
    const where = filters.map(([col]) => `${col} = ?`);
    const args = filters.map(([, v]) => v);
    const sql = `SELECT * FROM remember_rules${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return (this.db.prepare(sql).all(...args) as RuleRow[]).map(toRule);
  }

  forgetRememberRule(id: number, by: string, now: Date = new Date()): RememberRule | null {
    return immediate(this.db, () => {
      const row = this.db.prepare('SELECT * FROM remember_rules WHERE id = ?').get(id) as RuleRow | undefined;
      if (!row) return null;
      this.db.prepare('DELETE FROM remember_rules WHERE id = ?').run(id);
      this.audit({ bottle: row.scope === 'bottle' ? row.subject : null, proposalId: row.source_proposal, actor: by, event: 'remember.forgotten', detail: { rule: row.id, scope: row.scope, subject: row.subject, kind: row.kind }, now });
      return toRule(row);
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Why `input` cannot be recorded for `p` (null = it can). The one place for the decision rules:
 * `decide` runs it inside its transaction; the apply step runs it first so nothing is applied
 * for a decision that would be refused.
 */
export function decisionProblem(p: Proposal | null, answered: boolean, input: DecideInput, now: Date): SuperviseStoreError | null {
  const reason = input.reason?.trim() ? input.reason.trim() : null;
  if (!p) return new SuperviseStoreError('not_found', `no proposal "${input.id}"`, 'see "bot-bottle supervise --once"');
  if (p.state === 'answered' || answered) return new SuperviseStoreError('already_decided', `proposal ${p.id} was already decided`);
  if (p.state === 'expired' || (p.state === 'pending' && p.expiresAt <= now.toISOString())) {
    return new SuperviseStoreError('expired', `proposal ${p.id} has expired`, 'the caller was told; it may propose again');
  }
  if (p.state === 'withdrawn') return new SuperviseStoreError('withdrawn', `proposal ${p.id} was withdrawn by the caller`);
  if (input.decision === 'rejected' && !reason) return new SuperviseStoreError('reason_required', 'a rejection needs a reason', 'pass --reason <text>');
  if (input.decision !== 'rejected' && REASON_ON_APPROVE_KINDS.has(p.kind) && !reason) {
    return new SuperviseStoreError('reason_required', `approving ${p.kind} needs a reason`, 'pass --reason <text>');
  }
  if (input.decision === 'modified' && !MODIFIABLE_KINDS.has(p.kind)) {
    return new SuperviseStoreError('modify_not_allowed', `${p.kind} proposals cannot be modified; approve or reject them`);
  }
  if (input.decision === 'modified' && (input.modifiedPayload === undefined || input.modifiedPayload === null)) {
    return new SuperviseStoreError('invalid', 'a modified decision needs the modified payload');
  }
  return null;
}

/** `<home>/state/<slug>/supervise/spool` → `<slug>`: the spool's own bottle, never the file's word. */
export function bottleOfSpool(spoolDir: string): string {
  const parts = spoolDir.replace(/\/+$/, '').split('/');
  const slug = parts[parts.length - 3];
  if (!slug || parts[parts.length - 2] !== 'supervise' || parts[parts.length - 1] !== 'spool') {
    throw new Error(`${spoolDir} is not a state/<slug>/supervise/spool directory`);
  }
  return slug;
}

/** Opens `<home>/bot-bottle.db` (creating or migrating it). */
export function openStore(home: string, opts: OpenOptions & { now?: Date } = {}): SuperviseStore {
  return new SqliteStore(openDatabaseAt(home, opts), storePath(home));
}

export { INBOX, OUTBOX };
