/** The v1 schema (docs/supervise.md, "Store"). */
import type { Migration } from './index.js';

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE proposals (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  bottle TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('egress-allow','capability-block','egress-token-allow','secret-allow')),
  origin TEXT NOT NULL CHECK (origin IN ('agent','egress','git-gate')),
  justification TEXT,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','answered','expired','withdrawn')));
CREATE INDEX proposals_by_state ON proposals(state, seq);
CREATE TABLE responses (
  proposal_id TEXT PRIMARY KEY REFERENCES proposals(id),
  decision TEXT NOT NULL CHECK (decision IN ('approved','modified','rejected')),
  notes TEXT NOT NULL DEFAULT '', reason TEXT, modified_payload TEXT,
  operator TEXT NOT NULL, decided_at TEXT NOT NULL, applied_at TEXT, delivered_at TEXT);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, bottle TEXT, proposal_id TEXT,
  actor TEXT NOT NULL,
  event TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX audit_by_bottle ON audit(bottle, id);
`,
};
