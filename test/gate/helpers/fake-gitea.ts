/**
 * `G`: the Gitea deploy-key endpoints (POST/GET/DELETE
 * /api/v1/repos/{owner}/{repo}/keys[/{id}]) as a small local HTTP server. Gitea itself cannot run
 * here; this speaks the same requests and records them. `onKey` lets a test install the posted key
 * (e.g. into a real sshd's authorized_keys).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GiteaCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeGitea {
  url: string;
  calls: GiteaCall[];
  keys: Map<number, { title: string; key: string; read_only: boolean }>;
  /** Next status forced for DELETE (null = normal behaviour). */
  deleteStatus: number | null;
  postStatuses: number[];
  close(): Promise<void>;
}

export async function startFakeGitea(token: string, onKey?: (key: string) => void): Promise<FakeGitea> {
  const keys = new Map<number, { title: string; key: string; read_only: boolean }>();
  const calls: GiteaCall[] = [];
  let nextId = 41;
  const state: FakeGitea = {
    url: '',
    calls,
    keys,
    deleteStatus: null,
    postStatuses: [],
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      calls.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers['authorization'], body });
      const json = (status: number, v?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(v === undefined ? '' : JSON.stringify(v));
      };
      if (req.headers['authorization'] !== `token ${token}`) return json(401, { message: 'unauthorized' });
      const m = /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/keys(?:\/(\d+))?$/.exec(req.url ?? '');
      if (!m) return json(404, { message: 'not found' });
      if (req.method === 'POST' && !m[3]) {
        const forced = state.postStatuses.shift();
        if (forced !== undefined) return json(forced, { message: 'forced' });
        const b = body as { title: string; key: string; read_only: boolean };
        const id = nextId++;
        keys.set(id, { title: b.title, key: b.key, read_only: b.read_only });
        onKey?.(b.key);
        return json(201, { id, title: b.title, key: b.key, read_only: b.read_only });
      }
      if (req.method === 'GET' && !m[3]) return json(200, [...keys.entries()].map(([id, k]) => ({ id, ...k })));
      if (req.method === 'DELETE' && m[3]) {
        if (state.deleteStatus !== null) return json(state.deleteStatus, { message: 'forced' });
        const id = Number(m[3]);
        if (!keys.delete(id)) return json(404, { message: 'not found' });
        return json(204);
      }
      return json(405, { message: 'method not allowed' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
