/**
 * No client action crashes the egress daemon (docs/decisions/egress-bounded-resources.md): one
 * attack per relay path against the real child process (src/egress/main.ts), each followed by a
 * check that the same process is still up, serves the next request and never needed its last-resort
 * error handler. Issue repro: `Content-Length: 10`, 3 bytes, close used to kill egress with an
 * unhandled rejection (`Error: aborted`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { A, CANARY, SECRET0, readAudit, routesYaml, startDaemon, upstream, viaUndici, type Daemon } from './harness.js';
import { clientFrame, collect, pause, readHead, tcp, tunnel, upgradeRequest, wsUpstream, type WsUpstream } from './hostile-helpers.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';
import { skipReason } from '../helpers/capabilities.js';

let up: TlsUpstream;
let plain: http.Server;
let plainPort: number;
let ws: WsUpstream;
let d: Daemon;
let caPem: string;

function answer(url: string, res: http.ServerResponse, socket: net.Socket): void {
  if (url.startsWith('/v1/reset')) {
    // Headers and part of the body, then a reset: the upstream dies mid-response.
    const type = url.includes('bin') ? 'application/octet-stream' : 'application/json';
    res.writeHead(200, { 'content-type': type, 'content-length': '100000' });
    res.write('{"partial":"');
    setTimeout(() => socket.destroy(), 50);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, url }));
}

beforeAll(async () => {
  up = await upstream((req, res, raw) => answer(req.url, res, raw.socket));
  plain = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req.url ?? '/', res, req.socket));
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as net.AddressInfo).port;
  ws = await wsUpstream();
  const routes = [
    `  - {host: ${A}, port: ${up.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}`,
    `  - {host: ${A}, port: ${ws.port}, allow_private_cidrs: [127.0.0.0/8]}`,
    `  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8]}`,
  ].join('\n');
  d = await startDaemon(routesYaml(`${routes}\n`, 1));
  caPem = await (await import('node:fs/promises')).readFile(d.caCertPath, 'utf8');
});

afterAll(async () => {
  await d?.stop('SIGKILL');
  const all = (d?.stderr() ?? '') + JSON.stringify(d ? await readAudit(d.auditPath) : []);
  expect(all).not.toContain(SECRET0);
  expect(all).not.toContain(CANARY);
  if (d) await rm(d.dir, { recursive: true, force: true });
  await up?.close();
  await ws?.close();
  plain?.closeAllConnections();
  await new Promise<void>((r) => (plain ? plain.close(() => r()) : r()));
});

/** The daemon is the same process, answers a real request, and no error reached its last resort. */
async function stillServing(): Promise<void> {
  await pause(150);
  expect(d.child.exitCode, `egress exited: ${d.stderr().slice(-2000)}`).toBeNull();
  expect(d.child.signalCode).toBeNull();
  const r = await viaUndici(d.proxy, caPem, `https://${A}:${up.port}/v1/after`);
  expect(r.status).toBe(200);
  expect(d.stderr()).not.toContain('egress_internal_error');
}

describe.skipIf(skipReason('curl'))('no client action crashes the daemon', () => {
  it('plain HTTP: Content-Length 10, 3 bytes sent, then close (the issue repro)', async () => {
    const s = await tcp(d.port);
    s.write(`POST http://plain.test:${plainPort}/v1/upload HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nContent-Length: 10\r\n\r\nabc`);
    await pause(100);
    s.destroy();
    await stillServing();
  });

  it('plain HTTP: a chunked upload cut mid-chunk, then a reset', async () => {
    const s = await tcp(d.port);
    s.write(`POST http://plain.test:${plainPort}/v1/upload HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc`);
    await pause(100);
    s.resetAndDestroy();
    await stillServing();
  });

  it('CONNECT-inner: Content-Length 10, 3 bytes, close; and a chunked upload cut mid-chunk', async () => {
    const t1 = await tunnel(d.port, `${A}:${up.port}`, caPem);
    t1.write(`POST /v1/upload HTTP/1.1\r\nHost: ${A}:${up.port}\r\nContent-Length: 10\r\n\r\nabc`);
    await pause(100);
    t1.destroy();
    const t2 = await tunnel(d.port, `${A}:${up.port}`, caPem);
    t2.write(`POST /v1/upload HTTP/1.1\r\nHost: ${A}:${up.port}\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc`);
    await pause(100);
    t2.destroy();
    await stillServing();
  });

  it('WebSocket: a frame cut mid-payload; an upgrade abandoned before the 101; garbage after the 101', async () => {
    const t1 = await tunnel(d.port, `${A}:${ws.port}`, caPem);
    t1.write(upgradeRequest(A, ws.port));
    expect(await readHead(t1)).toMatch(/^HTTP\/1\.1 101/);
    t1.write(clientFrame(1, 'x'.repeat(1000)).subarray(0, 40));
    await pause(100);
    t1.destroy();
    const t2 = await tunnel(d.port, `${A}:${ws.port}`, caPem);
    t2.write(upgradeRequest(A, ws.port));
    t2.destroy();
    const t3 = await tunnel(d.port, `${A}:${ws.port}`, caPem);
    t3.write(upgradeRequest(A, ws.port));
    expect(await readHead(t3)).toMatch(/^HTTP\/1\.1 101/);
    t3.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    await collect(t3, 2000);
    await stillServing();
  });

  it('TLS handshake abort: a partial ClientHello, then a reset; garbage instead of a ClientHello', async () => {
    const s1 = await tcp(d.port);
    s1.write(`CONNECT ${A}:${up.port} HTTP/1.1\r\nHost: ${A}:${up.port}\r\n\r\n`);
    expect(await readHead(s1)).toMatch(/^HTTP\/1\.1 200/);
    // A TLS 1.2 record header announcing a 512-byte handshake, then only a few bytes of it.
    s1.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    await pause(50);
    s1.resetAndDestroy();
    const s2 = await tcp(d.port);
    s2.write(`CONNECT ${A}:${up.port} HTTP/1.1\r\nHost: ${A}:${up.port}\r\n\r\n`);
    expect(await readHead(s2)).toMatch(/^HTTP\/1\.1 200/);
    s2.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await collect(s2, 2000);
    await stillServing();
  });

  it('upstream reset mid-response (inbound-scanned JSON and unscanned bytes), plain and in a tunnel', async () => {
    for (const path of ['/v1/reset', '/v1/reset-bin']) {
      const t = await tunnel(d.port, `${A}:${up.port}`, caPem);
      t.write(`GET ${path} HTTP/1.1\r\nHost: ${A}:${up.port}\r\n\r\n`);
      const r = await collect(t, 5000);
      expect(r.closed).toBe(true);
      const s = await tcp(d.port);
      s.write(`GET http://plain.test:${plainPort}${path} HTTP/1.1\r\nHost: plain.test:${plainPort}\r\n\r\n`);
      expect((await collect(s, 5000)).closed).toBe(true);
    }
    await stillServing();
    const audit = await readAudit(d.auditPath);
    expect(audit.some((a) => a.reason === 'upstream_aborted')).toBe(true);
  });

  it('a client that resets while egress streams a response to it', async () => {
    const s = new net.Socket();
    await new Promise<void>((r) => s.connect(d.port, '127.0.0.1', r));
    s.write(`GET http://plain.test:${plainPort}/v1/reset-bin HTTP/1.1\r\nHost: plain.test:${plainPort}\r\n\r\n`);
    await readHead(s);
    s.resetAndDestroy();
    await stillServing();
  });
});
