/** Pure pieces of the smolmachines backend: readiness backoff, the `machine ls --json` read-back, the guest env. */
import { describe, expect, it } from 'vitest';
import { guestEnv } from '../../src/backends/guest-env.js';
import { pollUntil } from '../../src/backends/poll-ready.js';
import { allowlistTook, listedMachines, recordedAllowlist } from '../../src/backends/smolmachines/machine-json.js';

describe('readiness polling', () => {
  it('doubles the delay between attempts (capped) and stops at the budget; no real time involved', async () => {
    let now = 0;
    const slept: number[] = [];
    const r = await pollUntil(async () => false, { timeoutMs: 10_000, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } });
    expect(r).toEqual({ ok: false, attempts: slept.length + 1, aborted: false });
    expect(slept.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 2000]);
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
  });

  it('returns at the first success', async () => {
    let n = 0;
    expect(await pollUntil(async () => ++n === 3, { timeoutMs: 60_000, sleep: async () => undefined })).toEqual({ ok: true, attempts: 3 });
  });
});

describe('machine ls --json read-back (fail closed on anything unexpected)', () => {
  const ls = (m: unknown) => JSON.stringify(m);
  it('finds the allowlist wherever a known field name holds it', () => {
    expect(recordedAllowlist(ls([{ name: 'bot-bottle-a', allowed_cidrs: ['127.0.0.16/32'] }]), 'bot-bottle-a')).toEqual(['127.0.0.16/32']);
    expect(recordedAllowlist(ls({ machines: [{ name: 'bot-bottle-a', network: { allowedCidrs: ['127.0.0.16/32'] } }] }), 'bot-bottle-a')).toEqual(['127.0.0.16/32']);
  });
  it('missing machine, missing field or garbage → null', () => {
    expect(recordedAllowlist(ls([{ name: 'other', allowed_cidrs: [] }]), 'bot-bottle-a')).toBeNull();
    expect(recordedAllowlist(ls([{ name: 'bot-bottle-a', net: true }]), 'bot-bottle-a')).toBeNull();
    expect(recordedAllowlist('not json', 'bot-bottle-a')).toBeNull();
  });
  it('took = exactly the alias /32', () => {
    expect(allowlistTook(['127.0.0.16/32'], '127.0.0.16')).toBe(true);
    expect(allowlistTook(['127.0.0.16/32', '0.0.0.0/0'], '127.0.0.16')).toBe(false);
    expect(allowlistTook(['127.0.0.0/8'], '127.0.0.16')).toBe(false);
    expect(allowlistTook([], '127.0.0.16')).toBe(false);
    expect(allowlistTook(null, '127.0.0.16')).toBe(false);
  });
  it('lists only bot-bottle machines, with their state', () => {
    expect(listedMachines(ls([{ name: 'bot-bottle-x', state: 'Running' }, { name: 'dev', state: 'running' }]), 'bot-bottle-')).toEqual([{ name: 'bot-bottle-x', running: true }]);
  });
});

describe('guest env', () => {
  it('rewrites only the proxy host `egress` to the IP literal and adds it to NO_PROXY', () => {
    const env = guestEnv({ HTTPS_PROXY: 'http://egress:9099', no_proxy: 'localhost', OTHER: 'http://egress:9099' }, '127.0.0.20', { X: '1' });
    expect(env).toMatchObject({ HTTPS_PROXY: 'http://127.0.0.20:9099', no_proxy: 'localhost,127.0.0.20', OTHER: 'http://egress:9099', X: '1', HOME: '/home/node', USER: 'node' });
  });
});
