/**
 * A stand-in for supervise's internal API on a Unix socket: records proposals
 * and answers decisions from a script. Only for gate tests; the real supervise daemon is elsewhere.
 */
import http from 'node:http';
import { rmSync } from 'node:fs';

export interface FakeSupervise {
  socket: string;
  proposals: Array<{ id: string; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export type Decide = (id: string, body: Record<string, unknown>) => { status: string; notes?: string; reason?: string } | 'pending';

export async function startFakeSupervise(socket: string, decide: Decide): Promise<FakeSupervise> {
  const proposals: FakeSupervise['proposals'] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/proposals') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const id = `p${++n}`;
        proposals.push({ id, body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id }));
        return;
      }
      const m = /^\/v1\/proposals\/([^/]+)\/decision\?wait=(\d+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && m) {
        const p = proposals.find((x) => x.id === m[1]);
        if (!p) {
          res.writeHead(404).end();
          return;
        }
        const d = decide(p.id, p.body);
        if (d === 'pending') {
          // Long-poll: hold for the requested wait (bounded), then answer pending.
          const t = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'pending', notes: '', reason: '' })), Math.min(Number(m[2]), 2) * 1000);
          res.on('close', () => clearTimeout(t));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ notes: '', reason: '', ...d }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    proposals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
