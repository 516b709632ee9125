/**
 * Gitea deploy keys (docs/decisions/gate-gitea-keys.md; G29): fresh ed25519 per launch registered
 * through the API, revoked at teardown, loud and recorded when revocation fails. The Gitea API is a
 * local stand-in; with sshd available the provisioned key is also used for a real clone via the
 * gate.
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BottleError } from '../../src/errors.js';
import { provisionGiteaKeys, revokeGiteaKeys, type DeployKeyRecord } from '../../src/gate/gitea.js';
import type { GitGateRepo } from '../../src/manifest/types.js';
import { skipReason } from '../helpers/capabilities.js';
import { startFakeGitea, type FakeGitea } from './helpers/fake-gitea.js';
import { startHarness } from './helpers/gate-harness.js';
import { makeAgent, makeTmp, makeUpstream, refsOf, type Tmp } from './helpers/git-env.js';
import { startSshd, type Sshd } from './helpers/sshd.js';

const PROVISIONER = 'gitea-provisioner-secret-5b1c9e';

function giteaRepo(url: string, apiUrl: string, host: string, port: number, hostKeys: string[] = []): GitGateRepo {
  return {
    name: 'widget',
    url,
    kind: 'ssh',
    host,
    port,
    key: { provider: 'gitea', provisionerToken: 'GITEA_TOKEN', apiUrl },
    hostKeys,
    readOnly: false,
    protectedRefs: [],
    allowForcePush: false,
    allowDelete: false,
  };
}

describe.skipIf(skipReason('git'))('G29: Gitea deploy-key provisioning', { timeout: 180_000 }, () => {
  let tmp: Tmp;
  let gitea: FakeGitea;
  const closers: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    tmp = makeTmp();
    closers.push(() => tmp.cleanup());
    gitea = await startFakeGitea(PROVISIONER);
    closers.push(() => gitea.close());
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()?.();
  });

  async function launch(): Promise<{ gateDir: string; records: DeployKeyRecord[] }> {
    const gateDir = tmp.path('state/slug-1/git-gate');
    const repo = giteaRepo('ssh://git@gitea.example.com:2222/acme/widget.git', gitea.url, 'gitea.example.com', 2222);
    const records = await provisionGiteaKeys([repo], 'slug-1', gateDir, { GITEA_TOKEN: PROVISIONER });
    return { gateDir, records };
  }

  it('launch POSTs a fresh ed25519 key with token auth and records its id; teardown DELETEs it', async () => {
    const { gateDir, records } = await launch();
    const post = gitea.calls.find((c) => c.method === 'POST');
    expect(post?.path).toBe('/api/v1/repos/acme/widget/keys');
    expect(post?.authorization).toBe(`token ${PROVISIONER}`);
    const body = post?.body as { title: string; key: string; read_only: boolean };
    expect(body.title).toBe('bot-bottle-slug-1-widget');
    expect(body.key).toMatch(/^ssh-ed25519 AAAA/);
    expect(body.read_only).toBe(false);
    const keyFile = join(gateDir, 'creds/widget/id_ed25519');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toContain('OPENSSH PRIVATE KEY');
    expect(readFileSync(`${keyFile}.pub`, 'utf8').trim()).toBe(body.key);
    const recorded = JSON.parse(readFileSync(join(gateDir, 'deploy-keys.json'), 'utf8')) as DeployKeyRecord[];
    expect(recorded).toEqual(records);
    expect(recorded[0]).toMatchObject({ id: 41, title: 'bot-bottle-slug-1-widget', provisionerToken: 'GITEA_TOKEN' });
    // The provisioner token value is never written to the state dir.
    expect(readFileSync(join(gateDir, 'deploy-keys.json'), 'utf8')).not.toContain(PROVISIONER);

    const second = await provisionGiteaKeys(
      [giteaRepo('ssh://git@gitea.example.com:2222/acme/widget.git', gitea.url, 'gitea.example.com', 2222)],
      'slug-2',
      tmp.path('state/slug-2/git-gate'),
      { GITEA_TOKEN: PROVISIONER },
    );
    expect((gitea.calls.filter((c) => c.method === 'POST')[1]?.body as { key: string }).key).not.toBe(body.key); // fresh per launch
    expect(second[0]?.id).toBe(42);

    const report = await revokeGiteaKeys(gateDir, { GITEA_TOKEN: PROVISIONER });
    expect(report.failed).toEqual([]);
    expect(report.revoked.map((r) => r.id)).toEqual([41]);
    expect(gitea.calls.find((c) => c.method === 'DELETE')).toMatchObject({ path: '/api/v1/repos/acme/widget/keys/41', authorization: `token ${PROVISIONER}` });
    expect(gitea.keys.has(41)).toBe(false);
    expect(existsSync(join(gateDir, 'unrevoked-keys.json'))).toBe(false);
  });

  it('DELETE → 404 counts as revoked', async () => {
    const { gateDir } = await launch();
    gitea.deleteStatus = 404;
    const report = await revokeGiteaKeys(gateDir, { GITEA_TOKEN: PROVISIONER });
    expect(report.failed).toEqual([]);
    expect(report.revoked).toHaveLength(1);
  });

  it('DELETE → 500 is loud: error text, non-zero exit code, record kept in unrevoked-keys.json', async () => {
    const { gateDir } = await launch();
    gitea.deleteStatus = 500;
    const report = await revokeGiteaKeys(gateDir, { GITEA_TOKEN: PROVISIONER });
    expect(report.revoked).toEqual([]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.message).toBe(
      'bot-bottle: ERROR: deploy key bot-bottle-slug-1-widget (id 41) on gitea.example.com/acme/widget was NOT revoked (HTTP 500); revoke it by hand',
    );
    const kept = JSON.parse(readFileSync(join(gateDir, 'unrevoked-keys.json'), 'utf8')) as DeployKeyRecord[];
    expect(kept[0]).toMatchObject({ id: 41, owner: 'acme', name: 'widget' });
    expect(readFileSync(join(gateDir, 'unrevoked-keys.json'), 'utf8')).not.toContain(PROVISIONER);
    // The single-key API throws TEARDOWN_FAILED (exit code non-zero) carrying the record.
    const { revokeDeployKey } = await import('../../src/gate/gitea.js');
    const err = await revokeDeployKey(kept[0] as DeployKeyRecord, PROVISIONER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('TEARDOWN_FAILED');
    expect((err as BottleError).exitCode).not.toBe(0);
    expect((err as BottleError).message).not.toContain(PROVISIONER);
    // A later cleanup retries from unrevoked-keys.json and clears it.
    gitea.deleteStatus = null;
    const retry = await revokeGiteaKeys(gateDir, { GITEA_TOKEN: PROVISIONER });
    expect(retry.failed).toEqual([]);
    expect(existsSync(join(gateDir, 'unrevoked-keys.json'))).toBe(false);
  });

  it('422 on POST regenerates once, then fails with a clear error', async () => {
    gitea.postStatuses = [422];
    const { records } = await launch();
    expect(records).toHaveLength(1);
    expect(gitea.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    gitea.postStatuses = [422, 422];
    const err = await provisionGiteaKeys(
      [giteaRepo('ssh://git@gitea.example.com:2222/acme/widget.git', gitea.url, 'gitea.example.com', 2222)],
      's3',
      tmp.path('s3'),
      { GITEA_TOKEN: PROVISIONER },
    ).catch((e: unknown) => e);
    expect((err as BottleError).code).toBe('LAUNCH_FAILED');
    expect((err as BottleError).message).toContain('HTTP 422');
  });

  it('a wrong provisioner token fails the launch naming the variable, never the value', async () => {
    const err = await provisionGiteaKeys(
      [giteaRepo('ssh://git@gitea.example.com:2222/acme/widget.git', gitea.url, 'gitea.example.com', 2222)],
      's4',
      tmp.path('s4'),
      { GITEA_TOKEN: 'wrong-token-value-123' },
    ).catch((e: unknown) => e);
    expect((err as BottleError).code).toBe('LAUNCH_FAILED');
    expect((err as BottleError).oneLine()).toContain('GITEA_TOKEN');
    expect((err as BottleError).oneLine()).not.toContain('wrong-token-value-123');
  });

  describe.skipIf(skipReason('sshd', 'root', 'git-http-backend'))('with a real sshd', () => {
    let sshd: Sshd;
    beforeEach(async () => {
      sshd = await startSshd(tmp.path('sshd'));
      closers.push(() => sshd.stop());
    });
    it('the provisioned key is what the gate uses to reach the upstream', async () => {
      const up = makeUpstream(tmp, 'widget');
      const g2 = await startFakeGitea(PROVISIONER, (key) => appendFileSync(join(tmp.path('sshd'), 'authorized_keys'), `${key}\n`));
      closers.push(() => g2.close());
      // Only the gitea-provisioned key is authorised: drop the helper's client key.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(tmp.path('sshd'), 'authorized_keys'), '');
      const repo = giteaRepo(sshd.url(up), g2.url, '127.0.0.1', sshd.port, [sshd.hostKey]);
      const stateDir = tmp.path('gate-state');
      await provisionGiteaKeys([repo], 'slug-e2e', join(stateDir, 'git-gate'), { GITEA_TOKEN: PROVISIONER });
      // The harness renders into <label>-state/git-gate: generatedKeys are already there.
      const h = await startHarness(tmp, [repo], { label: 'gate' });
      closers.push(() => h.gate.close());
      const agent = makeAgent(tmp, h.gitConfig);
      const r = await agent.git(['ls-remote', repo.url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(refsOf(up)['refs/heads/main']);
    });
  });
});
