/** Pure helpers of the gate: object parsing, credentials env, pkt-lines, sanitising, lock, boundaries. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAuthHeader, gitConfigEnv, hostKeyAlgorithms, parseResolve, sshCommand, upstreamEnv } from '../../src/gate/credentials.js';
import { entryKind, headerFieldAt, headerValues, parseBatch, parseDiffTree, parseTree, splitObject } from '../../src/gate/objects.js';
import { RepoLock } from '../../src/gate/lock.js';
import { errAdvertisement, pktLine } from '../../src/gate/pkt-line.js';
import { reasonFromStderr, sanitizeUpstreamText } from '../../src/gate/sanitize.js';
import { lineIndexAt, markerReason } from '../../src/gate/scan.js';
import type { GateRepoConfig } from '../../src/gate/config.js';
import { REPO_ROOT } from '../helpers/cli.js';

const policy = { readOnly: false, protectedRefs: [], allowForcePush: false, allowDelete: false, allowNonCommitRefs: false };

describe('object parsers', () => {
  const O1 = '1'.repeat(40);
  const O2 = '2'.repeat(40);

  it('cat-file --batch records, including binary content with newlines and "missing" lines', () => {
    const bin = Buffer.from([0, 10, 10, 0xff, 10]);
    const buf = Buffer.concat([Buffer.from(`${O1} blob ${bin.length}\n`), bin, Buffer.from(`\n${O2} missing\n`)]);
    const out = parseBatch(buf);
    expect(out?.objects).toEqual([{ oid: O1, type: 'blob', content: bin }]);
    expect(out?.missing).toEqual([O2]);
    // Truncated or garbled streams are refused, never half-read.
    expect(parseBatch(Buffer.from(`${O1} blob 10\nshort\n`))).toBeNull();
    expect(parseBatch(Buffer.from(`${O1} weird 1\nx\n`))).toBeNull();
  });

  it('tree entries: raw names (any byte but NUL), modes, hashes', () => {
    const hash = Buffer.alloc(20, 0xab);
    const tree = Buffer.concat([Buffer.from('100644 a b\nc'), Buffer.from([0]), hash, Buffer.from('40000 dir'), Buffer.from([0]), hash]);
    const entries = parseTree(tree, 20);
    expect(entries.map((e) => [e.mode, e.name.toString(), e.oid])).toEqual([
      ['100644', 'a b\nc', 'ab'.repeat(20)],
      ['40000', 'dir', 'ab'.repeat(20)],
    ]);
    expect(entryKind('40000')).toBe('tree');
    expect(entryKind('160000')).toBe('gitlink');
    expect(entryKind('100755')).toBe('blob');
    expect(parseTree(Buffer.from('100644 cut'), 20)).toEqual([]);
  });

  it('commit/tag header and message; continuation lines belong to their field', () => {
    const raw = Buffer.from(`tree ${O1}\nparent ${O2}\nauthor A <a@x> 1 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n line2\n -----END PGP SIGNATURE-----\nx-custom v\n\nsubject\n\nbody`);
    const { header, message } = splitObject(raw);
    expect(message.toString()).toBe('subject\n\nbody');
    const lines = header.toString().split('\n');
    expect(headerFieldAt(lines, 0)).toBe('tree');
    expect(headerFieldAt(lines, 4)).toBe('gpgsig');
    expect(headerFieldAt(lines, 5)).toBe('gpgsig');
    expect(headerFieldAt(lines, 6)).toBe('x-custom');
    expect(headerValues(header, 'parent')).toEqual([O2]);
    expect(splitObject(Buffer.from('no message')).message.length).toBe(0);
  });

  it('diff-tree -z records: commit ids, entries, paths that look like ids stay paths', () => {
    const rec = (o: string, n: string, st: string, path: string) => `:100644 100644 ${o} ${n} ${st}\0${path}\0`;
    const buf = Buffer.from(`${O1}\0${rec(O2, O1, 'M', 'a/b')}${rec('0'.repeat(40), O2, 'A', O2)}`);
    const out = parseDiffTree(buf);
    expect(out.map((r) => [r.commit, r.oldOid, r.newOid, r.status, r.path.toString()])).toEqual([
      [O1, O2, O1, 'M', 'a/b'],
      [O1, '0'.repeat(40), O2, 'A', O2],
    ]);
  });

  it('line index of an offset; allow-marker reasons', () => {
    expect(markerReason('x = 1 # bot-bottle:allow  test fixture ')).toBe('test fixture');
    expect(markerReason('x # gitleaks:allow')).toBe('');
    expect(markerReason('plain')).toBeNull();
    expect(lineIndexAt('a\nb\nc', 0)).toBe(0);
    expect(lineIndexAt('a\nb\nc', 2)).toBe(1);
    expect(lineIndexAt('a\nb\nc', 4)).toBe(2);
  });
});

describe('credentials', () => {
  it('Basic: user:secret as-is, bare secret as x-access-token:<secret>', () => {
    expect(basicAuthHeader('glpat-abc')).toBe(`Authorization: Basic ${Buffer.from('x-access-token:glpat-abc').toString('base64')}`);
    expect(basicAuthHeader('bob:s3cr:et')).toBe(`Authorization: Basic ${Buffer.from('bob:s3cr:et').toString('base64')}`);
  });

  it('HTTPS token goes into GIT_CONFIG_* env (http.<url>.extraHeader), never elsewhere', () => {
    const repo: GateRepoConfig = { name: 'docs', url: 'https://git.example.com/acme/docs.git', kind: 'https', https: { tokenEnv: 'GIT_GATE_TOKEN_0' }, policy };
    const env = upstreamEnv(repo, { configDir: '/cfg', tokens: { GIT_GATE_TOKEN_0: 'tok-123456789' }, caBundle: '/run/ca.pem', resolve: new Map([['git.example.com', '127.0.0.1']]) });
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < Number(env['GIT_CONFIG_COUNT']); i++) pairs.push([env[`GIT_CONFIG_KEY_${i}`] as string, env[`GIT_CONFIG_VALUE_${i}`] as string]);
    expect(pairs).toContainEqual(['http.https://git.example.com/acme/docs.git.extraHeader', basicAuthHeader('tok-123456789')]);
    expect(pairs).toContainEqual(['http.followRedirects', 'false']);
    expect(pairs).toContainEqual(['http.sslVerify', 'true']);
    expect(pairs).toContainEqual(['http.sslCAInfo', '/run/ca.pem']);
    expect(pairs).toContainEqual(['http.curloptResolve', 'git.example.com:443:127.0.0.1']);
    expect(pairs).toContainEqual(['protocol.allow', 'never']);
    expect(env['GIT_SSH_COMMAND']).toBeUndefined();
    expect(() => upstreamEnv(repo, { configDir: '/cfg', tokens: {} })).toThrow('GIT_GATE_TOKEN_0 is not set');
  });

  it('SSH: pinned known_hosts, no TOFU, batch mode, connect timeout, no agent', () => {
    const cmd = sshCommand({ configDir: '/state/x/git-gate', tokens: {} }, { keyFile: 'creds/w/id_ed25519', knownHostsFile: 'creds/w/known_hosts', hostKeyTypes: ['ssh-ed25519', 'ssh-rsa'] });
    expect(cmd).toBe(
      "ssh -F /dev/null -i '/state/x/git-gate/creds/w/id_ed25519' -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes " +
        "-o UserKnownHostsFile='/state/x/git-gate/creds/w/known_hosts' -o GlobalKnownHostsFile=/dev/null " +
        '-o HostKeyAlgorithms=ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa -o BatchMode=yes -o ConnectTimeout=10 -o UpdateHostKeys=no -o LogLevel=ERROR',
    );
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256'])).toBe('ecdsa-sha2-nistp256');
  });

  it('GIT_GATE_RESOLVE parsing and git config env shape', () => {
    expect(parseResolve('a.example=10.0.0.1, b.example=::1')).toEqual(new Map([['a.example', '10.0.0.1'], ['b.example', '::1']]));
    expect(parseResolve('nonsense')).toEqual({ error: 'GIT_GATE_RESOLVE must be host=ip[,host=ip…]' });
    expect(gitConfigEnv([['a.b', 'c']])).toEqual({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'a.b', GIT_CONFIG_VALUE_0: 'c' });
  });
});

describe('wire helpers', () => {
  it('pkt-line ERR advertisement', () => {
    expect(pktLine('# service=git-upload-pack\n').toString()).toBe('001e# service=git-upload-pack\n');
    expect(errAdvertisement('git-gate: nope\nmore').toString()).toBe('001cERR git-gate: nope more\n');
  });

  it('upstream text loses URLs, credentials and known values', () => {
    const t = sanitizeUpstreamText("fatal: unable to access 'https://user:pw@git.example.com/a.git/': 401 tok-SECRET-1 Authorization: Basic eHh4", ['tok-SECRET-1']);
    expect(t).not.toMatch(/git\.example\.com|user:pw|tok-SECRET-1|eHh4/);
    expect(reasonFromStderr('remote: x\nfatal: Could not read from remote repository.\n', [])).toBe('Could not read from remote repository.');
    expect(reasonFromStderr("ssh: connect to host git@h.example port 22: Connection refused\nfatal: Could not read from 'git@h.example:a/b'", [])).toBe(
      "Could not read from '<upstream>'",
    );
  });
});

describe('RepoLock', () => {
  it('serialises work and coalesces refreshes queued behind running work', async () => {
    const lock = new RepoLock();
    const order: string[] = [];
    let release!: () => void;
    const held = lock.run(() => new Promise<void>((r) => (release = () => (order.push('push'), r()))));
    let refreshes = 0;
    const f = () => lock.refresh(async () => (refreshes++, order.push('refresh'), refreshes));
    const [a, b, c] = [f(), f(), f()];
    await new Promise((r) => setTimeout(r, 0));
    release();
    await held;
    expect(await Promise.all([a, b, c])).toEqual([1, 1, 1]);
    expect(order).toEqual(['push', 'refresh']);
    expect(await f()).toBe(2);
  });
});

describe('boundaries', () => {
  it('pure gate modules import no node:fs/net/child_process (shared with the host)', () => {
    for (const f of ['policy.ts', 'config.ts', 'render.ts', 'objects.ts', 'pkt-line.ts', 'hook-script.ts']) {
      const src = readFileSync(join(REPO_ROOT, 'src/gate', f), 'utf8');
      expect(src, f).not.toMatch(/from 'node:(fs|net|child_process|http)/);
    }
  });
});
