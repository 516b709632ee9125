/**
 * The escape suite's stand-in upstreams: ONE TLS endpoint with its own test CA on a random
 * loopback address, port 443, serving every upstream name of the suite. TLS is terminated here and
 * the plaintext piped to a plain HTTP server, so every byte that ever reached "upstream" — even a
 * request the HTTP parser would reject — is recorded (docs/escape-suite.md).
 *
 * Virtual hosts: the API (reports whether it saw the injected credential), the ECHO endpoint (reflects
 * request headers: row 6) and GIT (smart HTTP over a bare repo through git http-backend).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { runHttpBackend } from '../../src/gate/cgi.js';
import { createTestCa } from '../helpers/test-ca.js';
import { HOSTS, type StandIns, type SeenRequest } from './types.js';

function gitEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: '/nonexistent',
    GIT_AUTHOR_NAME: 'seed', GIT_AUTHOR_EMAIL: 'seed@escape.test', GIT_COMMITTER_NAME: 'seed', GIT_COMMITTER_EMAIL: 'seed@escape.test',
  };
}

/** A bare repo `escape.git` with `main` and a protected `release` branch. */
function seedRepo(dir: string): string {
  const bare = join(dir, 'git', 'escape.git');
  const work = join(dir, 'git-seed');
  mkdirSync(work, { recursive: true });
  const env = gitEnv();
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
  writeFileSync(join(work, 'README.md'), '# escape suite repository\n');
  execFileSync('git', ['-C', work, 'add', 'README.md'], { env });
  execFileSync('git', ['-C', work, 'commit', '-q', '-m', 'initial'], { env });
  writeFileSync(join(work, 'NOTES.md'), 'second commit\n');
  execFileSync('git', ['-C', work, 'add', 'NOTES.md'], { env });
  execFileSync('git', ['-C', work, 'commit', '-q', '-m', 'second'], { env });
  execFileSync('git', ['-C', work, 'push', '-q', bare, 'main', 'main:release'], { env });
  execFileSync('git', ['-C', bare, 'config', 'http.receivepack', 'true'], { env });
  return bare;
}

async function listen443(server: net.Server): Promise<string> {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const addr = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    const ok = await new Promise<boolean>((resolve) => {
      const onErr = () => resolve(false);
      server.once('error', onErr);
      server.listen(443, addr, () => {
        server.off('error', onErr);
        resolve(true);
      });
    });
    if (ok) return addr;
  }
  throw new Error('no free loopback address for the stand-in upstreams on port 443');
}

export async function startStandIns(dir: string, secret: string): Promise<StandIns> {
  const bare = seedRepo(dir);
  const ca = await createTestCa('bot-bottle escape-suite upstream CA');
  const leaf = await ca.issue([HOSTS.api, HOSTS.echo, HOSTS.git]);
  const caFile = join(dir, 'upstream-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const raw: Buffer[] = [];
  const requests: SeenRequest[] = [];

  const app = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? '').split(':')[0] ?? '';
    const seen: SeenRequest = { host, method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(seen);
    if (host === HOSTS.git) {
      const u = new URL(req.url ?? '/', `https://${HOSTS.git}`);
      void runHttpBackend(req, res, {
        projectRoot: join(dir, 'git'), pathInfo: u.pathname, query: u.search.slice(1),
        gitProtocol: typeof req.headers['git-protocol'] === 'string' ? req.headers['git-protocol'] : null, baseEnv: gitEnv(),
      });
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (host === HOSTS.echo) res.end(`${JSON.stringify({ echo: req.headers })}\n`);
      else res.end(`${JSON.stringify({ ok: true, sawToken: req.headers.authorization === `Bearer ${secret}`, path: req.url })}\n`);
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;

  const sockets = new Set<net.Socket>();
  const front = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (clear) => {
    const back = net.connect(appPort, '127.0.0.1');
    sockets.add(clear);
    sockets.add(back);
    clear.on('data', (c: Buffer) => raw.push(Buffer.from(c)));
    clear.pipe(back);
    back.pipe(clear);
    const done = () => {
      clear.destroy();
      back.destroy();
      sockets.delete(clear);
      sockets.delete(back);
    };
    clear.on('error', done).on('close', done);
    back.on('error', done).on('close', done);
  });
  const address = await listen443(front);
  return {
    address,
    caFile,
    received: () => Buffer.concat(raw).toString('latin1'),
    requests,
    headRefs: () => {
      const out: Record<string, string> = {};
      const text = execFileSync('git', ['-C', bare, 'for-each-ref', '--format=%(refname) %(objectname)'], { env: gitEnv(), encoding: 'utf8' });
      for (const line of text.split('\n').filter(Boolean)) {
        const [ref, oid] = line.split(' ');
        out[ref!] = oid!;
      }
      return out;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => { app.closeAllConnections(); app.close(() => r()); })]);
    },
  };
}
