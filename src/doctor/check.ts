/**
 * One `doctor` finding (docs/cli.md, JSON `bot-bottle/doctor@1`). Checks are data: the functions
 * in this folder return them and never print, so the CLI, the JSON document and tests read the
 * same values. Messages name variables and files, never a variable's value.
 */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

/** `common`, a backend name, or `agents` (the agent CLIs, judged for the chosen backend). */
export type CheckScope = string;

export interface Check {
  readonly id: string;
  readonly scope: CheckScope;
  readonly status: CheckStatus;
  readonly message: string;
  /** The next step; null when there is nothing to do. */
  readonly fix: string | null;
}

export const ok = (scope: CheckScope, id: string, message: string): Check => ({ id, scope, status: 'ok', message, fix: null });
export const fail = (scope: CheckScope, id: string, message: string, fix: string): Check => ({ id, scope, status: 'fail', message, fix });
export const warn = (scope: CheckScope, id: string, message: string, fix: string | null = null): Check => ({ id, scope, status: 'warn', message, fix });
export const skip = (scope: CheckScope, id: string, message: string): Check => ({ id, scope, status: 'skip', message, fix: null });

/** A scope passes when none of its checks failed (warnings and skips do not block). */
export const passes = (checks: readonly Check[], scope: CheckScope): boolean => checks.every((c) => c.scope !== scope || c.status !== 'fail');
