/**
 * Raw-socket clients and a recording WebSocket upstream for the hostile-input tests
 * (docs/decisions/egress-bounded-resources.md): requests cut mid-body, frames built by hand,
 * tunnels left half-open — things no well-behaved client library will send.
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { A, upstreamCa } from './harness.js';

/** Everything a socket yields until it closes (or `ms` passes). */
export function collect(s: net.Socket | tls.TLSSocket, ms = 5000): Promise<{ text: string; closed: boolean; raw: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      resolve({ text: raw.toString('latin1'), closed, raw });
    };
    const timer = setTimeout(() => done(false), ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => done(true));
    s.on('error', () => {});
  });
}

/** Resolves with the first `\r\n\r\n`-terminated head the socket yields (the rest stays unread). */
export function readHead(s: net.Socket | tls.TLSSocket, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no response head: ${buf.toString('latin1')}`)), ms);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      s.off('data', onData);
      const rest = buf.subarray(end + 4);
      if (rest.length) s.unshift(rest);
      resolve(buf.subarray(0, end).toString('latin1'));
    };
    s.on('data', onData);
    s.on('error', () => {});
  });
}

export function tcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** CONNECT then TLS with the bottle CA: a socket to send inner requests on. */
export async function tunnel(port: number, authority: string, caPem: string): Promise<tls.TLSSocket> {
  const s = await tcp(port);
  s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const head = await readHead(s);
  if (!head.startsWith('HTTP/1.1 200')) throw new Error(`CONNECT refused: ${head}`);
  const host = authority.replace(/:\d+$/, '');
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket: s, ca: caPem, servername: host, ALPNProtocols: ['http/1.1'] }, () => resolve(t));
    t.on('error', reject);
  });
}

/** Writes all of `data` honouring backpressure (the test process must not buffer what egress refuses). */
export async function writeAll(s: net.Socket | tls.TLSSocket, data: Buffer, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    if (s.destroyed) return;
    if (!s.write(data)) {
      await new Promise<void>((r) => {
        const done = () => {
          s.off('drain', done);
          s.off('close', done);
          r();
        };
        s.on('drain', done);
        s.on('close', done);
      });
    }
  }
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Full garbage collections (for coarse memory checks): V8's own gc exposed for this process. Large
 * Buffer backing stores are released by finalisers after a collection, hence a few rounds apart.
 */
export async function collectGarbage(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A masked client frame (RFC 6455 §5.2) with explicit control over every header bit. */
export function clientFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; rsv?: number; declared?: bigint } = {}): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const b0 = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode;
  const len = opts.declared ?? BigInt(body.length);
  let head: Buffer;
  if (len < 126n) head = Buffer.from([b0, 0x80 | Number(len)]);
  else if (len < 65536n) head = Buffer.from([b0, 0x80 | 126, Number(len >> 8n), Number(len & 0xffn)]);
  else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(len, 2);
  }
  const masked = Buffer.from(body);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, masked]);
}

/** Parses server→client frames (unmasked) out of raw bytes. */
export function serverFrames(raw: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const out: Array<{ opcode: number; payload: Buffer }> = [];
  let p = 0;
  while (raw.length - p >= 2) {
    const opcode = raw[p]! & 0x0f;
    let len = raw[p + 1]! & 0x7f;
    let h = 2;
    if (len === 126) {
      len = raw.readUInt16BE(p + 2);
      h = 4;
    } else if (len === 127) {
      len = Number(raw.readBigUInt64BE(p + 2));
      h = 10;
    }
    if (raw.length - p < h + len) break;
    out.push({ opcode, payload: raw.subarray(p + h, p + h + len) });
    p += h + len;
  }
  return out;
}

/** The close status of the first close frame in `raw`, or null. */
export function closeStatus(raw: Buffer): { code: number; reason: string } | null {
  const f = serverFrames(raw).find((x) => x.opcode === 8);
  if (!f || f.payload.length < 2) return null;
  return { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2).toString('utf8') };
}

export interface WsUpstream {
  port: number;
  /** Raw bytes each upgraded connection received after its 101 (masked frames as sent). */
  received: Buffer[];
  /** Upgrade request headers seen. */
  headers: Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

/** A TLS WebSocket upstream that accepts every upgrade, records what arrives and echoes nothing. */
export async function wsUpstream(): Promise<WsUpstream> {
  const leaf = await (await upstreamCa()).issue([A]);
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem });
  const received: Buffer[] = [];
  const headers: WsUpstream['headers'] = [];
  server.on('upgrade', (req, socket: net.Socket) => {
    headers.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const idx = received.length;
    received.push(Buffer.alloc(0));
    socket.on('data', (c: Buffer) => (received[idx] = Buffer.concat([received[idx]!, c])));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    headers,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** Upgrade request text for `path` on `host:port`. */
export function upgradeRequest(host: string, port: number, path = '/ws', extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
}

/** Opens a WebSocket through egress (CONNECT + TLS + upgrade); resolves after the 101. */
export async function wsThrough(port: number, caPem: string, host: string, upPort: number, extra = ''): Promise<tls.TLSSocket> {
  const t = await tunnel(port, `${host}:${upPort}`, caPem);
  t.write(upgradeRequest(host, upPort, '/ws', extra));
  const head = await readHead(t);
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head}`);
  return t;
}
