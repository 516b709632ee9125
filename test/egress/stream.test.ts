/**
 * Streaming through the proxy (docs/decisions/egress-websocket-and-streams.md): SSE chunk-by-chunk
 * (E49) and WebSocket upgrade + frame scanning (E50), against real loopback TLS upstreams.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import https from 'node:https';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { ProxyAgent, request, WebSocket } from 'undici';
import { A, CANARY, SECRET0, startInProc, upstream, upstreamCa, type InProc } from './harness.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';

const closers: Array<() => Promise<void>> = [];
let e: InProc;
let sse: TlsUpstream;
const writes: number[] = [];
let ws: https.Server;
let wsPort: number;
const wsHeaders: IncomingHttpHeaders[] = [];
const wsReceived: string[] = [];

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

beforeAll(async () => {
  sse = await upstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let n = 0;
    const tick = () => {
      writes.push(performance.now());
      res.write(`data: event ${n}\n\n`);
      n += 1;
      if (n < 5) setTimeout(tick, 200);
      else res.end();
    };
    tick();
  });
  closers.push(sse.close);
  const leaf = await (await upstreamCa()).issue([A]);
  ws = https.createServer({ cert: leaf.certPem, key: leaf.keyPem });
  ws.on('upgrade', (req, socket: Socket) => {
    wsHeaders.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2) {
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let p = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          p = 4;
        }
        if (buf.length < p + 4 + len) return;
        const mask = buf.subarray(p, p + 4);
        const payload = Buffer.from(buf.subarray(p + 4, p + 4 + len));
        for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
        buf = buf.subarray(p + 4 + len);
        if (opcode === 8) return void socket.end(frame(8, payload.subarray(0, 2)));
        wsReceived.push(payload.toString());
        socket.write(frame(opcode, payload));
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', r));
  wsPort = (ws.address() as AddressInfo).port;
  closers.push(() => new Promise<void>((r) => (ws.closeAllConnections(), ws.close(() => r()))));
  e = await startInProc(`  - {host: ${A}, port: ${sse.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n  - {host: ${A}, port: ${wsPort}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n`, { log: 2 });
  closers.push(e.close);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c();
  const all = e.logs.join('') + JSON.stringify(e.audit);
  expect(all).not.toContain(SECRET0);
  expect(all).not.toContain(CANARY);
  expect(wsReceived.join('')).not.toContain(CANARY);
});

describe('streaming', () => {
  it('E49 SSE: 5 events 200 ms apart each reach the client < 50 ms after the upstream wrote it', async () => {
    const dispatcher = new ProxyAgent({ uri: e.proxy, requestTls: { ca: e.caPem } });
    const arrivals: Array<{ t: number; text: string }> = [];
    try {
      // Warm-up pass (tunnel, leaf, JIT), then the measured one.
      const w = await request(`https://${A}:${sse.port}/events`, { dispatcher });
      await w.body.text();
      writes.length = 0;
      const r = await request(`https://${A}:${sse.port}/events`, { dispatcher });
      expect(r.headers['content-type']).toBe('text/event-stream');
      for await (const chunk of r.body) arrivals.push({ t: performance.now(), text: (chunk as Buffer).toString() });
    } finally {
      await dispatcher.close();
    }
    const text = arrivals.map((a) => a.text).join('');
    for (let i = 0; i < 5; i++) expect(text).toContain(`data: event ${i}`);
    for (let i = 0; i < 5; i++) {
      const a = arrivals.find((x) => x.text.includes(`event ${i}`))!;
      expect(a.t - writes[i]!, `event ${i}`).toBeLessThan(50);
    }
  });

  it('E50 WebSocket echo through the tunnel, extensions stripped; a frame with the canary closes with 1008', async () => {
    const dispatcher = new ProxyAgent({ uri: e.proxy, requestTls: { ca: e.caPem } });
    try {
      const sock = new WebSocket(`wss://${A}:${wsPort}/chat`, { dispatcher } as never);
      const messages: string[] = [];
      const closed = new Promise<{ code: number }>((resolve) => sock.addEventListener('close', (ev) => resolve({ code: (ev as unknown as { code: number }).code })));
      await new Promise<void>((resolve, reject) => {
        sock.addEventListener('open', () => resolve());
        sock.addEventListener('error', () => reject(new Error('ws error')));
      });
      const echoed = new Promise<void>((resolve) =>
        sock.addEventListener('message', (ev) => {
          messages.push(String((ev as unknown as { data: unknown }).data));
          resolve();
        }),
      );
      sock.send('hello through egress');
      await echoed;
      expect(messages).toEqual(['hello through egress']);
      expect(wsHeaders[0]!['sec-websocket-extensions']).toBeUndefined();
      expect(wsHeaders[0]!.authorization).toBe(`Bearer ${SECRET0}`);
      sock.send(`leak ${CANARY}`);
      const c = await closed;
      expect(c.code).toBe(1008);
      expect(wsReceived).toEqual(['hello through egress']);
    } finally {
      await dispatcher.close();
    }
  });
});
