import type { InboundHit, InboundLevel, InboundResult } from './types.js';

/**
 * Inbound prompt-injection heuristics (docs/decisions/dlp-inbound.md), case-insensitive,
 * whitespace-tolerant. High: an override phrase plus a disclosure or execution phrase, or ≥ 3
 * distinct override phrases. Medium: any one phrase. Which responses are text (and so scanned) is
 * the caller's decision (`isScannableInboundType`); images and other binary types are never passed
 * here.
 *
 * LIMITATION: these are phrase heuristics, not a classifier — paraphrases get through, and the
 * medium level ("you are now …") fires on harmless text; that is why medium only warns.
 */
interface PhraseRule {
  readonly id: string;
  readonly category: InboundHit['category'];
  readonly re: RegExp;
}

const W = String.raw`[\w'’-]+\s+`;
const rule = (id: string, category: InboundHit['category'], source: string): PhraseRule => ({
  id,
  category,
  // No 'u' flag: it makes irregexp ~10x slower here and every pattern is BMP-only.
  re: new RegExp(source, 'gi'),
});

export const INBOUND_RULES: readonly PhraseRule[] = [
  rule(
    'ignore_previous_instructions',
    'override',
    String.raw`\bignore\s+(?:${W}){0,4}?(?:previous|prior|above|earlier|preceding|all|any|your)\s+(?:${W}){0,2}?(?:instructions?|prompts?|directions?|directives?|rules|guidelines)\b`,
  ),
  rule(
    'disregard_system_prompt',
    'override',
    String.raw`\bdisregard\s+(?:${W}){0,3}?(?:system\s+prompt|instructions?|directives?|guidelines|rules)\b`,
  ),
  rule('you_are_now', 'override', String.raw`\byou\s+are\s+now\b`),
  rule('forget_instructions', 'override', String.raw`\bforget\s+(?:${W}){0,3}?(?:instructions|system\s+prompt|rules|guidelines)\b`),
  rule('override_system_prompt', 'override', String.raw`\b(?:override|new)\s+(?:the\s+|your\s+)?system\s+prompt\b`),
  rule(
    'send_credentials',
    'disclosure',
    String.raw`\b(?:send|post|upload|e-?mail|exfiltrate|leak|reveal|paste|share)\s+(?:me\s+|us\s+|over\s+)?(?:(?:your|the|all|any|of|my|these)\s+){1,3}(?:${W}){0,2}?(?:tokens?|secrets?|environment|env\s+vars?|credentials?|api[\s_-]?keys?|passwords?|ssh\s+keys?|private\s+keys?)\b`,
  ),
  rule('cat_ssh', 'disclosure', String.raw`\bcat\s+(?:~|\$HOME|\$\{HOME\}|/root|/home/[\w.-]+)?/?\.(?:ssh|aws|netrc|docker/config)\b`),
  rule('printenv', 'disclosure', String.raw`\bprintenv\b|/proc/self/environ\b`),
  rule('curl_pipe_shell', 'execution', String.raw`\b(?:curl|wget)\b[^\n|]{0,300}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b`),
  rule('shell_process_substitution', 'execution', String.raw`\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b`),
];

const MAX_PHRASE = 80;

function normalise(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > MAX_PHRASE ? `${t.slice(0, MAX_PHRASE - 1)}…` : t;
}

interface RawHit extends InboundHit {
  readonly index: number;
}

function findHits(text: string, base = 0): RawHit[] {
  const hits: RawHit[] = [];
  for (const r of INBOUND_RULES) {
    r.re.lastIndex = 0;
    for (let m = r.re.exec(text); m; m = r.re.exec(text)) {
      hits.push({ category: r.category, id: r.id, phrase: normalise(m[0]), index: base + m.index });
      if (m[0].length === 0) r.re.lastIndex++;
    }
  }
  return hits.sort((a, b) => a.index - b.index);
}

function classify(hits: readonly InboundHit[]): InboundLevel {
  if (hits.length === 0) return 'none';
  const overrides = new Set(hits.filter((h) => h.category === 'override').map((h) => h.phrase.toLowerCase()));
  const other = hits.some((h) => h.category !== 'override');
  if ((overrides.size > 0 && other) || overrides.size >= 3) return 'high';
  return 'medium';
}

function result(hits: readonly RawHit[]): InboundResult {
  const clean = hits.map(({ category, id, phrase }) => ({ category, id, phrase }));
  return { level: classify(clean), phrases: clean.map((h) => h.phrase), hits: clean };
}

/** Scan one complete text response. Never throws. */
export function scanInbound(text: string): InboundResult {
  return result(findHits(typeof text === 'string' ? text : String(text ?? '')));
}

/** Content types whose responses are scanned: text/*, JSON, XML, JS, NDJSON, SSE, untyped. */
export function isScannableInboundType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === '') return true;
  // SVG is XML but an image: clients render it, agents do not read it as instructions.
  if (t.startsWith('image/')) return false;
  if (t.startsWith('text/')) return true;
  return (
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript' ||
    t === 'application/x-javascript' ||
    t === 'application/ecmascript' ||
    t === 'application/x-ndjson' ||
    t === 'application/ndjson' ||
    t === 'application/jsonl'
  );
}

/**
 * Overlap kept between chunks so a phrase split across two chunks is still seen
 * (docs/decisions/egress-websocket-and-streams.md).
 */
export const INBOUND_OVERLAP = 4096;

/**
 * Incremental scanning of a streamed response: `push` each text chunk, read the cumulative result.
 * Memory is bounded by the overlap; a phrase longer than the overlap can be missed (LIMITATION).
 */
export class InboundStreamScanner {
  private tail = '';
  private tailBase = 0;
  private readonly seen = new Set<string>();
  private readonly hits: RawHit[] = [];

  push(chunk: string): InboundResult {
    const buf = this.tail + chunk;
    for (const h of findHits(buf, this.tailBase)) {
      const key = `${h.id}@${h.index}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.hits.push(h);
    }
    const keep = Math.min(buf.length, INBOUND_OVERLAP);
    this.tailBase += buf.length - keep;
    this.tail = buf.slice(buf.length - keep);
    return this.result();
  }

  result(): InboundResult {
    return result(this.hits);
  }
}
