/** Pure helpers of the gate: diff parsing, credentials env, pkt-lines, sanitising, lock, boundaries. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicAuthHeader, gitConfigEnv, hostKeyAlgorithms, parseResolve, sshCommand, upstreamEnv } from '../../src/gate/credentials.js';
import { lineIndexAt, parseLogPatch, unquoteGitPath } from '../../src/gate/diff-parse.js';
import { RepoLock } from '../../src/gate/lock.js';
import { errAdvertisement, pktLine } from '../../src/gate/pkt-line.js';
import { reasonFromStderr, sanitizeUpstreamText } from '../../src/gate/sanitize.js';
import { markerReason } from '../../src/gate/scan.js';
import type { GateRepoConfig } from '../../src/gate/config.js';
import { REPO_ROOT } from '../helpers/cli.js';

const policy = { readOnly: false, protectedRefs: [], allowForcePush: false, allowDelete: false };

describe('diff parsing', () => {
  const M = 'bbgate-test';
  const C1 = '1'.repeat(40);
  const C2 = '2'.repeat(40);
  const log = [
    `${M} ${C1}`,
    'subject',
    '',
    'body line',
    `${M}-end`,
    '',
    'diff --git a/a.txt b/a.txt',
    'index 000..111 100644',
    '--- a/a.txt',
    '+++ b/a.txt',
    '@@ -2,0 +3,2 @@ ctx',
    '+added three',
    '+++ added four looks like a header',
    '@@ -9 +11 @@',
    '-old',
    '+new eleven',
    'diff --git a/gone.txt b/gone.txt',
    'deleted file mode 100644',
    '--- a/gone.txt',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-bye',
    `${M} ${C2}`,
    `fake ${M}-end`,
    `${M}-end`,
    'diff --git "a/sp ace\\tx" "b/sp ace\\tx"',
    '--- /dev/null',
    '+++ "b/sp ace\\tx"',
    '@@ -0,0 +1 @@',
    '+tab file',
  ].join('\n');

  it('added lines with new-file line numbers; deletions ignored; "+++" inside a hunk is content', () => {
    const out = parseLogPatch(Buffer.from(log), M);
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({
      commit: C1,
      message: 'subject\n\nbody line',
      files: [{ file: 'a.txt', lines: ['added three', '++ added four looks like a header', 'new eleven'], lineNos: [3, 4, 11] }],
    });
    expect(out[1]?.message).toBe(`fake ${M}-end`);
    expect(out[1]?.files).toEqual([{ file: 'sp ace\tx', lines: ['tab file'], lineNos: [1] }]);
  });

  it('binary content is read as latin-1 when not valid UTF-8', () => {
    const buf = Buffer.concat([Buffer.from(`${M} ${C1}\nm\n${M}-end\n+++ b/b.bin\n@@ -0,0 +1 @@\n+`), Buffer.from([0xff, 0x41, 0x00, 0x80])]);
    const out = parseLogPatch(buf, M);
    expect(out[0]?.files[0]?.lines[0]).toBe('\u00ffA\u0000\u0080');
  });

  it('helpers', () => {
    expect(unquoteGitPath('"caf\\303\\251.txt"')).toBe('café.txt');
    expect(unquoteGitPath('plain')).toBe('plain');
    expect(lineIndexAt('a\nb\nc', 4)).toBe(2);
    expect(markerReason('x = 1 # bot-bottle:allow sample key from docs')).toBe('sample key from docs');
    expect(markerReason('x gitleaks:allow')).toBe('');
    expect(markerReason('x = 1')).toBeNull();
    expect(markerReason(`k bot-bottle:allow ${'r'.repeat(300)}`)?.length).toBe(200);
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
    for (const f of ['policy.ts', 'config.ts', 'render.ts', 'diff-parse.ts', 'pkt-line.ts', 'hook-script.ts']) {
      const src = readFileSync(join(REPO_ROOT, 'src/gate', f), 'utf8');
      expect(src, f).not.toMatch(/from 'node:(fs|net|child_process|http)/);
    }
  });
});
