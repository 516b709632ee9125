import type { Finding } from './types.js';

// Contract stubs: redaction (egress spec §11.4, §13).
/** Replace each rewritable finding (start/end set) in `text` with `replacement`. */
export function redactFindings(_text: string, _findings: readonly Finding[], _replacement = 'bot-bottle-redacted'): string {
  throw new Error('redaction not implemented yet');
}
/** For log lines: every token-pattern / known-secret match becomes `[redacted:<rule>]`. */
export function redactForLog(_text: string): string {
  throw new Error('redaction not implemented yet');
}
