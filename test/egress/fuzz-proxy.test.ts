/**
 * Fuzzing the egress proxy's request parsing, live layer (docs/decisions/fuzzing-budget.md): the
 * real daemon (src/egress/main.ts as a child process) on loopback is fed mutated HTTP/1.1 bytes —
 * conflicting Content-Length/Transfer-Encoding, obs-fold, bare CR/LF, huge headers, invalid chunk
 * sizes, pipelining, random byte flips — over plain TCP (absolute-form) and through an intercepted
 * TLS tunnel, for the time budget. After every batch: the same process is alive and serves a benign
 * request, its last-resort error handler never ran, every request the stand-in upstreams received
 * is one the pure decision (decideAdmission) admits, and its RSS stays bounded.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import fc from 'fast-check';
import { decideAdmission } from '../../src/egress/admit.js';
import { DnsExfilGuard } from '../../src/egress/dns-exfil.js';
import { compileRouteTable, type RouteTable } from '../../src/egress/route-table.js';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { A, CANARY, SECRET0, readAudit, routesYaml, startDaemon, upstream, type Daemon } from './harness.js';
import { pause, tcp, tunnel } from './hostile-helpers.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';
import { boundedAsync, fuzzBudget, fuzzNote, describeInput } from '../helpers/fuzz-budget.js';

interface Seen {
  readonly scheme: 'http' | 'https';
  readonly port: number;
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
}

let up: TlsUpstream;
let plain: http.Server;
let plainPort: number;
let d: Daemon;
let caPem: string;
let table: RouteTable;
const seen: Seen[] = [];

/** RSS of the daemon in KiB (Linux /proc). */
function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  up = await upstream((req, res, raw) => {
    seen.push({ scheme: 'https', port: up.port, method: req.method, url: req.url, rawHeaders: raw.rawHeaders });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  plain = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ scheme: 'http', port: plainPort, method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as net.AddressInfo).port;
  const matches = `matches: [{paths: [{type: prefix, value: /allowed}], methods: [GET, POST, PUT, HEAD]}]`;
  const routes = [
    `  - {host: ${A}, port: ${up.port}, ${matches}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}`,
    `  - {host: plain.test, port: ${plainPort}, ${matches}, allow_private_cidrs: [127.0.0.0/8]}`,
  ].join('\n');
  const text = routesYaml(`${routes}\n`, 0);
  table = compileRouteTable(parseRoutesFile(text));
  d = await startDaemon(text);
  caPem = await readFile(d.caCertPath, 'utf8');
}, 60_000);

afterAll(async () => {
  await d?.stop('SIGKILL');
  const all = (d?.stderr() ?? '') + JSON.stringify(d ? await readAudit(d.auditPath) : []);
  expect(all).not.toContain(SECRET0);
  expect(all).not.toContain(CANARY);
  if (d) await rm(d.dir, { recursive: true, force: true });
  await up?.close();
  plain?.closeAllConnections();
  await new Promise<void>((r) => (plain ? plain.close(() => r()) : r()));
});

// ---------------------------------------------------------------- generators (need the ports)

type Mode = 'plain' | 'tunnel';
interface Wire {
  readonly mode: Mode;
  readonly bytes: Buffer;
  /** Send FIN after the bytes (a client that stops mid-request). */
  readonly halfClose?: boolean;
}

function requestGen(mode: Mode): fc.Arbitrary<string> {
  const host = mode === 'plain' ? 'plain.test' : A;
  const port = mode === 'plain' ? plainPort : up.port;
  const authority = `${host}:${port}`;
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('/allowed', '/allowed/x', '/allowed/a?b=c', '/allowed/', '/other', '/') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '/allowed/../admin', '/allowed/%2e%2e/admin', '/allowed%2F..%2Fadmin', '/allowed/..;/admin', '/allowed\\..\\admin', '/allowed/%00', '/allowed/%C0%AE%C0%AE/x',
        '/allowed/\u00e9', '/allowed/%', '/allowed//x', '/Allowed', '/allowed/x#frag', '/allowed/x?service=git-receive-pack', '/allowed/git-receive-pack', '*', '',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((s) => `/allowed/${s}`) },
  );
  const target = fc.oneof(
    { weight: 3, arbitrary: path.map((p) => (mode === 'plain' ? `http://${authority}${p}` : p)) },
    { weight: 1, arbitrary: path.map((p) => `${mode === 'plain' ? 'http' : 'https'}://${authority}${p}`) },
    { weight: 1, arbitrary: fc.constantFrom(`http://other.test${'/allowed'}`, `https://${authority}/allowed`, `http://${host}/allowed`, `http://${authority}@evil.test/allowed`, `ftp://${authority}/`, `http://[::1]:${port}/allowed`, `http://127.0.0.1:${port}/allowed`) },
  );
  const eol = fc.oneof({ weight: 12, arbitrary: fc.constant('\r\n') }, { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', '\n\r') });
  const header = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(`Host: ${authority}`, `Host: ${host}`, 'Host: other.test', `Host: ${authority}.`, `Host:${authority}`, `Host : ${authority}`, `host: ${authority}`) },
    { weight: 3, arbitrary: fc.constantFrom('Content-Length: 0', 'Content-Length: 5', 'Content-Length: 5, 5', 'Content-Length: -1', 'Content-Length: +5', 'Content-Length: 0x5', 'Content-Length: 99999999999999999999', 'Content-Length:', 'Content-Length: 1\r\nContent-Length: 2') },
    { weight: 3, arbitrary: fc.constantFrom('Transfer-Encoding: chunked', 'Transfer-Encoding: Chunked', 'Transfer-Encoding:  chunked', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: identity', 'Transfer-Encoding: xchunked', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding\t: chunked', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity') },
    { weight: 2, arbitrary: fc.constantFrom('Connection: close', 'Connection: keep-alive', 'Connection: Upgrade', 'Upgrade: websocket', 'Connection: content-length', 'Expect: 100-continue', 'X-HTTP-Method-Override: DELETE', 'X-Original-URL: /admin') },
    { weight: 2, arbitrary: fc.constantFrom('X-Fold: a\r\n b', 'X-Fold: a\r\n\tb', ' X-Leading-Space: 1', 'No-Colon', ': empty-name', 'X-Nul: a\u0000b', 'X-Bare-CR: a\rb', 'X-Latin: \u00ff\u00fe', 'X-Api-Key: k') },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 48 * 1024 }), fc.constantFrom('a', ' ', ',')).map(([n, c]) => `X-Huge: ${c.repeat(n)}`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 260 }).map((n) => Array.from({ length: n }, (_, i) => `X-Many-${i}: v`).join('\r\n')) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 12 }), fc.string({ unit: 'binary-ascii', maxLength: 30 })).map(([k, v]) => `${k}: ${v}`) },
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.constantFrom('hello', '5\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n', '-1\r\nx\r\n0\r\n\r\n', 'ffffffffffffffff\r\nx\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n', '0x5\r\nhello\r\n0\r\n\r\n', '5\r\nhelloXX0\r\n\r\n', '3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n', '5\nhello\n0\n\n') },
    { weight: 1, arbitrary: fc.constantFrom(`GET http://${authority}/allowed/smuggled HTTP/1.1\r\nHost: ${authority}\r\n\r\n`, `0\r\n\r\nGET /other/smuggled HTTP/1.1\r\nHost: ${authority}\r\n\r\n`) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  );
  // Well-formed requests with one odd part: these reach the upstream, so the forwarding check bites.
  const nearBenign = fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE'),
      path,
      fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('Accept: */*', 'Connection: keep-alive', 'X-Api-Key: k', 'User-Agent: fuzz/1', 'Authorization: Bearer agent-value') }, { weight: 1, arbitrary: header }), { maxLength: 2 }),
      fc.constantFrom('', 'hello'),
    )
    .map(([method, p, hs, body]) => {
      const b = method === 'POST' || method === 'PUT' ? body : '';
      const t = mode === 'plain' ? `http://${authority}${p}` : p;
      const framing = b === '' ? '' : `Content-Length: ${b.length}\r\n`;
      return `${method} ${t} HTTP/1.1\r\nHost: ${authority}\r\n${hs.map((h) => `${h}\r\n`).join('')}${framing}\r\n${b}`;
    });
  const hostile = fc
    .tuple(
      fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'CONNECT', 'get', 'G ET', ''),
      target,
      fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10', 'HTTP/1.1 ', 'http/1.1', ''),
      fc.array(fc.tuple(header, eol), { maxLength: 6 }),
      eol,
      body,
    )
    .map(([method, t, version, headers, end, b]) => `${method} ${t} ${version}${end}${headers.map(([h, e]) => `${h}${e}`).join('')}${end}${b}`);
  return fc.oneof({ weight: 2, arbitrary: nearBenign }, { weight: 3, arbitrary: hostile });
}

type ByteMutation = { at: number; kind: 'flip' | 'insert' | 'delete'; byte: number };
function mutateBytes(buf: Buffer, muts: readonly ByteMutation[]): Buffer {
  let b = buf;
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') {
      b = Buffer.from(b);
      b[at] = m.byte;
    } else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
  return b;
}

function wireGen(mode: Mode): fc.Arbitrary<Wire> {
  const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom<ByteMutation['kind']>('flip', 'insert', 'delete'), byte: fc.integer({ min: 0, max: 255 }) });
  return fc
    .tuple(
      fc.array(requestGen(mode), { minLength: 1, maxLength: 3 }), // pipelining
      fc.oneof({ weight: 3, arbitrary: fc.constant([] as ByteMutation[]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }) }),
      fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) }),
      fc.boolean(),
    )
    .map(([reqs, muts, raw, halfClose]) => ({ mode, halfClose, bytes: raw ? Buffer.from(raw) : mutateBytes(Buffer.from(reqs.join(''), 'latin1'), muts) }));
}

/** Counterexamples print truncated (a 48 KiB header would flood the report). */
const printable = (w: Wire): Wire => Object.assign(w, { [fc.toStringMethod]: () => `${w.mode} ${describeInput(w.bytes.toString('latin1'))}` });

// ---------------------------------------------------------------- sending and checking

/**
 * Writes the bytes (then half-closes when asked) and reads until the proxy closes, 150 ms pass
 * without data after some arrived, or `ms` pass in all.
 */
async function sendWire(w: Wire, ms: number): Promise<string> {
  let s: net.Socket | tls.TLSSocket;
  try {
    s = w.mode === 'plain' ? await tcp(d.port) : await tunnel(d.port, `${A}:${up.port}`, caPem);
  } catch (e) {
    throw new Error(`could not reach the proxy (${e instanceof Error ? e.message : String(e)})`);
  }
  s.on('error', () => {});
  const text = await new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(all);
      clearTimeout(idle);
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const all = setTimeout(done, ms);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(idle);
      idle = setTimeout(done, 150);
    });
    s.on('close', done);
    s.write(w.bytes);
    if (w.halfClose) s.end();
  });
  s.destroy();
  return text;
}

const judge = () => ({ guard: new DnsExfilGuard(), rawHosts: [] as string[], nowMs: Date.now() });
let checked = 0;

/** Every request the upstreams received since the last call passes the pure decision. */
function checkForwarded(): void {
  for (; checked < seen.length; checked++) {
    const r = seen[checked]!;
    const host = r.scheme === 'https' ? A : 'plain.test';
    const a = decideAdmission(table, { method: r.method, target: { scheme: r.scheme, host, port: r.port }, rawTarget: r.url, rawHeaders: r.rawHeaders, isConnectInner: r.scheme === 'https' }, judge());
    if (!a.ok) throw new Error(`the proxy forwarded a request the pure decision denies (${a.code}${a.detail ? `/${a.detail}` : ''}): ${r.method} ${r.scheme}://${host}:${r.port}${r.url}`);
    expect(r.url.startsWith('/allowed')).toBe(true);
    expect(['GET', 'POST', 'PUT', 'HEAD']).toContain(r.method);
  }
}

let benign = 0;
/** The same daemon is alive, answers /healthz and forwards a benign request; no last-resort error. */
async function stillServing(): Promise<void> {
  expect(d.child.exitCode, `egress exited: ${d.stderr().slice(-2000)}`).toBeNull();
  expect(d.child.signalCode).toBeNull();
  const h = await sendWire({ mode: 'plain', bytes: Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') }, 10_000);
  expect(h).toMatch(/^HTTP\/1\.1 200/);
  const before = seen.length;
  const path = `/allowed/benign-${benign++}`;
  const ok = await sendWire({ mode: 'plain', bytes: Buffer.from(`GET http://plain.test:${plainPort}${path} HTTP/1.1\r\nHost: plain.test:${plainPort}\r\nConnection: close\r\n\r\n`) }, 10_000);
  expect(ok).toMatch(/^HTTP\/1\.1 200/);
  expect(seen.slice(before).some((r) => r.url === path)).toBe(true);
  expect(d.stderr()).not.toContain('egress_internal_error');
}

// ---------------------------------------------------------------- the fuzzers

const RSS_GROWTH_KIB = 256 * 1024;

describe('egress proxy fuzzing, live daemon (docs/decisions/fuzzing-budget.md)', () => {
  for (const mode of ['plain', 'tunnel'] as const) {
    it(`${mode === 'plain' ? 'plain TCP (absolute-form)' : 'intercepted TLS tunnel'}: mutated HTTP/1.1 never crashes the daemon, never forwards a denied request, RSS stays bounded`, async () => {
      const b = fuzzBudget(5000);
      await stillServing();
      const rss0 = rssKiB(d.child.pid!);
      let batches = 0;
      let inputs = 0;
      let rssMax = rss0;
      await fc.assert(
        fc.asyncProperty(fc.array(wireGen(mode).map(printable), { minLength: 1, maxLength: 8 }), async (batch) => {
          await Promise.all(
            batch.map((w) =>
              boundedAsync(15_000, `${mode} input`, w.bytes.toString('latin1'), async () => {
                await sendWire(w, 800);
              }),
            ),
          );
          inputs += batch.length;
          batches++;
          await pause(20);
          await stillServing();
          checkForwarded();
          rssMax = Math.max(rssMax, rssKiB(d.child.pid!));
          expect(rssMax - rss0, `daemon RSS grew from ${rss0} KiB to ${rssMax} KiB`).toBeLessThan(RSS_GROWTH_KIB);
        }),
        // The daemon is shared state: a failure is reported as found (seed and input), not shrunk.
        b.params({ endOnFailure: true }),
      );
      checkForwarded();
      const forwarded = seen.filter((r) => !r.url.startsWith('/allowed/benign-')).length;
      fuzzNote(`fuzz egress proxy ${mode}: ${inputs} inputs in ${batches} batches, ${forwarded} fuzz requests forwarded so far, RSS ${rss0} → ${rssMax} KiB (seed ${b.seed}, ${b.ms} ms)`);
      expect(batches).toBeGreaterThan(0);
    }, fuzzBudget().testTimeoutMs);
  }
});
