/**
 * What the corpus needs beyond test/egress/harness.ts (which other suites own): a raw HTTP/1.1
 * client through CONNECT + TLS that sends exactly the bytes a case describes (duplicate headers,
 * odd targets, chunked bodies with trailers), a raw WebSocket client, a recording stand-in that
 * also serves per-case responses and plays a lenient, path-DECODING git server, and a recording
 * WebSocket stand-in (RSV1 payloads inflated the way a server that assumed compression would).
 */
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { upstream, upstreamCa } from '../harness.js';
import type { RecordedRequest, TlsUpstream } from '../../helpers/tls-upstream.js';
import { GIT, GIT_USERPASS } from './hosts.js';
import type { BodySpec, ResponseSpec } from './types.js';

export const TAG_HEADER = 'x-corpus-case';

export function bodyBytes(b: BodySpec | undefined, subst: (s: string) => string = (s) => s): Buffer {
  if (b === undefined) return Buffer.alloc(0);
  return typeof b === 'string' ? Buffer.from(subst(b), 'utf8') : Buffer.from(b.base64, 'base64');
}

// ---------- raw HTTP/1.1 response reading ----------

export interface HttpAnswer {
  /** null when no status line arrived. */
  status: number | null;
  headers: Array<[string, string]>;
  body: Buffer;
  /** `response`: complete; `closed`: the peer closed/reset before a complete answer; `timeout`. */
  outcome: 'response' | 'closed' | 'timeout';
  error?: string;
}

export function header(a: { headers: Array<[string, string]> }, name: string): string | undefined {
  return a.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function parseHead(buf: Buffer): { status: number; headers: Array<[string, string]>; bodyStart: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Array<[string, string]> = [];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  return { status, headers, bodyStart: end + 4 };
}

/** Decodes a chunked body; `done` once the last chunk and trailers arrived. */
function dechunk(b: Buffer): { done: boolean; body: Buffer } {
  const parts: Buffer[] = [];
  let p = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', p);
    if (eol < 0) return { done: false, body: Buffer.concat(parts) };
    const size = parseInt(b.subarray(p, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (Number.isNaN(size)) return { done: true, body: Buffer.concat(parts) };
    if (size === 0) {
      // "0\r\n" then optional trailers, then an empty line.
      return { done: b.indexOf('\r\n\r\n', eol) >= 0, body: Buffer.concat(parts) };
    }
    if (b.length < eol + 2 + size + 2) {
      parts.push(b.subarray(eol + 2, Math.min(b.length, eol + 2 + size)));
      return { done: false, body: Buffer.concat(parts) };
    }
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    p = eol + 2 + size + 2;
  }
}

/**
 * Reads one HTTP/1.1 answer from `sock`. `stopAtHead(status)` true: return as soon as the head is
 * in (CONNECT 200, WebSocket 101), leaving the socket paused with nothing consumed past the head.
 */
export function readAnswer(sock: Duplex, opts: { noBody?: boolean; timeoutMs: number; stopAtHead?: (status: number) => boolean }): Promise<HttpAnswer & { rest: Buffer }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (a: HttpAnswer & { rest: Buffer }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.pause();
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
      resolve(a);
    };
    const partial = (outcome: 'closed' | 'timeout', error?: string) => {
      const h = parseHead(buf);
      if (!h) return finish({ status: null, headers: [], body: Buffer.alloc(0), outcome, rest: Buffer.alloc(0), ...(error ? { error } : {}) });
      const raw = buf.subarray(h.bodyStart);
      const te = h.headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1];
      const cl = h.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1];
      const body = te && /chunked/i.test(te) ? dechunk(raw).body : raw;
      // A close-delimited body that ended with the connection is complete.
      const complete = outcome === 'closed' && !error && !te && cl === undefined;
      finish({ status: h.status, headers: h.headers, body, outcome: complete ? 'response' : outcome, rest: Buffer.alloc(0), ...(error ? { error } : {}) });
    };
    const tryComplete = () => {
      const h = parseHead(buf);
      if (!h) return;
      if (opts.stopAtHead?.(h.status)) return finish({ status: h.status, headers: h.headers, body: Buffer.alloc(0), outcome: 'response', rest: buf.subarray(h.bodyStart) });
      const raw = buf.subarray(h.bodyStart);
      if (opts.noBody || h.status === 204 || h.status === 304 || (h.status >= 100 && h.status < 200)) return finish({ status: h.status, headers: h.headers, body: Buffer.alloc(0), outcome: 'response', rest: raw });
      const te = h.headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1];
      if (te && /chunked/i.test(te)) {
        const d = dechunk(raw);
        if (d.done) finish({ status: h.status, headers: h.headers, body: d.body, outcome: 'response', rest: Buffer.alloc(0) });
        return;
      }
      const cl = h.headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1];
      if (cl !== undefined && raw.length >= Number(cl)) finish({ status: h.status, headers: h.headers, body: raw.subarray(0, Number(cl)), outcome: 'response', rest: raw.subarray(Number(cl)) });
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      tryComplete();
    };
    const onEnd = () => partial('closed');
    const onError = (e: Error) => partial('closed', (e as { code?: string }).code ?? e.message);
    const timer = setTimeout(() => partial('timeout'), opts.timeoutMs);
    sock.on('data', onData);
    sock.on('end', onEnd);
    sock.on('close', onEnd);
    sock.on('error', onError);
    sock.resume();
  });
}

// ---------- proxy connections ----------

export interface ProxyTarget {
  proxyPort: number;
  caPem: string;
}

export interface TunnelResult {
  connect: HttpAnswer;
  /** The TLS socket when CONNECT answered 200 and the handshake completed. */
  socket: tls.TLSSocket | null;
  raw: net.Socket;
  handshakeError?: string;
}

/** CONNECT authority, then TLS to the proxy's leaf (identity not checked: the client is the attacker). */
export async function openTunnel(p: ProxyTarget, host: string, port: number, timeoutMs: number): Promise<TunnelResult> {
  const raw = net.connect(p.proxyPort, '127.0.0.1');
  raw.on('error', () => {});
  await new Promise<void>((resolve) => {
    raw.once('connect', () => resolve());
    raw.once('error', () => resolve());
  });
  raw.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  const connect = await readAnswer(raw, { timeoutMs, stopAtHead: (s) => s === 200 });
  if (connect.status !== 200) {
    raw.destroy();
    return { connect, socket: null, raw };
  }
  const sock = tls.connect({ socket: raw, ca: p.caPem, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined } as tls.ConnectionOptions);
  const ok = await new Promise<string | null>((resolve) => {
    const t = setTimeout(() => resolve('tls handshake timeout'), timeoutMs);
    sock.once('secureConnect', () => (clearTimeout(t), resolve(null)));
    sock.once('error', (e: Error) => (clearTimeout(t), resolve((e as { code?: string }).code ?? e.message)));
  });
  if (ok !== null) {
    sock.destroy();
    raw.destroy();
    return { connect, socket: null, raw, handshakeError: ok };
  }
  sock.on('error', () => {});
  return { connect, socket: sock, raw };
}

/** A plain connection to the proxy (absolute-form requests). */
export async function openPlain(p: ProxyTarget): Promise<net.Socket> {
  const s = net.connect(p.proxyPort, '127.0.0.1');
  s.on('error', () => {});
  await new Promise<void>((resolve) => {
    s.once('connect', () => resolve());
    s.once('error', () => resolve());
  });
  return s;
}

// ---------- WebSocket client side ----------

export function wsFrame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv1?: boolean; maskKey?: Buffer } = {}): Buffer {
  const fin = o.fin ?? true;
  const b0 = (fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | opcode;
  const len = payload.length;
  const lenBytes = len < 126 ? Buffer.from([0x80 | len]) : len < 65536 ? Buffer.from([0x80 | 126, len >> 8, len & 0xff]) : (() => {
    const b = Buffer.alloc(9);
    b[0] = 0x80 | 127;
    b.writeBigUInt64BE(BigInt(len), 1);
    return b;
  })();
  const mask = o.maskKey ?? createHash('sha256').update(payload).digest().subarray(0, 4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i & 3]!;
  return Buffer.concat([Buffer.from([b0]), lenBytes, mask, masked]);
}

export interface ParsedFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** Parses complete frames from `buf` (masked or not); returns them and the unconsumed rest. */
export function parseFrames(buf: Buffer, maxLen = 8 * 1024 * 1024): { frames: ParsedFrame[]; rest: Buffer; bad: boolean } {
  const frames: ParsedFrame[] = [];
  let p = 0;
  for (;;) {
    if (buf.length - p < 2) break;
    const b0 = buf[p]!;
    const b1 = buf[p + 1]!;
    let len = b1 & 0x7f;
    let q = p + 2;
    if (len === 126) {
      if (buf.length - q < 2) break;
      len = buf.readUInt16BE(q);
      q += 2;
    } else if (len === 127) {
      if (buf.length - q < 8) break;
      const big = buf.readBigUInt64BE(q);
      if (big > BigInt(maxLen)) return { frames, rest: buf.subarray(p), bad: true };
      len = Number(big);
      q += 8;
    }
    let mask: Buffer | null = null;
    if (b1 & 0x80) {
      if (buf.length - q < 4) break;
      mask = buf.subarray(q, q + 4);
      q += 4;
    }
    if (buf.length - q < len) break;
    const payload = Buffer.from(buf.subarray(q, q + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload });
    p = q + len;
  }
  return { frames, rest: buf.subarray(p), bad: false };
}

// ---------- stand-ins ----------

export interface SeenRequest {
  tag: string | null;
  host: string;
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
  /** url + raw headers + body as latin-1 text, for marker searches. */
  text: string;
}

export interface GitEvent {
  tag: string | null;
  kind: 'receive-pack' | 'receive-advertisement' | 'upload-pack' | 'upload-advertisement' | 'other';
  normalizedPath: string;
}

export interface CorpusUpstream {
  tls: TlsUpstream;
  port: number;
  seen: SeenRequest[];
  git: GitEvent[];
  close(): Promise<void>;
}

/** Percent-decodes to a fixed point, drops `;params`, folds `\`, removes dot segments and empty segments — what lenient servers do. */
export function lenientPath(rawPath: string): string {
  let p = rawPath;
  for (let i = 0; i < 8; i++) {
    let d: string;
    try {
      d = decodeURIComponent(p);
    } catch {
      break;
    }
    if (d === p) break;
    p = d;
  }
  p = p.replace(/\\/g, '/');
  const out: string[] = [];
  for (const segRaw of p.split('/')) {
    const seg = segRaw.split(';')[0]!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}`;
}

const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, '0') + line;

function gitAnswer(rec: RecordedRequest, res: ServerResponse, tag: string | null, events: GitEvent[]): void {
  if (rec.headers.authorization !== `Basic ${Buffer.from(GIT_USERPASS).toString('base64')}`) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
    return void res.end('auth required\n');
  }
  const q = rec.url.indexOf('?');
  const path = lenientPath(q < 0 ? rec.url : rec.url.slice(0, q));
  const query = q < 0 ? '' : rec.url.slice(q + 1);
  // git http-backend reads the LAST service parameter.
  let service = '';
  for (const part of query.split('&')) {
    const [k, v = ''] = part.split('=');
    if (k === 'service') {
      try {
        service = decodeURIComponent(v);
      } catch {
        service = v;
      }
    }
  }
  const sha = createHash('sha1').update('main').digest('hex');
  const send = (kind: GitEvent['kind'], type: string, body: string) => {
    events.push({ tag, kind, normalizedPath: path });
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    res.end(body);
  };
  if (rec.method === 'GET' && path.endsWith('/info/refs')) {
    if (service === 'git-receive-pack') return send('receive-advertisement', 'application/x-git-receive-pack-advertisement', `${pkt('# service=git-receive-pack\n')}0000${pkt(`${sha} refs/heads/main\u0000report-status delete-refs ofs-delta\n`)}0000`);
    return send('upload-advertisement', 'application/x-git-upload-pack-advertisement', `${pkt('# service=git-upload-pack\n')}0000${pkt('version 2\n')}${pkt('ls-refs\n')}${pkt('fetch=shallow\n')}0000`);
  }
  if (rec.method === 'POST' && path.endsWith('/git-receive-pack')) return send('receive-pack', 'application/x-git-receive-pack-result', `${pkt('unpack ok\n')}${pkt('ok refs/heads/main\n')}0000`);
  if (rec.method === 'POST' && path.endsWith('/git-upload-pack')) return send('upload-pack', 'application/x-git-upload-pack-result', `${pkt(`${sha} HEAD symref-target:refs/heads/main\n`)}${pkt(`${sha} refs/heads/main\n`)}0000`);
  if (rec.method === 'GET' && path.endsWith('/HEAD')) return send('other', 'text/plain', 'ref: refs/heads/main\n');
  events.push({ tag, kind: 'other', normalizedPath: path });
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
}

/**
 * The HTTPS stand-in (test/helpers/tls-upstream.ts) for every corpus host but the WebSocket one:
 * records each request with its raw headers, answers git-route requests like a path-decoding git
 * server, serves a case's `response` when the request carries that case's tag, else 200 JSON.
 */
export async function startCorpusUpstream(names: string[], responses: ReadonlyMap<string, ResponseSpec>): Promise<CorpusUpstream> {
  const seen: SeenRequest[] = [];
  const git: GitEvent[] = [];
  const handler = (rec: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => {
    const tagValue = rec.headers[TAG_HEADER];
    const tag = typeof tagValue === 'string' ? tagValue : Array.isArray(tagValue) ? tagValue[0]! : null;
    const host = String(raw.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const text = `${rec.method} ${rec.url}\n${raw.rawHeaders.join('\n')}\n${rec.body.toString('latin1')}`;
    seen.push({ tag, host, method: rec.method, url: rec.url, rawHeaders: [...raw.rawHeaders], body: rec.body, text });
    if (host === GIT) return gitAnswer(rec, res, tag, git);
    const spec = tag ? responses.get(tag.replace(/#\d+$/, '')) : undefined;
    if (spec) {
      res.writeHead(spec.status, Object.fromEntries(spec.headers.map(([k, v]) => [k, v])));
      return void res.end(rec.method === 'HEAD' ? undefined : bodyBytes(spec.body));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, method: rec.method, len: rec.body.length }));
  };
  const t = await upstream(handler, names);
  return { tls: t, port: t.port, seen, git, close: () => t.close() };
}

export interface WsSession {
  tag: string | null;
  headers: IncomingMessage['headers'];
  frames: Array<ParsedFrame & { inflated: Buffer | null }>;
  malformed: boolean;
}

export interface WsUpstream {
  port: number;
  sessions: WsSession[];
  close(): Promise<void>;
}

/** A recording WebSocket echo server on loopback TLS; inflates RSV1 payloads (a server that assumed permessage-deflate). */
export async function startWsUpstream(names: string[]): Promise<WsUpstream> {
  const leaf = await (await upstreamCa()).issue(names);
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required\n');
  });
  const sessions: WsSession[] = [];
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const tagValue = req.headers[TAG_HEADER];
    const session: WsSession = { tag: typeof tagValue === 'string' ? tagValue : null, headers: req.headers, frames: [], malformed: false };
    sessions.push(session);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const { frames, rest, bad } = parseFrames(buf);
      buf = Buffer.from(rest);
      if (bad) {
        session.malformed = true;
        socket.destroy();
        return;
      }
      for (const f of frames) {
        let inflated: Buffer | null = null;
        if (f.rsv1) {
          try {
            inflated = inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]));
          } catch {
            inflated = null;
          }
        }
        session.frames.push({ ...f, inflated });
        if (f.opcode === 8) {
          socket.end(Buffer.concat([Buffer.from([0x88, Math.min(2, f.payload.length)]), f.payload.subarray(0, 2)]));
          return;
        }
        if (f.opcode === 1 || f.opcode === 2 || f.opcode === 0) {
          const len = f.payload.length;
          const head = len < 126 ? Buffer.from([(f.fin ? 0x80 : 0) | f.opcode, len]) : Buffer.from([(f.fin ? 0x80 : 0) | f.opcode, 126, len >> 8, len & 0xff]);
          if (len < 65536) socket.write(Buffer.concat([head, f.payload]));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Response bytes as the agent would read them (gzip undone when declared). */
export function readableBody(a: HttpAnswer): Buffer {
  const ce = header(a, 'content-encoding');
  if (ce && /gzip/i.test(ce)) {
    try {
      return gunzipSync(a.body);
    } catch {
      return a.body;
    }
  }
  return a.body;
}
