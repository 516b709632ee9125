/**
 * Hostile clients (attacks 17–18, fuzzing): slowloris and oversized input are
 * bounded, arbitrary bytes never crash the proxy, and it keeps serving others meanwhile.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import fc from 'fast-check';
import { A, startInProc, upstream, viaUndici, type InProc } from './harness.js';
import type { TlsUpstream } from '../helpers/tls-upstream.js';

let up: TlsUpstream;
let e: InProc;
beforeAll(async () => {
  up = await upstream();
  e = await startInProc(`  - {host: ${A}, port: ${up.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n  - {host: plain.test, port: ${up.port}, allow_private_cidrs: [127.0.0.0/8]}\n`, { log: 0, timeouts: { headers: 1000, tlsHandshake: 1000 } });
});
afterAll(async () => {
  await e.close();
  await up.close();
});

function send(bytes: Buffer | string, waitMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(e.port, '127.0.0.1', () => s.write(bytes));
    let text = '';
    const timer = setTimeout(() => (s.destroy(), resolve({ text, closed: false })), waitMs);
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('close', () => (clearTimeout(timer), resolve({ text, closed: true })));
    s.on('error', () => {});
  });
}

describe('hostile clients', () => {
  it('R18 slowloris: headers that never finish are cut off at the headers timeout; others are served meanwhile', async () => {
    const slow = send('GET http://plain.test/ HTTP/1.1\r\nHost: plain.test\r\nX-Slow: 1\r\n', 8000);
    const ok = await viaUndici(e.proxy, e.caPem, `https://${A}:${up.port}/v1/x`);
    expect(ok.status).toBe(200);
    const r = await slow;
    expect(r.closed).toBe(true);
  });

  it('R18 a CONNECT whose TLS handshake never starts is closed after the handshake timeout', async () => {
    const r = await send(`CONNECT ${A}:${up.port} HTTP/1.1\r\nHost: ${A}\r\n\r\n`, 8000);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.closed).toBe(true);
  });

  it('R17 fuzz: arbitrary request bytes never crash the proxy and never reach the upstream unparsed', async () => {
    const before = up.requests.length;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.tuple(fc.constantFrom('GET', 'POST', 'CONNECT', 'PUT', 'G\u0000T'), fc.string({ maxLength: 80 }), fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })), { maxLength: 6 })).map(
            ([m, target, hs]) => `${m} ${target} HTTP/1.1\r\n${hs.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`,
          ),
        ),
        async (text) => {
          await send(text, 300);
        },
      ),
      { numRuns: 150 },
    );
    const h = await send('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(h.text).toMatch(/^HTTP\/1\.1 200/);
    expect(up.requests.length).toBe(before);
  });
});
