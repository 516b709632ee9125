/**
 * Host-side renderer and agent git config (docs/decisions/gate-config-and-credentials.md) — pure
 * unit tests.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GateConfigError, parseGateConfig } from '../../src/gate/config.js';
import { agentGitConfig, knownHostsPattern, renderGateConfig, upstreamSpellings } from '../../src/gate/render.js';
import type { GitGateRepo } from '../../src/manifest/types.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl host-a';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 host-b';

function repo(over: Partial<GitGateRepo> & Pick<GitGateRepo, 'name' | 'url' | 'kind'>): GitGateRepo {
  return { host: null, port: null, hostKeys: [], readOnly: false, protectedRefs: [], allowForcePush: false, allowDelete: false, ...over };
}

const widget = repo({
  name: 'widget',
  url: 'ssh://git@gitea.example.com:2222/acme/widget.git',
  kind: 'ssh',
  host: 'gitea.example.com',
  port: 2222,
  key: { provider: 'static', path: '/home/u/.ssh/bot_widget_ed25519' },
  hostKeys: [ED, RSA],
  protectedRefs: ['main', 'refs/heads/release/*'],
});
const docs = repo({ name: 'docs', url: 'https://git.example.com/acme/docs.git', kind: 'https', host: 'git.example.com', port: 443, tokenRef: 'DOCS_GIT_TOKEN', readOnly: true });
const wiki = repo({ name: 'wiki', url: 'https://git.example.com/acme/wiki.git', kind: 'https', host: 'git.example.com', port: 443, tokenRef: 'OTHER_TOKEN' });
const pages = repo({ name: 'pages', url: 'https://git.example.com/acme/pages.git', kind: 'https', host: 'git.example.com', port: 443, tokenRef: 'DOCS_GIT_TOKEN' });
const local = repo({ name: 'local', url: 'file:///srv/git/local.git', kind: 'file' });
const gitea = repo({
  name: 'gt',
  url: 'ssh://git@gitea.example.com:22/acme/gt.git',
  kind: 'ssh',
  host: 'gitea.example.com',
  port: 22,
  key: { provider: 'gitea', provisionerToken: 'GITEA_TOKEN', apiUrl: 'https://gitea.example.com' },
  hostKeys: [ED],
});

describe('renderGateConfig', () => {
  const out = renderGateConfig([widget, docs, wiki, pages, local, gitea]);

  it('renders config.yaml with relative credential paths, slots and policy; no values, no host variable names', () => {
    const y = parse(out.configYaml) as { version: number; repos: Array<Record<string, unknown>> };
    expect(y.version).toBe(1);
    expect(y.repos.map((r) => r['name'])).toEqual(['widget', 'docs', 'wiki', 'pages', 'local', 'gt']);
    expect(y.repos[0]).toEqual({
      name: 'widget',
      url: 'ssh://git@gitea.example.com:2222/acme/widget.git',
      ssh: { key_file: 'creds/widget/id_ed25519', known_hosts_file: 'creds/widget/known_hosts', host_key_type: ['ssh-ed25519', 'ssh-rsa'] },
      policy: { read_only: false, protected_refs: ['main', 'refs/heads/release/*'], allow_force_push: false, allow_delete: false, allow_non_commit_refs: false },
    });
    expect(y.repos[1]).toMatchObject({ https: { token_env: 'GIT_GATE_TOKEN_0' }, policy: { read_only: true } });
    expect(out.configYaml).not.toMatch(/DOCS_GIT_TOKEN|OTHER_TOKEN|GITEA_TOKEN|bot_widget_ed25519/);
    // Round trip: the daemon's parser accepts what the host renders.
    const parsed = parseGateConfig(out.configYaml, 'config.yaml');
    expect(parsed.repos[0]?.ssh).toEqual({ keyFile: 'creds/widget/id_ed25519', knownHostsFile: 'creds/widget/known_hosts', hostKeyTypes: ['ssh-ed25519', 'ssh-rsa'] });
    expect(parsed.repos[4]).toMatchObject({ name: 'local', kind: 'file' });
  });

  it('token slots: GIT_GATE_TOKEN_<n> in first-appearance order; a shared token_ref shares a slot', () => {
    expect(out.tokenSlots).toEqual({ GIT_GATE_TOKEN_0: 'DOCS_GIT_TOKEN', GIT_GATE_TOKEN_1: 'OTHER_TOKEN' });
    const y = parse(out.configYaml) as { repos: Array<Record<string, unknown>> };
    expect(y.repos[3]).toMatchObject({ https: { token_env: 'GIT_GATE_TOKEN_0' } });
  });

  it('files: static keys copied, gitea keys generated at launch, known_hosts synthesised ([host]:port off 22)', () => {
    expect(out.copyFiles).toEqual([{ repo: 'widget', source: '/home/u/.ssh/bot_widget_ed25519', dest: 'creds/widget/id_ed25519' }]);
    expect(out.generatedKeys).toEqual([{ repo: 'gt', dest: 'creds/gt/id_ed25519' }]);
    expect(out.knownHosts).toEqual([
      {
        repo: 'widget',
        dest: 'creds/widget/known_hosts',
        content: `[gitea.example.com]:2222 ${ED.split(' ').slice(0, 2).join(' ')}\n[gitea.example.com]:2222 ${RSA.split(' ').slice(0, 2).join(' ')}\n`,
      },
      { repo: 'gt', dest: 'creds/gt/known_hosts', content: `gitea.example.com ${ED.split(' ').slice(0, 2).join(' ')}\n` },
    ]);
    expect(knownHostsPattern('h', 22)).toBe('h');
    expect(knownHostsPattern('::1', 2222)).toBe('[::1]:2222');
  });

  it('G26 (unit): errors name the key and the fix', () => {
    expect(() => renderGateConfig([{ ...widget, hostKeys: [] }])).toThrow('git-gate.repos.widget.host_key is required (pinned keys only)');
    expect(() => renderGateConfig([{ ...widget, hostKeys: ['ssh-dss AAAA'] }])).toThrow('git-gate.repos.widget.host_key has an unsupported key type');
    const { key: _k, ...noKey } = widget;
    expect(() => renderGateConfig([noKey])).toThrow('git-gate.repos.widget.key is required for an ssh upstream');
  });
});

describe('agentGitConfig', () => {
  it('user identity, one insteadOf per spelling per repo, empty proxy for the gate', () => {
    const pairs = agentGitConfig([widget, docs], { name: 'Robo Dev', email: 'robo@example.com' });
    expect(pairs).toEqual([
      ['user.name', 'Robo Dev'],
      ['user.email', 'robo@example.com'],
      ['url.http://git-gate:9420/widget.git.insteadOf', 'ssh://git@gitea.example.com:2222/acme/widget.git'],
      ['url.http://git-gate:9420/widget.git.insteadOf', 'ssh://git@gitea.example.com:2222/acme/widget'],
      ['url.http://git-gate:9420/docs.git.insteadOf', 'https://git.example.com/acme/docs.git'],
      ['url.http://git-gate:9420/docs.git.insteadOf', 'https://git.example.com/acme/docs'],
      ['http.http://git-gate:9420/.proxy', ''],
    ]);
  });

  it('G32 (unit): SSH on port 22 also gets the scp-like and port-less spellings', () => {
    expect(upstreamSpellings(gitea)).toEqual([
      'ssh://git@gitea.example.com:22/acme/gt.git',
      'ssh://git@gitea.example.com:22/acme/gt',
      'ssh://git@gitea.example.com/acme/gt.git',
      'ssh://git@gitea.example.com/acme/gt',
      'git@gitea.example.com:acme/gt.git',
      'git@gitea.example.com:acme/gt',
    ]);
  });

  it('no identity and no repos → nothing; a custom gate URL is used verbatim', () => {
    expect(agentGitConfig([], {})).toEqual([]);
    expect(agentGitConfig([local], {}, 'http://10.0.0.1:9420/')).toEqual([
      ['url.http://10.0.0.1:9420/local.git.insteadOf', 'file:///srv/git/local.git'],
      ['url.http://10.0.0.1:9420/local.git.insteadOf', 'file:///srv/git/local'],
      ['http.http://10.0.0.1:9420/.proxy', ''],
    ]);
  });
});

describe('parseGateConfig (sidecar side)', () => {
  const bad: Array<[string, string]> = [
    ['version: 2\nrepos: []\n', 'cfg.yaml: version:'],
    ['version: 1\nrepos: [{name: "a.git", url: "file:///x"}]\n', 'must not end in .git'],
    ['version: 1\nrepos: [{name: "-a", url: "file:///x"}]\n', 'repos.0.name: must match'],
    ['version: 1\nrepos: [{name: a, url: "ftp://x/y"}]\n', 'repos.0.url: only ssh://, https:// and file://'],
    ['version: 1\nrepos: [{name: a, url: "ssh://h/x"}]\n', 'repos.0.ssh: an ssh upstream needs key_file'],
    ['version: 1\nrepos: [{name: a, url: "https://h/x", https: {token_env: DOCS_TOKEN}}]\n', 'GIT_GATE_TOKEN_<n>'],
    ['version: 1\nrepos: [{name: a, url: "file:///x", https: {token_env: GIT_GATE_TOKEN_0}}]\n', 'only https:// upstreams take a token slot'],
    ['version: 1\nrepos: [{name: a, url: "file:///x"}, {name: a, url: "file:///y"}]\n', "'a' is declared twice"],
    ['version: 1\nrepos: [{name: a, url: "file:///x", extra: 1}]\n', 'repos.0'],
    ['{{{', 'not valid YAML'],
    ['version: 1\nrepos: null\n', 'repos: must be a list'],
    ['- 1\n', '(root): must be a mapping'],
    ['version: 1\nrepos: [{name: a, url: "file:///x", __proto__: {x: 1}}]\n', "repos.0: unknown key '__proto__'"],
    ['version: 1\nrepos: [{name: a, url: "file:///x", policy: {protected_refs: main}}]\n', 'repos.0.policy.protected_refs: must be a list'],
    ['version: 1\nrepos: [{name: a, url: "file:///x", policy: {read_only: "yes"}}]\n', 'repos.0.policy.read_only: must be true or false'],
    ['version: 1\nrepos: [{name: a, url: "ssh://h/x", ssh: {key_file: k, known_hosts_file: h, host_key_type: []}}]\n', 'repos.0.ssh.host_key_type: must list at least one'],
    ['version: 1\nrepos: [{name: a, url: "ssh://h/x", ssh: {key_file: k, known_hosts_file: h, host_key_type: ssh-dss}}]\n', 'repos.0.ssh.host_key_type: must be one of'],
  ];
  for (const [text, msg] of bad) {
    it(`rejects: ${msg}`, () => {
      let err: unknown;
      try {
        parseGateConfig(text, 'cfg.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GateConfigError);
      expect((err as Error).message).toContain(msg);
      expect((err as Error).message.startsWith('cfg.yaml')).toBe(true);
    });
  }
});

describe('agentGitConfigText', () => {
  it('renders a ~/.gitconfig (one [url] section per repo) that git reads back to the same pairs', async () => {
    const { agentGitConfigText } = await import('../../src/gate/render.js');
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const pairs = agentGitConfig([widget, gitea], { name: 'Robo "R2" Dev', email: 'robo@example.com' });
    const text = agentGitConfigText(pairs);
    expect(text).toContain('[url "http://git-gate:9420/widget.git"]\n\tinsteadOf = ssh://git@gitea.example.com:2222/acme/widget.git\n\tinsteadOf = ssh://git@gitea.example.com:2222/acme/widget\n');
    expect(text).toContain('[http "http://git-gate:9420/"]\n\tproxy = \n');
    const dir = mkdtempSync(`${tmpdir()}/bb-gitcfg-`);
    try {
      writeFileSync(`${dir}/.gitconfig`, text);
      const r = spawnSync('git', ['config', '--global', '--list'], { env: { PATH: process.env['PATH'] ?? '', HOME: dir, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const back = r.stdout.trim().split('\n').map((l) => {
        const i = l.indexOf('=');
        return [l.slice(0, i), l.slice(i + 1)];
      });
      expect(back).toEqual(pairs.map(([k, v]) => [k.replace(/\.insteadOf$/, '.insteadof').replace(/^user\.name$/, 'user.name'), v]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
