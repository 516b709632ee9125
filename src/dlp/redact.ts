import { createScanner } from './scanner.js';
import type { DetectorName, Finding, Scanner } from './types.js';

export const REDACTED = 'bot-bottle-redacted';

/**
 * Replace each rewritable finding (start/end set) in `text` with `replacement`
 * (`outbound_on_match: redact`, docs/configuration.md §3.4.3). Pass the findings of one surface
 * (findings of others would point at the wrong text; use `redactSurface` to filter by name).
 * Overlapping matches merge into one replacement. Derived-view and fragment findings (start null)
 * are ignored: the caller must treat them as not rewritable (`dlp_redact_failed`), then re-scan the
 * result.
 */
export function redactFindings(text: string, findings: readonly Finding[], replacement = REDACTED): string {
  return replaceRanges(
    text,
    findings.flatMap((f) => (f.start !== null && f.end !== null ? [{ start: f.start, end: f.end, label: replacement }] : [])),
  );
}

/** `redactFindings` for the findings whose surface is `surface`. */
export function redactSurface(surface: string, text: string, findings: readonly Finding[], replacement = REDACTED): string {
  return redactFindings(
    text,
    findings.filter((f) => f.surface === surface),
    replacement,
  );
}

const LOG_DETECTORS: ReadonlySet<DetectorName> = new Set<DetectorName>(['token_patterns', 'known_secrets']);
let tokenOnly: Scanner | undefined;

/**
 * Recent results per scanner (docs/decisions/egress-perf-cpu.md): the same host and path are
 * redacted for every audit record of a busy route. The redaction is a pure function of (text,
 * scanner) — no accumulator, no clock — so a cached answer is the answer. Short texts only, a
 * bounded number of them (the cache is cleared when full: no unbounded growth from agent-chosen
 * strings), and keyed per scanner so a reload's new known secrets never see an old result.
 */
const LOG_CACHE_MAX_ENTRIES = 512;
const LOG_CACHE_MAX_TEXT = 512;
const logCache = new WeakMap<Scanner, Map<string, string>>();

/**
 * For log lines (docs/decisions/dlp-log-redaction.md): every token-pattern and known-secret match —
 * raw and encoded forms, and the pieces of a fragmented secret — becomes `[redacted:<rule>]`.
 * Without `scanner` only token patterns are known; pass the process scanner so its known secrets
 * and canary are covered too. Entropy runs are left alone (warn-only, mostly ids).
 */
export function redactForLog(text: string, scanner?: Scanner): string {
  // The fingerprint key is irrelevant here: fingerprints never leave this function.
  const s = scanner ?? (tokenOnly ??= createScanner({ knownSecrets: [], fingerprintKey: new Uint8Array(32) }));
  if (text.length > LOG_CACHE_MAX_TEXT) return redactUncached(text, s);
  let cache = logCache.get(s);
  if (!cache) {
    cache = new Map();
    logCache.set(s, cache);
  }
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const out = redactUncached(text, s);
  if (cache.size >= LOG_CACHE_MAX_ENTRIES) cache.clear();
  cache.set(text, out);
  return out;
}

function redactUncached(text: string, s: Scanner): string {
  // Repeat: a secret found verbatim hides its fragments from the same scan (they are reported
  // only when no verbatim copy exists), so the pieces show up once the copy is gone. Bounded.
  let out = text;
  for (let pass = 0; pass < 4; pass++) {
    const findings = s.scan([{ name: 'log', text: out }], LOG_DETECTORS);
    const ranges: { start: number; end: number; label: string }[] = [];
    for (const f of findings) {
      const label = `[redacted:${f.rule}]`;
      if (f.start !== null && f.end !== null) ranges.push({ start: f.start, end: f.end, label });
      for (const span of f.spans ?? []) ranges.push({ start: span.start, end: span.end, label });
    }
    if (ranges.length === 0) break;
    out = replaceRanges(out, ranges);
  }
  return out;
}

function replaceRanges(text: string, ranges: { start: number; end: number; label: string }[]): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  let cur: { start: number; end: number; label: string } | undefined;
  for (const r of ranges) {
    const start = Math.max(0, Math.min(r.start, text.length));
    const end = Math.max(start, Math.min(r.end, text.length));
    if (cur && start < cur.end) {
      cur.end = Math.max(cur.end, end);
      continue;
    }
    if (cur) {
      out += text.slice(pos, cur.start) + cur.label;
      pos = cur.end;
    }
    cur = { start, end, label: r.label };
  }
  if (cur) {
    out += text.slice(pos, cur.start) + cur.label;
    pos = cur.end;
  }
  return out + text.slice(pos);
}
