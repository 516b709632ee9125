/**
 * Fetch path of the git gate with real git against file:// upstreams (docs/architecture.md §7).
 */
import { renameSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { fileRepo, startHarness, type Harness } from './helpers/gate-harness.js';
import { commitFile, gitOk, makeAgent, makeUpstream, refsOf, useGateTmp } from './helpers/git-env.js';

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate fetch path (file:// upstream)', { timeout: 180_000 }, () => {
  const fx = useGateTmp();
  async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
    const h = await startHarness(...args);
    fx.defer(() => h.gate.close());
    return h;
  }

  it('G1: git clone of the upstream URL is served via the gate; content equals upstream', async () => {
    const up = makeUpstream(fx.tmp, 'widget', { 'README.md': '# widget\n', 'src/a.txt': 'a\n' });
    const h = await harness(fx.tmp, [fileRepo('widget', up)]);
    const agent = makeAgent(fx.tmp, h.gitConfig);
    const r = await agent.git(['clone', `file://${up}`, 'w']);
    expect(r.code, r.stderr).toBe(0);
    expect(await agent.ok(['rev-parse', 'HEAD'], { cwd: `${agent.home}/w` })).toBe(refsOf(up)['refs/heads/main']);
    // insteadOf rewrote the upstream URL to the gate.
    expect(await agent.ok(['remote', 'get-url', 'origin'], { cwd: `${agent.home}/w` })).toBe(`${h.gate.url}/widget.git`);
    // Served via the gate: a refresh happened and the mirror holds the ref.
    expect(h.events.some((e) => e.event === 'gitgate_refresh' && e.ok)).toBe(true);
    expect(refsOf(`${h.root}/repos/widget.git`)['refs/heads/main']).toBe(refsOf(up)['refs/heads/main']);
  });

  it('G2: a commit added upstream is seen on fetch; a branch deleted upstream is gone from ls-remote', async () => {
    const up = makeUpstream(fx.tmp, 'widget');
    gitOk(['branch', 'doomed', 'main'], { cwd: up });
    const h = await harness(fx.tmp, [fileRepo('widget', up)]);
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    const seed = fx.tmp.path('widget-seed');
    const tip = await commitFile(makeAgent(fx.tmp, [['user.name', 'u'], ['user.email', 'u@example.com']], 'seeder'), seed, 'new.txt', 'new\n');
    gitOk(['push', '--quiet', up, 'HEAD:main'], { cwd: seed });
    await agent.ok(['fetch', 'origin'], { cwd: `${agent.home}/w` });
    expect(await agent.ok(['rev-parse', 'origin/main'], { cwd: `${agent.home}/w` })).toBe(tip);
    gitOk(['branch', '-D', 'doomed'], { cwd: up });
    const ls = await agent.ok(['ls-remote', 'origin'], { cwd: `${agent.home}/w` });
    expect(ls).not.toContain('refs/heads/doomed');
    expect(ls).toContain(tip);
  });

  it('G3: upstream unreachable → fetch fails with "remote error: git-gate: could not refresh"', async () => {
    const up = makeUpstream(fx.tmp, 'widget');
    const h = await harness(fx.tmp, [fileRepo('widget', up)]);
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    renameSync(up, `${up}.gone`);
    const r = await agent.git(['fetch', 'origin'], { cwd: `${agent.home}/w` });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("remote error: git-gate: could not refresh 'widget' from upstream (");
    expect(r.stderr).toContain('refusing to serve possibly stale data');
    expect(r.stderr).not.toContain(up); // upstream paths/URLs are stripped
  });

  it('G3b: a hanging upstream is cut off by GIT_GATE_FETCH_TIMEOUT_SECONDS', async () => {
    const up = makeUpstream(fx.tmp, 'widget');
    // An ssh "upstream" whose transport never answers: the gate must give up after the timeout.
    const h = await harness(fx.tmp, [fileRepo('widget', up)], { fetchTimeoutSeconds: 1 });
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    // Replace upload-pack with a sleeper through the upstream's own config is not possible for
    // file://; a FIFO as packed-refs makes upstream ref listing block instead.
    gitOk(['pack-refs', '--all'], { cwd: up });
    const { rmSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    rmSync(`${up}/packed-refs`);
    spawnSync('mkfifo', [`${up}/packed-refs`]);
    const t0 = Date.now();
    const r = await agent.git(['fetch', 'origin'], { cwd: `${agent.home}/w` });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(timed out after 1s)');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('G4: upstream HEAD → trunk with the mirror HEAD unresolved: clone checks out trunk', async () => {
    const up = makeUpstream(fx.tmp, 'widget', { 'T.md': 'trunk\n' }, 'trunk');
    const h = await harness(fx.tmp, [fileRepo('widget', up)]);
    // A fresh `git init --bare` mirror points HEAD at master/main, which does not exist here.
    expect(gitOk(['symbolic-ref', 'HEAD'], { cwd: `${h.root}/repos/widget.git` })).not.toBe('refs/heads/trunk');
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    expect(await agent.ok(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: `${agent.home}/w` })).toBe('trunk');
    expect(h.events.some((e) => e.event === 'gitgate_refresh' && e.head_repaired === 'refs/heads/trunk')).toBe(true);
  });
});
