/**
 * git over HTTPS through the proxy with Basic injection (E28, E28b): a real
 * `git http-backend` upstream behind a Node TLS server that demands Basic auth.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startInProc, tempDir, upstreamCa, CANARY, type InProc } from './harness.js';
import { skipReason } from '../helpers/capabilities.js';

const USERPASS = 'alice:gitpass-Mv83Kq1x9Z';
const EXPECTED = `Basic ${Buffer.from(USERPASS).toString('base64')}`;

describe.skipIf(skipReason('git', 'git-http-backend'))('git over HTTPS via egress (E28, E28b)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: https.Server;
  let port: number;
  let e: InProc;
  let caFile: string;
  const seen: Array<{ method: string; url: string; auth: string | undefined }> = [];
  let bare: string;
  let work: string;

  const git = (args: string[], cwd: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('git', args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  beforeAll(async () => {
    tmp = await tempDir('bb-egress-git-');
    bare = join(tmp.dir, 'srv', 'r.git');
    work = join(tmp.dir, 'work');
    const run = (args: string[], cwd = tmp.dir) => {
      const r = spawnSync('git', args, { cwd, env: { ...process.env, HOME: tmp.dir, GIT_CONFIG_NOSYSTEM: '1' } });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    run(['init', '-q', '--bare', bare]);
    run(['config', 'http.receivepack', 'true'], bare);
    run(['init', '-q', '-b', 'main', work]);
    run(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first'], work);
    run(['push', '-q', bare, 'main'], work);
    const execPath = spawnSync('git', ['--exec-path'], { encoding: 'utf8' }).stdout.trim();
    const leaf = await (await upstreamCa()).issue(['git.test']);
    server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      if (req.headers.authorization !== EXPECTED) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
        return void res.end('auth required\n');
      }
      const u = new URL(req.url ?? '/', 'https://git.test');
      const cgi = spawn(join(execPath, 'git-http-backend'), [], {
        env: {
          PATH: process.env.PATH ?? '',
          GIT_PROJECT_ROOT: join(tmp.dir, 'srv'),
          GIT_HTTP_EXPORT_ALL: '1',
          PATH_INFO: decodeURIComponent(u.pathname),
          QUERY_STRING: u.search.slice(1),
          REQUEST_METHOD: req.method ?? 'GET',
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          REMOTE_USER: 'alice',
          REMOTE_ADDR: '127.0.0.1',
          ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
          ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let headerDone = false;
      cgi.stdout.on('data', (c: Buffer) => {
        if (headerDone) return void res.write(c);
        head = Buffer.concat([head, c]);
        const idx = head.indexOf('\r\n\r\n');
        if (idx < 0) return;
        headerDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of head.subarray(0, idx).toString().split('\r\n')) {
          const i = line.indexOf(':');
          const k = line.slice(0, i).trim();
          const v = line.slice(i + 1).trim();
          if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
          else headers[k] = v;
        }
        res.writeHead(status, headers);
        res.write(head.subarray(idx + 4));
      });
      cgi.on('close', () => res.end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    e = await startInProc(`  - {host: git.test, port: ${port}, auth: {scheme: Basic, token_env: EGRESS_TOKEN_1}, allow_private_cidrs: [127.0.0.0/8]}\n`, {
      tokens: { EGRESS_TOKEN_1: USERPASS },
      resolveMap: new Map([['git.test', ['127.0.0.1']]]),
    });
    caFile = join(tmp.dir, 'bottle-ca.pem');
    await writeFile(caFile, e.caPem);
  });

  afterAll(async () => {
    await e?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
    const all = e.logs.join('') + JSON.stringify(e.audit);
    expect(all).not.toContain(USERPASS);
    expect(all).not.toContain(EXPECTED.slice(6));
    expect(all).not.toContain(CANARY);
    await tmp?.cleanup();
  });

  const viaProxy = () => ['-c', `http.proxy=${e.proxy}`, '-c', `http.sslCAInfo=${caFile}`, '-c', 'credential.helper='];

  it('E28 git ls-remote via the proxy succeeds without a credential helper (Basic injected)', async () => {
    const direct = await git(['-c', 'http.sslVerify=false', 'ls-remote', `https://127.0.0.1:${port}/r.git`], tmp.dir);
    expect(direct.code).not.toBe(0); // the upstream really demands credentials
    const r = await git([...viaProxy(), 'ls-remote', `https://git.test:${port}/r.git`], tmp.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{40}\s+refs\/heads\/main$/m);
    expect(seen.filter((s) => s.auth === EXPECTED).length).toBeGreaterThan(0);
    const clone = await git([...viaProxy(), 'clone', '-q', `https://git.test:${port}/r.git`, join(tmp.dir, 'clone')], tmp.dir);
    expect(clone.code).toBe(0);
  });

  it('E28b git push via the proxy → 403 git_push_via_egress; upstream refs unchanged', async () => {
    const before = spawnSync('git', ['rev-parse', 'refs/heads/main'], { cwd: bare, encoding: 'utf8' }).stdout.trim();
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'second'], { cwd: work });
    const n = seen.length;
    const r = await git([...viaProxy(), 'push', `https://git.test:${port}/r.git`, 'main'], work);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/403/);
    expect(seen.slice(n).some((s) => s.url.includes('receive-pack'))).toBe(false);
    expect(e.audit.some((a) => a.reason === 'git_push_via_egress')).toBe(true);
    const after = spawnSync('git', ['rev-parse', 'refs/heads/main'], { cwd: bare, encoding: 'utf8' }).stdout.trim();
    expect(after).toBe(before);
  });
});
