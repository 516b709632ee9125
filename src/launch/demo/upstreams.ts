/**
 * The demo's stand-in upstreams (docs/decisions/netns-demo-plan.md): ONE HTTPS server with its own
 * CA on a random loopback address, port 443, serving `api.bot-bottle.test` (an API that reports —
 * as a boolean — whether it saw the demo Bearer token) and `git.bot-bottle.test` (smart HTTP over a
 * bare repo, through git http-backend). Records what the API received so the demo can prove a
 * blocked request never arrived.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createBottleCa, loadCa } from '../../egress/ca.js';
import { LeafCache } from '../../egress/leaf-cache.js';
import { runHttpBackend } from '../../gate/cgi.js';

export const DEMO_API_HOST = 'api.bot-bottle.test';
export const DEMO_GIT_HOST = 'git.bot-bottle.test';
export const DEMO_BLOCKED_HOST = 'blocked.bot-bottle.test';

export interface DemoUpstreams {
  address: string;
  caFile: string;
  repoDir: string;
  /** Bodies + query strings the API received (to prove an exfiltration never arrived). */
  received: string[];
  sawToken: boolean;
  headRef(): string;
  close(): Promise<void>;
}

function gitEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: '/nonexistent' };
}

function seedRepo(dir: string): string {
  const bare = join(dir, 'git', 'demo.git');
  const work = join(dir, 'git-seed');
  mkdirSync(work, { recursive: true });
  const env = { ...gitEnv(), GIT_AUTHOR_NAME: 'demo', GIT_AUTHOR_EMAIL: 'demo@bot-bottle.test', GIT_COMMITTER_NAME: 'demo', GIT_COMMITTER_EMAIL: 'demo@bot-bottle.test' };
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
  writeFileSync(join(work, 'README.md'), '# demo repository\n');
  execFileSync('git', ['-C', work, 'add', 'README.md'], { env });
  execFileSync('git', ['-C', work, 'commit', '-q', '-m', 'initial'], { env });
  execFileSync('git', ['-C', work, 'push', '-q', bare, 'main'], { env });
  execFileSync('git', ['-C', bare, 'config', 'http.receivepack', 'true'], { env });
  return bare;
}

async function listen(server: https.Server): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
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
  throw new Error('no free loopback address for the demo upstreams on port 443');
}

export async function startDemoUpstreams(dir: string, demoToken: string): Promise<DemoUpstreams> {
  const bare = seedRepo(dir);
  const ca = await createBottleCa('demo-upstreams', new Date());
  const caFile = join(dir, 'upstream-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const leaves = new LeafCache({ ca: await loadCa(ca) });
  const apiLeaf = await leaves.get(DEMO_API_HOST);
  const gitLeaf = await leaves.get(DEMO_GIT_HOST);
  const received: string[] = [];
  const state = { sawToken: false };

  const api = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(`${req.url ?? ''} ${Buffer.concat(chunks).toString('latin1')}`);
      const saw = req.headers.authorization === `Bearer ${demoToken}`;
      if (saw) state.sawToken = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ sawDemoToken: saw })}\n`);
    });
  };
  const git = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', `https://${DEMO_GIT_HOST}`);
    void runHttpBackend(req, res, {
      projectRoot: join(dir, 'git'),
      pathInfo: u.pathname,
      query: u.search.slice(1),
      gitProtocol: typeof req.headers['git-protocol'] === 'string' ? req.headers['git-protocol'] : null,
      baseEnv: gitEnv(),
    });
  };
  const server = https.createServer(
    { SNICallback: (name, cb) => cb(null, name === DEMO_GIT_HOST ? gitLeaf.context : apiLeaf.context) },
    (req, res) => ((req.headers.host ?? '').split(':')[0] === DEMO_GIT_HOST ? git(req, res) : api(req, res)),
  );
  const address = await listen(server);
  return {
    address,
    caFile,
    repoDir: bare,
    received,
    get sawToken() {
      return state.sawToken;
    },
    headRef: () => execFileSync('git', ['-C', bare, 'rev-parse', 'refs/heads/main'], { env: gitEnv(), encoding: 'utf8' }).trim(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
