/**
 * The spool file formats (docs/supervise.md, "Spool"): the only channel between a bottle's
 * supervise daemon and the host store. The daemon writes `outbox/<id>.json` and
 * `outbox/<id>.closed.json`; the host writes `inbox/<id>.json`. Every write is temp file + rename.
 * The spool is writable by the sidecar, so everything read from it is validated here and the
 * bottle named inside must be the spool's own.
 */
import { chownSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INBOX, inboxName } from '../spool-format.js';
import { PROPOSAL_KINDS, PROPOSAL_ORIGINS, type Decision, type ProposalKind, type ProposalOrigin } from './types.js';

// One definition of the layout, shared with the daemon's side (src/supervise/spool-format.ts).
export { INBOX, OUTBOX } from '../spool-format.js';
/** A spool file larger than this is refused (a Dockerfile is ≤ 64 KiB, twenty routes far less). */
export const MAX_SPOOL_FILE_BYTES = 512 * 1024;
/** Ids are file names: ULIDs in practice; anything path-safe and short is accepted. */
const ID_RE = /^[0-9A-Za-z_-]{1,64}$/;

/** The origin each kind must come from (a sidecar cannot file an agent kind as another origin). */
export const ORIGIN_OF_KIND: Readonly<Record<ProposalKind, ProposalOrigin>> = {
  'egress-allow': 'agent',
  'capability-block': 'agent',
  'egress-token-allow': 'egress',
  'secret-allow': 'git-gate',
};

export interface SpoolProposal {
  readonly id: string;
  readonly bottle: string;
  readonly kind: ProposalKind;
  readonly origin: ProposalOrigin;
  readonly justification: string | null;
  readonly payload: unknown;
  readonly createdAt: string;
  readonly expiresAt: string;
}

export interface SpoolClose {
  readonly id: string;
  readonly state: 'expired' | 'withdrawn';
  readonly at: string;
}

export interface InboxFile {
  v: 1;
  id: string;
  decision: Decision;
  notes: string;
  reason: string | null;
  modified_payload: unknown;
  applied: { generation?: number };
}

export class SpoolFormatError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSpoolId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}

function time(v: unknown, key: string): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new SpoolFormatError(`${key} must be an ISO timestamp`);
  return new Date(Date.parse(v)).toISOString();
}

/** `gitleaks-allow` is the Python original's name for `secret-allow` (accepted as input). */
export function canonicalKind(kind: unknown): ProposalKind | null {
  if (kind === 'gitleaks-allow') return 'secret-allow';
  return (PROPOSAL_KINDS as readonly unknown[]).includes(kind) ? (kind as ProposalKind) : null;
}

/** Validates an outbox proposal of the spool of `bottle` named `<fileId>.json`. */
export function parseSpoolProposal(raw: unknown, fileId: string, bottle: string): SpoolProposal {
  if (!isObj(raw)) throw new SpoolFormatError('not a JSON object');
  if (raw.v !== 1) throw new SpoolFormatError('v must be 1');
  if (raw.id !== fileId || !isSpoolId(raw.id)) throw new SpoolFormatError('id must match the file name');
  if (raw.bottle !== bottle) throw new SpoolFormatError(`bottle must be this spool's bottle "${bottle}"`);
  const kind = canonicalKind(raw.kind);
  if (!kind) throw new SpoolFormatError(`kind must be one of ${PROPOSAL_KINDS.join(', ')}`);
  if (!(PROPOSAL_ORIGINS as readonly unknown[]).includes(raw.origin) || ORIGIN_OF_KIND[kind] !== raw.origin) {
    throw new SpoolFormatError(`origin of ${kind} must be ${ORIGIN_OF_KIND[kind]}`);
  }
  if (raw.justification !== undefined && raw.justification !== null && typeof raw.justification !== 'string') {
    throw new SpoolFormatError('justification must be a string or null');
  }
  if (raw.payload === undefined || raw.payload === null) throw new SpoolFormatError('payload is required');
  return {
    id: raw.id,
    bottle,
    kind,
    origin: raw.origin as ProposalOrigin,
    justification: typeof raw.justification === 'string' ? raw.justification : null,
    payload: raw.payload,
    createdAt: time(raw.created_at, 'created_at'),
    expiresAt: time(raw.expires_at, 'expires_at'),
  };
}

export function parseSpoolClose(raw: unknown, fileId: string): SpoolClose {
  if (!isObj(raw)) throw new SpoolFormatError('not a JSON object');
  if (raw.id !== fileId || !isSpoolId(raw.id)) throw new SpoolFormatError('id must match the file name');
  if (raw.state !== 'expired' && raw.state !== 'withdrawn') throw new SpoolFormatError('state must be expired or withdrawn');
  return { id: raw.id, state: raw.state, at: time(raw.at, 'at') };
}

/** temp + rename, so the daemon never reads half a file. */
export function writeInboxFile(spoolDir: string, file: InboxFile): void {
  const dir = join(spoolDir, INBOX);
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The daemon runs as the spool's owner (netns: the bottle's sidecar uid) and must read and
  // delete what the host (root) writes: hand the file, and a directory we created, to that owner.
  const owner = statSync(spoolDir);
  const handOver = process.getuid?.() === 0 && owner.uid !== 0;
  if (handOver && created !== undefined) chownSync(dir, owner.uid, owner.gid);
  const path = join(dir, inboxName(file.id));
  const tmp = join(dir, `.${file.id}.json.tmp-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(file)}\n`, { mode: 0o600 });
  if (handOver) chownSync(tmp, owner.uid, owner.gid);
  renameSync(tmp, path);
}
