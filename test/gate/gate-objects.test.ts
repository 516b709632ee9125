/**
 * Every object a push brings is scanned (docs/decisions/gate-scan-every-object.md, issue 11): the
 * pushes a hostile agent made that landed secrets upstream through the diff-based scan, each
 * rejected with upstream unchanged, and their clean equivalents still landing. Real git only;
 * upstream state is read from the upstream bare repo directly.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';
import { bytesSurfaces } from '../../src/gate/scan.js';
import { skipReason } from '../helpers/capabilities.js';
import { fileRepo, startHarness, type Harness } from './helpers/gate-harness.js';
import { commitFile, git, makeAgent, makeUpstream, refsOf, type Agent, useGateTmp } from './helpers/git-env.js';

// AWS-access-key-id shaped (AKIA + 16 upper alnum), not a real key.
const AWS_KEY = 'AKIAZ7Q3M4X9K2L5P8R1';
const CANARY = 'bbcanary-3c1f0e9d7a6b5428';

/**
 * Whether the gate's blob path (src/gate/scan.ts bytesSurfaces → the shared DLP scanner) finds
 * an AWS key in `sample`. The decoders for compressed and base64 content live in src/dlp; until
 * they exist the dependent tests skip loudly instead of failing the gate suite.
 */
function gateFindsAwsKeyIn(sample: Buffer, what: string): boolean {
  const scanner = createScanner({ knownSecrets: [], fingerprintKey: Buffer.alloc(32, 1) });
  const found = scanner.scan(bytesSurfaces(sample, 'probe').surfaces, new Set(['token_patterns'])).some((f) => f.rule === 'aws_access_key_id');
  if (!found) process.stderr.write(`SKIP (gate-objects): the shared DLP scanner does not decode ${what} yet (src/dlp decode-then-rescan, issue 10)\n`);
  return found;
}

const GZIPPED_BIN = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  gzipSync(Buffer.from(`aws_access_key_id=${AWS_KEY}\n`)),
  Buffer.from([0, 0, 0xde, 0xad, 0xbe, 0xef]),
]);
const BASE64_FILE = Buffer.from(`config: ${Buffer.from(`AWS_ACCESS_KEY_ID=${AWS_KEY}`).toString('base64')}\n`);

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate scans every pushed object', { timeout: 180_000 }, () => {
  const fx = useGateTmp();

  async function setup(
    extra: Parameters<typeof fileRepo>[2] = {},
    opts: Parameters<typeof startHarness>[2] = {},
  ): Promise<{ up: string; h: Harness; agent: Agent; wc: string; mirror: string }> {
    // Several setups may share one test: each gets its own upstream, state and agent by label.
    const label = opts.label ?? 'gate';
    const up = makeUpstream(fx.tmp, `${label}-widget`);
    const h = await startHarness(fx.tmp, [fileRepo('widget', up, extra)], { secrets: { tokens: {}, canary: CANARY }, ...opts });
    fx.defer(() => h.gate.close());
    const agent = makeAgent(fx.tmp, h.gitConfig, `${label}-agent`);
    await agent.ok(['clone', `file://${up}`, 'w']);
    return { up, h, agent, wc: `${agent.home}/w`, mirror: `${h.root}/repos/widget.git` };
  }

  /** Plumbing in the agent's clone (object building needs stdin). */
  const plumb = (wc: string, args: string[], input?: string | Buffer): string => {
    const r = spawnSync('git', args, {
      cwd: wc,
      input,
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_COMMITTER_NAME: 'Robo', GIT_COMMITTER_EMAIL: 'robo@example.com', GIT_AUTHOR_NAME: 'Robo', GIT_AUTHOR_EMAIL: 'robo@example.com' },
    });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const blob = (wc: string, content: string | Buffer) => plumb(wc, ['hash-object', '-w', '--stdin'], content);
  const treeWith = (wc: string, files: Record<string, string>) =>
    plumb(wc, ['mktree'], Object.entries(files).map(([name, oid]) => `100644 blob ${oid}\t${name}`).join('\n') + '\n');
  const commitObject = (wc: string, extraHeaders: string, message = 'clean message\n') => {
    const tree = plumb(wc, ['rev-parse', 'HEAD^{tree}']);
    const parent = plumb(wc, ['rev-parse', 'HEAD']);
    const who = 'Robo Dev <robo@example.com> 1767225600 +0000';
    const raw = `tree ${tree}\nparent ${parent}\nauthor ${who}\ncommitter ${who}\n${extraHeaders}\n${message}`;
    return plumb(wc, ['hash-object', '-t', 'commit', '-w', '--stdin'], raw);
  };

  it('a lightweight tag straight at a blob holding a secret: refused as a non-commit ref; with allow_non_commit_refs the blob is scanned and rejected', async () => {
    for (const allow of [false, true]) {
      const { up, agent, wc } = await setup({ allowNonCommitRefs: allow }, { label: `lt-${allow}` });
      const before = refsOf(up);
      const b = blob(wc, `leak=${AWS_KEY}\n`);
      plumb(wc, ['tag', 't', b]);
      const r = await push(agent, wc, ['refs/tags/t']);
      expect(r.code).not.toBe(0);
      if (!allow) {
        expect(r.stderr).toContain(`git-gate: refs/tags/t points at a blob (${b.slice(0, 12)}), not a commit; refused (allow_non_commit_refs is off for 'widget')`);
      } else {
        expect(r.stderr).toContain('git-gate: push rejected: 1 secret finding');
        expect(r.stderr).toContain(`[aws_access_key_id] (blob ${b.slice(0, 12)}):1  blob ${b.slice(0, 8)}  (refs/tags/t)`);
        expect(r.stderr).toContain('leak=AKIA… (len 20)');
      }
      expect(r.stderr).not.toContain(AWS_KEY);
      expect(refsOf(up)).toEqual(before);
    }
  });

  it('an annotated tag with a clean message pointing at a tree whose file holds an AWS key is rejected naming the path', async () => {
    const { up, agent, wc } = await setup({ allowNonCommitRefs: true });
    const before = refsOf(up);
    const t = treeWith(wc, { 'aws.env': blob(wc, `# creds\nAWS_ACCESS_KEY_ID=${AWS_KEY}\n`), 'README': blob(wc, 'hi\n') });
    plumb(wc, ['tag', '-a', '-m', 'release notes, nothing to see', 'v-tree', t]);
    const tagOid = plumb(wc, ['rev-parse', 'v-tree']);
    const r = await push(agent, wc, ['refs/tags/v-tree']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`[aws_access_key_id] aws.env:2  tag ${tagOid.slice(0, 8)}  (refs/tags/v-tree)`);
    expect(refsOf(up)).toEqual(before);
    // And by default the tree-tag is refused before any scan.
    const d = await setup({}, { label: 'tree-default' });
    const t2 = treeWith(d.wc, { 'aws.env': blob(d.wc, 'clean\n') });
    plumb(d.wc, ['tag', '-a', '-m', 'x', 'v-tree', t2]);
    const r2 = await push(d.agent, d.wc, ['refs/tags/v-tree']);
    expect(r2.stderr).toContain('git-gate: refs/tags/v-tree points at a tree');
  });

  it('a secret in the tagger identity of an annotated tag is rejected, naming the header', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    const r0 = spawnSync('git', ['tag', '-a', '-m', 'v1', 'v1'], {
      cwd: wc,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_CONFIG_GLOBAL: '/dev/null', GIT_COMMITTER_NAME: 'Robo', GIT_COMMITTER_EMAIL: `${AWS_KEY}@example.com` },
    });
    expect(r0.status).toBe(0);
    const tagOid = plumb(wc, ['rev-parse', 'v1']);
    const r = await push(agent, wc, ['refs/tags/v1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`[aws_access_key_id] (tag header: tagger):4  tag ${tagOid.slice(0, 8)}  (refs/tags/v1)`);
    expect(r.stderr).not.toContain(AWS_KEY);
    expect(refsOf(up)).toEqual(before);
  });

  it('a secret in an extra commit header — a custom header, and gpgsig — with clean message and tree is rejected, naming the header', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    const custom = commitObject(wc, `x-deploy-note key=${AWS_KEY}\n`);
    const r1 = await push(agent, wc, [`${custom}:refs/heads/custom`]);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain(`[aws_access_key_id] (commit header: x-deploy-note):5  commit ${custom.slice(0, 8)}  (refs/heads/custom)`);
    const signed = commitObject(wc, `gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n ${AWS_KEY}\n -----END PGP SIGNATURE-----\n`);
    const r2 = await push(agent, wc, [`${signed}:refs/heads/signed`]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain(`[aws_access_key_id] (commit header: gpgsig):8  commit ${signed.slice(0, 8)}  (refs/heads/signed)`);
    expect(r1.stderr + r2.stderr).not.toContain(AWS_KEY);
    expect(refsOf(up)).toEqual(before);
  });

  it.skipIf(!gateFindsAwsKeyIn(GZIPPED_BIN, 'gzip-compressed bytes inside binary content'))('a secret gzip-compressed inside a binary file is rejected', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    await commitFile(agent, wc, 'tool.bin', GZIPPED_BIN);
    const r = await push(agent, wc, ['HEAD:refs/heads/bin']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[aws_access_key_id] tool.bin');
    expect(refsOf(up)).toEqual(before);
  });

  it.skipIf(!gateFindsAwsKeyIn(BASE64_FILE, 'base64-encoded content'))('an AWS key base64-encoded in a file is rejected', async () => {
    const { up, agent, wc } = await setup();
    const before = refsOf(up);
    await commitFile(agent, wc, 'settings.yaml', BASE64_FILE);
    const r = await push(agent, wc, ['HEAD:refs/heads/b64']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[aws_access_key_id] settings.yaml');
    expect(refsOf(up)).toEqual(before);
  });

  it('the canary anywhere new — a blob behind a tag, a custom commit header — is rejected and never offered for approval', async () => {
    let asked = 0;
    const { up, agent, wc } = await setup(
      { allowNonCommitRefs: true },
      {
        approver: {
          request: async () => {
            asked++;
            return { status: 'approved', id: 'p1', reason: 'must never be asked' };
          },
        },
      },
    );
    const before = refsOf(up);
    plumb(wc, ['tag', 'c', blob(wc, `token=${CANARY} # bot-bottle:allow fixture\n`)]);
    const r1 = await push(agent, wc, ['refs/tags/c']);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain('git-gate: push rejected: 1 secret finding');
    const hdr = commitObject(wc, `x-trace ${CANARY} bot-bottle:allow fixture\n`);
    const r2 = await push(agent, wc, [`${hdr}:refs/heads/trace`]);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('(commit header: x-trace):5');
    expect(r1.stderr + r2.stderr).not.toContain(CANARY);
    expect(asked).toBe(0);
    expect(refsOf(up)).toEqual(before);
  });

  it('an unreferenced object smuggled into the pushed pack is scanned: the push is refused and the mirror never stores it', async () => {
    const { up, h, agent, wc, mirror } = await setup();
    const before = refsOf(up);
    const hidden = blob(wc, `stash=${AWS_KEY}\n`);
    await commitFile(agent, wc, 'ok.txt', 'fine\n');
    const tip = plumb(wc, ['rev-parse', 'HEAD']);
    const base = plumb(wc, ['rev-parse', 'origin/main']);
    // The pack a normal push would send, plus the unreferenced blob.
    const objects = plumb(wc, ['rev-list', '--objects', tip, `^${base}`]).split('\n').map((l) => l.split(' ')[0]);
    const pack = spawnSync('git', ['pack-objects', '--stdout'], { cwd: wc, input: [...objects, hidden].join('\n') + '\n' }).stdout;
    const cmd = `${'0'.repeat(40)} ${tip} refs/heads/smuggle\0report-status`;
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const body = Buffer.concat([Buffer.from(`${pkt(cmd)}0000`), pack]);
    const res = await fetch(`${h.gate.url}/widget.git/git-receive-pack`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-git-receive-pack-request' },
      body,
    });
    const text = Buffer.from(await res.arrayBuffer()).toString('latin1');
    expect(text).toMatch(/ng refs\/heads\/smuggle/);
    expect(refsOf(up)).toEqual(before);
    expect(git(['cat-file', '-e', hidden], { cwd: mirror }).code).not.toBe(0);
    const ev = h.events.find((e) => e.event === 'gitgate_push');
    expect(ev && ev.event === 'gitgate_push' && ev.findings.map((f) => f.rule)).toEqual(['aws_access_key_id']);
  });

  it('clean equivalents land: a tag at a clean blob (allowed), a signed commit with a clean signature, an annotated tag with a clean tagger', async () => {
    const { up, agent, wc } = await setup({ allowNonCommitRefs: true });
    const b = blob(wc, 'just data\n');
    plumb(wc, ['tag', 'data', b]);
    const r1 = await push(agent, wc, ['refs/tags/data']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(refsOf(up)['refs/tags/data']).toBe(b);
    const signed = commitObject(wc, 'gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEclean0signature0bytes0here\n =abcd\n -----END PGP SIGNATURE-----\n');
    const r2 = await push(agent, wc, [`${signed}:refs/heads/signed`]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(refsOf(up)['refs/heads/signed']).toBe(signed);
    plumb(wc, ['tag', '-a', '-m', 'release 1', 'v1', signed]);
    const r3 = await push(agent, wc, ['refs/tags/v1']);
    expect(r3.code, r3.stderr).toBe(0);
    expect(refsOf(up)['refs/tags/v1']).toBe(plumb(wc, ['rev-parse', 'v1']));
  });

  it('bounds: too many new objects, too many new bytes, or too long a scan refuse the push with the reason', async () => {
    const cases: Array<[Parameters<typeof startHarness>[2], RegExp]> = [
      [{ limits: { scanMaxObjects: 3 } }, /git-gate: the push brings \d+ objects new to this gate, more than it scans in one push \(3\); push refused/],
      [{ limits: { scanMaxTotalBytes: 1000 } }, /git-gate: the push brings \d+ bytes of new objects, more than the gate scans in one push \(1000\); push refused/],
      [{ limits: { scanSeconds: 0.001 } }, /git-gate: scanning the pushed objects took longer than 0s; push refused/],
    ];
    let n = 0;
    for (const [opts, want] of cases) {
      const { up, agent, wc } = await setup({}, { ...opts, label: `bound-${n++}` });
      const before = refsOf(up);
      await commitFile(agent, wc, 'a/b/c.txt', 'x'.repeat(2000));
      const r = await push(agent, wc, ['HEAD:refs/heads/big']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(want);
      expect(refsOf(up)).toEqual(before);
    }
  });

  it('bounds: a push of many objects is refused once the listing passes the bound, without counting them all', async () => {
    const { up, agent, wc } = await setup({}, { limits: { scanMaxObjects: 3 } });
    const before = refsOf(up);
    for (let i = 0; i < 12; i++) writeFileSync(join(wc, `f${i}.txt`), `file ${i}\n`);
    await agent.ok(['add', '-A'], { cwd: wc });
    await agent.ok(['commit', '-qm', 'many'], { cwd: wc });
    const r = await push(agent, wc, ['HEAD:refs/heads/many']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('git-gate: the push brings more than 3 objects new to this gate, more than it scans in one push (3); push refused');
    expect(refsOf(up)).toEqual(before);
  });

  it('editing a file that already carries an upstream secret is not blocked; copying that secret into a new file is', async () => {
    const up = makeUpstream(fx.tmp, 'widget', { 'legacy.env': `OLD=${AWS_KEY}\n` });
    const h = await startHarness(fx.tmp, [fileRepo('widget', up)]);
    fx.defer(() => h.gate.close());
    const agent = makeAgent(fx.tmp, h.gitConfig);
    await agent.ok(['clone', `file://${up}`, 'w']);
    const wc = `${agent.home}/w`;
    await commitFile(agent, wc, 'legacy.env', `OLD=${AWS_KEY}\nNEW=1\n`);
    await commitFile(agent, wc, 'legacy.env', `NEWER=2\nOLD=${AWS_KEY}\nNEW=1\n`);
    const ok = await agent.git(['push', 'origin', 'HEAD:refs/heads/edit'], { cwd: wc });
    expect(ok.code, ok.stderr).toBe(0);
    await commitFile(agent, wc, 'copy.env', `OLD=${AWS_KEY}\n`);
    const r = await agent.git(['push', 'origin', 'HEAD:refs/heads/copy'], { cwd: wc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('[aws_access_key_id] copy.env:1');
  });

  /** `git push origin <specs>` as the agent (async: the gate under test runs in this process). */
  function push(agent: Agent, wc: string, specs: string[]) {
    return agent.git(['push', 'origin', ...specs], { cwd: wc });
  }
});
