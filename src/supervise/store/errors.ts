/**
 * Store refusals the CLI maps to exit codes (docs/cli.md, `supervise`): `reason_required` is a usage
 * error (exit 2); the others are exit 1.
 */
import { BottleError, EXIT } from '../../errors.js';

export type StoreRefusal =
  | 'not_found'
  | 'already_decided'
  | 'expired'
  | 'withdrawn'
  | 'reason_required'
  | 'modify_not_allowed'
  | 'invalid'
  | 'newer_database';

export class SuperviseStoreError extends BottleError {
  constructor(
    readonly refusal: StoreRefusal,
    message: string,
    fix?: string,
  ) {
    super(refusal === 'reason_required' ? 'USAGE' : refusal === 'newer_database' ? 'CONFIG_INVALID' : 'STATE_NOT_FOUND', message, {
      exitCode: refusal === 'reason_required' ? EXIT.usage : EXIT.error,
      ...(fix !== undefined ? { fix } : {}),
    });
    this.name = 'SuperviseStoreError';
  }
}
