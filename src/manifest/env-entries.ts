/**
 * Bottle `env` entries (docs/configuration.md §3.1): literal, `${HOST_VAR}` interpolation,
 * `?prompt`. Parsing is pure; resolution reads the host env given to it and asks through a
 * callback. Errors name variables, never values.
 */
import { BottleError } from '../errors.js';
import type { EnvEntry } from './types.js';

const WHOLE_INTERPOLATION = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

const RESERVED_EXACT = new Set([
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE',
]);
const RESERVED_ANY_CASE = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY']);
const RESERVED_PREFIXES = ['EGRESS_TOKEN_', 'GIT_GATE_', 'BOT_BOTTLE_'];

/** Names bot-bottle sets itself in the guest; a bottle may not set them. */
export function isReservedEnvName(name: string): boolean {
  return RESERVED_EXACT.has(name) || RESERVED_ANY_CASE.has(name.toUpperCase()) || RESERVED_PREFIXES.some((p) => name.startsWith(p));
}

export function parseEnvValue(name: string, value: string): EnvEntry {
  if (value.startsWith('??')) return { name, kind: 'literal', value: value.slice(1) };
  if (value.startsWith('?')) return { name, kind: 'prompted', prompt: value.length > 1 ? value.slice(1) : `Value for ${name}` };
  const m = WHOLE_INTERPOLATION.exec(value);
  if (m) return { name, kind: 'host', hostVar: m[1] as string };
  if (value.includes('${')) return { name, kind: 'literal', value, warnInterpolation: true };
  return { name, kind: 'literal', value };
}

/** Preflight warnings for env entries (names only). */
export function envWarnings(entries: readonly EnvEntry[]): string[] {
  return entries
    .filter((e) => e.kind === 'literal' && e.warnInterpolation)
    .map((e) => `env ${e.name} contains "\${" but is not a whole "\${VAR}" value, so it is passed literally`);
}

export interface ResolveEnvOptions {
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly headless: boolean;
  /** Asks on the controlling TTY without echo. Absent = no interactive entry possible. */
  readonly ask?: (name: string, prompt: string) => Promise<string>;
}

export interface ResolvedEnv {
  readonly values: Record<string, string>;
  readonly kinds: Record<string, EnvEntry['kind']>;
}

export async function resolveEnvEntries(entries: readonly EnvEntry[], opts: ResolveEnvOptions): Promise<ResolvedEnv> {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const kinds: Record<string, EnvEntry['kind']> = Object.create(null) as Record<string, EnvEntry['kind']>;
  // Check every non-interactive problem before asking anything, so the operator is not prompted
  // for values of a launch that is going to fail anyway.
  for (const e of entries) {
    if (e.kind === 'host' && opts.hostEnv[e.hostVar] === undefined) {
      throw new BottleError('TOKEN_MISSING', `env ${e.name}: host variable ${e.hostVar} is not set`, {
        fix: `export ${e.hostVar} on the host, or change env ${e.name} in the bottle`,
        data: { env: e.name, hostVar: e.hostVar },
      });
    }
    if (e.kind === 'prompted' && (opts.headless || !opts.ask)) {
      throw new BottleError(
        'INTERACTIVE_REQUIRED',
        `env ${e.name} needs interactive entry ("?"), which headless mode cannot do; use "\${HOST_VAR}"`,
        { data: { env: e.name } },
      );
    }
  }
  for (const e of entries) {
    kinds[e.name] = e.kind;
    switch (e.kind) {
      case 'literal':
        values[e.name] = e.value;
        break;
      case 'host':
        values[e.name] = opts.hostEnv[e.hostVar] ?? '';
        break;
      case 'prompted': {
        const v = await (opts.ask as NonNullable<ResolveEnvOptions['ask']>)(e.name, e.prompt);
        if (/[\0\r\n]/.test(v)) {
          throw new BottleError('CONFIG_INVALID', `env ${e.name}: the entered value contains a NUL, CR or LF`, { fix: 'enter it again on one line' });
        }
        values[e.name] = v;
        break;
      }
    }
  }
  return { values, kinds };
}
