/**
 * A real HTTPS stand-in upstream on 127.0.0.1:0 that records every request it receives.
 * One helper for egress, git-gate and backend tests.
 */
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestCa, type TestCa } from './test-ca.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface TlsUpstream {
  url: string; // https://127.0.0.1:<port>
  port: number;
  ca: TestCa;
  requests: RecordedRequest[];
  /** Number of distinct TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void;

const defaultHandler: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, method: req.method, url: req.url }));
};

export async function startTlsUpstream(opts: { names?: string[]; ca?: TestCa; handler?: Handler } = {}): Promise<TlsUpstream> {
  const ca = opts.ca ?? (await createTestCa());
  const leaf = await ca.issue(opts.names ?? ['localhost', '127.0.0.1']);
  const requests: RecordedRequest[] = [];
  let conns = 0;
  const handler = opts.handler ?? defaultHandler;
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const rec: RecordedRequest = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      handler(rec, res, raw);
    });
  });
  server.on('secureConnection', () => {
    conns += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca,
    requests,
    connections: () => conns,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
