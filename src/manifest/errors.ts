/**
 * Manifest errors. One `ManifestError` carries every problem found in one file (`issues`); the
 * CLI prints the first as `<file>:<line>:<col>: <message>`. Messages name files, keys and
 * variables, never values of env entries or tokens.
 */
import { BottleError, type BottleErrorOptions } from '../errors.js';

export interface ManifestIssue {
  /** Path as shown to people (`~` for the user's home); '' when the input had no file (provider routes). */
  readonly file: string;
  /** 1-based; 0 when unknown. */
  readonly line: number;
  readonly column: number;
  /** e.g. `egress.routes[0].auth.scheme`; '' for the whole file. */
  readonly keyPath: string;
  readonly message: string;
}

export function formatIssue(issue: ManifestIssue): string {
  if (!issue.file) return issue.message;
  if (issue.line <= 0) return `${issue.file}: ${issue.message}`;
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`;
}

/** Control characters (e.g. a newline inside a quoted key) escaped, so every message is one line. */
export function oneLineText(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class ManifestError extends BottleError {
  readonly issues: readonly ManifestIssue[];

  constructor(rawIssues: readonly ManifestIssue[], opts: BottleErrorOptions = {}) {
    const issues = rawIssues.map((i) => ({ ...i, message: oneLineText(i.message), keyPath: oneLineText(i.keyPath) }));
    const first = issues[0] ?? { file: '', line: 0, column: 0, keyPath: '', message: 'invalid manifest' };
    super('MANIFEST_INVALID', formatIssue(first), opts);
    this.name = 'ManifestError';
    this.issues = issues.length > 0 ? issues : [first];
  }

  static single(file: string, message: string, pos: { line?: number; column?: number; keyPath?: string } = {}): ManifestError {
    return new ManifestError([{ file, line: pos.line ?? 0, column: pos.column ?? 0, keyPath: pos.keyPath ?? '', message }]);
  }
}

export function isManifestError(err: unknown): err is ManifestError {
  return err instanceof ManifestError;
}
