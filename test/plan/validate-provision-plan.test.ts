import { describe, expect, it } from 'vitest';
import { validateProvisionPlan } from '../../src/plan/validate-provision-plan.js';
import type { ProvisionPlan } from '../../src/providers/types.js';
import { ALL_FIXED_SYNTHETIC_REFS } from '../../src/providers/registry.js';

function plan(over: Partial<ProvisionPlan> = {}): ProvisionPlan {
  return {
    template: 'mytool',
    image: { tag: 'bot-bottle-mytool:latest', dockerfile: null, context: null, buildArgs: {} },
    interactiveArgv: ['mytool'],
    resumeArgv: ['mytool', '--resume'],
    headlessArgv: ['mytool', '{{prompt}}'],
    headlessResumeArgv: ['mytool', '--resume', '{{prompt}}'],
    guestEnv: { MYTOOL_MODE: 'x' },
    hiddenEnvNames: [],
    files: [{ path: '/home/node/.mytool/config', content: 'ok' }],
    skillsDir: '/home/node/.mytool/skills',
    transcriptPaths: ['/home/node/.mytool/sessions'],
    mcpRegisterArgv: null,
    egressRoutes: [],
    provisionedEnv: {},
    notes: [],
    ...over,
  };
}

const SECRET = 'plugin-secret-value-1234';
const check = (p: ProvisionPlan, template = 'mytool', syntheticRefs: string[] = []) =>
  validateProvisionPlan({ plan: p, template, syntheticRefs, reservedRefs: ALL_FIXED_SYNTHETIC_REFS });
const authRoute = (tokenRef: string) => ({ host: 'api.mytool.dev', auth: { scheme: 'Bearer' as const, tokenRef }, tlsPassthrough: false, git: { fetch: true }, dlp: {}, allowPrivateCidrs: [] });

describe('provision plan validation', () => {
  it('accepts a well-formed plan', () => {
    expect(() => check(plan())).not.toThrow();
  });

  it('P40: guestEnv setting HTTPS_PROXY (any case) or a reserved prefix is rejected', () => {
    expect(() => check(plan({ guestEnv: { HTTPS_PROXY: 'http://evil:1' } }))).toThrow(/mytool: invalid provision plan: guestEnv sets HTTPS_PROXY/);
    expect(() => check(plan({ guestEnv: { https_proxy: 'x' } }))).toThrow(/guestEnv sets https_proxy/);
    expect(() => check(plan({ guestEnv: { BOT_BOTTLE_CANARY: 'x' } }))).toThrow(/BOT_BOTTLE_CANARY/);
    expect(() => check(plan({ guestEnv: { CODEX_CA_CERTIFICATE: '/tmp/x' } }))).toThrow(/CODEX_CA_CERTIFICATE must equal/);
    expect(() => check(plan({ guestEnv: { CODEX_CA_CERTIFICATE: '/home/node/.bot-bottle-ca-bundle.pem' } }))).not.toThrow();
  });

  it('P41: a provisionedEnv value inside a file, env value or argv is rejected without showing it', () => {
    const prov = { BOT_BOTTLE_PROVIDER_MYTOOL_KEY: SECRET };
    const routes = [authRoute('BOT_BOTTLE_PROVIDER_MYTOOL_KEY')];
    const inFile = () => check(plan({ provisionedEnv: prov, egressRoutes: routes, files: [{ path: '/home/node/x', content: `key=${SECRET}` }] }));
    expect(inFile).toThrow(/provisionedEnv BOT_BOTTLE_PROVIDER_MYTOOL_KEY appears in files\[0\]/);
    try {
      inFile();
    } catch (e) {
      expect((e as Error).message).not.toContain(SECRET);
    }
    expect(() => check(plan({ provisionedEnv: prov, guestEnv: { K: SECRET } }))).toThrow(/appears in guestEnv K/);
    expect(() => check(plan({ provisionedEnv: prov, interactiveArgv: ['mytool', `--key=${SECRET}`] }))).toThrow(/appears in interactiveArgv/);
    expect(() => check(plan({ provisionedEnv: prov, egressRoutes: routes }))).not.toThrow();
  });

  it('P42: a plugin returning provisionedEnv {GITHUB_TOKEN} is rejected (reserved-prefix rule)', () => {
    expect(() => check(plan({ provisionedEnv: { GITHUB_TOKEN: 'x'.repeat(20) } }))).toThrow(/provisionedEnv key GITHUB_TOKEN is not a reserved synthetic reference \(use BOT_BOTTLE_PROVIDER_MYTOOL_<X>\)/);
    // Another provider's prefix and a built-in's fixed reference are not this plugin's either.
    expect(() => check(plan({ provisionedEnv: { BOT_BOTTLE_PROVIDER_OTHER_KEY: 'x'.repeat(20) } }))).toThrow(/not a reserved synthetic reference/);
    for (const ref of ALL_FIXED_SYNTHETIC_REFS) {
      expect(() => check(plan({ provisionedEnv: { [ref]: 'x'.repeat(20) } }))).toThrow(/not a reserved synthetic reference/);
      expect(() => check(plan({ egressRoutes: [authRoute(ref)] }))).toThrow(/egressRoutes\[0\]\.auth\.token_ref names a reserved variable/);
    }
    // Template names with '-' map to '_'.
    expect(() => check(plan({ template: 'my-tool', provisionedEnv: { BOT_BOTTLE_PROVIDER_MY_TOOL_K: 'v'.repeat(10) } }), 'my-tool')).not.toThrow();
  });

  it('rejects an owned synthetic route reference that is not provisioned (it would come from process env)', () => {
    expect(() => check(plan({ egressRoutes: [authRoute('BOT_BOTTLE_PROVIDER_MYTOOL_KEY')] }))).toThrow(/is not in provisionedEnv/);
  });

  it('rejects empty or CR/LF/NUL provisioned values', () => {
    expect(() => check(plan({ provisionedEnv: { BOT_BOTTLE_PROVIDER_MYTOOL_K: '' } }))).toThrow(/empty or contains CR, LF or NUL/);
    expect(() => check(plan({ provisionedEnv: { BOT_BOTTLE_PROVIDER_MYTOOL_K: 'a\nb' } }))).toThrow(/empty or contains/);
  });

  it('rejects {{prompt}} missing or twice, missing fields, paths outside the guest home, absent hidden names', () => {
    expect(() => check(plan({ headlessArgv: ['mytool'] }))).toThrow(/headlessArgv must contain \{\{prompt\}\} exactly once/);
    expect(() => check(plan({ headlessResumeArgv: ['{{prompt}}', '{{prompt}}'] }))).toThrow(/headlessResumeArgv/);
    const { notes: _n, ...noNotes } = plan();
    expect(() => check(noNotes as ProvisionPlan)).toThrow(/notes is missing/);
    expect(() => check(plan({ files: [{ path: '/etc/passwd', content: '' }] }))).toThrow(/files\[0\]\.path must be an absolute path inside \/home\/node/);
    expect(() => check(plan({ files: [{ path: '/home/node/../../etc/x', content: '' }] }))).toThrow(/files\[0\]\.path/);
    expect(() => check(plan({ hiddenEnvNames: ['NOPE'] }))).toThrow(/hiddenEnvNames names NOPE/);
    expect(() => check(plan({ template: 'other' }))).toThrow(/template is "other"/);
  });

  it('rejects provider routes that fail route validation', () => {
    const r = authRoute('MY_KEY');
    expect(() => check(plan({ egressRoutes: [{ ...r, host: 'https://x.com/a' }] }))).toThrow(/egressRoutes\[0\]\.host/);
    expect(() => check(plan({ egressRoutes: [{ ...r, port: 0 }] }))).toThrow(/port/);
    expect(() => check(plan({ egressRoutes: [{ ...r, tlsPassthrough: true }] }))).toThrow(/tls_passthrough cannot be combined/);
    expect(() => check(plan({ egressRoutes: [{ ...r, weak: true }] }))).toThrow(/authenticated route cannot be weak/);
    expect(() => check(plan({ egressRoutes: [authRoute('bad-name')] }))).toThrow(/egressRoutes\[0\]\.auth\.token_ref must be the name of a host environment variable/);
    expect(() => check(plan({ egressRoutes: [authRoute('EGRESS_TOKEN_0')] }))).toThrow(/reserved/);
    expect(() => check(plan({ egressRoutes: [authRoute('BOT_BOTTLE_CLAUDE_OAUTH_TOKEN')] }))).not.toThrow();
    expect(() => check(plan({ egressRoutes: [authRoute('A_KEY'), { ...authRoute('A_KEY'), port: 443 }] }))).toThrow(/egressRoutes\[0\] and egressRoutes\[1\] both route api\.mytool\.dev:443/);
    expect(() => check(plan({ egressRoutes: [authRoute('A_KEY'), { ...authRoute('A_KEY'), port: 8443 }] }))).not.toThrow();
  });
});
