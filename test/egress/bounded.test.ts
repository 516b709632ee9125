/**
 * Bounded under hostile input (docs/decisions/egress-bounded-resources.md), through the real
 * proxy with raw sockets: body timeouts, the per-bottle buffer budget (accounting and a coarse
 * memory check), WebSocket frame caps, protocol refusals and control-frame / cross-frame scanning,
 * and explicit framing of streamed bodies.
 */
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { A, CANARY, SECRET0, startInProc, upstream, viaUndici, type InProc } from './harness.js';
import { clientFrame, closeStatus, collect, collectGarbage, pause, readHead, tcp, tunnel, writeAll, wsThrough, wsUpstream, type WsUpstream } from './hostile-helpers.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';

const MiB = 1024 * 1024;
const closers: Array<() => Promise<void>> = [];
let up: TlsUpstream;
let ws: WsUpstream;
let plainUp: http.Server;
let plainPort: number;
const plainSeen: Array<{ method: string; url: string; body: string }> = [];

beforeAll(async () => {
  up = await upstream();
  closers.push(up.close);
  ws = await wsUpstream();
  closers.push(ws.close);
  // A plain-HTTP upstream that records every request its parser sees (a smuggled second request
  // shows up here as its own entry).
  plainUp = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      plainSeen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('latin1') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => plainUp.listen(0, '127.0.0.1', r));
  plainPort = (plainUp.address() as AddressInfo).port;
  closers.push(() => new Promise<void>((r) => (plainUp.closeAllConnections(), plainUp.close(() => r()))));
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

const aRoute = (port: number, extra = '') => `  - {host: ${A}, port: ${port}, allow_private_cidrs: [127.0.0.0/8]${extra}}\n`;

async function proxy(routes: string, over: Parameters<typeof startInProc>[1] = {}): Promise<InProc> {
  const e = await startInProc(routes, { log: 1, ...over });
  closers.push(async () => {
    await e.close();
    const all = e.logs.join('') + JSON.stringify(e.audit);
    expect(all).not.toContain(SECRET0);
    expect(all).not.toContain(CANARY);
  });
  return e;
}

describe('request bodies', () => {
  it('a body that stalls is answered 408 body_timeout and the connection closes (buffered for DLP and streamed)', async () => {
    const e = await proxy(aRoute(up.port) + `  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8], dlp: {outbound_detectors: false, inbound_detectors: false, outbound_on_match: block}}\n`, {
      timeouts: { bodyIdle: 400 },
      canary: undefined,
    });
    const before = up.requests.length;
    const t = await tunnel(e.port, `${A}:${up.port}`, e.caPem);
    const t0 = Date.now();
    t.write(`POST /v1/x HTTP/1.1\r\nHost: ${A}:${up.port}\r\nContent-Length: 100\r\n\r\n0123456789`);
    const r = await collect(t, 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toContain('x-bot-bottle-deny: body_timeout');
    expect(r.text).toContain('egress: denied (body_timeout)');
    expect(r.closed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(up.requests.length).toBe(before);
    // No DLP on this route: the body streams to the upstream, and the stall still ends it.
    const s = await tcp(e.port);
    s.write(`POST http://plain.test:${plainPort}/v1/y HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nContent-Length: 100\r\n\r\n0123456789`);
    const r2 = await collect(s, 5000);
    expect(r2.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r2.closed).toBe(true);
    expect(e.audit.filter((a) => a.reason === 'body_timeout')).toHaveLength(2);
    expect(e.egress.budget.inUse).toBe(0);
  });

  it('a client that goes away mid-body is audited as client_aborted and gives its budget back', async () => {
    const e = await proxy(aRoute(up.port));
    const t = await tunnel(e.port, `${A}:${up.port}`, e.caPem);
    t.write(`POST /v1/x HTTP/1.1\r\nHost: ${A}:${up.port}\r\nContent-Length: 1000000\r\n\r\n`);
    await writeAll(t, Buffer.alloc(64 * 1024, 0x61));
    await pause(100);
    expect(e.egress.budget.inUse).toBe(1000000);
    t.destroy();
    await pause(200);
    expect(e.egress.budget.inUse).toBe(0);
    expect(e.audit.some((a) => a.reason === 'client_aborted' && a.path === '/v1/x')).toBe(true);
  });
});

describe('idle bounds inside tunnels', () => {
  it('an intercepted tunnel that never sends a request, or sends headers slowly, is closed at the headers timeout', async () => {
    const e = await proxy(aRoute(up.port), { timeouts: { headers: 800 } });
    const t0 = Date.now();
    const quiet = await tunnel(e.port, `${A}:${up.port}`, e.caPem);
    const slow = await tunnel(e.port, `${A}:${up.port}`, e.caPem);
    slow.write(`GET /v1/x HTTP/1.1\r\nHost: ${A}:${up.port}\r\n`);
    const [a, b] = await Promise.all([collect(quiet, 6000), collect(slow, 6000)]);
    expect([a.closed, b.closed]).toEqual([true, true]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('per-bottle buffer budget', () => {
  it('16 stalled 30 MiB uploads: two fit the 64 MiB budget, the rest are answered 413 at once; memory stays under the cap and is released', async () => {
    const e = await proxy(aRoute(up.port), { timeouts: { bodyIdle: 60_000 } });
    const cap = e.egress.budget.cap;
    expect(cap).toBe(64 * MiB);
    await collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    const size = 30 * MiB;
    const head = `POST /v1/upload HTTP/1.1\r\nHost: ${A}:${up.port}\r\nContent-Length: ${size}\r\n\r\n`;
    const sockets = await Promise.all(Array.from({ length: 16 }, () => tunnel(e.port, `${A}:${up.port}`, e.caPem)));
    const answers: Array<Promise<string>> = [];
    for (const s of sockets) {
      s.write(head);
      answers.push(readHead(s, 3000).catch(() => 'none'));
    }
    const heads = await Promise.all(answers);
    const refused = heads.filter((h) => h.startsWith('HTTP/1.1 413') && h.includes('x-bot-bottle-deny: buffer_budget'));
    const waiting = sockets.filter((_, i) => heads[i] === 'none');
    expect(refused).toHaveLength(14);
    expect(waiting).toHaveLength(2);
    // The two accepted uploads send all but the last byte, then stall.
    const chunk = Buffer.alloc(MiB, 0x62);
    await Promise.all(waiting.map(async (s) => {
      await writeAll(s, chunk, 29);
      await writeAll(s, chunk.subarray(0, MiB - 1));
    }));
    await pause(300);
    expect(e.egress.budget.inUse).toBe(2 * size);
    expect(e.egress.budget.peak).toBeLessThanOrEqual(cap);
    // Coarse memory check (this process is the proxy): Buffers live outside the V8 heap, so
    // arrayBuffers after a full collection is what egress holds, within the cap plus slack for
    // sockets and the test's own 1 MiB chunk.
    await collectGarbage();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(cap + 16 * MiB);
    for (const s of sockets) s.destroy();
    await pause(300);
    expect(e.egress.budget.inUse).toBe(0);
    await collectGarbage();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    expect(up.requests.filter((r) => r.url === '/v1/upload')).toHaveLength(0);
    // Released: the next upload of the same size fits again.
    const ok = await viaUndici(e.proxy, e.caPem, `https://${A}:${up.port}/v1/upload`, { method: 'POST', body: Buffer.alloc(size, 0x63) });
    expect(ok.status).toBe(200);
    expect(e.egress.budget.inUse).toBe(0);
  });

  it('chunked uploads take the budget as bytes arrive; the one that would exceed it is answered 413', async () => {
    const e = await proxy(aRoute(up.port), { bufferBudgetBytes: 6 * MiB, dlpMaxBodyBytes: 4 * MiB });
    const sockets = await Promise.all(Array.from({ length: 3 }, () => tunnel(e.port, `${A}:${up.port}`, e.caPem)));
    const chunk = Buffer.alloc(256 * 1024, 0x64);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const results = sockets.map((s) => collect(s, 4000));
    for (const s of sockets) s.write(`POST /v1/upload HTTP/1.1\r\nHost: ${A}:${up.port}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 12; i++) for (const s of sockets) await writeAll(s, frame);
    await pause(200);
    expect(e.egress.budget.peak).toBeLessThanOrEqual(6 * MiB);
    for (const s of sockets) s.destroy();
    const texts = (await Promise.all(results)).map((r) => r.text);
    expect(texts.filter((t) => t.startsWith('HTTP/1.1 413')).length).toBeGreaterThanOrEqual(1);
    await pause(100);
    expect(e.egress.budget.inUse).toBe(0);
  });
});

describe('explicit framing', () => {
  it('a DELETE with a chunked body streamed past the scan limit reaches the upstream chunked, never as a second request', async () => {
    const e = await proxy(`  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8]}\n`, { dlpMaxBodyBytes: 1024, dlpOversize: 'stream' });
    plainSeen.length = 0;
    const smuggled = `GET /admin/secret HTTP/1.1\r\nHost: plain.test\r\n\r\n`;
    const body = `${'a'.repeat(2000)}${smuggled}`;
    const s = await tcp(e.port);
    s.write(`DELETE http://plain.test:${plainPort}/v1/item HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    const r = await collect(s, 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    await pause(100);
    expect(plainSeen.map((x) => x.url)).toEqual(['/v1/item']);
    expect(plainSeen[0]!.body).toBe(body);
  });

  it('without outbound DLP, a chunked OPTIONS body is framed as well', async () => {
    const e = await proxy(`  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8], dlp: {outbound_detectors: false, inbound_detectors: false, outbound_on_match: block}}\n`, { canary: undefined });
    plainSeen.length = 0;
    const body = `x${'GET /admin HTTP/1.1\r\nHost: plain.test\r\n\r\n'}`;
    const s = await tcp(e.port);
    s.write(`OPTIONS http://plain.test:${plainPort}/v1/q HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    const r = await collect(s, 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    await pause(100);
    expect(plainSeen.map((x) => x.url)).toEqual(['/v1/q']);
    expect(plainSeen[0]!.body).toBe(body);
  });

  it('a GET with a body (how a second request rides inside the first) is refused 400; the upstream sees nothing', async () => {
    const e = await proxy(`  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8]}\n`, { dlpMaxBodyBytes: 1024, dlpOversize: 'stream' });
    plainSeen.length = 0;
    const body = `${'a'.repeat(2000)}GET /admin/secret HTTP/1.1\r\nHost: plain.test\r\n\r\n`;
    const s = await tcp(e.port);
    s.write(`GET http://plain.test:${plainPort}/v1/search HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    const r = await collect(s, 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 400/);
    expect(r.text).toContain('egress: denied (bad_request)');
    await pause(100);
    expect(plainSeen).toEqual([]);
    expect(e.audit.some((a) => a.reason === 'bad_request' && a.detail === 'body_not_allowed')).toBe(true);
  });
});

describe('WebSocket frames', () => {
  let e: InProc;
  beforeAll(async () => {
    e = await proxy(aRoute(ws.port) + aRoute(up.port), { wsMaxMessageBytes: 1 * MiB });
  });

  const received = () => Buffer.concat(ws.received).toString('latin1');

  it('a header declaring 2^40 bytes is refused with 1009 at once; the proxy keeps serving meanwhile', async () => {
    const n = ws.received.length;
    const t = await wsThrough(e.port, e.caPem, A, ws.port);
    const closed = collect(t, 5000);
    const t0 = Date.now();
    t.write(clientFrame(2, Buffer.alloc(0), { declared: 2n ** 40n }));
    // Data keeps coming as a hostile client would send it.
    for (let i = 0; i < 20 && !t.destroyed; i++) t.write(Buffer.alloc(64 * 1024, 0x41));
    const ok = await viaUndici(e.proxy, e.caPem, `https://${A}:${up.port}/v1/ping`);
    expect(ok.status).toBe(200);
    const r = await closed;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(closeStatus(r.raw)).toEqual({ code: 1009, reason: 'egress: denied (ws_frame_too_large)' });
    await pause(100);
    expect(ws.received.slice(n).every((b) => !b.includes(Buffer.alloc(1024, 0x41)))).toBe(true);
    expect(e.audit.some((a) => a.reason === 'ws_frame_too_large' && a.decision === 'deny')).toBe(true);
  });

  it('a message over the cap spread across continuation frames is refused with 1009', async () => {
    const t = await wsThrough(e.port, e.caPem, A, ws.port);
    const closed = collect(t, 5000);
    const part = Buffer.alloc(300 * 1024, 0x42);
    t.write(clientFrame(2, part, { fin: false }));
    t.write(clientFrame(0, part, { fin: false }));
    t.write(clientFrame(0, part, { fin: false }));
    t.write(clientFrame(0, part, { fin: false }));
    expect(closeStatus((await closed).raw)?.code).toBe(1009);
  });

  it('RSV1 without a negotiated extension is refused with 1002 and never forwarded; the upgrade went without extensions', async () => {
    const n = ws.received.length;
    const t = await wsThrough(e.port, e.caPem, A, ws.port, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n');
    expect(ws.headers.at(-1)!['sec-websocket-extensions']).toBeUndefined();
    const closed = collect(t, 5000);
    t.write(clientFrame(1, `compressed? ${SECRET0}`, { rsv: 4 }));
    expect(closeStatus((await closed).raw)?.code).toBe(1002);
    await pause(100);
    expect(received()).not.toContain('compressed');
    expect(ws.received.slice(n).join('')).not.toContain(SECRET0);
  });

  it('an unmasked client frame, a reserved opcode and a fragmented ping are protocol errors (1002)', async () => {
    for (const bad of [Buffer.from([0x81, 0x02, 0x68, 0x69]), clientFrame(3, 'x'), clientFrame(9, 'ping', { fin: false })]) {
      const t = await wsThrough(e.port, e.caPem, A, ws.port);
      const closed = collect(t, 5000);
      t.write(bad);
      expect(closeStatus((await closed).raw)?.code).toBe(1002);
    }
  });

  it('ping, pong and close payloads are scanned: the canary in any of them closes with 1008 before it is forwarded', async () => {
    for (const op of [9, 10, 8]) {
      const n = ws.received.length;
      const t = await wsThrough(e.port, e.caPem, A, ws.port);
      const closed = collect(t, 5000);
      const payload = op === 8 ? Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(CANARY)]) : Buffer.from(CANARY);
      t.write(clientFrame(op, payload));
      const st = closeStatus((await closed).raw);
      expect(st?.code, `opcode ${op}`).toBe(1008);
      expect(st?.reason).toBe('egress: denied (canary)');
      await pause(100);
      const got = Buffer.concat(ws.received.slice(n));
      // Forwarded frames are masked: look for the masked canary bytes too.
      expect(got.includes(clientFrame(op, payload).subarray(6))).toBe(false);
    }
    expect(e.audit.filter((a) => a.reason === 'canary').length).toBeGreaterThanOrEqual(3);
  });

  it('pieces of a secret spread over frames beyond the 4 KiB window are caught (as in an HTTP body)', async () => {
    const n = ws.received.length;
    const t = await wsThrough(e.port, e.caPem, A, ws.port);
    const closed = collect(t, 5000);
    const junk = 'j'.repeat(5000);
    const pieces = [SECRET0.slice(0, 13), SECRET0.slice(13, 26), SECRET0.slice(26)];
    for (const p of pieces) {
      t.write(clientFrame(1, `piece ${p} end`));
      t.write(clientFrame(1, junk));
      await pause(30);
    }
    const st = closeStatus((await closed).raw);
    expect(st?.code).toBe(1008);
    await pause(100);
    // The upstream saw at most the first pieces, never the whole secret.
    const text = Buffer.concat(ws.received.slice(n)).toString('latin1');
    expect(text).not.toContain(SECRET0);
  });

  it('a large message in many frames and reads passes intact (incremental scanning, no reassembly)', async () => {
    const n = ws.received.length;
    const t = await wsThrough(e.port, e.caPem, A, ws.port);
    const frames: Buffer[] = [];
    for (let i = 0; i < 8; i++) frames.push(clientFrame(i === 0 ? 1 : 0, 'abcdefgh'.repeat(8 * 1024), { fin: i === 7 }));
    const all = Buffer.concat(frames);
    for (let off = 0; off < all.length; off += 7001) t.write(all.subarray(off, off + 7001));
    // Wait for the bytes to arrive rather than a fixed pause (a loaded machine is slow, not wrong).
    await vi.waitFor(() => expect(Buffer.concat(ws.received.slice(n)).length).toBeGreaterThanOrEqual(all.length), { timeout: 15_000, interval: 50 });
    expect(Buffer.concat(ws.received.slice(n)).equals(all)).toBe(true);
    t.destroy();
  });
});
