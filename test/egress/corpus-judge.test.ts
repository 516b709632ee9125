/**
 * The corpus judge for request smuggling (`judge: 'smuggle'`): a case fails exactly when the origin
 * parsed a SECOND request (the smuggled request line), not when the carrier's body reached it as a
 * body. Checked against the real stand-in, fed what a proxy that forwards a DELETE body unframed
 * would send, and what a proxy that frames it sends.
 */
import tls from 'node:tls';
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { ATTACKS, judge, type CaseRun, type CorpusEnv } from './corpus/index.js';
import { startCorpusUpstream, type CorpusUpstream } from './corpus/harness-extra.js';
import { API } from './corpus/hosts.js';

const CASE = ATTACKS.find((c) => c.id === 'parse-smuggle-delete-16')!;

let up: CorpusUpstream;
beforeAll(async () => {
  up = await startCorpusUpstream([API], new Map());
});
afterAll(async () => {
  await up.close();
});

/** Sends `wire` to the stand-in over TLS and waits until the origin has answered and closed. */
function send(wire: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: up.port, servername: API, rejectUnauthorized: false }, () => s.end(wire));
    s.on('data', () => {});
    s.on('error', reject);
    s.on('close', () => setTimeout(resolve, 50));
  });
}

function runWithOneAnswer(status: number): CaseRun {
  const body = Buffer.from((CASE.request!.body as string).split('{port}').join(String(up.port)));
  return {
    c: CASE,
    steps: [{ tag: CASE.id, host: API, spec: CASE.request!, sentBody: body, sentTarget: '/v1/items/1', connect: null, answer: { status, headers: [], body: Buffer.alloc(0), outcome: 'response' } }],
    ws: null,
    error: null,
    ms: 1,
  };
}

function env(): CorpusEnv {
  return { upstream: up, lookups: [], ws: { sessions: [] } } as unknown as CorpusEnv;
}

describe('corpus judge: smuggling', () => {
  it('the smuggling cases are judged by a second request', () => {
    expect(CASE.judge).toBe('smuggle');
    expect(ATTACKS.find((c) => c.id === 'parse-smuggle-get-15')!.judge).toBe('smuggle');
  });

  it('passes when the DELETE body arrives framed (one request)', async () => {
    up.seen.length = 0;
    const body = (CASE.request!.body as string).split('{port}').join(String(up.port));
    await send(`DELETE /v1/items/1 HTTP/1.1\r\nHost: ${API}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nx-corpus-case: ${CASE.id}\r\n\r\n${body}`);
    expect(up.seen.map((r) => r.url)).toEqual(['/v1/items/1']);
    expect(judge(env(), runWithOneAnswer(200)).pass).toBe(true);
  });

  it('fails when the DELETE body is sent unframed and the origin parses the smuggled request', async () => {
    up.seen.length = 0;
    const body = (CASE.request!.body as string).split('{port}').join(String(up.port));
    await send(`DELETE /v1/items/1 HTTP/1.1\r\nHost: ${API}\r\nx-corpus-case: ${CASE.id}\r\n\r\n${body}`);
    expect(up.seen.map((r) => r.url)).toContain('/v1/smuggled-parse-smuggle-delete-16');
    const v = judge(env(), runWithOneAnswer(200));
    expect(v.pass).toBe(false);
    expect(v.observed).toContain('SMUGGLED');
  });
});
