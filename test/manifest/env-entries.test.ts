import { describe, expect, it } from 'vitest';
import { BottleError } from '../../src/errors.js';
import { envWarnings, isReservedEnvName, parseEnvValue, resolveEnvEntries } from '../../src/manifest/env-entries.js';

const SECRET = 'marker-secret-9f2c1';

describe('env entries', () => {
  it('M29 unset host variable: error names HOME_X and A, never a value', async () => {
    const entries = [parseEnvValue('OTHER', SECRET), parseEnvValue('A', '${HOME_X}')];
    const err = await resolveEnvEntries(entries, { hostEnv: { UNRELATED: SECRET }, headless: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    const be = err as BottleError;
    expect(be.message).toBe('env A: host variable HOME_X is not set');
    expect(be.oneLine()).not.toContain(SECRET);
    expect(be.code).toBe('TOKEN_MISSING');
  });

  it('M29 set-but-empty host variable passes as empty', async () => {
    const r = await resolveEnvEntries([parseEnvValue('A', '${E}')], { hostEnv: { E: '' }, headless: true });
    expect(r.values).toEqual({ A: '' });
  });

  it('M30 "?" in headless mode mentions interactive entry', async () => {
    const err = (await resolveEnvEntries([parseEnvValue('A', '?')], { hostEnv: {}, headless: true, ask: async () => 'x' }).catch((e: unknown) => e)) as BottleError;
    expect(err.message).toBe('env A needs interactive entry ("?"), which headless mode cannot do; use "${HOST_VAR}"');
    expect(err.code).toBe('INTERACTIVE_REQUIRED');
  });

  it('resolves literal, host and prompted entries; asks only after every other check passed', async () => {
    const asked: string[] = [];
    const entries = [parseEnvValue('L', 'lit'), parseEnvValue('H', '${HV}'), parseEnvValue('P', '?Your PIN')];
    const r = await resolveEnvEntries(entries, {
      hostEnv: { HV: SECRET },
      headless: false,
      ask: async (name, prompt) => {
        asked.push(`${name}:${prompt}`);
        return '1234';
      },
    });
    expect(r.values).toEqual({ L: 'lit', H: SECRET, P: '1234' });
    expect(r.kinds).toEqual({ L: 'literal', H: 'host', P: 'prompted' });
    expect(asked).toEqual(['P:Your PIN']);

    const asked2: string[] = [];
    await expect(
      resolveEnvEntries([parseEnvValue('P', '?'), parseEnvValue('H', '${MISSING}')], { hostEnv: {}, headless: false, ask: async (n) => (asked2.push(n), 'x') }),
    ).rejects.toThrow(/MISSING/);
    expect(asked2).toEqual([]);
  });

  it('M31 ?? escape; ${ inside a literal warns by name only', () => {
    expect(parseEnvValue('A', '??x')).toEqual({ name: 'A', kind: 'literal', value: '?x' });
    const e = parseEnvValue('URL', `https://${SECRET}/\${X}`);
    expect(e).toMatchObject({ kind: 'literal', warnInterpolation: true });
    const w = envWarnings([e]);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('URL');
    expect(w[0]).not.toContain(SECRET);
  });

  it('reserved names', () => {
    for (const n of ['HTTP_PROXY', 'no_proxy', 'All_Proxy', 'SSL_CERT_DIR', 'CODEX_CA_CERTIFICATE', 'EGRESS_TOKEN_X', 'GIT_GATE_ANY', 'BOT_BOTTLE_X']) expect(isReservedEnvName(n)).toBe(true);
    for (const n of ['PATH_X', 'TZ', 'egress_token_0']) expect(isReservedEnvName(n)).toBe(false);
  });
});
