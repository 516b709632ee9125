/**
 * `npm run bench:egress` (targets and results: bench/RESULTS.md): bounded keep-alive load from
 * undici against a Node HTTPS upstream on loopback — direct, through bot-bottle egress
 * (intercepting, Bearer injection, host+path route, default DLP), and through mitmproxy 8 (Debian's
 * mitmdump) running an equivalent host allowlist + path prefix + header-inject addon — in the same
 * run. Concurrency 1 and 16; warm-up, then N requests or T seconds, whichever comes first. Prints
 * req/s, p50/p90/p99 and the ratios; a policy-free Node intercepting proxy (bench/egress-floor.ts)
 * is measured as the floor of what Node's HTTP/TLS stack costs. Egress runs compiled (dist/, as
 * users run it: `npm run build` first) and so does the floor (transpiled once, importing dist/), so
 * neither pays for tsx. Per-request CPU is each proxy process's user+system time (/proc) over the
 * requests it served. The last lines print every issue-15 egress target as met/short.
 * Setups take turns (BENCH_ROUNDS interleaved rounds) so background load on a shared machine hits
 * them alike. Knobs: BENCH_REQUESTS (20000), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
 * BENCH_ROUNDS (3), BENCH_CONCURRENCY (1,16), BENCH_BASELINE_DIST (another build's dist/, shown as
 * an `egress-before` column), BENCH_SKIP_MITM=1, BENCH_SKIP_RSS=1 (skips the memory rows, which
 * bench/egress-memory.ts measures on a fresh daemon after the rounds; its BENCH_MEM_* knobs apply),
 * BENCH_EGRESS_NODE_ARGS (given to egress and the floor alike, e.g. `--cpu-prof --cpu-prof-dir=bench/profiles`; bench/cpuprofile-top.ts reads the profiles).
 */
import 'reflect-metadata';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { transformSync } from 'esbuild';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { createTestCa } from '../test/helpers/test-ca.js';
import { createBottleCa, writeBottleCa } from '../src/egress/ca.js';
import { runEgressMemoryBench } from './egress-memory.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_REQUESTS ?? 20_000);
const T = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const WARM = Number(process.env.BENCH_WARMUP_SECONDS ?? 2) * 1000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const HOST = 'api.bench.test';
const TOKEN = 'bench-token-value-0123456789abcdef';

interface Result {
  name: string;
  c: number;
  n: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  warm: number;
}

/** user+system CPU of a process in ms, from /proc (Linux); NaN elsewhere. */
function procCpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

const children: ChildProcess[] = [];
function cleanup(): void {
  // SIGTERM first so a profiled egress (BENCH_EGRESS_NODE_ARGS=--cpu-prof) can write its profile.
  for (const c of children) if (c.exitCode === null) c.kill(process.env.BENCH_EGRESS_NODE_ARGS ? 'SIGTERM' : 'SIGKILL');
}
process.on('exit', cleanup);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, stream: 'stdout' | 'stderr'): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not become ready: ${out.slice(-2000)}`)), 60_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child[stream]!.off('data', on);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ child, match: m });
      }
    };
    child[stream]!.on('data', on);
    if (stream === 'stdout') child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out.slice(-2000)}`)));
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** One timed slice of closed-loop load: `c` workers, each issuing requests back to back. */
async function slice(dispatcher: Dispatcher, url: string, c: number, ms: number, cap: number, lat: number[] | null): Promise<{ n: number; errors: number; secs: number }> {
  let n = 0;
  let errors = 0;
  let issued = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(Array.from({ length: c }, async () => {
    while (issued < cap && performance.now() < deadline) {
      issued += 1;
      const t0 = performance.now();
      try {
        const r = await request(url, { dispatcher, headers: { authorization: 'Bearer agent-placeholder' } });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
        lat?.push(performance.now() - t0);
        n += 1;
      } catch {
        errors += 1;
      }
    }
  }));
  return { n, errors, secs: (performance.now() - start) / 1000 };
}

interface Setup {
  name: string;
  dispatcher: Dispatcher;
  url: string;
  /** The proxy process whose CPU is charged to its requests (none for direct). */
  pid?: number;
}

/**
 * Warm-up for every setup, then ROUNDS rounds in which every setup gets T/ROUNDS in turn: each
 * sees the same background load (this VM is shared), so the ratios compare like with like.
 * CPU per request counts the measured slices only.
 */
async function measure(setups: Setup[], c: number): Promise<{ results: Result[]; cpu: Map<string, number> }> {
  const warm = new Map<string, number>();
  for (const s of setups) warm.set(s.name, (await slice(s.dispatcher, s.url, c, WARM, Infinity, null)).n);
  const acc = new Map(setups.map((s) => [s.name, { lat: [] as number[], n: 0, errors: 0, secs: 0, cpuMs: 0 }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of setups) {
      const a = acc.get(s.name)!;
      const cpu0 = s.pid ? procCpuMs(s.pid) : NaN;
      const x = await slice(s.dispatcher, s.url, c, T / ROUNDS, Math.ceil(N / ROUNDS), a.lat);
      if (s.pid) a.cpuMs += procCpuMs(s.pid) - cpu0;
      a.n += x.n;
      a.errors += x.errors;
      a.secs += x.secs;
    }
  }
  const results: Result[] = [];
  const cpu = new Map<string, number>();
  for (const s of setups) {
    const a = acc.get(s.name)!;
    a.lat.sort((x, y) => x - y);
    results.push({ name: s.name, c, n: a.n, rps: a.n / a.secs, p50: pct(a.lat, 50), p90: pct(a.lat, 90), p99: pct(a.lat, 99), errors: a.errors, warm: warm.get(s.name) ?? 0 });
    if (s.pid) cpu.set(s.name, (a.cpuMs * 1000) / a.n);
  }
  return { results, cpu };
}

interface Target {
  what: string;
  figure: string;
  /** null: not measured in this run (level or column skipped). */
  met: boolean | null;
}

/** The issue-15 egress rows, each judged against a baseline measured in the same run. */
function targets(levels: number[], results: Result[], egressCpu: Array<{ c: number; usPerReq: number }>, floorCpu: Array<{ c: number; usPerReq: number }>): Target[] {
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const get = (name: string, c: number) => results.find((r) => r.name === name && r.c === c);
  const out: Target[] = [];
  for (const c of [1, 16]) {
    const e = egressCpu.find((x) => x.c === c);
    const fl = floorCpu.find((x) => x.c === c);
    const ratio = e && fl ? e.usPerReq / fl.usPerReq : NaN;
    out.push({ what: `CPU per request vs the Node floor at c=${c} (≤ 1.3x)`, figure: levels.includes(c) ? `${f(ratio, 2)}x (${f(e?.usPerReq ?? NaN, 0)} vs ${f(fl?.usPerReq ?? NaN, 0)} µs)` : 'not run', met: Number.isFinite(ratio) ? ratio <= 1.3 : null });
  }
  const e16 = get('egress', 16);
  const f16 = get('node-floor', 16);
  const tp = e16 && f16 ? e16.rps / f16.rps : NaN;
  out.push({ what: 'throughput vs the Node floor at c=16 (≥ 85 %)', figure: `${f(tp * 100, 1)} % (${f(e16?.rps ?? NaN, 0)} vs ${f(f16?.rps ?? NaN, 0)} req/s)`, met: Number.isFinite(tp) ? tp >= 0.85 : null });
  const e1 = get('egress', 1);
  const d1 = get('direct', 1);
  const over = e1 && d1 ? e1.p50 - d1.p50 : NaN;
  out.push({ what: 'p50 overhead at c=1, keep-alive, intercepted (≤ 0.3 ms)', figure: `${f(over, 3)} ms`, met: Number.isFinite(over) ? over <= 0.3 : null });
  for (const c of [1, 16]) {
    const e = get('egress', c);
    const m = get('mitmproxy', c);
    const r = e && m ? e.rps / m.rps : NaN;
    out.push({ what: `throughput vs mitmproxy 8 at c=${c} (≥ 6x)`, figure: m ? `${f(r, 2)}x` : 'mitmproxy not run', met: Number.isFinite(r) ? r >= 6 : null });
  }
  return out;
}

const MITM_ADDON = `
from mitmproxy import http
ALLOWED = {"${HOST}"}
TOKEN = "${TOKEN}"
class Policy:
    def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.pretty_host not in ALLOWED or not (flow.request.path == "/v1" or flow.request.path.startswith("/v1/")):
            flow.response = http.Response.make(403, b"denied", {"content-type": "text/plain"})
            return
        flow.request.headers.pop("proxy-authorization", None)
        flow.request.headers["authorization"] = "Bearer " + TOKEN
        # The stand-in name is not in DNS: connect to loopback like egress's EGRESS_RESOLVE does.
        flow.request.host = "127.0.0.1"
        flow.request.host_header = HOST
addons = [Policy()]
`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bb-bench-egress-'));
  try {
    // Upstream with its own CA (trusted by the direct client, egress and mitmproxy alike).
    const upCa = await createTestCa('bench upstream CA');
    const leaf = await upCa.issue([HOST, 'localhost', '127.0.0.1']);
    await writeFile(join(dir, 'up-ca.pem'), upCa.certPem);
    await writeFile(join(dir, 'up-cert.pem'), leaf.certPem);
    await writeFile(join(dir, 'up-key.pem'), leaf.keyPem);
    const tsx = ['--import', 'tsx'];
    const egressMain = join(ROOT, 'dist', 'egress', 'main.js');
    if (!existsSync(egressMain)) throw new Error('dist/egress/main.js missing: run `npm run build` first (the bench runs the compiled daemon)');
    // The floor, transpiled once and pointed at the compiled modules: no tsx in either proxy.
    // Inside the repo (.bench-tmp/, ignored) so its bare imports resolve from node_modules.
    await mkdir(join(ROOT, '.bench-tmp'), { recursive: true });
    const floorJs = join(ROOT, '.bench-tmp', `egress-floor-${process.pid}.mjs`);
    const floorSrc = transformSync(readFileSync(join(ROOT, 'bench', 'egress-floor.ts'), 'utf8'), { loader: 'ts', format: 'esm' }).code;
    await writeFile(floorJs, floorSrc.replaceAll("'../src/egress/", `'${join(ROOT, 'dist', 'egress')}/`).replaceAll('"../src/egress/', `"${join(ROOT, 'dist', 'egress')}/`));
    const up = await startChild(process.execPath, [...tsx, join(ROOT, 'bench', 'egress-upstream.ts')], { ...process.env, BENCH_CERT: join(dir, 'up-cert.pem'), BENCH_KEY: join(dir, 'up-key.pem') }, /^(\d+)\n/m, 'stdout');
    const upPort = Number(up.match[1]);

    // bot-bottle egress as its own process, exactly as the sidecar runs it.
    const bottle = await createBottleCa('bench', new Date());
    const { certPath, keyPath } = await writeBottleCa(join(dir, 'egress'), bottle);
    const routes = join(dir, 'routes.yaml');
    await writeFile(routes, `version: 1\ngeneration: 1\nbottle: bench\nlog: 0\nroutes:\n  - host: ${HOST}\n    port: ${upPort}\n    matches: [{paths: [{type: prefix, value: /v1}]}]\n    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}\n    allow_private_cidrs: [127.0.0.0/8]\n    dlp: {outbound_detectors: [token_patterns, known_secrets], inbound_detectors: [naive_injection_detection], outbound_on_match: block}\n`);
    const egressEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      EGRESS_ROUTES: routes,
      EGRESS_LISTEN: '127.0.0.1:0',
      EGRESS_CA_CERT: certPath,
      EGRESS_CA_KEY: keyPath,
      EGRESS_AUDIT_PATH: join(dir, 'audit.jsonl'),
      EGRESS_UPSTREAM_CA_FILE: join(dir, 'up-ca.pem'),
      EGRESS_RESOLVE: `${HOST}=127.0.0.1`,
      EGRESS_TOKEN_0: TOKEN,
      EGRESS_TOKEN_CANARY: 'bench-canary-value-Zx8Yw7Vu6Ts5Rq4',
      BOT_BOTTLE_SLUG: 'bench',
      SUPERVISE_INTERNAL_SOCKET: join(dir, 'none.sock'),
      // The 1000-tunnel RSS figure needs more than the default 256 client connections.
      EGRESS_MAX_CLIENT_CONNECTIONS: '1100',
    };
    const eg = await startChild(process.execPath, [...(process.env.BENCH_EGRESS_NODE_ARGS ?? '').split(' ').filter(Boolean), egressMain], egressEnv, /"event":"egress_boot"[^\n]*"listen":"[^"]*:(\d+)"/, 'stderr');
    const egPort = Number(eg.match[1]);
    // BENCH_BASELINE_DIST: another build's dist/ (e.g. the commit before an optimisation) as an
    // extra `egress-before` column, measured interleaved with this one: a before/after under the
    // same background load.
    let before: { port: number; pid: number } | null = null;
    if (process.env.BENCH_BASELINE_DIST) {
      const b = await startChild(process.execPath, [join(process.env.BENCH_BASELINE_DIST, 'egress', 'main.js')], { ...egressEnv, EGRESS_AUDIT_PATH: join(dir, 'audit-before.jsonl') }, /"event":"egress_boot"[^\n]*"listen":"[^"]*:(\d+)"/, 'stderr');
      before = { port: Number(b.match[1]), pid: b.child.pid! };
    }

    // Reference floor: a policy-free Node intercepting proxy (bench/egress-floor.ts).
    const floor = await startChild(process.execPath, [...(process.env.BENCH_EGRESS_NODE_ARGS ?? '').split(' ').filter(Boolean), floorJs], {
      PATH: process.env.PATH,
      EGRESS_CA_CERT: certPath,
      EGRESS_CA_KEY: keyPath,
      EGRESS_UPSTREAM_CA_FILE: join(dir, 'up-ca.pem'),
    }, /"event":"egress_boot"[^\n]*"listen":"[^"]*:(\d+)"/, 'stderr');
    const floorPort = Number(floor.match[1]);
    // Profiles are named by pid: say which is which.
    if (process.env.BENCH_EGRESS_NODE_ARGS) process.stderr.write(`egress pid ${eg.child.pid}, node-floor pid ${floor.child.pid}\n`);

    // mitmproxy 8 with the equivalent addon.
    let mitmPort = 0;
    let mitmCa = '';
    const haveMitm = process.env.BENCH_SKIP_MITM !== '1' && spawnSync('sh', ['-c', 'command -v mitmdump'], { stdio: 'ignore' }).status === 0;
    if (haveMitm) {
      mitmPort = await freePort();
      const addon = join(dir, 'policy.py');
      await writeFile(addon, MITM_ADDON);
      const conf = join(dir, 'mitm');
      await startChild('mitmdump', ['-q', '--listen-host', '127.0.0.1', '--listen-port', String(mitmPort), '--set', `confdir=${conf}`, '--set', `ssl_verify_upstream_trusted_ca=${join(dir, 'up-ca.pem')}`, '--set', 'connection_strategy=lazy', '-s', addon], { ...process.env, HOME: dir }, /./, 'stderr').catch(async (e: unknown) => {
        // mitmdump -q prints nothing when healthy: fall back to polling the port.
        void e;
      });
      for (let i = 0; i < 100 && !existsSync(join(conf, 'mitmproxy-ca-cert.pem')); i++) await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((r) => {
          const s = net.connect(mitmPort, '127.0.0.1', () => (s.destroy(), r(true)));
          s.on('error', () => r(false));
        });
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      mitmCa = await readFile(join(conf, 'mitmproxy-ca-cert.pem'), 'utf8');
    } else {
      process.stderr.write('mitmproxy not found (apt-get install mitmproxy) or BENCH_SKIP_MITM=1: skipping the mitmproxy column\n');
    }

    const url = `https://${HOST}:${upPort}/v1/bench`;
    const egressCpu: Array<{ c: number; usPerReq: number }> = [];
    const floorCpu: Array<{ c: number; usPerReq: number }> = [];
    const beforeCpu: Array<{ c: number; usPerReq: number }> = [];
    const results: Result[] = [];
    const levels = (process.env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number);
    for (const c of levels) {
      const via = (port: number, ca: string) => new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca }, connections: c } as never);
      const setups: Setup[] = [
        { name: 'direct', dispatcher: new Agent({ connect: { ca: upCa.certPem }, connections: c, pipelining: 1 }), url: `https://127.0.0.1:${upPort}/v1/bench` },
        { name: 'egress', dispatcher: via(egPort, bottle.certPem), url, pid: eg.child.pid! },
        ...(before ? [{ name: 'egress-before', dispatcher: via(before.port, bottle.certPem), url, pid: before.pid }] : []),
        { name: 'node-floor', dispatcher: via(floorPort, bottle.certPem), url, pid: floor.child.pid! },
        ...(haveMitm ? [{ name: 'mitmproxy', dispatcher: via(mitmPort, mitmCa), url }] : []),
      ];
      const m = await measure(setups, c);
      results.push(...m.results);
      egressCpu.push({ c, usPerReq: m.cpu.get('egress') ?? NaN });
      floorCpu.push({ c, usPerReq: m.cpu.get('node-floor') ?? NaN });
      if (before) beforeCpu.push({ c, usPerReq: m.cpu.get('egress-before') ?? NaN });
      for (const s of setups) await s.dispatcher.close();
    }

    const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    const lines: string[] = [];
    lines.push(`egress bench: ${N} requests or ${T / 1000} s per setup in ${ROUNDS} interleaved rounds, after ${WARM / 1000} s warm-up; compiled egress (dist/); node ${process.version}; ${new Date().toISOString()}`);
    lines.push('| setup | c | requests | req/s | p50 ms | p90 ms | p99 ms | errors |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const r of results) lines.push(`| ${r.name} | ${r.c} | ${r.n} | ${f(r.rps, 0)} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${r.errors} |`);
    for (const c of levels) {
      const d = results.find((r) => r.name === 'direct' && r.c === c)!;
      const e = results.find((r) => r.name === 'egress' && r.c === c)!;
      const m = results.find((r) => r.name === 'mitmproxy' && r.c === c);
      lines.push(`c=${c}: egress p50 overhead ${f(e.p50 - d.p50)} ms; egress/direct throughput ${f((e.rps / d.rps) * 100, 1)} %${m ? `; egress/mitmproxy throughput ${f(e.rps / m.rps, 2)}x` : ''}`);
    }
    for (const x of egressCpu) {
      const fl = floorCpu.find((y) => y.c === x.c);
      const b = beforeCpu.find((y) => y.c === x.c);
      lines.push(`egress process CPU per proxied request at c=${x.c}: ${f(x.usPerReq, 0)} µs (policy-free Node floor: ${fl ? f(fl.usPerReq, 0) : 'n/a'} µs, ratio ${fl ? f(x.usPerReq / fl.usPerReq, 2) : 'n/a'}x${b && fl ? `; egress-before ${f(b.usPerReq, 0)} µs, ratio ${f(b.usPerReq / fl.usPerReq, 2)}x` : ''}; user+system over the measured slices)`);
    }
    lines.push(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${process.env.BENCH_EGRESS_NODE_ARGS ? `egress node args: ${process.env.BENCH_EGRESS_NODE_ARGS}` : 'no profiler'})`);
    // Memory rows: a fresh daemon of their own (bench/egress-memory.ts), so the RSS figures do
    // not depend on what the throughput rounds above left in the heap.
    const mem = process.env.BENCH_SKIP_RSS === '1' ? null : await runEgressMemoryBench();
    if (mem) lines.push('', 'egress memory (bench/egress-memory.ts):', ...mem.lines.filter((l) => !mem.verdicts.includes(l)));
    lines.push('issue-15 egress targets:');
    for (const t of targets(levels, results, egressCpu, floorCpu)) lines.push(`  ${t.met === null ? 'n/a  ' : t.met ? 'met  ' : 'short'} ${t.what}: ${t.figure}`);
    for (const v of mem?.verdicts ?? []) lines.push(`  ${v.endsWith(': met') ? 'met  ' : 'short'} ${v.replace(/: (met|short)$/, '')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    cleanup();
    await rm(dir, { recursive: true, force: true });
    await rm(join(ROOT, '.bench-tmp', `egress-floor-${process.pid}.mjs`), { force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    cleanup();
    process.exit(1);
  },
);
