import { BottleError } from '../errors.js';

/** Bad `agent_provider` settings or an invalid provision plan; names provider and key. */
export class ProviderConfigError extends BottleError {
  readonly provider: string;
  constructor(provider: string, message: string, fix?: string) {
    super('PROVIDER_CONFIG', `${provider}: ${message}`, fix === undefined ? {} : { fix });
    this.name = 'ProviderConfigError';
    this.provider = provider;
  }
}

export type ProviderAuthCode = 'CODEX_AUTH_MISSING' | 'CODEX_AUTH_MALFORMED' | 'CODEX_AUTH_API_KEY_MODE' | 'CODEX_AUTH_EXPIRED';

/**
 * A host credential a provider must read is missing or unusable. `code` is `PROVIDER_AUTH` (the
 * programmatic API's code, docs/cli.md#error-codes); `reason` is the specific, stable cause
 * (`CODEX_AUTH_*`, docs/decisions/providers-auth-error-codes.md). Messages show paths with `~` and
 * never any value.
 */
export class ProviderAuthError extends BottleError {
  readonly reason: ProviderAuthCode;
  constructor(reason: ProviderAuthCode, message: string) {
    super('PROVIDER_AUTH', message, { data: { reason } });
    this.name = 'ProviderAuthError';
    this.reason = reason;
  }
}

/** `validateSettings` of a provider that takes no settings (claude, codex). */
export function rejectSettings(template: string): (settings: Readonly<Record<string, unknown>>) => void {
  return (settings) => {
    if (Object.keys(settings).length > 0) {
      throw new ProviderConfigError(template, `agent_provider.settings is not supported by template "${template}"`, 'remove the settings block');
    }
  };
}
