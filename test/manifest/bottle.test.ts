import { describe, expect, it } from 'vitest';
import { agentError, bottleError, expectMsg, parseBottleYaml } from './helpers.js';
import { materialize } from '../../src/manifest/merge.js';

describe('bottle front-matter', () => {
  it('M1 empty bottle is valid with defaults', () => {
    const own = parseBottleYaml('');
    const c = materialize(own);
    expect(c.env).toEqual([]);
    expect(c.egress).toEqual({ routes: [], log: 0 });
    expect(c.agentProvider.template).toBe('claude');
    expect(c.gitGate.repos).toEqual([]);
    const own2 = parseBottleYaml('{}');
    expect(materialize(own2)).toEqual(c);
  });

  it('M28 a number where a string is required: error with a quoting hint, value not echoed', () => {
    const e = bottleError('env:\n  PORT: 8080');
    expectMsg(e, 'env PORT must be a string', 'quote it');
    expect(e.message).not.toContain('8080');
    expect(e.issues[0]?.keyPath).toBe('env.PORT');
    expect(e.issues[0]?.line).toBe(3);
  });

  it('M28 env name rules and control characters', () => {
    expectMsg(bottleError('env:\n  1BAD: x'), 'not a valid variable name');
    const e = bottleError('env:\n  A: "line1\\nsecret-value"');
    expectMsg(e, 'must not contain NUL, CR or LF');
    expect(e.message).not.toContain('secret-value');
  });

  it('M31 ?? escapes a literal leading ?', () => {
    expect(parseBottleYaml('env:\n  A: "??x"').env).toEqual([{ name: 'A', kind: 'literal', value: '?x' }]);
  });

  it('env entry forms', () => {
    expect(parseBottleYaml('env:\n  A: "?"\n  B: "?Your PIN"\n  C: "${HOST_C}"\n  D: "pre-${X}"\n  E: plain').env).toEqual([
      { name: 'A', kind: 'prompted', prompt: 'Value for A' },
      { name: 'B', kind: 'prompted', prompt: 'Your PIN' },
      { name: 'C', kind: 'host', hostVar: 'HOST_C' },
      { name: 'D', kind: 'literal', value: 'pre-${X}', warnInterpolation: true },
      { name: 'E', kind: 'literal', value: 'plain' },
    ]);
  });

  it('M32 reserved env names', () => {
    expectMsg(bottleError('env:\n  HTTPS_PROXY: x'), 'env HTTPS_PROXY is reserved: bot-bottle sets it');
    expectMsg(bottleError('env:\n  https_proxy: x'), 'reserved');
    expectMsg(bottleError('env:\n  EGRESS_TOKEN_1: x'), 'env EGRESS_TOKEN_1 is reserved');
    expectMsg(bottleError('env:\n  NODE_EXTRA_CA_CERTS: x'), 'reserved');
    expectMsg(bottleError('env:\n  BOT_BOTTLE_SLUG: x'), 'reserved');
    expectMsg(bottleError('env:\n  GIT_GATE_URL: x'), 'reserved');
  });

  it('M36 unknown top-level key suggests and lists allowed keys', () => {
    const e = bottleError('egres: {}');
    expectMsg(e, 'unknown key "egres"', 'did you mean "egress"?', 'allowed keys: extends, env, egress, git-gate, agent_provider');
    expect(e.issues[0]?.line).toBe(2);
    expect(e.issues[0]?.column).toBe(1);
  });

  it('unknown key by unique prefix', () => {
    expectMsg(bottleError('agent: {}'), 'did you mean "agent_provider"?');
  });

  describe('M37 removed keys fail with their migration hint', () => {
    const cases: Array<[string, string, string]> = [
      ['runtime', 'runtime: runsc', 'runtime selection is automatic per backend (gVisor etc.); delete the key'],
      ['cred_proxy', 'cred_proxy: {}', 'credential routes moved to egress.routes[].auth'],
      ['tokens', 'tokens: {}', 'use egress.routes[].auth.token_ref'],
      ['egress_proxy', 'egress_proxy: {}', 'renamed to "egress"'],
      ['egress.allowlist', 'egress:\n  allowlist: [a.com]', 'write each host as a route: - host: example.com'],
      ['dlp_action (bottle)', 'dlp_action: block', 'per route: dlp.outbound_on_match'],
      ['git', 'git: {}', '"git" was renamed to "git-gate" (user, repos)'],
      ['supervise', 'supervise: true', 'supervision is always on; delete the key'],
      ['ssh', 'ssh: {}', 'declare repos under git-gate.repos'],
      ['path_allowlist', 'egress:\n  routes:\n    - {host: a.com, path_allowlist: [/x]}', 'use matches: [{paths: [{type: prefix, value: ...}]}]'],
      ['pipelock', 'egress:\n  routes:\n    - {host: a.com, pipelock: {}}', 'pipelock is gone; tls_passthrough → route tls_passthrough, ssrf_ip_allowlist → route allow_private_cidrs'],
      ['role', 'egress:\n  routes:\n    - {host: a.com, role: claude}', 'provider routes are automatic; use agent_provider.auth_token / forward_host_credentials'],
      [
        'identity',
        'git-gate:\n  repos:\n    web:\n      url: https://git.example.com/a/b.git\n      identity: ~/.ssh/x',
        'use key: {provider: static, path: ...}',
      ],
      [
        'provisioned_key',
        'git-gate:\n  repos:\n    web:\n      url: https://git.example.com/a/b.git\n      provisioned_key: {}',
        'use key: {provider: gitea, provisioner_token: ...}',
      ],
    ];
    it('has 14 cases', () => expect(cases).toHaveLength(14));
    for (const [name, yaml, hint] of cases) {
      it(`M37 ${name}`, () => expectMsg(bottleError(yaml), hint));
    }
    it('M37 dlp_action inside egress, git on an agent', () => {
      expectMsg(bottleError('egress:\n  dlp_action: block'), 'dlp.outbound_on_match');
      expectMsg(agentError('git: {user: {name: x}}'), 'agents keep only git-gate.user');
    });
    it('the example line', () => {
      const e = bottleError('env: {}\negress: {}\ngit: {}');
      expect(e.message).toBe('~/bottles/b.md:4:1: "git" was renamed to "git-gate" (user, repos); move the block and rename remotes to repos');
    });
  });

  describe('agent_provider', () => {
    it('M57 auth_token with template codex', () => {
      expectMsg(
        bottleError('agent_provider: {template: codex, auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN}'),
        'agent_provider.auth_token is only supported by template "claude" (this bottle uses "codex"; use forward_host_credentials)',
      );
    });
    it('M58 forward_host_credentials with claude', () => {
      expectMsg(bottleError('agent_provider: {template: claude, forward_host_credentials: true}'), 'only supported by template "codex"');
      expectMsg(bottleError('agent_provider: {template: mytool, forward_host_credentials: true}'), 'only supported by template "codex"');
    });
    it('M59 forward_host_credentials defaults to false', () => {
      expect(parseBottleYaml('agent_provider: {template: codex}').agentProvider?.config).toEqual({
        template: 'codex', dockerfile: null, authToken: null, forwardHostCredentials: false, settings: {},
      });
    });
    it('M60 settings rejected for claude and codex, accepted for pi and plugins', () => {
      expectMsg(bottleError('agent_provider: {template: claude, settings: {a: 1}}'), 'settings is only for template "pi"');
      expectMsg(bottleError('agent_provider: {template: codex, settings: {a: 1}}'), 'settings');
      expect(parseBottleYaml('agent_provider: {template: pi, settings: {base_url: "http://x"}}').agentProvider?.config.settings).toEqual({ base_url: 'http://x' });
      expect(parseBottleYaml('agent_provider: {template: mytool, settings: {k: [1]}}').agentProvider?.config.settings).toEqual({ k: [1] });
    });
    it('template rules', () => {
      expectMsg(bottleError('agent_provider: {template: ""}'), 'must not be empty');
      expectMsg(bottleError('agent_provider: {template: My_Tool}'), 'plugin directory name');
    });
    it('auth_token must be a valid, unreserved variable name', () => {
      expectMsg(bottleError('agent_provider: {auth_token: my-token}'), 'name of a host environment variable');
      expectMsg(bottleError('agent_provider: {auth_token: BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN}'), 'reserved');
      expect(parseBottleYaml('agent_provider: {auth_token: ""}').agentProvider?.config.authToken).toBeNull();
    });
    it('dockerfile: ~ expanded, relative to the bottle file', () => {
      expect(parseBottleYaml('agent_provider: {dockerfile: ~/df/Dockerfile}').agentProvider?.config.dockerfile).toBe('/home/u/df/Dockerfile');
      expect(parseBottleYaml('agent_provider: {dockerfile: ../docker/Dockerfile}').agentProvider?.config.dockerfile).toBe('/h/docker/Dockerfile');
      expect(parseBottleYaml('agent_provider: {dockerfile: ""}').agentProvider?.config.dockerfile).toBeNull();
    });
  });

  describe('git-gate', () => {
    const HK = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForDocsOnly0000000000000000';
    it('user validation', () => {
      expectMsg(bottleError('git-gate: {user: {email: "a@b@c"}}'), 'one "@"');
      expectMsg(bottleError('git-gate: {user: {email: "a b@c"}}'), 'no spaces');
      expectMsg(bottleError('git-gate: {user: {name: "A <x>"}}'), '"<" or ">"');
      expectMsg(bottleError('git-gate: {user: {name: ""}}'), 'must not be empty');
    });
    it('M62 ssh repo without host_key: ssh-keyscan hint', () => {
      const e = bottleError('git-gate:\n  repos:\n    webapp:\n      url: ssh://git@gitea.example.com:2222/acme/webapp.git\n      key: {provider: static, path: ~/.ssh/k}');
      expectMsg(e, 'git-gate.repos.webapp.host_key is required (pinned keys only); fetch it with ssh-keyscan -p 2222 gitea.example.com');
    });
    it('ssh repo without key', () => {
      expectMsg(bottleError(`git-gate:\n  repos:\n    w:\n      url: git@h.example.com:a/b.git\n      host_key: "${HK}"`), 'git-gate.repos.w.key is required');
    });
    it('M63 unknown key provider lists static, gitea', () => {
      expectMsg(bottleError(`git-gate:\n  repos:\n    w:\n      url: ssh://h.example.com/a.git\n      key: {provider: vault}\n      host_key: "${HK}"`), 'must be one of static, gitea');
    });
    it('M64 https repo with host_key is an error; with token_ref valid', () => {
      expectMsg(bottleError(`git-gate:\n  repos:\n    w:\n      url: https://github.com/a/b.git\n      host_key: "${HK}"`), 'host_key is only for ssh repos');
      const b = parseBottleYaml('git-gate:\n  repos:\n    w:\n      url: https://github.com/a/b.git\n      token_ref: DOCS_TOKEN');
      expect(b.repos?.[0]).toMatchObject({ name: 'w', kind: 'https', host: 'github.com', port: 443, tokenRef: 'DOCS_TOKEN', url: 'https://github.com/a/b.git' });
    });
    it('M65 two repos with the same normalised URL', () => {
      expectMsg(
        bottleError(
          `git-gate:\n  repos:\n    a:\n      url: git@h.example.com:acme/w.git\n      key: {provider: static, path: /k}\n      host_key: "${HK}"\n    b:\n      url: ssh://git@H.example.com:22/acme/w.git\n      key: {provider: static, path: /k}\n      host_key: "${HK}"`,
        ),
        'same repository as git-gate.repos.a',
      );
    });
    it('scp form normalised; static key path resolved; gitea api_url default; policy keys', () => {
      const b = parseBottleYaml(
        `git-gate:\n  repos:\n    web:\n      url: git@gitea.example.com:acme/web.git\n      key: {provider: static, path: keys/deploy}\n      host_key: ["${HK}"]\n      protected_refs: [main, "refs/heads/release/*"]\n      read_only: true\n    g:\n      url: ssh://git@gitea.example.com:2222/acme/g.git\n      key: {provider: gitea, provisioner_token: GITEA_ADMIN_TOKEN}\n      host_key: "${HK}"\n    mirror:\n      url: file:///srv/mirror.git`,
      );
      const [web, g, mirror] = b.repos ?? [];
      expect(web).toMatchObject({ url: 'ssh://git@gitea.example.com:22/acme/web.git', kind: 'ssh', port: 22, key: { provider: 'static', path: '/h/bottles/keys/deploy' }, readOnly: true, protectedRefs: ['refs/heads/main', 'refs/heads/release/*'] });
      expect(g?.key).toEqual({ provider: 'gitea', provisionerToken: 'GITEA_ADMIN_TOKEN', apiUrl: 'https://gitea.example.com' });
      expect(mirror).toMatchObject({ kind: 'file', host: null, port: null, url: 'file:///srv/mirror.git', hostKeys: [] });
    });
    it('repo name, scheme and credential rules', () => {
      expectMsg(bottleError('git-gate:\n  repos:\n    web.git:\n      url: file:///x'), 'not end in .git');
      expectMsg(bottleError('git-gate:\n  repos:\n    w:\n      url: ftp://x.example.com/a'), 'unsupported scheme "ftp"');
      expectMsg(bottleError('git-gate:\n  repos:\n    w:\n      url: https://user:pw@x.example.com/a'), 'must not contain credentials');
      expectMsg(bottleError('git-gate:\n  repos:\n    w:\n      url: file:///x\n      token_ref: T'), 'not allowed for file://');
      expectMsg(bottleError(`git-gate:\n  repos:\n    w:\n      url: ssh://h.example.com/a\n      key: {provider: static, path: /k}\n      host_key: "ssh-dss AAAA"`), 'ssh-ed25519');
    });
    it('a malformed or host-changing percent-escape in the URL is an error, not a crash', () => {
      const ssh = (url: string) => `git-gate:\n  repos:\n    w:\n      url: ${url}\n      key: {provider: static, path: /k}\n      host_key: "${HK}"`;
      expectMsg(bottleError(ssh('ssh://%it@h.example.com:2222/a.git')), 'invalid user name');
      // "a%40evil@h" would otherwise be re-spliced as ssh://a@evil@h…, which git may read as a different host.
      expectMsg(bottleError(ssh('ssh://a%40evil@h.example.com/a.git')), 'invalid user name');
      expectMsg(bottleError('git-gate:\n  repos:\n    w:\n      url: file:///srv/%zz.git'), 'malformed percent-escape');
      expectMsg(bottleError('git-gate:\n  repos:\n    w:\n      url: file:///srv/a%0a.git'), 'control character');
    });
  });
});

describe('required keys name themselves', () => {
  it('missing path type / key provider / repo url', () => {
    expectMsg(bottleError('egress:\n  routes:\n    - host: a.com\n      matches: [{paths: [{value: /x}]}]'), 'egress.routes[0].matches[0].paths[0].type is required');
    expectMsg(
      bottleError('git-gate:\n  repos:\n    w:\n      url: ssh://h.example.com/a\n      key: {path: /k}\n      host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake"'),
      'git-gate.repos.w.key.provider is required: one of static, gitea',
    );
    expectMsg(bottleError('git-gate:\n  repos:\n    w: {read_only: true}'), 'git-gate.repos.w.url is required');
  });
});
