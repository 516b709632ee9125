/**
 * The CGI bridge's bounds with a stand-in backend (docs/decisions/gate-scan-every-object.md): a
 * `git` on PATH that reads its body forever and starts a grandchild, so what is checked is the
 * bridge alone — body cap for chunked bodies (no declared length), a response the client stops
 * reading, the whole-request cap — and that the backend's whole process group dies each time.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHttpBackend, type CgiLimits, type CgiResult } from '../../src/gate/cgi.js';
import { ChildGroups } from '../../src/gate/children.js';
import { useGateTmp } from './helpers/git-env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('CGI bridge bounds (stand-in backend)', { timeout: 60_000 }, () => {
  const fx = useGateTmp();

  /** A fake `git http-backend`: prints a CGI head, starts a sleeping grandchild, then `mode`. */
  function fakeGit(mode: 'read' | 'flood' | 'hang'): { path: string; pids: string } {
    const bin = fx.tmp.path('bin');
    mkdirSync(bin, { recursive: true });
    const pids = fx.tmp.path('pids');
    const body = { read: 'cat > /dev/null', flood: 'while true; do head -c 65536 /dev/zero; done', hang: 'sleep 300' }[mode];
    writeFileSync(
      join(bin, 'git'),
      `#!/bin/sh\nsleep 300 & echo $! >> ${pids}\necho $$ >> ${pids}\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\n${body}\n`,
    );
    chmodSync(join(bin, 'git'), 0o755);
    return { path: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, pids };
  }

  async function serve(path: string, limits: CgiLimits): Promise<{ port: number; results: CgiResult[] }> {
    const results: CgiResult[] = [];
    const groups = new ChildGroups();
    const server: Server = http.createServer((req, res) => {
      void runHttpBackend(req, res, { projectRoot: '/nonexistent', pathInfo: '/x.git/git-receive-pack', query: '', gitProtocol: null, baseEnv: { PATH: path }, groups, limits }).then((r) =>
        results.push(r),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fx.defer(() => {
      groups.killAll();
      return new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    });
    return { port: (server.address() as AddressInfo).port, results };
  }

  const limits: CgiLimits = { maxBodyBytes: 64 * 1024, bodyIdleMs: 30_000, bodyMs: 30_000, writeStallMs: 30_000, totalMs: 30_000 };

  async function groupGone(pidsFile: string): Promise<number[]> {
    const deadline = Date.now() + 3000;
    let left: number[] = [];
    do {
      await sleep(50);
      left = readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean).map(Number).filter(alive);
    } while (left.length > 0 && Date.now() < deadline);
    return left;
  }

  it('a chunked body over the cap is answered 413 and the backend group (grandchild included) is killed', async () => {
    const fake = fakeGit('read');
    const { port, results } = await serve(fake.path, limits);
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.on('error', () => {});
    const closed = new Promise((r) => sock.on('close', r));
    await new Promise((r) => sock.on('connect', r));
    sock.write('POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = Buffer.alloc(16 * 1024, 0x30);
    for (let i = 0; i < 8 && !sock.destroyed; i++) {
      sock.write(Buffer.concat([Buffer.from('4000\r\n'), piece, Buffer.from('\r\n')]));
      await sleep(20);
    }
    await closed;
    expect(got).toMatch(/^HTTP\/1\.1 413 /);
    expect(got).toContain("request body exceeds the gate's limit of 65536 bytes");
    expect(results).toEqual([{ code: -1, ended: 'body_too_large' }]);
    expect(await groupGone(fake.pids)).toEqual([]);
  });

  it('a client that stops reading a large response is cut off after the stall limit, with the backend group', async () => {
    const fake = fakeGit('flood');
    const { port, results } = await serve(fake.path, { ...limits, writeStallMs: 500 });
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    const closed = new Promise((r) => sock.on('close', r));
    await new Promise((r) => sock.on('connect', r));
    sock.write('POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
    sock.pause(); // never read the response
    const deadline = Date.now() + 20_000;
    while (results.length === 0 && Date.now() < deadline) await sleep(50);
    sock.destroy();
    await closed;
    expect(results).toEqual([{ code: -1, ended: 'write_stall' }]);
    expect(await groupGone(fake.pids)).toEqual([]);
  });

  it('the whole-request cap ends a request whose backend never finishes', async () => {
    const fake = fakeGit('hang');
    const { port, results } = await serve(fake.path, { ...limits, totalMs: 500 });
    const reply = await new Promise<number>((resolve) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/x', headers: { 'content-length': '0' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      req.end();
    });
    expect(reply).toBe(504);
    expect(results).toEqual([{ code: -1, ended: 'timeout' }]);
    expect(await groupGone(fake.pids)).toEqual([]);
  });
});
