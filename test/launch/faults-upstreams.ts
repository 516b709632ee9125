/**
 * Loopback stand-in upstreams for the fault and hygiene tests, each counting the TCP connections it
 * accepts: a plain HTTP server answering 200, a dead upstream that accepts and closes at once, and
 * a TLS server whose certificate comes from a CA egress does not trust.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createTestCa } from '../helpers/test-ca.js';

export interface CountingServer {
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request lines (`GET /path`) and headers seen (HTTP server only). */
  requests: Array<{ line: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
}

function track(server: net.Server, sockets: Set<net.Socket>, count: () => void): void {
  server.on('connection', (s: net.Socket) => {
    count();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
}

export async function httpOk(body = 'ok\n'): Promise<CountingServer> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const requests: CountingServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ line: `${req.method} ${req.url}`, headers: req.headers });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body);
  });
  track(server, sockets, () => (n += 1));
  return { port: await listen(server), connections: () => n, requests, close: closer(server, sockets) };
}

/** Accepts every connection and closes it without a byte: a crashed or overloaded upstream. */
export async function acceptAndClose(): Promise<CountingServer> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => s.destroy());
  track(server, sockets, () => (n += 1));
  return { port: await listen(server), connections: () => n, requests: [], close: closer(server, sockets) };
}

/** TLS with a leaf from a fresh test CA that nothing trusts: every verifying client fails. */
export async function untrustedTls(): Promise<CountingServer> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const leaf = await (await createTestCa('bot-bottle untrusted test CA')).issue(['127.0.0.1', 'localhost']);
  const server = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
  server.on('tlsClientError', () => undefined);
  track(server, sockets, () => (n += 1));
  return { port: await listen(server), connections: () => n, requests: [], close: closer(server, sockets) };
}
