/**
 * A stand-in for the supervise internal API on a Unix socket: the real daemon
 * is another component; this fake records proposals and answers decisions as the test says.
 */
import http from 'node:http';
import { join } from 'node:path';

export interface FakeSupervise {
  socketPath: string;
  proposals: Array<Record<string, unknown>>;
  answer: { status: string } | 'pending';
  close(): Promise<void>;
}

export async function startFakeSupervise(dir: string, answer: FakeSupervise['answer']): Promise<FakeSupervise> {
  const socketPath = join(dir, `supervise-${Math.random().toString(36).slice(2)}.sock`);
  const fake: FakeSupervise = { socketPath, proposals: [], answer, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/proposals') {
        fake.proposals.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `p${fake.proposals.length}` }));
        return;
      }
      if (req.method === 'GET' && /^\/v1\/proposals\/[^/]+\/decision/.test(req.url ?? '')) {
        const a = fake.answer;
        const send = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(a === 'pending' ? { status: 'pending', notes: [], reason: null } : { ...a, notes: [], reason: 'test' }));
        };
        if (a === 'pending') setTimeout(send, 200);
        else send();
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  fake.close = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return fake;
}
