/**
 * Push path of the git gate with real git (docs/security-model.md §2.5; attacks 12–14).
 * Upstream state is always asserted by reading the upstream bare repo directly.
 */
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { fileRepo, startHarness, type Harness } from './helpers/gate-harness.js';
import { commitFile, gitOk, makeAgent, makeTmp, makeUpstream, refsOf, type Agent, useGateTmp } from './helpers/git-env.js';

// AWS-access-key-id shaped (AKIA + 16 upper alnum), not a real key.
const AWS_KEY = 'AKIAZ7Q3M4X9K2L5P8R1';

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate push path (file:// upstream)', { timeout: 180_000 }, () => {
  const fx = useGateTmp();
  async function setup(
    extra: Parameters<typeof fileRepo>[2] = {},
    opts: Parameters<typeof startHarness>[2] = {},
    files?: Record<string, string>,
  ): Promise<{ up: string; h: Harness; agent: Agent; wc: string; mirror: string }> {
    const up = makeUpstream(fx.tmp, 'widget', files);
    const h = await startHarness(fx.tmp, [fileRepo('widget', up, extra)], opts);
    fx.defer(() => h.gate.close());
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    return { up, h, agent, wc: `${agent.home}/w`, mirror: `${h.root}/repos/widget.git` };
  }

  it('G5: a clean new branch lands upstream; the gate ref equals the upstream ref', async () => {
    const { up, agent, wc, mirror } = await setup();
    await agent.ok(['checkout', '-q', '-b', 'feature'], { cwd: wc });
    const tip = await commitFile(agent, wc, 'src/clean.ts', 'export const x = 1;\n');
    const r = await agent.git(['push', 'origin', 'feature'], { cwd: wc });
    expect(r.code, r.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/feature']).toBe(tip);
    expect(refsOf(mirror)['refs/heads/feature']).toBe(tip);
  });

  it('G6 (attack 12): a new file with an AKIA key is rejected naming file, line, rule, commit; upstream and gate unchanged', async () => {
    const { up, h, agent, wc, mirror } = await setup();
    const before = refsOf(up);
    const mirrorBefore = refsOf(mirror);
    const tip = await commitFile(agent, wc, 'config/deploy.env', `# deploy\nREGION=eu\nAWS_KEY=${AWS_KEY}\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: push rejected: 1 secret finding in commits new to this gate');
    expect(r.stderr).toContain(`[aws_access_key_id] config/deploy.env:3  commit ${tip.slice(0, 8)}  (refs/heads/main)`);
    expect(r.stderr).toContain('AWS_KEY=AKIA… (len 20)');
    expect(r.stderr).toContain('Nothing was sent upstream');
    expect(r.stderr).not.toContain(AWS_KEY);
    expect(refsOf(up)).toEqual(before);
    expect(refsOf(mirror)).toEqual(mirrorBefore);
    const ev = h.events.find((e) => e.event === 'gitgate_push');
    expect(ev && ev.event === 'gitgate_push' && ev.outcome).toBe('secret');
    // Before any upstream contact: the gate never even started a push.
    expect(h.spawned.some((a) => a[1] === 'push')).toBe(false);
    expect(JSON.stringify(h.events)).not.toContain(AWS_KEY);
  });

  it('G7: an old fake secret already upstream does not block a clean commit on top (--not --all)', async () => {
    const { up, agent, wc } = await setup({}, {}, { 'legacy.env': `OLD=${AWS_KEY}\n` });
    const tip = await commitFile(agent, wc, 'legacy.env', `OLD=${AWS_KEY}\nNEW=1\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:refs/heads/on-top'], { cwd: wc });
    expect(r.code, r.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/on-top']).toBe(tip);
  });

  it('G8: a secret added in commit 1 and removed in commit 2 is still rejected', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    const c1 = await commitFile(agent, wc, 'k.txt', `key ${AWS_KEY}\n`);
    await commitFile(agent, wc, 'k.txt', 'key removed\n');
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`[aws_access_key_id] k.txt:1  commit ${c1.slice(0, 8)}`);
    expect(refsOf(up)).toEqual(before);
  });

  it('G9: a secret push with upstream unreachable reports the findings, no upstream wording', async () => {
    const { up, agent, wc } = await setup();
    await commitFile(agent, wc, 'k.txt', `${AWS_KEY}\n`);
    renameSync(up, `${up}.gone`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[aws_access_key_id] k.txt:1');
    expect(r.stderr).not.toMatch(/unreachable|upstream rejected/);
  });

  it('G10: a clean push with upstream unreachable fails with "upstream unreachable"; gate ref unchanged', async () => {
    const { up, agent, wc, mirror } = await setup();
    const mirrorBefore = refsOf(mirror);
    await commitFile(agent, wc, 'ok.txt', 'ok\n');
    renameSync(up, `${up}.gone`);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: upstream unreachable (');
    expect(r.stderr).toContain('nothing was pushed');
    expect(refsOf(mirror)).toEqual(mirrorBefore);
  });

  it('G11: a secret in a commit message, and in an annotated tag message, is rejected', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    await commitFile(agent, wc, 'a.txt', 'a\n', `fix deploy\n\nkey was ${AWS_KEY}`);
    const r1 = await agent.git(['push', 'origin', 'HEAD:refs/heads/msg'], { cwd: wc });
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('[aws_access_key_id] (commit message):3');
    await agent.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: wc });
    await agent.ok(['tag', '-a', 'v1', '-m', `release\n${AWS_KEY}`], { cwd: wc });
    const r2 = await agent.git(['push', 'origin', 'refs/tags/v1'], { cwd: wc });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('[aws_access_key_id] (tag message v1):2');
    expect(refsOf(up)).toEqual(before);
  });

  it('G12: a PEM private key inside a binary file is rejected (private_key_pem)', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    const bin = Buffer.concat([
      Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0]),
      Buffer.from('\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n'),
      Buffer.from([0, 0x80, 0x81, 0]),
    ]);
    await commitFile(agent, wc, 'blob.bin', bin);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[private_key_pem] blob.bin:2');
    expect(refsOf(up)).toEqual(before);
  });

  it('G18: protected_refs [main, refs/heads/release/*]: main and release/1 rejected, release/1/x and feature accepted', async () => {
    const { up, agent, wc } = await setup({ protectedRefs: ['main', 'refs/heads/release/*'] });
    const tip = await commitFile(agent, wc, 'p.txt', 'p\n');
    const results: Record<string, number> = {};
    for (const ref of ['main', 'release/1', 'release/1/x', 'feature']) {
      const r = await agent.git(['push', 'origin', `HEAD:refs/heads/${ref}`], { cwd: wc });
      results[ref] = r.code;
      if (ref === 'main' || ref === 'release/1') expect(r.stderr).toContain(`git-gate: refs/heads/${ref} is protected in this bottle; push to another branch`);
    }
    expect(results['main']).not.toBe(0);
    expect(results['release/1']).not.toBe(0);
    expect(results['release/1/x']).toBe(0);
    expect(results['feature']).toBe(0);
    const refs = refsOf(up);
    expect(refs['refs/heads/main']).not.toBe(tip);
    expect(refs['refs/heads/release/1']).toBeUndefined();
    expect(refs['refs/heads/release/1/x']).toBe(tip);
    expect(refs['refs/heads/feature']).toBe(tip);
  });

  it('G19: --force non-fast-forward is rejected by default (upstream unchanged) and lands with allow_force_push', async () => {
    for (const allow of [false, true]) {
      const sub = makeTmp();
      fx.defer(() => sub.cleanup());
      const up = makeUpstream(sub, 'widget');
      const h = await startHarness(sub, [fileRepo('widget', up, { allowForcePush: allow })]);
      fx.defer(() => h.gate.close());
      const agent = makeAgent(sub, h.gitConfig);
      await agent.ok(['clone', `file://${up}`, 'w']);
      const wc = `${agent.home}/w`;
      await agent.ok(['commit', '--quiet', '--amend', '-m', 'rewritten'], { cwd: wc });
      const rewritten = await agent.ok(['rev-parse', 'HEAD'], { cwd: wc });
      const before = refsOf(up);
      const r = await agent.git(['push', '--force', 'origin', 'HEAD:main'], { cwd: wc });
      if (!allow) {
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain("git-gate: non-fast-forward update of refs/heads/main refused (force-push is disabled for 'widget')");
        expect(refsOf(up)).toEqual(before);
      } else {
        expect(r.code, r.stderr).toBe(0);
        expect(refsOf(up)['refs/heads/main']).toBe(rewritten);
        expect(refsOf(`${h.root}/repos/widget.git`)['refs/heads/main']).toBe(rewritten);
      }
    }
  });

  it('G20: deleting a branch is rejected by default and deletes upstream with allow_delete', async () => {
    for (const allow of [false, true]) {
      const sub = makeTmp();
      fx.defer(() => sub.cleanup());
      const up = makeUpstream(sub, 'widget');
      gitOk(['branch', 'old', 'main'], { cwd: up });
      const h = await startHarness(sub, [fileRepo('widget', up, { allowDelete: allow })]);
      fx.defer(() => h.gate.close());
      const agent = makeAgent(sub, h.gitConfig);
      await agent.ok(['clone', `file://${up}`, 'w']);
      const r = await agent.git(['push', 'origin', ':refs/heads/old'], { cwd: `${agent.home}/w` });
      if (!allow) {
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain("git-gate: deleting refs/heads/old is disabled for 'widget'");
        expect(refsOf(up)['refs/heads/old']).toBeDefined();
      } else {
        expect(r.code, r.stderr).toBe(0);
        expect(refsOf(up)['refs/heads/old']).toBeUndefined();
        expect(refsOf(`${h.root}/repos/widget.git`)['refs/heads/old']).toBeUndefined();
      }
    }
  });

  it('G21: pushing refs/notes/commits is a namespace rejection; moving an existing tag is a force rejection', async () => {
    const { up, agent, wc } = await setup();
    gitOk(['tag', 'v1', 'main'], { cwd: up });
    await agent.ok(['fetch', '--tags', 'origin'], { cwd: wc });
    await agent.ok(['notes', 'add', '-m', 'a note'], { cwd: wc });
    const n = await agent.git(['push', 'origin', 'refs/notes/commits'], { cwd: wc });
    expect(n.code).not.toBe(0);
    expect(n.stderr).toContain('git-gate: only refs/heads/* and refs/tags/* may be pushed (got refs/notes/commits)');
    await commitFile(agent, wc, 't.txt', 't\n');
    await agent.ok(['tag', '-f', 'v1'], { cwd: wc });
    const before = refsOf(up);
    const t = await agent.git(['push', '--force', 'origin', 'refs/tags/v1'], { cwd: wc });
    expect(t.code).not.toBe(0);
    expect(t.stderr).toContain('git-gate: non-fast-forward update of refs/tags/v1 refused');
    expect(refsOf(up)).toEqual(before);
  });

  it('G22: read_only: fetch works, push is refused with the read-only text', async () => {
    const { up, agent, wc } = await setup({ readOnly: true });
    await agent.ok(['fetch', 'origin'], { cwd: wc });
    await commitFile(agent, wc, 'r.txt', 'r\n');
    const before = refsOf(up);
    const r = await agent.git(['push', 'origin', 'HEAD:refs/heads/x'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("git-gate: 'widget' is read-only in this bottle");
    expect(refsOf(up)).toEqual(before);
  });

  it('G23: clone of an undeclared repo and GET /widget.git/HEAD (dumb protocol) are both 404', async () => {
    const { h, agent } = await setup();
    const r = await agent.git(['clone', `${h.gate.url}/nope.git`, 'nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not found|404/);
    const res = await fetch(`${h.gate.url}/nope.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("git-gate: no repository 'nope' in this bottle (declared: widget)");
    const head = await fetch(`${h.gate.url}/widget.git/HEAD`);
    expect(head.status).toBe(404);
    const dumb = await fetch(`${h.gate.url}/widget.git/info/refs`);
    expect(dumb.status).toBe(404);
  });

  it('G30: concurrent pushes to two branches are serialised and both land', async () => {
    const { up, agent, wc } = await setup();
    const a = await commitFile(agent, wc, 'a.txt', 'a\n');
    await agent.ok(['checkout', '-q', '-b', 'b', 'origin/main'], { cwd: wc });
    const b = await commitFile(agent, wc, 'b.txt', 'b\n');
    const [ra, rb] = await Promise.all([
      agent.git(['push', 'origin', `${a}:refs/heads/branch-a`], { cwd: wc }),
      agent.git(['push', 'origin', `${b}:refs/heads/branch-b`], { cwd: wc }),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/branch-a']).toBe(a);
    expect(refsOf(up)['refs/heads/branch-b']).toBe(b);
  });

  it('G31: protocol v2 clone and fetch work with one refresh per fetch', async () => {
    const { h, agent } = await setup();
    const count = () => h.events.filter((e) => e.event === 'gitgate_refresh').length;
    const c0 = count();
    await agent.ok(['-c', 'protocol.version=2', 'clone', `file://${fx.tmp.path('widget-upstream.git')}`, 'v2']);
    expect(count() - c0).toBe(1);
    const c1 = count();
    await agent.ok(['-c', 'protocol.version=2', 'fetch', 'origin'], { cwd: `${agent.home}/v2` });
    expect(count() - c1).toBe(1);
  });

  it('G33: a new 30 MiB blob with a 20 MiB limit is blob_too_large', async () => {
    const { up, agent, wc } = await setup({}, { maxBlobBytes: 20 * 1024 * 1024 });
    const before = refsOf(up);
    const big = Buffer.alloc(30 * 1024 * 1024, 'x');
    const c = await commitFile(agent, wc, 'big.dat', big);
    const r = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`git-gate: big.dat in ${c.slice(0, 8)} exceeds ${20 * 1024 * 1024} bytes and cannot be scanned; push refused`);
    expect(refsOf(up)).toEqual(before);
  });

  it('G34: with HTTPS_PROXY/HTTP_PROXY pointing at egress, gate traffic stays direct', async () => {
    const { up, agent, wc } = await setup();
    // A proxy that does not exist: any request sent through it would fail.
    const env = { HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', ALL_PROXY: 'http://127.0.0.1:9' };
    await agent.ok(['fetch', 'origin'], { cwd: wc, env });
    const tip = await commitFile(agent, wc, 'p.txt', 'p\n');
    const r = await agent.git(['push', 'origin', 'HEAD:refs/heads/proxied'], { cwd: wc, env });
    expect(r.code, r.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/proxied']).toBe(tip);
  });

  function upstreamUpdateHook(up: string): void {
    // Upstream's own policy: refuse refs/heads/blocked (per-ref `update` hook).
    writeFileSync(`${up}/hooks/update`, '#!/bin/sh\n[ "$1" = refs/heads/blocked ] && { echo "upstream policy says no" >&2; exit 1; }\nexit 0\n');
    chmodSync(`${up}/hooks/update`, 0o755);
  }

  it('upstream rejection: the agent sees upstream\'s message; neither upstream nor the gate mirror moves (atomic)', async () => {
    const { up, agent, wc, mirror } = await setup();
    upstreamUpdateHook(up);
    const before = refsOf(up);
    const mirrorBefore = refsOf(mirror);
    const tip = await commitFile(agent, wc, 'x.txt', 'x\n');
    const r = await agent.git(['push', 'origin', `${tip}:refs/heads/fine`, `${tip}:refs/heads/blocked`], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: upstream rejected the push:');
    expect(r.stderr).toContain('upstream policy says no');
    expect(r.stderr).not.toContain(up);
    expect(refsOf(up)).toEqual(before);
    expect(refsOf(mirror)).toEqual(mirrorBefore);
  });

  it('upstream without atomic push support: pushed ref by ref, partial result reported, mirror catches up on fetch', async () => {
    const { up, agent, wc, mirror } = await setup();
    gitOk(['config', 'receive.advertiseAtomic', 'false'], { cwd: up });
    const tip = await commitFile(agent, wc, 'y.txt', 'y\n');
    const both = await agent.git(['push', 'origin', `${tip}:refs/heads/one`, `${tip}:refs/heads/two`], { cwd: wc });
    expect(both.code, both.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/one']).toBe(tip);
    expect(refsOf(up)['refs/heads/two']).toBe(tip);
    upstreamUpdateHook(up);
    const partial = await agent.git(['push', 'origin', `${tip}:refs/heads/fine`, `${tip}:refs/heads/blocked`], { cwd: wc });
    expect(partial.code).not.toBe(0);
    expect(partial.stderr).toContain('already updated upstream: refs/heads/fine');
    expect(partial.stderr).toContain('git-gate: upstream rejected the push:');
    expect(refsOf(up)['refs/heads/fine']).toBe(tip);
    expect(refsOf(mirror)['refs/heads/fine']).toBeUndefined();
    await agent.ok(['fetch', 'origin'], { cwd: wc });
    expect(refsOf(mirror)['refs/heads/fine']).toBe(tip);
  });

  it('beyond added lines and messages: secrets in a file name, an author identity or a ref name are rejected, and only ever shown masked', async () => {
    const { up, h, agent, wc } = await setup();
    const before = refsOf(up);
    await commitFile(agent, wc, `keys/${AWS_KEY}.txt`, '');
    const r1 = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('[aws_access_key_id] (file names):1');
    await agent.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: wc });
    await commitFile(agent, wc, 'ok.txt', 'ok\n');
    await agent.ok(['commit', '--quiet', '--amend', '--no-edit', `--author=Robo <${AWS_KEY}@example.com>`], { cwd: wc });
    const r2 = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('[aws_access_key_id] (commit header: author):3');
    await agent.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: wc });
    await commitFile(agent, wc, 'ok2.txt', 'ok\n');
    const r3 = await agent.git(['push', 'origin', `HEAD:refs/heads/x-${AWS_KEY}`], { cwd: wc });
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain('[aws_access_key_id] (ref names):1');
    expect(refsOf(up)).toEqual(before);
    expect(r1.stderr + r2.stderr).not.toContain(AWS_KEY);
    expect(JSON.stringify(h.events)).not.toContain(AWS_KEY);
    // A secret inside a file whose *name* is also a secret: the report shows the path masked.
    await agent.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: wc });
    await commitFile(agent, wc, `${AWS_KEY}.env`, `K=${AWS_KEY}\n`);
    const r4 = await agent.git(['push', 'origin', 'HEAD:main'], { cwd: wc });
    expect(r4.code).not.toBe(0);
    expect(r4.stderr).toContain('[aws_access_key_id] AKIA… (len 20).env:1');
    expect(r4.stderr).not.toContain(AWS_KEY);
    expect(JSON.stringify(h.events)).not.toContain(AWS_KEY);
  });

  it('a GIT_GATE_ROOT too deep for a Unix socket path still pushes (socket falls back to a private temp dir)', async () => {
    const up = makeUpstream(fx.tmp, 'widget');
    const deep = fx.tmp.path('d'.repeat(60), 'e'.repeat(60));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(deep, { recursive: true });
    const h = await startHarness(fx.tmp, [fileRepo('widget', up)], { label: `${'d'.repeat(60)}/${'e'.repeat(60)}/g` });
    fx.defer(() => h.gate.close());
    const agent = makeAgent(fx.tmp, h.gitConfig, 'deep-agent');
    await agent.ok(['clone', `file://${up}`, 'w']);
    const tip = await commitFile(agent, `${agent.home}/w`, 'd.txt', 'd\n');
    const r = await agent.git(['push', 'origin', 'HEAD:refs/heads/deep'], { cwd: `${agent.home}/w` });
    expect(r.code, r.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/deep']).toBe(tip);
  });
});
