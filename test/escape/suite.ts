/**
 * The sandbox-escape acceptance suite (docs/escape-suite.md): stand-in upstreams, one real bottle
 * on the adapter's backend, every attack of the table from inside and outside, teardown checks,
 * and the "no stand-in ever received the secret or the canary" check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { egressAttacks } from './attacks/egress.js';
import { gitAttacks } from './attacks/git.js';
import { networkAttacks } from './attacks/network.js';
import { outsideAttacks } from './attacks/outside.js';
import { processAttacks } from './attacks/process.js';
import { protocolAttacks } from './attacks/protocol.js';
import { secretAttacks } from './attacks/secrets.js';
import { encodings, makeFixture, makeSecret } from './fixture.js';
import { startStandIns } from './stand-ins.js';
import type { AfterClose, Attack, AttackContext, AttackResult, EscapeAdapter, Fixture, LaunchedBottle, StandIns, SuiteResult } from './types.js';

export const ATTACKS: readonly Attack[] = [
  ...egressAttacks, ...networkAttacks, ...secretAttacks, ...gitAttacks, ...processAttacks, ...protocolAttacks, ...outsideAttacks,
];

const BATCH = 4;
const ATTACK_TIMEOUT_MS = 120_000;

async function runOne(a: Attack, ctx: AttackContext): Promise<AttackResult> {
  const base = { id: a.id, title: a.title, expected: a.expected };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ATTACK_TIMEOUT_MS / 1000}s`)), ATTACK_TIMEOUT_MS);
    });
    const o = await Promise.race([a.run(ctx), timeout]);
    return { ...base, observed: o.observed, pass: o.pass };
  } catch (err) {
    return { ...base, observed: `error: ${(err as Error).message.split('\n')[0]}`, pass: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Concurrent batches of independent attacks, exclusive ones alone; results in table order. */
async function runPhase(attacks: readonly Attack[], ctx: AttackContext): Promise<Map<Attack, AttackResult>> {
  const out = new Map<Attack, AttackResult>();
  const shared = attacks.filter((a) => !a.exclusive);
  for (let i = 0; i < shared.length; i += BATCH) {
    const batch = shared.slice(i, i + BATCH);
    const rs = await Promise.all(batch.map((a) => runOne(a, ctx)));
    batch.forEach((a, k) => out.set(a, rs[k]!));
  }
  for (const a of attacks.filter((x) => x.exclusive)) out.set(a, await runOne(a, ctx));
  return out;
}

/**
 * Every planted marker any stand-in received. The secret is expected in exactly one place — the
 * `authorization: Bearer <secret>` header egress injects on the authenticated routes — and
 * that header is removed before the check; anywhere else it is a leak.
 */
export function upstreamLeaks(received: string, fixture: Fixture): string[] {
  const injected = new RegExp(`^authorization: Bearer ${fixture.secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\r?$`, 'gim');
  const text = received.replace(injected, '');
  const leaks: string[] = [];
  for (const [form, v] of Object.entries(encodings(fixture.secret))) if (text.includes(v)) leaks.push(`secret (${form})`);
  for (const [form, v] of Object.entries(encodings(fixture.canary))) if (text.includes(v)) leaks.push(`canary (${form})`);
  if (/AKIA[A-Z2-7]{16}/.test(text)) leaks.push('an AWS key planted by an attack');
  return leaks;
}

export async function runEscapeSuite(adapter: EscapeAdapter, opts: { onResult?(r: AttackResult): void; only?: ReadonlySet<string> } = {}): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bb-escape-'));
  const secret = makeSecret();
  let upstreams: StandIns | null = null;
  let bottle: LaunchedBottle | null = null;
  const attacks = ATTACKS.filter((a) => !opts.only || opts.only.has(a.id));
  try {
    upstreams = await startStandIns(join(dir, 'upstreams'), secret);
    const fixture = makeFixture(secret, upstreams.address, upstreams.caFile);
    bottle = await adapter.launch(fixture);
    const b = bottle;
    const seenSidecarUids = new Set<number>();
    for (const p of b.probes.sidecarProcesses()) seenSidecarUids.add(p.uid);
    const background = new Map<string, Promise<unknown>>();
    const ctx = {
      fixture, bottle: b, probes: b.probes, upstreams, seenSidecarUids, after: null as AfterClose | null,
      sh: (script: string, timeoutMs?: number) => b.exec(['/bin/sh', '-c', script], timeoutMs ? { timeoutMs } : {}),
      started: (id: string) => background.get(id),
    };
    for (const a of attacks) {
      if (a.start) background.set(a.id, a.start(ctx).catch((e: unknown) => ({ error: (e as Error).message })));
    }
    const live = await runPhase(attacks.filter((a) => (a.phase ?? 'live') === 'live'), ctx);
    live.forEach((r) => opts.onResult?.(r));
    bottle = null;
    ctx.after = await b.close();
    const after = await runPhase(attacks.filter((a) => a.phase === 'after-close'), ctx);
    after.forEach((r) => opts.onResult?.(r));
    const results = attacks.map((a) => live.get(a) ?? after.get(a)!).filter(Boolean);
    return { backend: adapter.name, results, upstreamLeaks: upstreamLeaks(upstreams.received(), fixture) };
  } finally {
    await bottle?.close().catch(() => undefined);
    await upstreams?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cell(s: string, w: number): string {
  return s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w);
}

/** The printed table: `attack | expected | observed | pass`, then `N passed, M failed`. */
export function formatTable(r: SuiteResult, width = { attack: 46, expected: 48 }): string {
  const rows = [...r.results.map((x) => ({ attack: `${x.id} ${x.title}`, expected: x.expected, observed: x.observed, pass: x.pass }))];
  rows.push({ attack: 'U no stand-in received the secret/canary', expected: 'nothing received', observed: r.upstreamLeaks.length ? `RECEIVED: ${r.upstreamLeaks.join(', ')}` : 'nothing received', pass: r.upstreamLeaks.length === 0 });
  const lines = [`${cell('attack', width.attack)} | ${cell('expected', width.expected)} | observed | pass`, `${'-'.repeat(width.attack)}-+-${'-'.repeat(width.expected)}-+-${'-'.repeat(8)}-+-----`];
  for (const x of rows) lines.push(`${cell(x.attack, width.attack)} | ${cell(x.expected, width.expected)} | ${x.observed} | ${x.pass ? 'PASS' : 'FAIL'}`);
  const passed = rows.filter((x) => x.pass).length;
  lines.push('', `${passed} passed, ${rows.length - passed} failed`);
  return lines.join('\n');
}

export function allPassed(r: SuiteResult): boolean {
  return r.results.every((x) => x.pass) && r.upstreamLeaks.length === 0;
}
