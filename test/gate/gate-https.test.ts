/**
 * HTTPS upstream with a token (docs/configuration.md §3.5; G27/G28): `H` = a Node TLS server on
 * loopback in front of `git http-backend` demanding Basic. The token reaches git only through the
 * GIT_CONFIG_* environment of the gate's own upstream git processes.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GitGateRepo } from '../../src/manifest/types.js';
import { skipReason } from '../helpers/capabilities.js';
import { startHarness } from './helpers/gate-harness.js';
import { commitFile, makeAgent, makeUpstream, refsOf, useGateTmp } from './helpers/git-env.js';
import { startHttpsGitUpstream } from './helpers/https-git-upstream.js';
import { watchProc } from './helpers/proc-watch.js';

const TOKEN = 'glpat-Zq8vN3xK7pR2mT5wY9bC';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate HTTPS upstream with token_ref', { timeout: 180_000 }, () => {
  const fx = useGateTmp();

  async function setup(tokenValue: string, hostName?: string) {
    const bare = makeUpstream(fx.tmp, 'docs');
    const projectRoot = fx.tmp.dir;
    const H = await startHttpsGitUpstream(projectRoot, { user: 'x-access-token', pass: TOKEN }, hostName ? [hostName] : undefined);
    fx.defer(() => H.close());
    const caFile = fx.tmp.path('upstream-ca.pem');
    writeFileSync(caFile, H.caPem);
    const repo: GitGateRepo = {
      name: 'docs',
      url: hostName ? `https://${hostName}:${H.upstream.port}/docs-upstream.git` : H.url('docs-upstream.git'),
      kind: 'https',
      host: hostName ?? '127.0.0.1',
      port: H.upstream.port,
      hostKeys: [],
      tokenRef: 'DOCS_GIT_TOKEN',
      readOnly: false,
      protectedRefs: [],
      allowForcePush: false,
      allowDelete: false,
    };
    const h = await startHarness(fx.tmp, [repo], {
      upstreamCaFile: caFile,
      tokenValues: { DOCS_GIT_TOKEN: tokenValue },
      ...(hostName ? { resolve: new Map([[hostName, '127.0.0.1']]) } : {}),
    });
    fx.defer(() => h.gate.close());
    const agent = makeAgent(fx.tmp, h.gitConfig);
    return { bare, H, h, agent, repo };
  }

  it('G27: fetch and push work; upstream saw Basic b64(x-access-token:glpat-…); token in no argv, env of agent-facing git, file, log or agent output', async () => {
    const { bare, H, h, agent, repo } = await setup(TOKEN);
    const watch = watchProc(TOKEN);
    const clone = await agent.git(['clone', repo.url, 'd']);
    const wc = `${agent.home}/d`;
    const tip = await commitFile(agent, wc, 'page.md', '# page\n');
    const push = await agent.git(['push', 'origin', 'HEAD:refs/heads/edit'], { cwd: wc });
    const seen = watch.stop();
    expect(clone.code, clone.stderr).toBe(0);
    expect(push.code, push.stderr).toBe(0);
    expect(refsOf(bare)['refs/heads/edit']).toBe(tip);

    const want = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    expect(H.upstream.requests.length).toBeGreaterThan(0);
    expect(H.upstream.requests.every((r) => r.headers['authorization'] === want)).toBe(true);

    // Mechanism: the gate's spawned git argv never carries the token…
    expect(h.spawned.length).toBeGreaterThan(0);
    expect(h.spawned.some((a) => a.join(' ').includes(TOKEN))).toBe(false);
    // …and /proc, sampled during clone + push, never showed it in any argv, nor in the env of
    // http-backend / upload-pack / receive-pack / the hook (the processes the agent drives).
    expect(seen.samples).toBeGreaterThan(5);
    expect(seen.argvHits).toEqual([]);
    expect(seen.envHits).toEqual([]);
    // Nothing under the gate's state (config.yaml, mirrors' config, hooks, audit) holds it.
    for (const f of [...allFiles(h.stateDir)]) {
      if (statSync(f).size > 5_000_000) continue;
      expect(readFileSync(f, 'latin1').includes(TOKEN), f).toBe(false);
    }
    expect(readFileSync(`${h.root}/config.yaml`, 'utf8')).toContain('token_env: GIT_GATE_TOKEN_0');
    expect(readFileSync(`${h.root}/config.yaml`, 'utf8')).not.toContain('DOCS_GIT_TOKEN');
    expect(JSON.stringify(h.events)).not.toContain(TOKEN);
    expect(clone.stderr + clone.stdout + push.stderr + push.stdout).not.toContain(TOKEN);
  });

  it('G28: a wrong token fails closed; no token value in any message', async () => {
    const wrong = 'glpat-WRONGwrongWRONG0000';
    const { h, agent, repo } = await setup(wrong);
    const r = await agent.git(['clone', repo.url, 'd']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("git-gate: could not refresh 'docs' from upstream (");
    expect(r.stderr).not.toContain(wrong);
    expect(r.stderr).not.toContain(TOKEN);
    expect(JSON.stringify(h.events)).not.toContain(wrong);
  });

  it('pushing the gate token itself is caught as a known secret and cannot be allowed', async () => {
    const { bare, H, agent, repo } = await setup(TOKEN);
    await agent.ok(['clone', repo.url, 'd']);
    const wc = `${agent.home}/d`;
    const before = refsOf(bare);
    await commitFile(agent, wc, 'leak.txt', `t=${Buffer.from(TOKEN).toString('base64')} # bot-bottle:allow\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/git-gate: push rejected: \d+ secret findings? /);
    expect(r.stderr).toContain('leak.txt:1');
    expect(r.stderr).not.toContain('waiting up to');
    expect(refsOf(bare)).toEqual(before);
    // The upstream never saw a receive-pack request.
    expect(H.upstream.requests.some((q) => q.url.includes('receive-pack'))).toBe(false);
  });

  it('GIT_GATE_RESOLVE maps an upstream host name to a loopback address (TLS still verified against the name)', async () => {
    const { bare, agent, repo } = await setup(TOKEN, 'git.bottle.test');
    const r = await agent.git(['ls-remote', repo.url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(refsOf(bare)['refs/heads/main']);
  });
});
