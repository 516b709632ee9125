import { describe, expect, it } from 'vitest';
import { buildChildEnv, listenTarget, parseDaemonList, parseSecretsJson, secretOwner, secretsFromEnv } from '../../src/sidecar/daemons.js';

const parentEnv = {
  PATH: '/usr/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TZ: 'UTC',
  BOT_BOTTLE_SLUG: 'demo-abcde',
  AWS_SECRET_ACCESS_KEY: 'host-credential-must-not-pass',
  GITHUB_TOKEN: 'host-token-must-not-pass',
  EGRESS_RESOLVE: 'api.bot-bottle.test=127.0.0.1',
  GIT_GATE_UPSTREAM_CA_FILE: '/tmp/ca.pem',
  EGRESS_TOKEN_ALLOW_TIMEOUT_SECONDS: '5',
};
const secrets = { EGRESS_TOKEN_0: 'egress-secret-0', EGRESS_TOKEN_CANARY: 'canary-x', GIT_GATE_TOKEN_0: 'gate-secret-0', GIT_GATE_CANARY: 'canary-x' };

describe('sidecar child env', () => {
  it('C45: egress gets only its own slots and settings', () => {
    const env = buildChildEnv({ daemon: 'egress', parentEnv, secrets, configDir: '/s/x', listen: '10.250.0.1' });
    expect(env).toMatchObject({
      EGRESS_TOKEN_0: 'egress-secret-0',
      EGRESS_TOKEN_CANARY: 'canary-x',
      EGRESS_ROUTES: '/s/x/live-config/routes.yaml',
      EGRESS_CA_CERT: '/s/x/egress/ca.pem',
      EGRESS_CA_KEY: '/s/x/egress/ca-key.pem',
      EGRESS_AUDIT_PATH: '/s/x/logs/egress-audit.jsonl',
      SUPERVISE_INTERNAL_SOCKET: '/s/x/run/supervise/supervise.sock',
      EGRESS_LISTEN: '10.250.0.1:9099',
      EGRESS_RESOLVE: 'api.bot-bottle.test=127.0.0.1',
      EGRESS_TOKEN_ALLOW_TIMEOUT_SECONDS: '5',
      BOT_BOTTLE_SLUG: 'demo-abcde',
      PATH: '/usr/bin',
    });
    expect(env.GIT_GATE_TOKEN_0).toBeUndefined();
    expect(env.GIT_GATE_CANARY).toBeUndefined();
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.GIT_GATE_UPSTREAM_CA_FILE).toBeUndefined();
  });

  it('C45: git-gate gets only its own slots; supervise gets none', () => {
    const gate = buildChildEnv({ daemon: 'git-gate', parentEnv, secrets, configDir: '/s/x', listen: '10.250.0.1' });
    expect(gate).toMatchObject({
      GIT_GATE_TOKEN_0: 'gate-secret-0',
      GIT_GATE_CANARY: 'canary-x',
      GIT_GATE_CONFIG: '/s/x/git-gate/config.yaml',
      GIT_GATE_ROOT: '/s/x/git-gate',
      GIT_GATE_LISTEN: '10.250.0.1:9420',
      GIT_GATE_UPSTREAM_CA_FILE: '/tmp/ca.pem',
    });
    expect(Object.keys(gate).filter((k) => k.startsWith('EGRESS_'))).toEqual([]);
    const sup = buildChildEnv({ daemon: 'supervise', parentEnv, secrets, configDir: '/s/x', listen: '10.250.0.1' });
    expect(sup).toMatchObject({ SUPERVISE_LISTEN: '10.250.0.1:9100', EGRESS_INTROSPECT_URL: 'http://10.250.0.1:9099', SUPERVISE_SPOOL_DIR: '/s/x/supervise/spool' });
    expect(Object.values(sup)).not.toContain('egress-secret-0');
    expect(Object.values(sup)).not.toContain('gate-secret-0');
    expect(Object.values(sup)).not.toContain('canary-x');
  });

  it('own settings in the supervisor env win over the --config/--listen table', () => {
    const env = buildChildEnv({ daemon: 'egress', parentEnv: { ...parentEnv, EGRESS_LISTEN: '127.0.0.9:19099' }, secrets: {}, listen: '10.0.0.1' });
    expect(env.EGRESS_LISTEN).toBe('127.0.0.9:19099');
    expect(listenTarget('egress', env)).toEqual({ host: '127.0.0.9', port: 19099 });
    expect(listenTarget('git-gate', {})).toEqual({ host: '127.0.0.1', port: 9420 });
  });

  it('sensitive prefixes reach egress and git-gate only', () => {
    const pe = { ...parentEnv, BOT_BOTTLE_SENSITIVE_PREFIXES: 'MYCO_', MYCO_DB_PASS: 'db-pass-123' };
    expect(buildChildEnv({ daemon: 'egress', parentEnv: pe, secrets: {} }).MYCO_DB_PASS).toBe('db-pass-123');
    expect(buildChildEnv({ daemon: 'git-gate', parentEnv: pe, secrets: {} }).MYCO_DB_PASS).toBe('db-pass-123');
    expect(buildChildEnv({ daemon: 'supervise', parentEnv: pe, secrets: {} }).MYCO_DB_PASS).toBeUndefined();
  });

  it('secret names: owners, env mode, stdin JSON validation names keys never values', () => {
    expect(secretOwner('EGRESS_TOKEN_12')).toBe('egress');
    expect(secretOwner('EGRESS_TOKEN_ALLOW_TIMEOUT_SECONDS')).toBeNull();
    expect(secretOwner('GIT_GATE_CANARY')).toBe('git-gate');
    expect(secretsFromEnv({ EGRESS_TOKEN_0: 'a', PATH: '/x', GIT_GATE_TOKEN_1: 'b' })).toEqual({ EGRESS_TOKEN_0: 'a', GIT_GATE_TOKEN_1: 'b' });
    expect(parseSecretsJson('{"EGRESS_TOKEN_0":"v"}')).toEqual({ ok: true, secrets: { EGRESS_TOKEN_0: 'v' } });
    const bad = parseSecretsJson('{"PATH":"secret-value-zz"}');
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain('PATH');
    expect(JSON.stringify(bad)).not.toContain('secret-value-zz');
    expect(parseSecretsJson('{"EGRESS_TOKEN_0":5}').ok).toBe(false);
    expect(parseSecretsJson('[1]').ok).toBe(false);
    expect(parseSecretsJson('not json secret-value-zz')).toEqual({ ok: false, message: expect.not.stringContaining('secret-value-zz') });
  });

  it('--daemons parsing', () => {
    expect(parseDaemonList('git-gate,egress,egress', ['egress', 'git-gate'])).toEqual({ ok: true, daemons: ['git-gate', 'egress'], skipped: [] });
    expect(parseDaemonList('egress,supervise', ['egress', 'git-gate'])).toEqual({ ok: true, daemons: ['egress'], skipped: ['supervise'] });
    expect(parseDaemonList('supervise', ['egress', 'git-gate'])).toMatchObject({ ok: false, message: expect.stringContaining('not implemented') });
    expect(parseDaemonList('nope', ['egress'])).toMatchObject({ ok: false, message: expect.stringContaining('unknown daemon "nope"') });
  });
});
