/**
 * CONNECT / absolute-form / origin-form handling against real loopback TLS upstreams
 * (cases E1–E12, E16, E17, E54, E58, E61), clients: curl, undici, raw sockets.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { A, SECRET0, CANARY, startInProc, upstream, viaUndici, rawConnect, tunnelRaw, runCurl, tempDir, type InProc } from './harness.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';
import { skipReason } from '../helpers/capabilities.js';

let up: TlsUpstream;
let plain: http.Server;
let plainPort: number;
const plainSeen: http.IncomingHttpHeaders[] = [];
let e: InProc;
let caFile: string;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  up = await upstream();
  plain = http.createServer((req, res) => {
    plainSeen.push(req.headers);
    res.end(`plain ${req.url}`);
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as AddressInfo).port;
  const P = up.port;
  e = await startInProc(`
  - host: ${A}
    port: ${P}
    matches: [{paths: [{type: prefix, value: /v1}], methods: [GET, POST]}]
    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}
    allow_private_cidrs: [127.0.0.0/8]
  - {host: ${A}, port: ${plainPort}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: plain.test, port: ${plainPort}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: "*.cdn.test", port: ${P}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: "*.x.test", port: ${P}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: api.x.test, port: ${P}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: 127.0.0.1, port: ${P}, allow_private_cidrs: [127.0.0.0/8]}
  - {host: ported.test, port: 8443}
`);
  tmp = await tempDir();
  caFile = join(tmp.dir, 'bottle-ca.pem');
  await writeFile(caFile, e.caPem);
});

afterAll(async () => {
  await e?.close();
  await up?.close();
  await new Promise<void>((r) => plain?.close(() => r()));
  // Secrets hygiene: the slot value and canary appear in no log line and no audit record.
  const all = e.logs.join('') + JSON.stringify(e.audit);
  expect(all).not.toContain(SECRET0);
  expect(all).not.toContain(CANARY);
  await tmp?.cleanup();
});

describe('CONNECT decisions (C1–C8)', () => {
  it('E1 CONNECT evil.test:443 → 403 no_route, no DNS lookup', async () => {
    const before = e.lookups.length;
    const r = await rawConnect(e.port, 'evil.test:443');
    expect(r.status).toBe(403);
    expect(r.text).toContain('x-bot-bottle-deny: no_route');
    expect(r.text).toContain('egress: denied (no_route) CONNECT https://evil.test/');
    expect(e.lookups.length).toBe(before);
    expect(e.audit.at(-1)).toMatchObject({ reason: 'no_route', status: 403, host: 'evil.test' });
  });

  it('E2 CONNECT A twice → 200, same cached leaf: SAN A, bottle CA, P-256, ≤ 7 d', async () => {
    const req = `GET /v1/x HTTP/1.1\r\nHost: ${A}\r\nConnection: close\r\n\r\n`;
    const one = await tunnelRaw(e.port, `${A}:${up.port}`, e.caPem, req);
    const two = await tunnelRaw(e.port, `${A}:${up.port}`, e.caPem, req);
    expect(one.text).toMatch(/^HTTP\/1\.1 200/);
    expect(one.peerCert.fingerprint256).toBe(two.peerCert.fingerprint256);
    const leaf = new X509Certificate(one.peerCert.raw);
    expect(leaf.subjectAltName).toBe(`DNS:${A}`);
    expect(leaf.checkIssued(new X509Certificate(e.caPem))).toBe(true);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(leaf.validTo).getTime() - Date.now()).toBeLessThanOrEqual(7 * 86400_000);
  });

  it('E3/E4 ports: A on another port → no_route; ported route only on its port', async () => {
    expect((await rawConnect(e.port, `${A}:8443`)).text).toContain('x-bot-bottle-deny: no_route');
    expect((await rawConnect(e.port, 'ported.test:443')).text).toContain('x-bot-bottle-deny: no_route');
    const ok = await rawConnect(e.port, 'ported.test:8443');
    expect(ok.status).toBe(200);
    ok.socket.destroy();
  });

  it('E5 inner Host: evil.test → 403 host_mismatch, upstream untouched', async () => {
    const before = up.requests.length;
    const r = await tunnelRaw(e.port, `${A}:${up.port}`, e.caPem, `GET /v1/x HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 403/);
    expect(r.text).toContain('x-bot-bottle-deny: host_mismatch');
    expect(up.requests.length).toBe(before);
  });

  it('E6 inner Host in other case with the port → allowed', async () => {
    const r = await tunnelRaw(e.port, `${A}:${up.port}`, e.caPem, `GET /v1/x HTTP/1.1\r\nHost: API.Example.Test:${up.port}\r\nConnection: close\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
  });

  it('E10 IP literals not exactly routed → 403 ip_literal', async () => {
    expect((await rawConnect(e.port, '93.184.216.34:443')).text).toContain('x-bot-bottle-deny: ip_literal');
    expect((await rawConnect(e.port, '[::1]:443')).text).toContain('x-bot-bottle-deny: ip_literal');
    const r = await runCurl(['--proxy', e.proxy, '-o', '/dev/null', '-w', '%{http_code}', 'http://2130706433/']);
    expect(r.stdout).toBe('403');
  });

  it('E11 route host 127.0.0.1 → CONNECT 127.0.0.1 allowed (IP SAN leaf)', async () => {
    const r = await viaUndici(e.proxy, e.caPem, `https://127.0.0.1:${up.port}/hello`);
    expect(r.status).toBe(200);
  });

  it('E12 DoH host and DoH-shaped request → 403 doh', async () => {
    expect((await rawConnect(e.port, 'dns.google:443')).text).toContain('x-bot-bottle-deny: doh');
    const r = await viaUndici(e.proxy, e.caPem, `https://${A}:${up.port}/v1/q`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: 'x' });
    expect(r.status).toBe(403);
    expect(r.headers['x-bot-bottle-deny']).toBe('doh');
  });

  it('E16 wildcard: a.b.cdn.test allowed; cdn.test and evilcdn.test no_route', async () => {
    expect((await viaUndici(e.proxy, e.caPem, `https://a.b.cdn.test:${up.port}/`)).status).toBe(200);
    expect((await rawConnect(e.port, `cdn.test:${up.port}`)).text).toContain('no_route');
    expect((await rawConnect(e.port, `evilcdn.test:${up.port}`)).text).toContain('no_route');
  });

  it('E17 *.x.test (no auth) + api.x.test (auth): only api.x.test gets the credential', async () => {
    const n = up.requests.length;
    await viaUndici(e.proxy, e.caPem, `https://www.x.test:${up.port}/w`);
    await viaUndici(e.proxy, e.caPem, `https://api.x.test:${up.port}/a`);
    const [www, api] = up.requests.slice(n);
    expect(www!.headers.authorization).toBeUndefined();
    expect(api!.headers.authorization).toBe(`Bearer ${SECRET0}`);
  });

  it('E54 GET https://_egress.local/allowlist via proxy → JSON without values or slots; no DNS', async () => {
    const before = e.lookups.length;
    const r = await viaUndici(e.proxy, e.caPem, 'https://_egress.local/allowlist');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.body) as { routes: Array<Record<string, unknown>>; bottle: string; generation: number };
    expect(doc.bottle).toBe('test-bottle');
    expect(doc.routes[0]).toMatchObject({ host: A, authenticated: true, auth_scheme: 'Bearer' });
    expect(r.body).not.toContain('EGRESS_TOKEN');
    expect(r.body).not.toContain(SECRET0);
    expect(e.lookups.length).toBe(before);
    const h = await runCurl(['--proxy', e.proxy, 'http://_egress.local/healthz']);
    expect(JSON.parse(h.stdout)).toMatchObject({ status: 'ok', generation: 1 });
    const nf = await runCurl(['--proxy', e.proxy, '-o', '/dev/null', '-w', '%{http_code}', 'http://_egress.local/nope']);
    expect(nf.stdout).toBe('404');
    const m = await runCurl(['--proxy', e.proxy, '-X', 'POST', '-o', '/dev/null', '-w', '%{http_code}', 'http://_egress.local/healthz']);
    expect(m.stdout).toBe('405');
  });

  it('E58 40 KiB of headers → 431', async () => {
    const big = 'x'.repeat(40 * 1024);
    const r = await runCurl(['--proxy', e.proxy, '-o', '/dev/null', '-w', '%{http_code}', '-H', `X-Big: ${big}`, 'http://plain.test/']);
    expect(r.stdout).toBe('431');
    const many: string[] = [];
    for (let i = 0; i < 210; i++) many.push('-H', `X-H${i}: v`);
    const r2 = await runCurl(['--proxy', e.proxy, '-o', '/dev/null', '-w', '%{http_code}', ...many, `http://plain.test:${plainPort}/`]);
    expect(r2.stdout).toBe('431');
  });

  it('E61 100 sequential requests to A → ≤ 2 upstream TCP connections', async () => {
    const fresh = await upstream();
    const e2 = await startInProc(`  - {host: ${A}, port: ${fresh.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n`, { log: 0 });
    const { ProxyAgent, request } = await import('undici');
    const dispatcher = new ProxyAgent({ uri: e2.proxy, requestTls: { ca: e2.caPem } });
    try {
      for (let i = 0; i < 100; i++) {
        const r = await request(`https://${A}:${fresh.port}/v1/${i}`, { dispatcher });
        await r.body.text();
        expect(r.statusCode).toBe(200);
      }
    } finally {
      await dispatcher.close();
      await e2.close();
      await fresh.close();
    }
    expect(fresh.requests.length).toBe(100);
    expect(fresh.connections()).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(skipReason('curl'))('absolute-form and origin-form', () => {
  it('E7 GET http://plain.test/x with a no-auth route → plain-HTTP forward 200 (curl)', async () => {
    const r = await runCurl(['--proxy', e.proxy, `http://plain.test:${plainPort}/x`]);
    expect(r.stdout).toBe('plain /x');
  });

  it('E8 GET http://A/v1/x on a credential route → 403 plain_http_credential', async () => {
    const r = await runCurl(['--proxy', e.proxy, '-i', `http://${A}:${plainPort}/v1/x`]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect(r.stdout).toContain('x-bot-bottle-deny: plain_http_credential');
    expect(plainSeen.every((h) => h.authorization === undefined)).toBe(true);
  });

  it('E9 origin-form GET /v1/x → 403 origin_form; GET /healthz → 200 ok', async () => {
    const r = await runCurl(['-i', `http://127.0.0.1:${e.port}/v1/x`]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 403/);
    expect(r.stdout).toContain('x-bot-bottle-deny: origin_form');
    expect(r.stdout).toContain('egress: denied (origin_form)');
    const h = await runCurl([`http://127.0.0.1:${e.port}/healthz`]);
    expect(JSON.parse(h.stdout)).toMatchObject({ status: 'ok' });
  });

  it('curl through the tunnel with --cacert of the bottle CA', async () => {
    const r = await runCurl(['--proxy', e.proxy, '--cacert', caFile, '-H', 'Authorization: Bearer fake', `https://${A}:${up.port}/v1/curl`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, url: '/v1/curl' });
    expect(up.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET0}`);
  });
});
