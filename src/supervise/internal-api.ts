/**
 * The internal API for egress and the git gate (docs/architecture.md §7a): HTTP over a Unix
 * socket, 0600, never TCP. `POST /v1/proposals` files a sidecar proposal (201 {id}; an identical
 * pending one returns its id), `GET /v1/proposals/<id>/decision?wait=<s>` long-polls its outcome.
 * The client is src/supervise/internal-client.ts.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import http from 'node:http';
import { dirname } from 'node:path';
import type { Broker, Outcome } from './broker.js';
import { parseInternalProposal } from './proposal-kinds.js';

const MAX_BODY = 256 * 1024;
/** Longest single long-poll; the client asks again. */
export const MAX_WAIT_SECONDS = 60;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const data = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

/** The decision as the sidecars read it: modified never happens for their kinds; withdrawn cannot. */
export function decisionBody(o: Outcome | 'pending'): { status: string; notes: string; reason: string | null } {
  if (o === 'pending') return { status: 'pending', notes: '', reason: null };
  const status = o.state === 'modified' ? 'approved' : o.state === 'withdrawn' ? 'expired' : o.state;
  return { status, notes: o.notes, reason: o.reason };
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

async function handle(broker: Broker, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://supervise');
  if (url.pathname === '/v1/proposals') {
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    const text = await readBody(req);
    if (text === null) return send(res, 413, { error: `body exceeds ${MAX_BODY} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    const p = parseInternalProposal(body);
    if (!p.ok) return send(res, 400, { error: p.message });
    const filed = await broker.file({ ...p.value, justification: null });
    if (!filed.ok) return send(res, 503, { error: filed.message });
    return send(res, 201, { id: filed.id });
  }
  // Ids are ULIDs; nothing to percent-decode, and a malformed escape is then just an unknown id.
  const m = /^\/v1\/proposals\/([^/]+)\/decision$/.exec(url.pathname);
  if (m) {
    if (req.method !== 'GET') return send(res, 405, { error: 'use GET' });
    const wait = Number(url.searchParams.get('wait') ?? '0');
    if (!Number.isFinite(wait) || wait < 0) return send(res, 400, { error: 'wait must be a number of seconds' });
    const o = await broker.waitFor(m[1]!, Math.min(wait, MAX_WAIT_SECONDS) * 1000);
    if (o === null) return send(res, 404, { error: 'unknown proposal' });
    return send(res, 200, decisionBody(o));
  }
  return send(res, 404, { error: 'not found' });
}

/** Listens on `socketPath` (0600; its directory made 0700 if missing). A stale socket is replaced. */
export async function startInternalApi(broker: Broker, socketPath: string, log: (line: string) => void): Promise<http.Server> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  const old = await lstat(socketPath).catch(() => null);
  if (old?.isSocket()) await unlink(socketPath);
  else if (old) throw new Error(`${socketPath} exists and is not a socket`);
  const server = http.createServer((req, res) => {
    handle(broker, req, res).catch((err: unknown) => {
      log(`internal API error: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // No window in which the socket exists with the default umask's mode.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
  await chmod(socketPath, 0o600);
  return server;
}
