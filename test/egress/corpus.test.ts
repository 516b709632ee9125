/**
 * The project's own egress attack corpus (issue 10, Deliver 5): ≥ 150 attacks (DLP recall classes ×
 * surfaces, push-around-the-gate, parser differentials, host-label exfiltration, WebSocket frames,
 * response prompt injection) and ≥ 100 benign requests, replayed through the REAL proxy
 * (createEgressServer on loopback, real CONNECT + TLS) against recording stand-ins. The table,
 * per-class recall, block rate and false-positive rate go to stderr; the acceptance thresholds
 * (CORPUS_THRESHOLDS) are asserted.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ATTACKS, BENIGN, CORPUS, CORPUS_THRESHOLDS, judge, replayCorpus, startCorpusEnv, summarize, type CorpusCase, type CorpusEnv, type CorpusSummary, type Verdict } from './corpus/index.js';
import { luhnValid, ibanValid } from './corpus/gen.js';
import { API, OPEN } from './corpus/hosts.js';

/**
 * Runner controls: a few attacks re-aimed at a route with DLP off must be judged as getting
 * through (the judge sees leaks), and stay out of the figures.
 */
const CONTROL_IDS = ['dlp-raw-ghp-02', 'dlp-b64-ghp-01', 'dlp-known-raw-01', 'dlp-known-reqsplit-22', 'inj-chatml-04', 'inj-disregard-09'];
const CONTROLS: CorpusCase[] = CONTROL_IDS.map((id) => {
  const c = ATTACKS.find((x) => x.id === id)!;
  const aim = <T extends { url: string }>(r: T): T => ({ ...r, url: r.url.replace(`https://${API}`, `https://${OPEN}`) });
  return { ...c, id: `control-${id}`, ...(c.request ? { request: aim(c.request) } : {}), ...(c.steps ? { steps: c.steps.map(aim) } : {}) };
});

let env: CorpusEnv;
let summary: CorpusSummary;
let controls: Verdict[];

beforeAll(async () => {
  env = await startCorpusEnv([...CORPUS, ...CONTROLS]);
  const t0 = performance.now();
  const runs = await replayCorpus(env, CORPUS, { concurrency: 8, timeoutMs: 8000 });
  summary = summarize(runs.map((r) => judge(env, r)));
  process.stderr.write(`\n${summary.report}\nreplayed ${CORPUS.length} cases in ${Math.round(performance.now() - t0)} ms\n`);
  controls = (await replayCorpus(env, CONTROLS, { concurrency: 4, timeoutMs: 8000 })).map((r) => judge(env, r));
}, 110_000);

afterAll(async () => {
  await env?.close();
});

describe('egress corpus', () => {
  it('shape: ≥ 150 attacks and ≥ 100 benign cases, unique stable ids, every surface covered', () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(150);
    expect(BENIGN.length).toBeGreaterThanOrEqual(100);
    const ids = CORPUS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9][a-z0-9-]*[0-9]{2}$/);
    const surfaces = new Set(ATTACKS.map((c) => c.surface));
    for (const s of ['path', 'query', 'header', 'body', 'host', 'ws-frame', 'response']) expect(surfaces, s).toContain(s);
    for (const c of CORPUS) expect(Number(!!c.request) + Number(!!c.steps) + Number(!!c.ws), c.id).toBe(1);
  });

  it('generated values pass their validators (fixtures are what a checksum detector accepts)', () => {
    const text = JSON.stringify(ATTACKS.filter((c) => c.class === 'card-number'));
    const cards = [...text.matchAll(/\b\d(?:[ -]?\d){14,15}\b/g)].map((m) => m[0]);
    expect(cards.length).toBeGreaterThanOrEqual(6);
    for (const n of cards) expect(luhnValid(n), n).toBe(true);
    const ibans = [...JSON.stringify(ATTACKS.filter((c) => c.class === 'iban')).matchAll(/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g)].map((m) => m[0]);
    expect(ibans.length).toBeGreaterThanOrEqual(5);
    for (const i of ibans) expect(ibanValid(i), i).toBe(true);
  });

  it('every case was replayed and produced an observation', () => {
    expect(summary.verdicts.length).toBe(CORPUS.length);
    const broken = summary.verdicts.filter((v) => v.observed.startsWith('error:'));
    expect(broken.map((v) => `${v.id}: ${v.observed}`)).toEqual([]);
  });

  it('runner control: the same attacks on a route with DLP off are judged as leaks', () => {
    expect(controls.map((v) => [v.id, v.pass, v.observed])).toEqual(controls.map((v) => [v.id, false, v.observed]));
    for (const v of controls) expect(v.observed, v.id).toMatch(/LEAKED|PAYLOAD-DELIVERED/);
  });

  it(`attack block rate ≥ ${CORPUS_THRESHOLDS.minAttackBlockRate * 100}%`, () => {
    const missed = summary.verdicts.filter((v) => v.expected === 'blocked' && !v.pass).map((v) => `${v.id} → ${v.observed}`);
    expect(summary.attackBlockRate, `attacks that got through:\n${missed.join('\n')}`).toBeGreaterThanOrEqual(CORPUS_THRESHOLDS.minAttackBlockRate);
  });

  it(`benign false positives ≤ ${CORPUS_THRESHOLDS.maxBenignFalsePositiveRate * 100}%`, () => {
    const refused = summary.verdicts.filter((v) => v.expected === 'allowed' && !v.pass).map((v) => `${v.id} → ${v.observed} ${v.detail}`);
    expect(summary.benignFalsePositiveRate, `benign cases refused or altered:\n${refused.join('\n')}`).toBeLessThanOrEqual(CORPUS_THRESHOLDS.maxBenignFalsePositiveRate);
  });
});
