/**
 * The spool's file formats (docs/architecture.md §7a): the only channel between a bottle's
 * supervise daemon and the host. Pure (de)serialisation; src/supervise/spool.ts does the I/O.
 *
 *   outbox/<id>.json          daemon → host  a filed proposal
 *   outbox/<id>.closed.json   daemon → host  the proposal expired or was withdrawn
 *   inbox/<id>.json           host → daemon  the operator's decision (consumed by the daemon)
 *   heartbeat                 daemon         {at, pid, version}, rewritten every 5 s
 *
 * Writers write a temp file (a name starting with `.`) and rename it, so a reader never sees a
 * half-written file; readers skip dot files.
 */
import { ULID_RE } from './ulid.js';
import { KINDS, type Kind, type Origin } from './proposal-kinds.js';

export const SPOOL_VERSION = 1;
export const OUTBOX = 'outbox';
export const INBOX = 'inbox';
export const HEARTBEAT = 'heartbeat';

export interface OutboxRecord {
  v: 1;
  id: string;
  bottle: string;
  kind: Kind;
  origin: Origin;
  justification: string | null;
  payload: Record<string, unknown>;
  created_at: string;
  expires_at: string;
}

export interface ClosedRecord {
  id: string;
  state: 'expired' | 'withdrawn';
  at: string;
}

export type InboxDecision = 'approved' | 'modified' | 'rejected';

export interface InboxRecord {
  v: 1;
  id: string;
  decision: InboxDecision;
  notes: string;
  reason: string | null;
  modified_payload: Record<string, unknown> | null;
  applied: { generation?: number };
}

export interface Heartbeat {
  at: string;
  pid: number;
  version: string;
}

export const outboxName = (id: string): string => `${id}.json`;
export const closedName = (id: string): string => `${id}.closed.json`;
export const inboxName = (id: string): string => `${id}.json`;

/** The proposal id of an inbox file name; null for temp files and anything else. */
export function inboxId(name: string): string | null {
  const m = /^([0-9A-Z]{26})\.json$/.exec(name);
  return m && ULID_RE.test(m[1]!) ? m[1]! : null;
}

export function serialize(record: OutboxRecord | ClosedRecord | InboxRecord | Heartbeat): string {
  return `${JSON.stringify(record)}\n`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** An inbox file's text → the decision; `expectedId` is the id its name carries. */
export function parseInbox(text: string, expectedId: string): Parsed<InboxRecord> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not JSON' };
  }
  if (!isObj(doc)) return { ok: false, message: 'not a JSON object' };
  if (doc.v !== SPOOL_VERSION) return { ok: false, message: `unsupported version ${String(doc.v)}` };
  if (doc.id !== expectedId) return { ok: false, message: 'id does not match the file name' };
  const decision = doc.decision;
  if (decision !== 'approved' && decision !== 'modified' && decision !== 'rejected') return { ok: false, message: 'decision must be approved, modified or rejected' };
  const notes = doc.notes ?? '';
  if (typeof notes !== 'string') return { ok: false, message: 'notes must be a string' };
  const reason = doc.reason ?? null;
  if (reason !== null && typeof reason !== 'string') return { ok: false, message: 'reason must be a string or null' };
  const modified = doc.modified_payload ?? null;
  if (modified !== null && !isObj(modified)) return { ok: false, message: 'modified_payload must be an object or null' };
  const applied = doc.applied ?? {};
  if (!isObj(applied)) return { ok: false, message: 'applied must be an object' };
  const generation = applied.generation;
  if (generation !== undefined && (typeof generation !== 'number' || !Number.isInteger(generation))) return { ok: false, message: 'applied.generation must be an integer' };
  return {
    ok: true,
    value: { v: 1, id: expectedId, decision, notes, reason, modified_payload: modified, applied: generation === undefined ? {} : { generation } },
  };
}

/** An outbox file's text → the proposal (the host importer's side of the contract; tests use it). */
export function parseOutbox(text: string): Parsed<OutboxRecord> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, message: 'not JSON' };
  }
  if (!isObj(doc) || doc.v !== SPOOL_VERSION) return { ok: false, message: 'not a version 1 outbox record' };
  const { id, bottle, kind, origin, justification, payload } = doc;
  if (typeof id !== 'string' || !ULID_RE.test(id)) return { ok: false, message: 'id must be a ULID' };
  if (typeof bottle !== 'string') return { ok: false, message: 'bottle must be a string' };
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) return { ok: false, message: 'unknown kind' };
  if (origin !== 'agent' && origin !== 'egress' && origin !== 'git-gate') return { ok: false, message: 'unknown origin' };
  if (justification !== null && typeof justification !== 'string') return { ok: false, message: 'justification must be a string or null' };
  if (!isObj(payload)) return { ok: false, message: 'payload must be an object' };
  if (typeof doc.created_at !== 'string' || typeof doc.expires_at !== 'string') return { ok: false, message: 'created_at and expires_at must be strings' };
  return {
    ok: true,
    value: { v: 1, id, bottle, kind: kind as Kind, origin, justification, payload, created_at: doc.created_at, expires_at: doc.expires_at },
  };
}
