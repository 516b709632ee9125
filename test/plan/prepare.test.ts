import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { preparePlan } from '../../src/plan/prepare.js';
import { materializeState } from '../../src/plan/materialize.js';
import { tempHome, type TempHome } from './home-fixture.js';
import { NOW_S, T } from '../providers/fixtures.js';

const GH = 'ghp_PLANTEDgithubMARKER00000000000000000000';
const OAUTH = 'sk-ant-oat01-PLANTEDclaudeMARKER-0000000';
let h: TempHome;
afterEach(() => h?.cleanup());

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('preparePlan (backend-neutral plan, no side effects)', () => {
  it('builds a complete, frozen plan with the agent env and writes nothing', async () => {
    h = tempHome();
    h.bottle('claude', 'agent_provider: {template: claude, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN}\negress: {log: 1}');
    h.bottle('dev', 'extends: claude\nenv: {TZ: Europe/Berlin, REG: "${REG_URL}"}\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: token, token_ref: GITHUB_TOKEN}');
    h.agent('implementer', 'bottle: dev', 'You implement one issue.');
    const before = readdirSync(h.home).sort();
    const p = await preparePlan(h.options('implementer', { hostEnv: { BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: OAUTH, GITHUB_TOKEN: GH, REG_URL: 'https://npm.example' } }));
    expect(readdirSync(h.home).sort()).toEqual(before);
    expect(existsSync(join(h.home, 'state'))).toBe(false);

    const env = p.plan.agent.env;
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) expect(env[k]).toBe('http://egress:9099');
    expect(env.NO_PROXY).toBe('localhost,127.0.0.1,git-gate,supervise');
    expect(env.NODE_EXTRA_CA_CERTS).toBe('/home/node/.bot-bottle-ca.pem');
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE']) expect(env[k]).toBe('/home/node/.bot-bottle-ca-bundle.pem');
    expect(env.BOT_BOTTLE_SLUG).toBe(p.plan.slug);
    expect(env.BOT_BOTTLE_LABEL).toBe('implementer');
    expect(env.BOT_BOTTLE_COLOR).toBe('none');
    expect(env.TZ).toBe('Europe/Berlin');
    expect(env.REG).toBe('https://npm.example');
    expect(env.CLAUDE_CODE_OAUTH_TOKEN).toBe('egress-placeholder');
    expect(p.plan.slug).toMatch(/^implementer-[0-9a-z]{5}$/);

    // Secrets: the slots + one canary for both sidecars; the agent gets the same canary.
    expect(p.secrets).toEqual({ EGRESS_TOKEN_0: OAUTH, EGRESS_TOKEN_1: GH, EGRESS_TOKEN_CANARY: env.BOT_BOTTLE_CANARY, GIT_GATE_CANARY: env.BOT_BOTTLE_CANARY });
    expect(env.BOT_BOTTLE_CANARY).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(p)).not.toContain('secrets');
    const serialised = JSON.stringify(p);
    expect(serialised).not.toContain(OAUTH);
    expect(serialised).not.toContain(GH);
    expect(Object.values(env).join('\n')).not.toContain(GH);

    expect(Object.isFrozen(p.plan)).toBe(true);
    expect(Object.isFrozen(p.plan.agent.env)).toBe(true);
    expect(() => {
      (p.plan.agent.env as Record<string, string>).HTTPS_PROXY = 'x';
    }).toThrow(TypeError);

    expect(p.plan.agent.files.find((f) => f.path === '/home/node/.bot-bottle-prompt.txt')?.content).toBe('You implement one issue.');
    expect(p.plan.agent.interactiveArgv).toContain('--append-system-prompt-file');
    expect(p.routesFile.routes.map((r) => [r.host, r.auth?.token_env, r.origin])).toEqual([
      ['api.anthropic.com', 'EGRESS_TOKEN_0', 'provider'],
      ['api.github.com', 'EGRESS_TOKEN_1', 'manifest'],
    ]);
    expect(p.document.egress.routes[0]).toMatchObject({ origin: 'provider:claude', auth: { scheme: 'Bearer', tokenRef: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN', slot: 'EGRESS_TOKEN_0' } });
    expect(p.document.env.map((e) => e.name)).not.toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(p.document.slugTentative).toBe(true);
    expect(p.plan.ca.hostCertPath).toBe(join(p.plan.stateDir, 'egress', 'ca.pem'));
  });

  it('P10 (pipeline): provisionedEnv overrides the process env for the same name', async () => {
    h = tempHome();
    h.bottle('codex', 'agent_provider: {template: codex, forward_host_credentials: true}');
    h.agent('a', 'bottle: codex');
    const token = T(NOW_S + 3600);
    h.file('user/.codex/auth.json', JSON.stringify({ auth_mode: 'chatgpt', tokens: { access_token: token } }));
    const p = await preparePlan(
      h.options('a', { hostEnv: { BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN: 'old-process-env-value' }, now: () => new Date(NOW_S * 1000) }),
    );
    expect(p.secrets.EGRESS_TOKEN_0).toBe(token);
    expect(Object.keys(p.secrets)).toEqual(['EGRESS_TOKEN_0', 'EGRESS_TOKEN_CANARY', 'GIT_GATE_CANARY']);
    expect(JSON.stringify(p.plan)).not.toContain(token);
    expect(JSON.stringify(p.document)).not.toContain(token);
  });

  it('P46: env "${GITHUB_TOKEN}" plus a route with token_ref GITHUB_TOKEN aborts naming both, no value', async () => {
    h = tempHome();
    h.bottle('b', 'env: {API: "${GITHUB_TOKEN}"}\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}');
    h.agent('a', 'bottle: b');
    const err = (await preparePlan(h.options("a", { hostEnv: { GITHUB_TOKEN: GH } })).then(() => null, (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('host variable GITHUB_TOKEN is an egress credential and would also be visible to the agent (env API); remove one of them');
    expect(err.message).not.toContain(GH);
  });

  it('P46 (prompt): a credential inside the agent prompt also aborts', async () => {
    h = tempHome();
    h.bottle('b', 'egress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}');
    h.agent('a', 'bottle: b', `use ${GH} please`);
    await expect(preparePlan(h.options('a', { hostEnv: { GITHUB_TOKEN: GH } }))).rejects.toThrow(/GITHUB_TOKEN is an egress credential .*\(file \/home\/node\/\.bot-bottle-prompt\.txt, prompt\)/);
  });

  it('C9/C42: a missing token variable fails with TOKEN_MISSING naming only it; a dry run lists it instead', async () => {
    h = tempHome();
    h.bottle('b', 'env: {REG: "${REG_URL}"}\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}');
    h.agent('a', 'bottle: b');
    await expect(preparePlan(h.options('a', { dryRun: false, hostEnv: { OTHER: 'x', REG_URL: 'r' } }))).rejects.toMatchObject({
      code: 'TOKEN_MISSING',
      message: 'egress credential not set on the host: GITHUB_TOKEN (export it, or remove the route that uses it)',
    });
    await expect(preparePlan(h.options('a', { dryRun: false, hostEnv: { GITHUB_TOKEN: GH } }))).rejects.toMatchObject({ code: 'TOKEN_MISSING', message: 'env REG: host variable REG_URL is not set' });
    const dry = await preparePlan(h.options('a', { hostEnv: { OTHER: 'x' } }));
    expect(dry.document.credentials).toEqual([
      { name: 'GITHUB_TOKEN', usedBy: 'egress', status: 'missing' },
      { name: 'REG_URL', usedBy: 'env', status: 'missing' },
    ]);
    expect(dry.secrets.EGRESS_TOKEN_0).toBeUndefined();
    expect(dry.plan.agent.env.REG).toBeUndefined();
    const invalid = await preparePlan(h.options('a', { hostEnv: { GITHUB_TOKEN: `${GH}\nx`, REG_URL: 'r' } }));
    expect(invalid.document.credentials).toEqual([
      { name: 'GITHUB_TOKEN', usedBy: 'egress', status: 'invalid' },
      { name: 'REG_URL', usedBy: 'env', status: 'set' },
    ]);
    expect(JSON.stringify(invalid.document)).not.toContain(GH);
  });

  it('P13a (pipeline): a git-gate HTTPS token is resolved in the same call as egress slots', async () => {
    h = tempHome();
    h.bottle('b', 'git-gate:\n  repos:\n    docs:\n      url: https://git.example.com/acme/docs.git\n      token_ref: DOCS_TOKEN\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}');
    h.agent('a', 'bottle: b');
    const p = await preparePlan(h.options('a', { hostEnv: { GITHUB_TOKEN: GH, DOCS_TOKEN: 'docs-token-value-123' } }));
    expect(p.secrets.GIT_GATE_TOKEN_0).toBe('docs-token-value-123');
    expect(p.secrets.EGRESS_TOKEN_0).toBe(GH);
    expect(p.gate.configYaml).toContain('token_env: GIT_GATE_TOKEN_0');
    expect(p.gate.configYaml).not.toContain('DOCS_TOKEN');
    expect(p.document.gitGate[0]).toMatchObject({ name: 'docs', tokenRef: 'DOCS_TOKEN', slot: 'GIT_GATE_TOKEN_0' });
    expect(p.plan.agent.gitConfig.some(([k, v]) => k === 'url.http://git-gate:9420/docs.git.insteadOf' && v === 'https://git.example.com/acme/docs.git')).toBe(true);
    await expect(preparePlan(h.options('a', { dryRun: false, hostEnv: { GITHUB_TOKEN: GH } }))).rejects.toThrow('git-gate credential not set on the host: DOCS_TOKEN');
    const dry = await preparePlan(h.options('a', { hostEnv: { GITHUB_TOKEN: GH } }));
    expect(dry.document.credentials).toContainEqual({ name: 'DOCS_TOKEN', usedBy: 'git-gate', status: 'missing' });
  });

  it('C41/M30: a "?" env entry in headless mode fails naming the variable; dry-run asks nothing; interactive asks', async () => {
    h = tempHome();
    h.bottle('b', 'env: {DB_PASS: "?Password for the db"}');
    h.agent('a', 'bottle: b');
    await expect(preparePlan(h.options('a', { headless: true }))).rejects.toThrow(/env DB_PASS needs interactive entry/);
    const asked: string[] = [];
    const dry = await preparePlan(h.options('a', { ask: async (n) => (asked.push(n), 'x') }));
    expect(asked).toEqual([]);
    expect(dry.document.env).toEqual(expect.arrayContaining([{ name: 'DB_PASS', kind: 'prompted' }]));
    const real = await preparePlan(h.options('a', { dryRun: false, ask: async (n, prompt) => (asked.push(`${n}:${prompt}`), 'typed-secret-pass') }));
    expect(asked).toEqual(['DB_PASS:Password for the db']);
    expect(real.plan.agent.env.DB_PASS).toBe('typed-secret-pass');
    expect(JSON.stringify(real.document)).not.toContain('typed-secret-pass');
    await expect(preparePlan(h.options('a', { dryRun: false }))).rejects.toThrow(/DB_PASS/);
  });

  it('provider env wins over manifest env with a warning', async () => {
    h = tempHome();
    h.bottle('b', 'env: {DISABLE_AUTOUPDATER: "0"}');
    h.agent('a', 'bottle: b');
    const p = await preparePlan(h.options('a'));
    expect(p.plan.agent.env.DISABLE_AUTOUPDATER).toBe('1');
    expect(p.warnings).toContain('env DISABLE_AUTOUPDATER is also set by provider claude; the provider value wins');
  });

  it('P48: Dockerfile cascade — manifest beats plugin; per-bottle state override beats both', async () => {
    h = tempHome();
    const custom = h.file('docker/Dockerfile.custom', 'FROM debian\n');
    mkdirSync(join(h.home, 'contrib', 'mytool'), { recursive: true, mode: 0o755 });
    writeFileSync(join(h.home, 'contrib', 'mytool', 'provider.mjs'), `export default { apiVersion: 1, name: 'mytool', plan: async (ctx) => ({
      template: 'mytool', image: { tag: 'bot-bottle-mytool:latest', dockerfile: null, context: null, buildArgs: {} },
      interactiveArgv: ['mytool'], resumeArgv: ['mytool'], headlessArgv: ['mytool', '{{prompt}}'], headlessResumeArgv: ['mytool', '{{prompt}}'],
      guestEnv: {}, hiddenEnvNames: [], files: [], skillsDir: ctx.guestHome + '/.mytool/skills', transcriptPaths: [], mcpRegisterArgv: null,
      egressRoutes: [], provisionedEnv: {}, notes: [] }) };\n`);
    writeFileSync(join(h.home, 'contrib', 'mytool', 'Dockerfile'), 'FROM scratch\n');
    h.bottle('plugin', 'agent_provider: {template: mytool}');
    h.bottle('manifest', `agent_provider: {template: mytool, dockerfile: ${custom}}`);
    h.agent('a', 'bottle: plugin');
    const plugin = await preparePlan(h.options('a'));
    expect(plugin.plan.agent.image.dockerfile).toBe(join(h.home, 'contrib', 'mytool', 'Dockerfile'));
    expect(plugin.plan.agent.image.context).toBe(join(h.home, 'contrib', 'mytool'));
    const manifest = await preparePlan(h.options('a', { bottles: ['manifest'] }));
    expect(manifest.plan.agent.image.dockerfile).toBe(custom);
    expect(manifest.document.provider.imageSource).toBe('manifest');
    expect(manifest.plan.agent.image.tag).not.toBe('bot-bottle-mytool:latest');
    // Per-bottle override (resume after an approved capability request).
    const slug = 'a-resumed';
    mkdirSync(join(h.home, 'state', slug), { recursive: true });
    writeFileSync(join(h.home, 'state', slug, 'Dockerfile'), 'FROM debian\nRUN apt-get install -y jq\n');
    const resumed = await preparePlan(h.options('a', { bottles: ['manifest'], slug }));
    expect(resumed.plan.agent.image.dockerfile).toBe(join(h.home, 'state', slug, 'Dockerfile'));
    expect(resumed.document.provider.imageSource).toBe('state-override');
  });

  it('supervise is available: claude registers the MCP server by command (timeout above the daemon\'s wait)', async () => {
    h = tempHome();
    h.bottle('b', 'agent_provider: {template: claude, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN}');
    h.agent('a', 'bottle: b');
    const p = await preparePlan(h.options('a', { dryRun: false, hostEnv: { BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: OAUTH } }));
    expect(p.plan.agent.mcpRegisterArgv).toEqual(['claude', 'mcp', 'add', '--scope', 'user', '--transport', 'http', 'supervise', 'http://supervise:9100/mcp']);
    expect(p.plan.agent.env.MCP_TOOL_TIMEOUT).toBe('660000');
    expect(p.document.supervise).toEqual({ enabled: true, mcp: 'registered', available: true, note: null });
    expect(p.document.provider.imageBuild).toEqual({ available: false, note: 'the netns backend does not build agent images' });
    const onDocker = await preparePlan(h.options('a', { dryRun: true, backend: 'docker', backendBuildsImages: true, hostEnv: { BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: OAUTH } }));
    expect(onDocker.document.provider.imageBuild).toEqual({ available: true, note: null });
    expect(p.plan.sidecar.daemons).toEqual(['egress', 'git-gate', 'supervise']);
    expect(p.document.credentials).toEqual([{ name: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN', usedBy: 'egress', status: 'set' }]);
  });

  it('bundled image for a built-in; codex names the supervise server in its settings, pi has no MCP', async () => {
    h = tempHome();
    h.bottle('c', 'agent_provider: {template: codex}');
    h.bottle('p', 'agent_provider:\n  template: pi\n  settings: {base_url: "https://llm.example.com/v1", models: [m1]}');
    h.agent('a', 'bottle: c');
    const codex = await preparePlan(h.options('a'));
    expect(codex.plan.agent.image.tag).toBe('bot-bottle-codex:latest');
    expect(codex.plan.agent.image.dockerfile).toBeNull();
    expect(codex.plan.agent.image.defaultDockerfile).toMatch(/assets\/docker\/Dockerfile\.codex$/);
    expect(codex.plan.agent.image.source).toBe('bundled');
    expect(codex.document.supervise.mcp).toBe('configured');
    expect(codex.plan.agent.mcpRegisterArgv).toBeNull();
    expect(codex.plan.sidecar.daemons).toEqual(['egress', 'git-gate', 'supervise']);
    const config = codex.plan.agent.files.find((f) => f.path.endsWith('/config.toml'));
    expect(config?.content).toContain('trust_level = "trusted"');
    expect(config?.content).toContain('[mcp_servers.supervise]\nurl = "http://supervise:9100/mcp"\ntool_timeout_sec = 660\n');
    const pi = await preparePlan(h.options('a', { bottles: ['p'] }));
    expect(pi.document.supervise.mcp).toBe('unavailable');
    expect(pi.document.notes.join('\n')).toMatch(/no MCP support/);
  });

  it('M56: a missing skill dir fails naming skill and path', async () => {
    h = tempHome();
    h.bottle('b', '{}');
    h.agent('a', 'bottle: b\nskills: [run-tests]');
    await expect(preparePlan(h.options('a'))).rejects.toThrow('skill "run-tests" not found at ~/.claude/skills/run-tests');
    mkdirSync(join(h.userHome, '.claude', 'skills', 'run-tests'), { recursive: true });
    const p = await preparePlan(h.options('a'));
    expect(p.plan.agent.skills).toEqual([{ hostPath: join(h.userHome, '.claude', 'skills', 'run-tests'), guestPath: '/home/node/.claude/skills/run-tests' }]);
  });
});

describe('materializeState', () => {
  it('writes state/<slug>/ 0700 with metadata (snake_case), CA, routes file, git-gate config — and no secret', async () => {
    h = tempHome();
    const key = h.file('keys/id_ed25519', '-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n', 0o600);
    h.bottle('b', [
      'agent_provider: {template: claude, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN}',
      'git-gate:',
      '  repos:',
      '    web:',
      '      url: ssh://git@gitea.example.com:2222/acme/web.git',
      `      key: {provider: static, path: ${key}}`,
      '      host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForDocsOnly0000000000000000"',
      'egress:',
      '  routes:',
      '    - host: api.github.com',
      '      auth: {scheme: token, token_ref: GITHUB_TOKEN}',
    ].join('\n'));
    h.agent('a', 'bottle: b');
    const p = await preparePlan(h.options('a', { dryRun: false, hostEnv: { GITHUB_TOKEN: GH, BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: OAUTH } }));
    const m = await materializeState(p);
    expect(m.stateDir).toBe(p.plan.stateDir);
    expect(statSync(m.stateDir).mode & 0o777).toBe(0o700);
    const meta = JSON.parse(readFileSync(join(m.stateDir, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ schema_version: 1, identity: p.plan.slug, agent_name: 'a', bottle_names: ['b'], backend: 'netns', label: 'a', color: 'none', copy_cwd: false, headless: false, template: 'claude' });
    expect(meta.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(readFileSync(m.caCertPath, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(statSync(m.caKeyPath).mode & 0o777).toBe(0o600);
    const routes = readFileSync(m.routesPath, 'utf8');
    expect(routes).toContain('token_env: EGRESS_TOKEN_0');
    expect(readFileSync(join(m.stateDir, 'git-gate', 'config.yaml'), 'utf8')).toContain('key_file: creds/web/id_ed25519');
    expect(statSync(join(m.stateDir, 'git-gate', 'creds', 'web', 'id_ed25519')).mode & 0o777).toBe(0o600);
    for (const d of ['run', 'logs', 'supervise/spool', 'live-config', 'provider']) expect(statSync(join(m.stateDir, d)).isDirectory()).toBe(true);
    expect(existsSync(join(m.stateDir, 'provider', '.claude.json'))).toBe(true);
    for (const f of walk(m.stateDir)) {
      const text = readFileSync(f, 'utf8');
      for (const secret of [GH, OAUTH, p.secrets.EGRESS_TOKEN_CANARY!]) expect(text, f).not.toContain(secret);
      expect(text, f).not.toContain('GITHUB_TOKEN');
    }
    await expect(materializeState(p)).rejects.toMatchObject({ code: 'SLUG_IN_USE' });
  });
});
