/**
 * One row of `bot-bottle log` (docs/cli.md#log) from one audit line of egress
 * (`logs/egress-audit.jsonl`) or the git gate (`logs/git-gate-audit.jsonl`). Pure: no I/O.
 *
 * Only named fields are copied (never headers, bodies or masked values), and every string passes
 * the DLP log redactor again: the daemons already redact what they write, this is the second
 * line of defence for files written by older versions or edited by hand.
 */
import { redactForLog } from '../dlp/redact.js';

export type LogSource = 'egress' | 'git-gate';
export type LogDecision = 'allow' | 'deny' | 'error' | 'redact' | 'warn';

export interface LogEntry {
  ts: string;
  slug: string;
  source: LogSource;
  decision: LogDecision;
  host: string;
  /** Egress: the destination port; the gate: null. */
  port: number | null;
  /** HTTP method, or `push` for the gate. */
  method: string;
  /** Request path (egress) or the updated refs (gate). */
  path: string;
  /** Route label and match (`api.example.com:443#0`), or the DLP/gate rule ids; null when none. */
  rule: string | null;
  /** Refusal code (`no_route`, `no_match`, `dlp_block`, gate outcome `secret`, …); null if allowed. */
  reason: string | null;
  status: number | null;
}

/** Refusals in the sense of `--denied`: a decision other than allow/warn/redact. */
export function isDenied(e: LogEntry): boolean {
  return e.decision === 'deny' || e.decision === 'error';
}

const DECISIONS: ReadonlySet<string> = new Set(['allow', 'deny', 'error', 'redact', 'warn']);

const str = (v: unknown): string | null => (typeof v === 'string' ? redactForLog(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function rulesOf(findings: unknown): string[] {
  if (!Array.isArray(findings)) return [];
  const out: string[] = [];
  for (const f of findings) {
    const rule = f && typeof f === 'object' ? str((f as Record<string, unknown>).rule) : null;
    if (rule && !out.includes(rule)) out.push(rule);
  }
  return out;
}

/** An egress audit record (src/egress/log.ts AuditRecord) → entry; null when it is not one. */
export function fromEgress(rec: Record<string, unknown>, slug: string): LogEntry | null {
  const ts = str(rec.ts);
  const decision = typeof rec.decision === 'string' && DECISIONS.has(rec.decision) ? (rec.decision as LogDecision) : null;
  const host = str(rec.host);
  if (!ts || !decision || host === null) return null;
  const route = str(rec.route);
  const match = num(rec.match);
  const findingRules = rulesOf(rec.findings);
  let rule: string | null = route ? (match !== null ? `${route}#${match}` : route) : null;
  if (findingRules.length > 0) rule = rule ? `${rule} ${findingRules.join(',')}` : findingRules.join(',');
  const reason = str(rec.reason);
  const detail = str(rec.detail);
  return {
    ts,
    slug,
    source: 'egress',
    decision,
    host,
    port: num(rec.port),
    method: str(rec.method) ?? '-',
    path: str(rec.path) ?? '',
    rule,
    reason: reason && detail ? `${reason} (${detail})` : reason,
    status: num(rec.status),
  };
}

/** A git-gate audit line → entry for pushes (the agent's requests); refreshes are not requests. */
export function fromGate(rec: Record<string, unknown>, slug: string): LogEntry | null {
  if (rec.event !== 'gitgate_push') return null;
  const ts = str(rec.ts);
  const repo = str(rec.repo);
  if (!ts || repo === null) return null;
  const outcome = str(rec.outcome) ?? 'internal';
  const refs = Array.isArray(rec.refs)
    ? rec.refs.map((r) => (r && typeof r === 'object' ? str((r as Record<string, unknown>).ref) : null)).filter((r): r is string => r !== null)
    : [];
  const rules = rulesOf(rec.findings);
  const accepted = outcome === 'accepted';
  const detail = str(rec.detail);
  return {
    ts,
    slug,
    source: 'git-gate',
    decision: accepted ? 'allow' : outcome === 'internal' || outcome === 'upstream_unreachable' ? 'error' : 'deny',
    host: repo,
    port: null,
    method: 'push',
    path: refs.join(','),
    rule: rules.length > 0 ? rules.join(',') : null,
    reason: accepted ? null : detail ? `${outcome} (${detail})` : outcome,
    status: null,
  };
}

/** Parses one audit line; a torn or foreign line is skipped (null), never fatal. */
export function parseAuditLine(line: string, source: LogSource, slug: string): LogEntry | null {
  if (line.trim() === '') return null;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return null;
  }
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return null;
  return source === 'egress' ? fromEgress(rec as Record<string, unknown>, slug) : fromGate(rec as Record<string, unknown>, slug);
}
