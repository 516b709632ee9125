/**
 * The one error class callers branch on. `code` is API (stable); `message` is for people and
 * never contains a secret value; `fix` is the next step, printed after the message.
 */
export type BottleErrorCode =
  | 'MANIFEST_INVALID'
  | 'AGENT_NOT_FOUND'
  | 'BOTTLE_NOT_FOUND'
  | 'NO_BOTTLE'
  | 'INTERACTIVE_REQUIRED'
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_CONFIG'
  | 'BACKEND_UNAVAILABLE'
  | 'SLUG_IN_USE'
  | 'STATE_NOT_FOUND'
  | 'STILL_RUNNING'
  | 'LAUNCH_FAILED'
  | 'TEARDOWN_FAILED'
  | 'ABORTED'
  | 'USAGE'
  | 'CANCELLED'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

/** Exit codes of the CLI (docs/cli.md#exit-codes). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  backendUnavailable: 3,
  cancelled: 4,
  sigint: 130,
  sigterm: 143,
  sighup: 129,
} as const;

const defaultExit: Partial<Record<BottleErrorCode, number>> = {
  USAGE: EXIT.usage,
  INTERACTIVE_REQUIRED: EXIT.error,
  BACKEND_UNAVAILABLE: EXIT.backendUnavailable,
  CANCELLED: EXIT.cancelled,
  ABORTED: EXIT.sigint,
};

export interface BottleErrorOptions {
  fix?: string;
  exitCode?: number;
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class BottleError extends Error {
  readonly code: BottleErrorCode;
  readonly exitCode: number;
  readonly fix: string | undefined;
  readonly data: Record<string, unknown>;

  constructor(code: BottleErrorCode, message: string, opts: BottleErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BottleError';
    this.code = code;
    this.exitCode = opts.exitCode ?? defaultExit[code] ?? EXIT.error;
    this.fix = opts.fix;
    this.data = opts.data ?? {};
  }

  /** `<what is wrong>; <what to do>` — the CLI's one-line form. */
  oneLine(): string {
    return this.fix ? `${this.message}; ${this.fix}` : this.message;
  }
}

export function usageError(message: string, fix?: string): BottleError {
  return new BottleError('USAGE', message, fix === undefined ? {} : { fix });
}
