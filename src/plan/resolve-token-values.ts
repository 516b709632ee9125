/**
 * The ONE place slot → host-variable references become values (docs/architecture.md §6). Pure: no
 * process.env, no I/O, no logging, inputs untouched. The pipeline calls it exactly once per launch
 * with `{...process.env, ...provisionedEnv}`, for egress and git-gate slots together.
 */
import { BottleError } from '../errors.js';

const SLOT = /^(EGRESS|GIT_GATE)_TOKEN_[0-9]+$/;
const BAD_CHAR = /[\r\n\0]/;

export class TokenResolutionError extends BottleError {
  /** Host variable names (never values), distinct, in first-appearance order. */
  readonly variables: readonly string[];
  constructor(code: 'TOKEN_MISSING' | 'TOKEN_INVALID', message: string, variables: readonly string[]) {
    super(code, message, { data: { variables: [...variables] } });
    this.name = 'TokenResolutionError';
    this.variables = variables;
  }
}

export type CredentialStatus = 'set' | 'missing' | 'invalid';

/**
 * How resolveTokenValues judges one host variable, without handing out its value: a dry run
 * lists missing and invalid credentials instead of failing (docs/decisions/plan-dry-run-credentials.md).
 */
export function credentialStatus(ref: string, hostEnv: Readonly<Record<string, string | undefined>>): CredentialStatus {
  const value = Object.prototype.hasOwnProperty.call(hostEnv, ref) ? hostEnv[ref] : undefined;
  if (value === undefined || value === '') return 'missing';
  return BAD_CHAR.test(value) ? 'invalid' : 'set';
}

export function resolveTokenValues(
  tokenEnvMap: Readonly<Record<string, string>>,
  hostEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  const invalid: string[] = [];
  const kinds = new Set<string>();
  for (const [slot, ref] of Object.entries(tokenEnvMap)) {
    if (!SLOT.test(slot)) throw new TypeError(`resolveTokenValues: "${slot}" is not a token slot name`);
    const status = credentialStatus(ref, hostEnv);
    if (status === 'missing') {
      if (!missing.includes(ref)) missing.push(ref);
      kinds.add(slot.startsWith('EGRESS_') ? 'egress' : 'git-gate');
    } else if (status === 'invalid') {
      if (!invalid.includes(ref)) invalid.push(ref);
    } else {
      out[slot] = hostEnv[ref] as string;
    }
  }
  if (missing.length > 0) {
    const what = kinds.size === 1 ? `${[...kinds][0]} credential` : 'credentials';
    const user = kinds.has('egress') ? 'route' : 'repo';
    const fix = missing.length === 1 ? `export it, or remove the ${user} that uses it` : `export them, or remove the ${user}s that use them`;
    throw new TokenResolutionError('TOKEN_MISSING', `${what} not set on the host: ${missing.join(', ')} (${fix})`, missing);
  }
  if (invalid.length > 0) {
    throw new TokenResolutionError(
      'TOKEN_INVALID',
      `host variable ${invalid.join(', ')} contains a line break or NUL character (store the credential on a single line)`,
      invalid,
    );
  }
  return out;
}
