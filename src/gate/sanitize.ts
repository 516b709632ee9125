/**
 * Upstream stderr shown to the agent or logged: URLs and anything credential-shaped removed
 * (docs/security-model.md §2.5). Known secret values are replaced before the DLP log redactor runs.
 */
import { redactForLog } from '../dlp/redact.js';
import type { Scanner } from '../dlp/types.js';

export function sanitizeUpstreamText(text: string, secrets: readonly string[], scanner?: Scanner): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  out = out
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, '<upstream>')
    .replace(/\b[\w.-]+@[\w.-]+:[^\s'"]+/g, '<upstream>')
    .replace(/Authorization:[^\n]*/gi, 'Authorization: [redacted]');
  try {
    out = redactForLog(out, scanner);
  } catch {
    // the redactor never throws by contract; the literal replacements above still applied
  }
  return out;
}

/** The most telling single line of git's stderr (last `fatal:`/`error:` line, else the last line). */
export function reasonFromStderr(stderr: string, secrets: readonly string[]): string {
  const lines = sanitizeUpstreamText(stderr, secrets)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const fatal = [...lines].reverse().find((l) => /^(fatal|error|ERROR):/.test(l));
  const line = fatal ?? lines[lines.length - 1] ?? 'unknown error';
  return line.replace(/^(fatal|error|ERROR):\s*/, '').slice(0, 300);
}
