/**
 * SSH upstreams (docs/configuration.md §3.5; G24–G26, G32): a real sshd on loopback with a fresh
 * host key; the gate connects with the pinned key only (synthesised known_hosts, no TOFU,
 * BatchMode).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BottleError } from '../../src/errors.js';
import { agentGitConfig, renderGateConfig } from '../../src/gate/render.js';
import type { GitGateRepo } from '../../src/manifest/types.js';
import { skipReason } from '../helpers/capabilities.js';
import { fileRepo, startHarness } from './helpers/gate-harness.js';
import { commitFile, makeAgent, makeTmp, makeUpstream, refsOf, type Tmp } from './helpers/git-env.js';
import { sshKeygen, startSshd, type Sshd } from './helpers/sshd.js';

function sshRepo(name: string, sshd: Sshd, path: string, hostKeys: string[]): GitGateRepo {
  return {
    name,
    url: sshd.url(path),
    kind: 'ssh',
    host: '127.0.0.1',
    port: sshd.port,
    key: { provider: 'static', path: sshd.clientKey },
    hostKeys,
    readOnly: false,
    protectedRefs: [],
    allowForcePush: false,
    allowDelete: false,
  };
}

describe.skipIf(skipReason('git', 'git-http-backend', 'sshd', 'root'))('git gate SSH upstream (real sshd on loopback)', { timeout: 180_000 }, () => {
  let tmp: Tmp;
  let sshd: Sshd;
  const closers: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    tmp = makeTmp();
    closers.push(() => tmp.cleanup());
    sshd = await startSshd(tmp.path('sshd'));
    closers.push(() => sshd.stop());
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()?.();
  });

  it('G24: with the pinned host key, clone and push through the gate both work', async () => {
    const up = makeUpstream(tmp, 'widget');
    const repo = sshRepo('widget', sshd, up, [sshd.hostKey]);
    const h = await startHarness(tmp, [repo]);
    closers.push(() => h.gate.close());
    const agent = makeAgent(tmp, h.gitConfig);
    const c = await agent.git(['clone', repo.url, 'w']);
    expect(c.code, c.stderr).toBe(0);
    const wc = `${agent.home}/w`;
    const tip = await commitFile(agent, wc, 'ssh.txt', 'via ssh\n');
    const p = await agent.git(['push', 'origin', 'HEAD:refs/heads/via-ssh'], { cwd: wc });
    expect(p.code, p.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/via-ssh']).toBe(tip);
    // The gate used the synthesised known_hosts in [host]:port form, not any user file.
    const { readFileSync } = await import('node:fs');
    const kh = readFileSync(join(h.root, 'creds/widget/known_hosts'), 'utf8');
    expect(kh.startsWith(`[127.0.0.1]:${sshd.port} ssh-ed25519 `)).toBe(true);
  });

  it('G25: an sshd presenting a different host key makes the fetch fail with the host-key text', async () => {
    const up = makeUpstream(tmp, 'widget');
    const otherKey = sshKeygen(tmp.path('other_host_key'));
    const repo = sshRepo('widget', sshd, up, [otherKey]);
    const h = await startHarness(tmp, [repo]);
    closers.push(() => h.gate.close());
    const agent = makeAgent(tmp, h.gitConfig);
    const r = await agent.git(['clone', repo.url, 'w']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("remote error: git-gate: host key of 127.0.0.1 does not match the pinned host_key for 'widget'; refusing to connect");
  });

  it('host_key rotation: a list with the right key among others connects', async () => {
    const up = makeUpstream(tmp, 'widget');
    const repo = sshRepo('widget', sshd, up, [sshKeygen(tmp.path('old_key')), sshd.hostKey]);
    const h = await startHarness(tmp, [repo]);
    closers.push(() => h.gate.close());
    const agent = makeAgent(tmp, h.gitConfig);
    const r = await agent.git(['ls-remote', repo.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('refs/heads/main');
  });
});

describe('git gate SSH declarations (launch validation, agent rewrite)', () => {
  it('G26: an SSH repo without host_key is a launch validation error naming the key and the fix', () => {
    const repo: GitGateRepo = {
      name: 'webapp',
      url: 'ssh://git@gitea.example.com:2222/acme/webapp.git',
      kind: 'ssh',
      host: 'gitea.example.com',
      port: 2222,
      key: { provider: 'static', path: '/keys/id' },
      hostKeys: [],
      readOnly: false,
      protectedRefs: [],
      allowForcePush: false,
      allowDelete: false,
    };
    let err: unknown;
    try {
      renderGateConfig([repo]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('CONFIG_INVALID');
    expect((err as BottleError).oneLine()).toBe(
      'git-gate.repos.webapp.host_key is required (pinned keys only); fetch it with ssh-keyscan -p 2222 gitea.example.com',
    );
  });

  describe.skipIf(skipReason('git', 'git-http-backend'))('with a running gate', () => {
    let tmp: Tmp;
    afterEach(() => tmp.cleanup());
    it('G32: the scp-like spelling git@host:acme/widget.git is rewritten to the gate', async () => {
      tmp = makeTmp();
      const up = makeUpstream(tmp, 'widget', { 'W.md': 'w\n' });
      // The gate serves `widget` (file upstream here); the agent's config comes from an SSH
      // declaration on port 22, whose scp-like spelling must reach the gate too.
      const h = await startHarness(tmp, [fileRepo('widget', up)]);
      try {
        const declared: GitGateRepo = {
          name: 'widget',
          url: 'ssh://git@gitea.example.com:22/acme/widget.git',
          kind: 'ssh',
          host: 'gitea.example.com',
          port: 22,
          key: { provider: 'static', path: '/k' },
          hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'],
          readOnly: false,
          protectedRefs: [],
          allowForcePush: false,
          allowDelete: false,
        };
        const agent = makeAgent(tmp, agentGitConfig([declared], { name: 'Robo Dev', email: 'robo@example.com' }, h.gate.url));
        for (const spelling of ['git@gitea.example.com:acme/widget.git', 'git@gitea.example.com:acme/widget', 'ssh://git@gitea.example.com/acme/widget.git']) {
          const r = await agent.git(['ls-remote', spelling]);
          expect(r.code, `${spelling}: ${r.stderr}`).toBe(0);
          expect(r.stdout).toContain(refsOf(up)['refs/heads/main']);
        }
      } finally {
        await h.gate.close();
      }
    });
  });
});
