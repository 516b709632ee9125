/**
 * Approve-and-remember rules (docs/decisions/supervise-remember.md). Host-only like every table
 * here: a sidecar cannot reach the database, so it cannot plant a rule.
 */
import type { Migration } from './index.js';

export const migration0002: Migration = {
  version: 2,
  name: 'remember_rules',
  sql: `
CREATE TABLE remember_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  scope TEXT NOT NULL CHECK (scope IN ('bottle','agent')),
  subject TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('egress-allow','egress-token-allow','secret-allow')),
  rule TEXT NOT NULL,
  source_proposal TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX remember_rules_by_subject ON remember_rules(scope, subject, kind);
`,
};
