/**
 * Issue 10's bypasses, each replayed through the real proxy with real sockets against upstreams
 * that read requests the way real servers do (docs/decisions/egress-normalisation.md,
 * docs/decisions/egress-dns-exfil.md). The git upstream percent-decodes its path like Apache or
 * Gitea, drops `;` parameters like servlet containers, takes the last `service=` like git, and
 * would accept `git%2Dreceive-pack` as a push with the injected credential: every attack here must
 * be refused by egress and leave that upstream untouched.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { runCheck } from '../../src/egress/check.js';
import { compileRouteTable } from '../../src/egress/route-table.js';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { A, CANARY, SECRET0, rawConnect, routesYaml, startInProc, upstreamCa, type InProc } from './harness.js';
import { collect, tcp, tunnel } from './hostile-helpers.js';

const USERPASS = 'alice:gitpass-Zq81Lm0x7W';
const BASIC = `Basic ${Buffer.from(USERPASS).toString('base64')}`;
const GHP = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'}`;

interface Seen {
  method: string;
  rawUrl: string;
  /** The path as this server resolves it: percent-decoded, `;` parameters dropped, dot segments removed. */
  resolved: string;
  hosts: string[];
  auth: string | undefined;
  body: Buffer;
}

/**
 * A smart-HTTP git server that is generous the way real ones are: it decodes before routing and
 * reads the last `service` parameter. A push reaching it with the right credential is accepted.
 */
async function decodingGitServer(names: string[]): Promise<{ port: number; seen: Seen[]; pushes: () => number; close(): Promise<void> }> {
  const leaf = await (await upstreamCa()).issue(names);
  const seen: Seen[] = [];
  let pushes = 0;
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      let path = q < 0 ? raw : raw.slice(0, q);
      const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
      path = path.split('/').map((seg) => seg.split(';')[0]!).join('/');
      try {
        path = decodeURIComponent(path);
      } catch {
        /* keep as is */
      }
      path = new URL(path, 'https://x').pathname;
      const hosts: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts.push(req.rawHeaders[i + 1]!);
      seen.push({ method: req.method ?? '', rawUrl: raw, resolved: path, hosts, auth: req.headers.authorization, body: Buffer.concat(chunks) });
      const services = query.getAll('service');
      const service = services[services.length - 1];
      if (path.startsWith('/r.git/') && req.headers.authorization !== BASIC) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
        return void res.end();
      }
      if (path.endsWith('/info/refs') && service) {
        res.writeHead(200, { 'content-type': `application/x-${service}-advertisement` });
        return void res.end(`# service=${service}\n`);
      }
      if (req.method === 'POST' && path.endsWith('/git-receive-pack')) {
        pushes += 1;
        res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result' });
        return void res.end('PUSH ACCEPTED\n');
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok ${path}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    pushes: () => pushes,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

let git: Awaited<ReturnType<typeof decodingGitServer>>;
let e: InProc;
let routes: string;

beforeAll(async () => {
  git = await decodingGitServer(['git.test', A, 'a.b.cdn.test', 'x1.cdn.test']);
  routes = [
    `  - {host: git.test, port: ${git.port}, auth: {scheme: Basic, token_env: EGRESS_TOKEN_1}, allow_private_cidrs: [127.0.0.0/8]}`,
    `  - {host: ${A}, port: ${git.port}, allow_private_cidrs: [127.0.0.0/8], matches: [{paths: [{type: prefix, value: /v1/allowed}]}]}`,
    `  - {host: "*.cdn.test", port: ${git.port}, allow_private_cidrs: [127.0.0.0/8]}`,
    `  - {host: plain.test, allow_private_cidrs: [127.0.0.0/8]}`,
    '',
  ].join('\n');
  e = await startInProc(
    routes,
    {
      log: 1,
      tokens: { EGRESS_TOKEN_0: SECRET0, EGRESS_TOKEN_1: USERPASS },
      resolve: { 'git.test': ['127.0.0.1'], [A]: ['127.0.0.1'], 'a.b.cdn.test': ['127.0.0.1'], 'x1.cdn.test': ['127.0.0.1'], 'plain.test': ['127.0.0.1'] },
    },
  );
});

afterAll(async () => {
  await e?.close();
  await git?.close();
  const all = e.logs.join('') + JSON.stringify(e.audit);
  expect(all).not.toContain(USERPASS);
  expect(all).not.toContain(BASIC.slice(6));
  expect(all).not.toContain(CANARY);
});

/** One raw request inside a CONNECT tunnel to `authority`; the whole answer. */
async function inTunnel(authority: string, text: string | Buffer): Promise<string> {
  const t = await tunnel(e.port, authority, e.caPem);
  t.write(text);
  return (await collect(t, 5000)).text;
}

function denied(text: string, status: number, code: string): void {
  expect(text.slice(0, 12)).toBe(`HTTP/1.1 ${status}`);
  expect(text).toContain(`x-bot-bottle-deny: ${code}`);
  expect(text).toContain(`egress: denied (${code})`);
}

describe('push around the gate (path-decoding git upstream)', () => {
  const G = () => `git.test:${git.port}`;
  const pack = Buffer.from('0000PACK\x00\x00\x00\x02', 'latin1');

  it('the upstream really is generous: a direct push with the credential is accepted', async () => {
    const r = await fetchDirect(`/r.git/git%2Dreceive-pack`);
    expect(r).toContain('PUSH ACCEPTED');
    expect(git.pushes()).toBe(1);
  });

  for (const [name, path] of [
    ['git%2Dreceive-pack', '/r.git/git%2Dreceive-pack'],
    ['git-receive-pac%6b', '/r.git/git-receive-pac%6b'],
    ['git%2dreceive%2dpack (lower-case escapes)', '/r.git/git%2dreceive%2dpack'],
  ] as const) {
    it(`POST …/${name} → 403 git_push_via_egress; the upstream saw nothing`, async () => {
      const before = git.seen.length;
      const text = await inTunnel(G(), Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${G()}\r\nContent-Type: application/x-git-receive-pack-request\r\nContent-Length: ${pack.length}\r\nConnection: close\r\n\r\n`), pack]));
      denied(text, 403, 'git_push_via_egress');
      expect(git.seen.length).toBe(before);
      expect(git.pushes()).toBe(1);
    });
  }

  it('a receive-pack body under any path (content type alone) → 403 git_push_via_egress', async () => {
    const before = git.seen.length;
    const text = await inTunnel(G(), Buffer.concat([Buffer.from(`POST /r.git/upload HTTP/1.1\r\nHost: ${G()}\r\nContent-Type: application/x-git-receive-pack-request\r\nContent-Length: ${pack.length}\r\nConnection: close\r\n\r\n`), pack]));
    denied(text, 403, 'git_push_via_egress');
    expect(git.seen.length).toBe(before);
  });

  it('info/refs?service=git-upload-pack&service=git-receive-pack (git reads the last) → 400; the upstream saw nothing', async () => {
    const before = git.seen.length;
    const text = await inTunnel(G(), `GET /r.git/info/refs?service=git-upload-pack&service=git-receive-pack HTTP/1.1\r\nHost: ${G()}\r\nConnection: close\r\n\r\n`);
    denied(text, 400, 'bad_request');
    expect(text).not.toContain('receive-pack-advertisement');
    expect(git.seen.length).toBe(before);
    expect(e.audit.some((a) => a.reason === 'bad_request' && a.detail === 'duplicate_query_param')).toBe(true);
  });

  it('a single service=git-receive-pack spelled with escapes → 403 git_push_via_egress', async () => {
    const before = git.seen.length;
    const text = await inTunnel(G(), `GET /r.git/info/refs?serv%69ce=git-receive-pac%6B HTTP/1.1\r\nHost: ${G()}\r\nConnection: close\r\n\r\n`);
    denied(text, 403, 'git_push_via_egress');
    expect(git.seen.length).toBe(before);
  });

  it('a fetch still works and the upstream gets the credential (no false refusal)', async () => {
    const text = await inTunnel(G(), `GET /r.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: ${G()}\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('# service=git-upload-pack');
    expect(git.seen.at(-1)!.auth).toBe(BASIC);
  });
});

describe('parser differentials', () => {
  it('a second Host header → 400; nothing reaches the upstream (tunnel and plain http://)', async () => {
    const before = git.seen.length;
    const text = await inTunnel(`${A}:${git.port}`, `GET /v1/allowed/x HTTP/1.1\r\nHost: ${A}:${git.port}\r\nHost: internal.test\r\nConnection: close\r\n\r\n`);
    denied(text, 400, 'bad_request');
    expect(git.seen.length).toBe(before);
    const s = await tcp(e.port);
    s.write(`GET http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\nHost: internal.test\r\nConnection: close\r\n\r\n`);
    denied((await collect(s, 5000)).text, 400, 'bad_request');
  });

  it('the upstream gets exactly one Host, rebuilt from the target', async () => {
    const text = await inTunnel(`${A}:${git.port}`, `GET /v1/allowed/x HTTP/1.1\r\nHost: API.Example.Test:${git.port}\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(git.seen.at(-1)!.hosts).toEqual([`${A}:${git.port}`]);
  });

  it('Content-Encoding: identity + Content-Encoding: gzip around a gzipped token → 400; nothing forwarded', async () => {
    const before = git.seen.length;
    const body = gzipSync(Buffer.from(`{"token":"${GHP}"}`));
    const text = await inTunnel(`${A}:${git.port}`, Buffer.concat([Buffer.from(`POST /v1/allowed/x HTTP/1.1\r\nHost: ${A}:${git.port}\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    denied(text, 400, 'bad_request');
    expect(git.seen.length).toBe(before);
  });

  it('Content-Encoding: identity, gzip in one header: every coding is undone, the token is found', async () => {
    const before = git.seen.length;
    const body = gzipSync(Buffer.from(`{"token":"${GHP}"}`));
    const text = await inTunnel(`${A}:${git.port}`, Buffer.concat([Buffer.from(`POST /v1/allowed/x HTTP/1.1\r\nHost: ${A}:${git.port}\r\nContent-Type: application/json\r\nContent-Encoding: identity, gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    denied(text, 403, 'dlp_block');
    expect(git.seen.length).toBe(before);
  });

  it('/v1/allowed/..;/secret (a server dropping ; parameters resolves it outside the prefix) → 403 bad_path', async () => {
    const before = git.seen.length;
    for (const p of ['/v1/allowed/..;/secret', '/v1/allowed/..%3B/secret', '/v1/allowed/%2e%2e;x=1/secret']) {
      const text = await inTunnel(`${A}:${git.port}`, `GET ${p} HTTP/1.1\r\nHost: ${A}:${git.port}\r\nConnection: close\r\n\r\n`);
      denied(text, 403, 'bad_path');
    }
    expect(git.seen.length).toBe(before);
  });

  it('a GET with a chunked body inside a tunnel → 400, never a second request upstream', async () => {
    const before = git.seen.length;
    const inner = `GET /admin HTTP/1.1\r\nHost: ${A}\r\n\r\n`;
    const text = await inTunnel(`${A}:${git.port}`, `GET /v1/allowed/x HTTP/1.1\r\nHost: ${A}:${git.port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`);
    denied(text, 400, 'bad_request');
    expect(git.seen.length).toBe(before);
  });

  it('CONNECT to port 80 of a host whose route names no port → 403 no_route (443 only)', async () => {
    const c = await rawConnect(e.port, 'plain.test:80');
    expect(c.status).toBe(403);
    expect(c.text).toContain('x-bot-bottle-deny: no_route');
    const ok = await rawConnect(e.port, 'plain.test:443');
    expect(ok.status).toBe(200);
    ok.socket.destroy();
  });

  it('absolute-form http:// to port 443 of a portless route → 403 no_route (80 only)', async () => {
    const s = await tcp(e.port);
    s.write(`GET http://plain.test:443/ HTTP/1.1\r\nHost: plain.test:443\r\nConnection: close\r\n\r\n`);
    denied((await collect(s, 5000)).text, 403, 'no_route');
  });
});

describe('DNS exfiltration through a wildcard route', () => {
  it('hex in the labels: CONNECT refused 403 dns_exfil before any lookup; the name is audited redacted', async () => {
    const host = `${Buffer.from(SECRET0).toString('hex').slice(0, 40)}.cdn.test`;
    const c = await rawConnect(e.port, `${host}:${git.port}`);
    expect(c.status).toBe(403);
    expect(c.text).toContain('x-bot-bottle-deny: dns_exfil');
    expect(e.lookups).not.toContain(host);
    const rec = e.audit.find((a) => a.reason === 'dns_exfil');
    expect(rec?.host).toBe('[dns_exfil:1].cdn.test');
    expect(JSON.stringify(rec?.findings)).toContain('dns_exfil/');
  });

  it('a mixed-case token DLP misses once lower-cased: refused from the spelling the agent sent', async () => {
    const host = 'AKIAIOSFODNN7EXAMPL3.cdn.test';
    const c = await rawConnect(e.port, `${host}:${git.port}`);
    expect(c.status).toBe(403);
    expect(c.text).toContain('x-bot-bottle-deny: dns_exfil');
    expect(e.lookups).not.toContain(host.toLowerCase());
  });

  it('a plain wildcard name still works and is resolved', async () => {
    const text = await inTunnel(`a.b.cdn.test:${git.port}`, `GET /x HTTP/1.1\r\nHost: a.b.cdn.test:${git.port}\r\nConnection: close\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(e.lookups).toContain('a.b.cdn.test');
  });
});

/** A request straight to the git upstream (bypassing egress) with the credential: shows it accepts. */
function fetchDirect(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    void upstreamCa().then((ca) => {
      const r = https.request({ host: '127.0.0.1', port: git.port, path, method: 'POST', servername: 'git.test', ca: ca.certPem, headers: { host: `git.test:${git.port}`, authorization: BASIC, 'content-type': 'application/x-git-receive-pack-request' } }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve(t));
      });
      r.on('error', reject);
      r.end('0000');
    }, reject);
  });
}

describe('--check decides like the live proxy (one normalise-and-decide path)', () => {
  // [method, authority-relative target, extra header lines]
  const cases: Array<[string, (port: number) => string, string, string]> = [
    ['GET', (p) => `${A}:${p}`, '/v1/allowed/..;/secret', ''],
    ['GET', (p) => `${A}:${p}`, '/v1/allowed/..%3B/secret', ''],
    ['GET', (p) => `${A}:${p}`, '/v1/allowed/%2e%2e/secret', ''],
    ['GET', (p) => `${A}:${p}`, '/v1/allowed%2Fx', ''],
    ['GET', (p) => `${A}:${p}`, '/v1/allowe%64/items', ''],
    ['GET', (p) => `${A}:${p}`, '/v1/other', ''],
    ['POST', (p) => `git.test:${p}`, '/r.git/git%2Dreceive-pack', 'Content-Type: application/octet-stream\r\n'],
    ['POST', (p) => `git.test:${p}`, '/r.git/git-receive-pac%6b', 'Content-Type: application/octet-stream\r\n'],
    ['GET', (p) => `git.test:${p}`, '/r.git/info/refs?service=git-upload-pack&service=git-receive-pack', ''],
    ['GET', (p) => `git.test:${p}`, '/r.git/info/refs?service=git-upload-pack', ''],
  ];
  for (const [method, authority, path, extra] of cases) {
    it(`${method} ${path}`, async () => {
      const auth = authority(git.port);
      const table = compileRouteTable(parseRoutesFile(routesYaml(routes, 1)));
      const check = runCheck(table, { url: `https://${auth}${path}`, method, headers: extra ? [['Content-Type', 'application/octet-stream']] : [] });
      const body = method === 'POST' ? 'Content-Length: 0\r\n' : '';
      const text = await inTunnel(auth, `${method} ${path} HTTP/1.1\r\nHost: ${auth}\r\n${extra}${body}Connection: close\r\n\r\n`);
      const deny = /x-bot-bottle-deny: ([a-z_]+)/.exec(text)?.[1] ?? null;
      expect({ decision: check.decision, reason: check.reason }).toEqual(deny ? { decision: 'deny', reason: deny } : { decision: 'allow', reason: null });
    });
  }
});
