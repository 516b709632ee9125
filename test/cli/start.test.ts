/**
 * `start` through the real CLI (C3–C20, C41): argument validation, dry-run text and
 * JSON, and the secrets check — marker values planted in host env vars named by token refs and in
 * a fake Codex login never reach stdout, stderr or disk, and a dry run creates no state dir.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI_MAIN, REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { findExecutable } from '../../src/backends/platform.js';
import { snapshot } from './cli-fixtures.js';

// `--import tsx` resolves from the child's cwd; these runs use a temp cwd, so name the loader.
const TSX = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

function runIn(cwd: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI_MAIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', BOT_BOTTLE_DEBUG: undefined, ...env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end('');
  });
}
import { allocateSlug, randomSuffix, slugify } from '../../src/state/slug.js';

const GH = 'ghp_MARKERgithubTOKENvalue000000000000000001';
const OAUTH = 'sk-ant-oat01-MARKERclaudeOAUTHvalue00000002';
const DOCS = 'MARKERdocsTOKENvalue00003';

interface Env {
  root: string;
  home: string;
  userHome: string;
  cwd: string;
  env: Record<string, string | undefined>;
}
const roots: string[] = [];
afterEach(() => {
  while (roots.length > 0) rmSync(roots.pop()!, { recursive: true, force: true });
});

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
const CODEX_ACCESS = `${b64({ alg: 'RS256' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 7200, sub: 'MARKERsubCLAIM' })}.${Buffer.from('MARKERcodexSIG').toString('base64url')}`;
const CODEX_REFRESH = 'MARKERcodexREFRESHtoken0004';

const MISSING_CLI = 'bb-no-such-agent-cli-7f3a';

const pluginSource = (name: string, command: string) => `export default {
  apiVersion: 1,
  name: ${JSON.stringify(name)},
  async plan(ctx) {
    return {
      template: ${JSON.stringify(name)},
      image: { tag: 'none', dockerfile: null, context: null, buildArgs: {} },
      interactiveArgv: [${JSON.stringify(command)}], resumeArgv: [${JSON.stringify(command)}],
      headlessArgv: [${JSON.stringify(command)}, '-c', '{{prompt}}'], headlessResumeArgv: [${JSON.stringify(command)}, '-c', '{{prompt}}'],
      guestEnv: {}, hiddenEnvNames: [], files: [], skillsDir: ctx.guestHome + '/.tool/skills',
      transcriptPaths: [], mcpRegisterArgv: null, egressRoutes: [], provisionedEnv: {}, notes: [],
    };
  },
};
`;

function writePlugin(home: string, name: string, command: string): void {
  const dir = join(home, 'contrib', name);
  mkdirSync(dir, { recursive: true });
  for (const d of [join(home, 'contrib'), dir]) chmodSync(d, 0o755);
  writeFileSync(join(dir, 'provider.mjs'), pluginSource(name, command), { mode: 0o644 });
}

function setup(): Env {
  const root = mkdtempSync(join(tmpdir(), 'bb-start-'));
  roots.push(root);
  const userHome = join(root, 'home');
  const home = join(userHome, '.bot-bottle');
  const cwd = join(root, 'work');
  for (const d of [join(home, 'bottles'), join(home, 'agents'), cwd, join(userHome, '.codex')]) mkdirSync(d, { recursive: true });
  const w = (rel: string, text: string) => writeFileSync(join(home, rel), text);
  w('bottles/claude.md', '---\nagent_provider: {template: claude, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN}\negress: {log: 1}\n---\n');
  w(
    'bottles/dev.md',
    [
      '---',
      'extends: claude',
      'env: {TZ: Europe/Berlin, PASS: "?Staging password"}',
      'git-gate:',
      '  user: {name: Review Bot, email: review-bot@example.com}',
      '  repos:',
      '    docs:',
      '      url: https://git.example.com/acme/docs.git',
      '      token_ref: DOCS_TOKEN',
      'egress:',
      '  routes:',
      '    - host: api.github.com',
      '      auth: {scheme: token, token_ref: GITHUB_TOKEN}',
      '      matches: [{methods: [GET]}]',
      '---',
    ].join('\n'),
  );
  w('bottles/codex.md', '---\nagent_provider: {template: codex, forward_host_credentials: true}\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}\n---\n');
  w('bottles/plain.md', '---\n{}\n---\n');
  // User plugins whose CLI is `sh` (on every host) and a command no host has: they exercise the
  // agent-CLI check without depending on whether claude/codex happen to be installed here.
  writePlugin(home, 'shtool', 'sh');
  writePlugin(home, 'ghosttool', MISSING_CLI);
  w('bottles/sh.md', '---\nagent_provider: {template: shtool}\negress:\n  routes:\n    - host: api.github.com\n      auth: {scheme: token, token_ref: GITHUB_TOKEN}\n---\n');
  w('bottles/ghost.md', '---\nagent_provider: {template: ghosttool}\n---\n');
  w('agents/runner.md', '---\nbottle: sh\n---\nYou run shell.\n');
  w('agents/ghost.md', '---\nbottle: ghost\n---\n');
  w('agents/implementer.md', '---\nbottle: dev\ngit-gate:\n  user: {name: Implementer Bot}\n---\nYou implement exactly one issue.\n');
  w('agents/coder.md', '---\nbottle: codex\n---\n');
  writeFileSync(
    join(userHome, '.codex', 'auth.json'),
    JSON.stringify({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { access_token: CODEX_ACCESS, id_token: CODEX_ACCESS, refresh_token: CODEX_REFRESH, account_id: 'acct-1' } }),
  );
  return {
    root,
    home,
    userHome,
    cwd,
    env: {
      HOME: userHome,
      BOT_BOTTLE_HOME: home,
      BOT_BOTTLE_BACKEND: undefined,
      // docker precedes netns in the default order; CI runs an engine, these tests mean netns.
      DOCKER_HOST: 'unix:///nonexistent/bot-bottle-test/docker.sock',
      CODEX_HOME: undefined,
      GITHUB_TOKEN: GH,
      BOT_BOTTLE_CLAUDE_OAUTH_TOKEN: OAUTH,
      DOCS_TOKEN: DOCS,
    },
  };
}

const start = (e: Env, args: string[], extra: Record<string, string | undefined> = {}) => runIn(e.cwd, ['start', ...args], { ...e.env, ...extra });

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

describe('start: argument validation (exit 2)', () => {
  it('C3: no agent and stdin not a TTY → exit 2 naming the positional', async () => {
    const e = setup();
    const r = await start(e, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('bot-bottle: error: no agent given; pass one (see bot-bottle list)\n');
  });

  it('C4: --format json without --dry-run → exit 2', async () => {
    const r = await start(setup(), ['implementer', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format is only valid with --dry-run');
  });

  it('C5: --prompt without --headless → exit 2', async () => {
    const r = await start(setup(), ['implementer', '--prompt', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--prompt needs --headless');
  });

  it('C6: --headless --prompt x without agent → exit 2', async () => {
    const r = await start(setup(), ['--headless', '--prompt', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--headless needs an agent');
  });

  it('bad --format / --color values and --headless without --prompt → exit 2', async () => {
    const e = setup();
    expect((await start(e, ['implementer', '--dry-run', '--format', 'yaml'])).code).toBe(2);
    expect((await start(e, ['implementer', '--dry-run', '--color', 'pink'])).code).toBe(2);
    expect((await start(e, ['implementer', '--headless'])).code).toBe(2);
  });

  it('C19: --backend nope → exit 2 listing backends; an unavailable named backend → exit 3 with the doctor hint', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--backend', 'nope', '-y']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown backend "nope"');
    for (const n of ['docker', 'netns', 'smolmachines', 'macos-container']) expect(r.stderr).toContain(n);
    const d = await start(e, ['implementer', '--backend', 'docker', '-y']);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain('bot-bottle doctor --backend docker');
    expect(existsSync(join(e.home, 'state'))).toBe(false);
  });

  it('C12: not interactive, no --yes, no --headless → exit 2 mentioning --yes; nothing created', async () => {
    const e = setup();
    const r = await start(e, ['runner', '--backend', 'netns']);
    if (r.code === 3 && r.stderr.includes('backend netns is not available')) return; // netns unavailable here: that check comes first
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to launch without confirmation; pass --yes');
    expect(existsSync(join(e.home, 'state'))).toBe(false);
  });

  it('C41: a "?" env entry with --headless → exit 1 naming the variable', async () => {
    const r = await start(setup(), ['implementer', '--headless', '--prompt', 'x', '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('env PASS needs interactive entry');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('start --dry-run', () => {
  it('C7/C8: --format json prints bot-bottle/plan@1 with tokenRef and slot, never a value; no state dir', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--dry-run', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ad-hoc JSON document under test
    const doc = JSON.parse(r.stdout) as Record<string, any>;
    expect(doc.schema).toBe('bot-bottle/plan@1');
    expect(doc.slug).toMatch(/^implementer-[0-9a-z]{5}$/);
    expect(doc.slugTentative).toBe(true);
    expect(doc.egress.routes[0]).toMatchObject({ host: 'api.anthropic.com', origin: 'provider:claude', auth: { scheme: 'Bearer', tokenRef: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN', slot: 'EGRESS_TOKEN_0' } });
    expect(doc.egress.routes[1]).toMatchObject({ host: 'api.github.com', auth: { scheme: 'token', tokenRef: 'GITHUB_TOKEN', slot: 'EGRESS_TOKEN_1' }, dlp: { onMatch: 'supervise' } });
    expect(doc.gitGate[0]).toMatchObject({ name: 'docs', tokenRef: 'DOCS_TOKEN', slot: 'GIT_GATE_TOKEN_0' });
    expect(doc.env).toEqual(expect.arrayContaining([{ name: 'TZ', kind: 'literal' }, { name: 'PASS', kind: 'prompted' }]));
    expect(doc.env.map((x: { name: string }) => x.name)).not.toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(doc.gitIdentity).toEqual({ name: { value: 'Implementer Bot', from: 'agent' }, email: { value: 'review-bot@example.com', from: 'bottle' } });
    for (const secret of [GH, OAUTH, DOCS, 'Europe/Berlin']) expect(r.stdout).not.toContain(secret);
    expect(existsSync(join(e.home, 'state'))).toBe(false);
  });

  it('C9: a token variable unset — the dry run exits 0 naming it as missing (never a value); a launch exits 1 naming only it', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--dry-run', '--format', 'json'], { GITHUB_TOKEN: undefined });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { credentials: Array<{ name: string; usedBy: string; status: string }> };
    expect(doc.credentials).toEqual([
      { name: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN', usedBy: 'egress', status: 'set' },
      { name: 'GITHUB_TOKEN', usedBy: 'egress', status: 'missing' },
      { name: 'DOCS_TOKEN', usedBy: 'git-gate', status: 'set' },
    ]);
    const text = await start(e, ['implementer', '--dry-run'], { GITHUB_TOKEN: undefined });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('  credentials   not set on the host: GITHUB_TOKEN (egress)\n                a launch without --dry-run stops here\n');
    for (const out of [r.stdout + r.stderr, text.stdout + text.stderr]) for (const secret of [OAUTH, DOCS]) expect(out).not.toContain(secret);
    expect(existsSync(join(e.home, 'state'))).toBe(false);

    // Without --dry-run: TOKEN_MISSING, exit 1, before anything exists (an agent whose CLI is present).
    const before = snapshot(e.home);
    const launch = await start(e, ['runner', '-y'], { GITHUB_TOKEN: undefined });
    if (launch.code === 3 && launch.stderr.includes('no backend is available')) return; // no backend here: that check comes first
    expect(launch.code).toBe(1);
    expect(launch.stdout).toBe('');
    expect(launch.stderr).toBe('bot-bottle: error: egress credential not set on the host: GITHUB_TOKEN (export it, or remove the route that uses it)\n');
    expect(snapshot(e.home)).toEqual(before);
  });

  it('--json is --format json (start and resume); --json without --dry-run is exit 2', async () => {
    const e = setup();
    const args = ['implementer', '--dry-run', '--label', 'fixed'];
    const alias = await start(e, [...args, '--json']);
    const long = await start(e, [...args, '--format', 'json']);
    expect(alias.code, alias.stderr).toBe(0);
    expect(JSON.parse(alias.stdout)).toMatchObject({ schema: 'bot-bottle/plan@1', slug: 'fixed' });
    expect(alias.stdout).toBe(long.stdout);
    const bare = await start(e, ['implementer', '--json']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--json is only valid with --dry-run');
    expect((await start(e, [...args, '--json', '--format', 'text'])).code).toBe(2);
    const resume = await runIn(e.cwd, ['resume', 'whatever', '--json'], e.env);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain('--json is only valid with --dry-run');
  });

  it('honest surface: supervise is on (MCP registered/configured); the agent image is built on docker only — no Dockerfile claims elsewhere', async () => {
    const e = setup();
    const text = await start(e, ['implementer', '--dry-run', '--backend', 'netns']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('  provider      claude  (agent image: the netns backend does not build agent images)\n');
    expect(text.stdout).toContain('  supervise     on (MCP registered with claude)\n');
    const json = await start(e, ['implementer', '--dry-run', '--json', '--backend', 'netns']);
    const doc = JSON.parse(json.stdout) as { supervise: unknown; provider: { imageBuild: unknown } };
    expect(doc.supervise).toEqual({ enabled: true, mcp: 'registered', available: true, note: null });
    expect(doc.provider.imageBuild).toEqual({ available: false, note: 'the netns backend does not build agent images' });
    // docker builds it (a dry run plans for docker even where no engine answers).
    const docker = await start(e, ['implementer', '--dry-run', '--backend', 'docker']);
    expect(docker.code, docker.stderr).toBe(0);
    expect(docker.stdout).toContain('  provider      claude  image bot-bottle-claude:latest (bundled Dockerfile)\n');
    const dockerJson = JSON.parse((await start(e, ['implementer', '--dry-run', '--json', '--backend', 'docker'])).stdout) as { provider: { imageBuild: unknown } };
    expect(dockerJson.provider.imageBuild).toEqual({ available: true, note: null });
    const codex = await start(e, ['coder', '--dry-run', '--backend', 'netns']);
    expect(codex.stdout).toContain("supervise     on (MCP configured in codex's settings)");
    writeFileSync(join(e.root, 'Dockerfile.custom'), 'FROM debian\n');
    writeFileSync(join(e.home, 'bottles', 'custom.md'), `---\nagent_provider: {template: claude, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN, dockerfile: ${join(e.root, 'Dockerfile.custom')}}\n---\n`);
    const custom = await start(e, ['implementer', '--bottle', 'custom', '--dry-run', '--backend', 'netns']);
    expect(custom.code, custom.stderr).toBe(0);
    expect(custom.stdout).toContain(`manifest Dockerfile ${join(e.root, 'Dockerfile.custom')} (the netns backend does not build agent images)`);
    const customDocker = await start(e, ['implementer', '--bottle', 'custom', '--dry-run', '--backend', 'docker']);
    // A custom Dockerfile gets its own tag (the cascade's content hash).
    expect(customDocker.stdout).toContain(`(manifest Dockerfile ${join(e.root, 'Dockerfile.custom')})\n`);
    expect(customDocker.stdout).toMatch(/ {2}provider {6}claude {2}image bot-bottle-claude-[0-9a-f]{10}:latest \(manifest Dockerfile /);
    for (const secret of [GH, OAUTH, DOCS]) expect(docker.stdout + docker.stderr + customDocker.stdout + customDocker.stderr).not.toContain(secret);
    for (const r of [text, json, codex, custom]) {
      expect(r.stdout).not.toMatch(/bundled Dockerfile/);
      for (const secret of [GH, OAUTH, DOCS]) expect(r.stdout + r.stderr).not.toContain(secret);
    }
  });

  it('C10/C11: text preflight lists the Bearer route and provenance; no placeholder env name', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^launch plan {2}implementer-[0-9a-z]{5}/);
    expect(r.stdout).toMatch(/api\.anthropic\.com\s+\[auth:Bearer\] \[provider:claude\]/);
    expect(r.stdout).toContain('Implementer Bot (agent) <review-bot@example.com> (bottle)');
    expect(r.stdout).toMatch(/ env {11}TZ, PASS \(prompted\)/);
    expect(r.stdout).not.toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(r.stdout).toContain('bottles       dev ← claude');
    expect(r.stdout).toContain('docs → git.example.com:443');
    for (const secret of [GH, OAUTH, DOCS]) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('secrets: codex forwarding + token refs — no marker value in stdout, stderr or on disk; no state dir', async () => {
    const e = setup();
    const before = filesUnder(e.root).length;
    for (const fmt of ['json', 'text']) {
      const r = await start(e, ['coder', '--dry-run', '--format', fmt]);
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout + r.stderr;
      for (const secret of [GH, CODEX_ACCESS, CODEX_REFRESH, 'MARKERsubCLAIM', 'MARKERcodexSIG', ...CODEX_ACCESS.split('.')]) expect(out).not.toContain(secret);
      if (fmt === 'json') {
        const doc = JSON.parse(r.stdout) as { egress: { routes: Array<{ host: string; auth: { slot: string } | null }> } };
        expect(doc.egress.routes.map((x) => [x.host, x.auth?.slot])).toEqual([
          ['api.openai.com', 'EGRESS_TOKEN_0'],
          ['chatgpt.com', 'EGRESS_TOKEN_0'],
          ['api.github.com', 'EGRESS_TOKEN_1'],
        ]);
      }
    }
    // Same with the login under CODEX_HOME.
    const codexHome = join(e.root, 'codex-home');
    mkdirSync(codexHome);
    renameSync(join(e.userHome, '.codex', 'auth.json'), join(codexHome, 'auth.json'));
    const viaCodexHome = await start(e, ['coder', '--dry-run', '--format', 'json'], { CODEX_HOME: codexHome });
    expect(viaCodexHome.code, viaCodexHome.stderr).toBe(0);
    for (const secret of [GH, CODEX_ACCESS, CODEX_REFRESH, 'MARKERsubCLAIM']) expect(viaCodexHome.stdout + viaCodexHome.stderr).not.toContain(secret);
    const missing = await start(e, ['coder', '--dry-run']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('~/.codex/auth.json does not exist');
    expect(existsSync(join(e.home, 'state'))).toBe(false);
    expect(filesUnder(e.root).length).toBe(before);
    for (const f of filesUnder(e.home)) {
      const text = readFileSync(f, 'utf8');
      for (const secret of [GH, CODEX_ACCESS, CODEX_REFRESH]) expect(text).not.toContain(secret);
    }
  });

  it('C20: BOT_BOTTLE_BACKEND=netns is used without a picker', async () => {
    const r = await start(setup(), ['implementer', '--dry-run', '--format', 'json'], { BOT_BOTTLE_BACKEND: 'netns' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { backend: { name: string } }).backend.name).toBe('netns');
  });

  it('C15: --label "Fix Login Bug!" (not headless) → slug fix-login-bug exactly; --headless keeps a random suffix', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--dry-run', '--format', 'json', '--label', 'Fix Login Bug!', '--color', 'cyan']);
    const doc = JSON.parse(r.stdout) as { slug: string; label: string; color: string };
    expect(doc).toMatchObject({ slug: 'fix-login-bug', label: 'Fix Login Bug!', color: 'cyan' });
    const h = await start(e, ['coder', '--dry-run', '--format', 'json', '--headless', '--label', 'Fix Login Bug!']);
    expect((JSON.parse(h.stdout) as { slug: string }).slug).toMatch(/^fix-login-bug-[0-9a-z]{5}$/);
  });

  it('C16: --label fix while state/fix exists → exit 1 saying it is in use', async () => {
    const e = setup();
    mkdirSync(join(e.home, 'state', 'fix'), { recursive: true });
    const r = await start(e, ['implementer', '--dry-run', '--label', 'fix']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"fix" is in use; choose another label');
  });

  it('--cwd shows the workspace; --help prints usage with an example and which backends work here', async () => {
    const e = setup();
    const r = await start(e, ['implementer', '--dry-run', '--format', 'json', '--cwd']);
    expect((JSON.parse(r.stdout) as { workspace: unknown }).workspace).toEqual({ guestPath: '/home/node/workspace', hostPath: e.cwd });
    const help = await runCli(['start', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--dry-run');
    expect(help.stdout).toContain('--json');
    expect(help.stdout).toContain('Example:');
    const backends = help.stdout.split('\nBackends:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
    expect(backends.map((l) => l.trim().split(/\s+/)[0])).toEqual(['macos-container', 'docker', 'netns', 'smolmachines']);
    for (const l of backends) expect(l).toMatch(/^ {2}\S+\s+(available|not available: .+)$/);
    expect(backends.find((l) => l.includes('macos-container'))).toContain('not available: macos-container needs macOS 26');
    expect(backends.find((l) => l.includes('smolmachines'))).toMatch(/not available: (smolvm not found on PATH|smolmachines needs a usable \/dev\/kvm)/);
    const resumeHelp = await runCli(['resume', '--help']);
    expect(resumeHelp.stdout).toMatch(/Backends \(the bottle's recorded one must be available\):\n {2}macos-container +not available/);
  });

  it('refuses early when the agent CLI is not on the host: one line, exit 3, nothing created', async () => {
    const e = setup();
    const before = snapshot(e.root);
    const r = await start(e, ['ghost', '-y', '--backend', 'netns']);
    if (r.code === 3 && r.stderr.includes('backend netns is not available')) return; // netns unavailable here: that check comes first
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `bot-bottle: error: agent "ghost" runs ${MISSING_CLI}, which is not installed on this host (the netns backend runs the host's binary); install ${MISSING_CLI} on the host (the "ghosttool" provider plugin says how)\n`,
    );
    expect(r.stdout).toBe('');
    expect(existsSync(join(e.home, 'state'))).toBe(false);
    expect(snapshot(e.root)).toEqual(before);
    // A built-in: refused before the plan is even made (with its install line).
    if (findExecutable('claude') === null) {
      const c = await start(e, ['implementer', '-y', '--backend', 'netns'], { GITHUB_TOKEN: undefined });
      expect(c.code).toBe(3);
      expect(c.stderr).toBe(
        `bot-bottle: error: agent "implementer" runs claude, which is not installed on this host (the netns backend runs the host's binary); install it (npm install -g @anthropic-ai/claude-code)\n`,
      );
      expect(snapshot(e.root)).toEqual(before);
    }
    // The dry run shows the same line as a warning and exits 0.
    const dry = await start(e, ['ghost', '--dry-run', '--backend', 'netns', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as { warnings: string[] }).warnings).toContainEqual(expect.stringContaining(`runs ${MISSING_CLI}, which is not installed on this host`));
  });
});

describe('start interactive confirmation (C13, on a pseudo-terminal)', () => {
  const hasScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasScript)('C13: answering n or nothing at Launch? [y/N] exits 4 and creates nothing', () => {
    const e = setup();
    for (const answer of ['n', '']) {
      const cmd = `${process.execPath} --import ${TSX} ${CLI_MAIN} start runner --backend netns --bottle sh --label demo --color none`;
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
        cwd: e.cwd,
        env: { ...process.env, ...e.env, NO_COLOR: '1', TERM: 'dumb' } as NodeJS.ProcessEnv,
        input: `${answer}\r`,
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (r.stdout.includes('is not available')) return; // netns unavailable: exit 3 before the question
      expect(r.stdout).toContain('Launch? [y/N]');
      expect(r.status).toBe(4);
      expect(existsSync(join(e.home, 'state'))).toBe(false);
    }
  });
});

describe('slugs', () => {
  it('C18: slugify', () => {
    expect(slugify('Ünïcode  Agent__X')).toBe('unicode-agent-x');
    expect(slugify('!!!')).toBe('bottle');
    expect(slugify('Fix Login Bug!')).toBe('fix-login-bug');
    expect(slugify('a'.repeat(39) + '-b')).toBe('a'.repeat(39));
    expect(slugify(`x${'-'.repeat(50)}y`)).toBe('x-y');
  });

  it('C17: a colliding random suffix draws again (seeded RNG)', async () => {
    const draws = [new Uint8Array([0, 1, 2, 3, 4, 0, 0, 0, 0, 0]), new Uint8Array([10, 11, 12, 13, 14, 0, 0, 0, 0, 0])];
    let i = 0;
    const rng = () => draws[i++]!;
    const taken = new Set(['impl-01234']);
    const slug = await allocateSlug({ agentName: 'impl', label: null, labelIsExplicit: false, rng, isTaken: async (s) => taken.has(s) });
    expect(slug).toBe('impl-abcde');
    expect(i).toBe(2);
  });

  it('gives up after five taken draws; suffixes are base36', async () => {
    await expect(allocateSlug({ agentName: 'x', label: null, labelIsExplicit: false, isTaken: async () => true })).rejects.toMatchObject({ code: 'SLUG_IN_USE' });
    for (let n = 0; n < 50; n++) expect(randomSuffix()).toMatch(/^[0-9a-z]{5}$/);
    expect(statSync(tmpdir()).isDirectory()).toBe(true);
  });
});
