/**
 * Gitea deploy keys wired into the launch (docs/decisions/gate-gitea-keys.md): a fresh key is
 * registered right after the state dir is written and revoked at teardown; a failed revocation is
 * loud (names the key) and keeps the record for `cleanup`. Gitea cannot run here: its deploy-key
 * endpoints are the local stand-in of test/gate/helpers/fake-gitea.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { startFakeGitea, type FakeGitea } from '../gate/helpers/fake-gitea.js';
import { tempHome, type TempHome } from '../plan/home-fixture.js';
import { preparePlan } from '../../src/plan/prepare.js';
import { deployKeyHooks } from '../../src/launch/deploy-keys.js';
import { applyCleanup } from '../../src/launch/cleanup.js';
import type { FetchLike } from '../../src/gate/gitea.js';

const ADMIN = 'gitea-admin-PLANTED-marker-7f3e2d1c';

describe.skipIf(skipReason('ssh-keygen'))('deploy keys around a launch', () => {
  let h: TempHome | undefined;
  let gitea: FakeGitea | undefined;
  afterEach(async () => {
    h?.cleanup();
    await gitea?.close();
  });

  async function setup() {
    gitea = await startFakeGitea(ADMIN);
    h = tempHome();
    h.bottle('b', [
      'git-gate:',
      '  repos:',
      '    web:',
      '      url: ssh://git@gitea.example.test:2222/acme/web.git',
      '      key: {provider: gitea, provisioner_token: GITEA_ADMIN_TOKEN, api_url: "https://gitea.example.test"}',
      '      host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForDocsOnly0000000000000000"',
    ].join('\n'));
    h.agent('a', 'bottle: b');
    const p = await preparePlan(h.options('a', { dryRun: false, hostEnv: { GITEA_ADMIN_TOKEN: ADMIN } }));
    const base = gitea.url;
    // The manifest demands an https api_url; the stand-in speaks plain HTTP on loopback.
    const fetchLocal: FetchLike = (url, init) => globalThis.fetch(url.replace('https://gitea.example.test', base), init);
    return { p, hooks: deployKeyHooks(p, { GITEA_ADMIN_TOKEN: ADMIN }, undefined, { fetch: fetchLocal }) };
  }

  it('registers a fresh ed25519 key after writing state, and revokes it at teardown', async () => {
    const { p, hooks } = await setup();
    await hooks.materialize!();
    const gateDir = join(p.plan.stateDir, 'git-gate');
    const keyFile = join(gateDir, 'creds', 'web', 'id_ed25519');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toContain('OPENSSH PRIVATE KEY');
    const post = gitea!.calls.find((c) => c.method === 'POST');
    expect(post?.path).toBe('/api/v1/repos/acme/web/keys');
    expect(gitea!.keys.size).toBe(1);
    const records = readFileSync(join(gateDir, 'deploy-keys.json'), 'utf8');
    expect(records).toContain('GITEA_ADMIN_TOKEN');
    expect(records).not.toContain(ADMIN);

    await hooks.revoke!();
    expect(gitea!.keys.size).toBe(0);
    expect(gitea!.calls.some((c) => c.method === 'DELETE')).toBe(true);
    expect(existsSync(join(gateDir, 'unrevoked-keys.json'))).toBe(false);
  });

  it('a failed revocation throws a loud error naming the key (never the token) and keeps the record', async () => {
    const { p, hooks } = await setup();
    await hooks.materialize!();
    gitea!.deleteStatus = 500;
    const err = (await hooks.revoke!().then(() => null, (e: unknown) => e)) as Error & { code?: string };
    expect(err?.code).toBe('TEARDOWN_FAILED');
    expect(err.message).toMatch(/deploy key .* on gitea\.example\.test\/acme\/web was NOT revoked \(HTTP 500\)/);
    expect(err.message).not.toContain(ADMIN);
    const kept = readFileSync(join(p.plan.stateDir, 'git-gate', 'unrevoked-keys.json'), 'utf8');
    expect(kept).toContain('"repo": "web"');
  });

  it('a bottle without gitea repos only writes the state dir', async () => {
    h = tempHome();
    h.bottle('plain', 'egress: {log: 0}');
    h.agent('a', 'bottle: plain');
    const p = await preparePlan(h.options('a', { dryRun: false, hostEnv: {} }));
    const hooks = deployKeyHooks(p, {});
    expect(hooks.revoke).toBeUndefined();
    await hooks.materialize!();
    expect(existsSync(join(p.plan.stateDir, 'metadata.json'))).toBe(true);
  });

  it('cleanup retries a pending revocation: kept (loudly) without the token, removed once revoked', async () => {
    const { p, hooks } = await setup();
    await hooks.materialize!();
    gitea!.deleteStatus = 503;
    await expect(hooks.revoke!()).rejects.toMatchObject({ code: 'TEARDOWN_FAILED' });
    gitea!.deleteStatus = null;
    const home = p.plan.home;
    const slug = p.plan.slug;
    const survey = { plans: [], removableState: [slug], keptPreserved: [], skippedBackends: [] };
    const fetchLocal: FetchLike = (url, init) => globalThis.fetch(url.replace('https://gitea.example.test', gitea!.url), init);

    const without = await applyCleanup(home, [], survey, { hostEnv: {}, fetch: fetchLocal });
    expect(without.warnings.join('\n')).toMatch(/NOT revoked \(GITEA_ADMIN_TOKEN not set on the host\)/);
    expect(without.warnings.join('\n')).toContain(`kept state/${slug}`);
    expect(existsSync(p.plan.stateDir)).toBe(true);
    expect(gitea!.keys.size).toBe(1);

    const withToken = await applyCleanup(home, [], survey, { hostEnv: { GITEA_ADMIN_TOKEN: ADMIN }, fetch: fetchLocal });
    expect(withToken).toEqual({ failed: [], warnings: [] });
    expect(gitea!.keys.size).toBe(0);
    expect(existsSync(p.plan.stateDir)).toBe(false);
  });
});
