import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { cliEnv, fm, snapshot, type CliEnv } from './cli-fixtures.js';

const MARK_ENV = 'marker-env-value-7c1e';
const MARK_TOKEN = 'marker-token-value-19ab';
const MARK_LIT = 'marker-literal-value-5d2f';

let e: CliEnv;
beforeEach(() => {
  e = cliEnv();
  e.write('bbhome/bottles/claude.md', fm('agent_provider:\n  template: claude\n  auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN\negress:\n  log: 1'));
  e.write(
    'bbhome/bottles/gitea-dev.md',
    fm(`extends: claude
env:
  TZ: Europe/Berlin
  NPM_CONFIG_REGISTRY: "\${NPM_REGISTRY_URL}"
  STAGING_DB_PASSWORD: "?Password for the staging database"
  LITERAL_CFG: ${MARK_LIT}
git-gate:
  user: {name: Review Bot, email: review-bot@example.com}
  repos:
    webapp:
      url: ssh://git@gitea.example.com:2222/acme/webapp.git
      key: {provider: gitea, provisioner_token: GITEA_ADMIN_TOKEN}
      host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForDocsOnly0000000000000000"
egress:
  routes:
    - host: gitea.example.com
      matches:
        - paths: [{type: prefix, value: /api/v1/repos/acme/}]
          methods: [GET, POST, PATCH]
      auth: {scheme: token, token_ref: GITEA_API_TOKEN}
      dlp: {outbound_on_match: block}
    - host: registry.npmjs.org
      matches: [{methods: [GET, HEAD]}]`),
  );
  e.write(
    'cwd/.bot-bottle/agents/implementer.md',
    fm('name: implementer\ndescription: Implements one issue end to end and pushes a branch.\nmodel: sonnet\nbottle: gitea-dev\nskills: [run-tests]\ngit-gate:\n  user: {name: Implementer Bot}', 'You implement exactly one issue. Write tests first.\n'),
  );
});
afterEach(() => e.cleanup());

const hostEnv = () => ({
  ...e.env,
  NPM_REGISTRY_URL: MARK_ENV,
  GITEA_API_TOKEN: MARK_TOKEN,
  GITEA_ADMIN_TOKEN: MARK_TOKEN,
  BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: MARK_TOKEN,
});

describe('bot-bottle info', () => {
  it('text: source, prompt, identity with provenance, git-gate, routes with tags, env names only', async () => {
    const r = await runCli(['info', 'implementer'], { env: hostEnv(), cwd: e.cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  agent         implementer  (repo: ./.bot-bottle/agents/implementer.md)');
    expect(lines).toContain('  prompt        51 chars  "You implement exactly one issue. Write tests first."');
    expect(lines).toContain('  skills        run-tests');
    expect(lines).toContain('  bottles       gitea-dev ← claude');
    expect(lines).toContain('  git identity  Implementer Bot (agent) <review-bot@example.com> (bottle)');
    expect(lines).toContain('  git-gate      webapp → gitea.example.com:2222  [key:gitea] [host key pinned]');
    expect(lines).toContain('  egress        log=1');
    expect(lines).toContain('                gitea.example.com    [auth:token] GET,POST,PATCH /api/v1/repos/acme/* [dlp:block]');
    expect(lines).toContain('                registry.npmjs.org   GET,HEAD');
    expect(lines).toContain('  env           TZ, NPM_CONFIG_REGISTRY (host), STAGING_DB_PASSWORD (prompted), LITERAL_CFG');
    // Honest surface: info names no backend, so it says which one builds the image
    // (docs/decisions/supervise-not-available.md); supervise runs (docs/decisions/supervise-daemon-available.md).
    expect(lines).toContain('  provider      claude  image bot-bottle-claude:latest (bundled Dockerfile; built by the docker backend)  auth_token BOT_BOTTLE_CLAUDE_OAUTH_TOKEN');
    expect(lines).toContain('  supervise     on');
    for (const m of [MARK_ENV, MARK_TOKEN, MARK_LIT]) {
      expect(r.stdout).not.toContain(m);
      expect(r.stderr).not.toContain(m);
    }
  });

  it('--json: bot-bottle/info@1, names and kinds only, never a value', async () => {
    const r = await runCli(['info', 'implementer', '--json'], { env: hostEnv(), cwd: e.cwd });
    expect(r.code).toBe(0);
    for (const m of [MARK_ENV, MARK_TOKEN, MARK_LIT]) {
      expect(r.stdout).not.toContain(m);
      expect(r.stderr).not.toContain(m);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ad-hoc JSON document under test
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc.schema).toBe('bot-bottle/info@1');
    expect(doc).not.toHaveProperty('slug');
    expect(doc).not.toHaveProperty('backend');
    expect(doc).not.toHaveProperty('workspace');
    expect(doc.agent).toMatchObject({ name: 'implementer', origin: 'repo', skills: ['run-tests'], promptChars: 51, defaultBottles: ['gitea-dev'] });
    expect(doc.provider).toMatchObject({ template: 'claude', image: 'bot-bottle-claude:latest', dockerfile: null, imageBuild: { available: true, note: 'built by the docker backend' } });
    expect(doc.supervise).toEqual({ available: true, note: null });
    expect(doc.bottles).toEqual([{ name: 'gitea-dev', source: join(e.home, 'bottles', 'gitea-dev.md'), extends: ['claude'] }]);
    expect(doc.gitIdentity.name).toMatchObject({ value: 'Implementer Bot', from: 'agent' });
    expect(doc.gitIdentity.email).toMatchObject({ value: 'review-bot@example.com', from: 'bottle' });
    expect(doc.gitGate).toEqual([
      expect.objectContaining({ name: 'webapp', url: 'ssh://git@gitea.example.com:2222/acme/webapp.git', host: 'gitea.example.com', port: 2222, key: 'gitea' }),
    ]);
    expect(doc.egress.log).toBe(1);
    expect(doc.egress.routes[0]).toEqual({
      host: 'gitea.example.com',
      port: null,
      origin: `bottle:${join(e.home, 'bottles', 'gitea-dev.md')}`,
      auth: { scheme: 'token', tokenRef: 'GITEA_API_TOKEN' },
      tlsPassthrough: false,
      gitFetch: true,
      matches: [{ paths: [{ type: 'prefix', value: '/api/v1/repos/acme' }], methods: ['GET', 'POST', 'PATCH'] }],
      dlp: { outbound: ['token_patterns', 'known_secrets'], inbound: ['naive_injection_detection'], onMatch: 'block' },
      allowPrivateCidrs: [],
    });
    expect(doc.env).toEqual([
      { name: 'TZ', kind: 'literal' },
      { name: 'NPM_CONFIG_REGISTRY', kind: 'host' },
      { name: 'STAGING_DB_PASSWORD', kind: 'prompted' },
      { name: 'LITERAL_CFG', kind: 'literal' },
    ]);
  });

  it('--bottle flags replace the default selection, in order (M71)', async () => {
    e.write('bbhome/bottles/extra.md', fm('env: {TZ: UTC}\negress: {routes: [{host: example.org, tls_passthrough: true, git: {fetch: false}}]}'));
    const r = await runCli(['info', 'implementer', '--bottle', 'gitea-dev', '--bottle', 'extra'], { env: e.env, cwd: e.cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  bottles       gitea-dev ← claude + extra');
    expect(r.stdout).toMatch(/example\.org\s+\[passthrough\] \[no-git-fetch\]/);
  });

  it('bad input: one error line naming file:line:col and the key, exit 1, nothing written anywhere', async () => {
    e.write('bbhome/bottles/claude.md', fm('agent_provider:\n  template: claude\negress:\n  routes:\n    - host: api.example.com\n      port: "443"'));
    const before = snapshot(e.root);
    const r = await runCli(['info', 'implementer'], { env: hostEnv(), cwd: e.cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^bot-bottle: error: \/.*\/bbhome\/bottles\/claude\.md:7:13: egress\.routes\[0\]\.port must be an integer 1–65535 \(write it without quotes\)\n$/);
    expect(snapshot(e.root)).toEqual(before);
  });

  it('M67 broken agent → exit 1 with its error', async () => {
    e.write('bbhome/agents/broken.md', fm('skills: [Bad_Name]'));
    const broken = await runCli(['info', 'broken'], { env: e.env, cwd: e.cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/agents\/broken\.md:2:\d+: skill "Bad_Name" must be kebab-case/);
  });

  it('unknown agent → suggestion, exit 1', async () => {
    const unknown = await runCli(['info', 'implementr'], { env: e.env, cwd: e.cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown agent "implementr"; did you mean "implementer"?');
  });

  it('M72 no bottle selected → exit 1', async () => {
    e.write('bbhome/agents/lonely.md', fm('description: no bottle'));
    const lonely = await runCli(['info', 'lonely'], { env: e.env, cwd: e.cwd });
    expect(lonely.code).toBe(1);
    expect(lonely.stderr).toContain('no bottle selected for agent "lonely": pass --bottle NAME or set bottle: in');
  });

  it('the README main-job command works on the shipped examples', async () => {
    const r = await runCli(['info', 'implementer'], { env: { BOT_BOTTLE_HOME: join(REPO_ROOT, 'examples'), HOME: e.userHome }, cwd: REPO_ROOT });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('git identity  Implementer Bot (agent) <review-bot@example.com> (bottle)');
  });
});
