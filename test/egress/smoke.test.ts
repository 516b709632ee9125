import { describe, it, expect, afterAll } from 'vitest';
import { A, SECRET0, startInProc, upstream, viaUndici } from './harness.js';

describe('smoke: intercept + Bearer injection (in-process)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });
  it('forwards through interception with injection', async () => {
    const up = await upstream();
    closers.push(up.close);
    const e = await startInProc(`  - {host: ${A}, port: ${up.port}, auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}, allow_private_cidrs: [127.0.0.0/8]}\n`);
    closers.push(e.close);
    const r = await viaUndici(e.proxy, e.caPem, `https://${A}:${up.port}/v1/x`, { headers: { authorization: 'Bearer fake' } });
    expect(r.status).toBe(200);
    expect(up.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET0}`);
  });
});
