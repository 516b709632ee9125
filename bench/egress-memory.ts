/**
 * `npm run bench:egress-memory` (results: bench/RESULTS.md, `## Egress memory`): the resident
 * memory of the COMPILED egress daemon, started the way the sidecar supervisor starts it
 * (`node dist/cli/main.js sidecar egress` with the env of buildChildEnv, so with the egress node
 * flags of src/sidecar/node-flags.ts), against a loopback TLS upstream. Three readings per proxy:
 * idle after boot, after a bounded keep-alive load, and with 1000 idle intercepted tunnels open
 * (CONNECT + TLS handshake + one request each). Baselines in the same run: a bare `node -e` idle
 * process and the policy-free floor proxy (bench/egress-floor.ts, run under tsx as it is).
 * No forced GC anywhere: RSS is what the kernel charges the process.
 *
 * Knobs: BENCH_MEM_REQUESTS (5000), BENCH_MEM_CONCURRENCY (16), BENCH_MEM_TUNNELS (1000),
 * BENCH_MEM_SETTLE_MS (2000), BENCH_MEM_QUIET_MS (15000: the extra "after load, quiet" reading,
 * once V8's memory reducer has had time to run; 0 skips it), BENCH_MEM_SKIP_FLOOR=1,
 * BENCH_EGRESS_EXTRA_ENV ("NAME=value,…" added to the daemon's env, for experiments), BENCH_EGRESS_NODE_OPTIONS (replaces the
 * daemon's NODE_OPTIONS, e.g. "" for V8 defaults, to measure a flag's effect),
 * BENCH_MEM_SNAPSHOT_DIR (diagnostics: a V8 heap snapshot of egress after each reading is written
 * there; a snapshot forces a full GC, so the readings after the first are no longer comparable).
 * `runEgressMemoryBench()` is exported for bench/egress.ts; run directly it prints the table.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProxyAgent, request } from 'undici';
import { createBottleCa, writeBottleCa } from '../src/egress/ca.js';
import { buildChildEnv } from '../src/sidecar/daemons.js';
import { createTestCa } from '../test/helpers/test-ca.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = 'api.bench.test';
const TOKEN = 'bench-token-value-0123456789abcdef';
const MB = 1024 * 1024;

/** Targets of issue 15 (MB = MiB of VmRSS). */
export const EGRESS_RSS_TARGETS = { afterLoad: 64, tunnels: 96 } as const;

export interface MemoryReading {
  /** VmRSS, RssAnon (heap, malloc, stacks) and RssFile (the node binary's mapped pages), MiB. */
  rss: number;
  anon: number;
  file: number;
  /** process.memoryUsage() inside the daemon (egress only; MiB), when it answered. */
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  arrayBuffers?: number;
}

export interface MemoryRow {
  name: string;
  phase: 'idle' | 'after load' | 'after load, quiet' | 'tunnels';
  reading: MemoryReading;
  note?: string;
}

export interface EgressMemoryResult {
  rows: MemoryRow[];
  /** The met/short lines, last lines of the printout. */
  verdicts: string[];
  lines: string[];
}

export interface EgressMemoryOptions {
  requests?: number;
  concurrency?: number;
  tunnels?: number;
  settleMs?: number;
  quietMs?: number;
  skipFloor?: boolean;
  /** Replaces the daemon's NODE_OPTIONS (undefined: as the supervisor sets them). */
  nodeOptions?: string;
}

function status(pid: number): MemoryReading {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}

/**
 * A preload that makes the daemon answer SIGUSR2 with one stderr line of process.memoryUsage():
 * cheap (one listener, nothing retained) and the only way to see the V8 heap from outside. With
 * `--expose-gc` in BENCH_EGRESS_NODE_OPTIONS it first runs a full GC (diagnostics: the readings
 * then show what live data costs, without garbage).
 */
const PROBE = `data:text/javascript,${encodeURIComponent(
  "process.on('SIGUSR2',()=>{if(globalThis.gc)globalThis.gc();const m=process.memoryUsage();process.stderr.write(JSON.stringify({event:'bench_memory',heapUsed:m.heapUsed,heapTotal:m.heapTotal,external:m.external,arrayBuffers:m.arrayBuffers})+'\\n')})",
)}`;

interface Child {
  child: ChildProcess;
  match: RegExpExecArray;
  /** Everything on stderr since the last call. */
  take(): string;
}

function startChild(children: ChildProcess[], cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, stream: 'stdout' | 'stderr'): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    let done = false;
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not become ready: ${(out + err).slice(-2000)}`)), 60_000);
    const check = () => {
      const m = ready.exec(stream === 'stdout' ? out : err);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        err = '';
        const take = () => {
          const s = err;
          err = '';
          return s;
        };
        resolve({ child, match: m, take });
      }
    };
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      check();
    });
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.length > 1 << 20) err = err.slice(-(1 << 16));
      check();
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`${cmd} exited ${code}: ${(out + err).slice(-2000)}`));
    });
  });
}

async function heapOf(c: Child): Promise<Partial<MemoryReading>> {
  c.take();
  c.child.kill('SIGUSR2');
  let text = '';
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 25));
    text += c.take();
    const m = /\{"event":"bench_memory"[^\n]*\}/.exec(text);
    if (m) {
      const j = JSON.parse(m[0]) as Record<string, number>;
      return { heapUsed: j.heapUsed! / MB, heapTotal: j.heapTotal! / MB, external: j.external! / MB, arrayBuffers: j.arrayBuffers! / MB };
    }
  }
  return {};
}

async function load(proxyPort: number, caPem: string, url: string, n: number, c: number): Promise<number> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, requestTls: { ca: caPem }, connections: c } as never);
  let issued = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (issued < n) {
      issued += 1;
      try {
        const r = await request(url, { dispatcher: agent, headers: { authorization: 'Bearer agent-placeholder' } });
        await r.body.dump();
        if (r.statusCode !== 200) errors += 1;
      } catch {
        errors += 1;
      }
    }
  }));
  await agent.close();
  return errors;
}

/** Opens `count` intercepted tunnels through the proxy, each with one request answered; left idle. */
async function openTunnels(proxyPort: number, caPem: string, upPort: number, count: number): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  const open = async (): Promise<void> => {
    const raw = net.connect(proxyPort, '127.0.0.1');
    await new Promise<void>((res, rej) => (raw.once('connect', () => res()), raw.once('error', rej)));
    raw.write(`CONNECT ${HOST}:${upPort} HTTP/1.1\r\nHost: ${HOST}:${upPort}\r\n\r\n`);
    await new Promise<void>((res, rej) => (raw.once('data', () => res()), raw.once('close', () => rej(new Error('tunnel refused')))));
    const t = tls.connect({ socket: raw, ca: caPem, servername: HOST, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((res, rej) => (t.once('secureConnect', () => res()), t.once('error', rej)));
    t.write(`GET /v1/idle HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    await new Promise<void>((res, rej) => (t.once('data', () => res()), t.once('close', () => rej(new Error('tunnel closed')))));
    t.on('error', () => undefined);
    sockets.push(t);
  };
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: Math.min(50, count - i) }, open));
  return sockets;
}

/** user+system CPU of a process in ms (/proc/<pid>/stat, 100 Hz ticks). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runEgressMemoryBench(o: EgressMemoryOptions = {}): Promise<EgressMemoryResult> {
  const n = o.requests ?? Number(process.env.BENCH_MEM_REQUESTS ?? 5000);
  const c = o.concurrency ?? Number(process.env.BENCH_MEM_CONCURRENCY ?? 16);
  const tunnels = o.tunnels ?? Number(process.env.BENCH_MEM_TUNNELS ?? 1000);
  const settle = o.settleMs ?? Number(process.env.BENCH_MEM_SETTLE_MS ?? 2000);
  const quiet = o.quietMs ?? Number(process.env.BENCH_MEM_QUIET_MS ?? 15_000);
  const skipFloor = o.skipFloor ?? process.env.BENCH_MEM_SKIP_FLOOR === '1';
  const nodeOptions = o.nodeOptions ?? process.env.BENCH_EGRESS_NODE_OPTIONS;
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run "npm run build" first');

  const children: ChildProcess[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'bb-bench-egress-mem-'));
  const rows: MemoryRow[] = [];
  try {
    const upCa = await createTestCa('bench upstream CA');
    const leaf = await upCa.issue([HOST, 'localhost', '127.0.0.1']);
    await writeFile(join(dir, 'up-ca.pem'), upCa.certPem);
    await writeFile(join(dir, 'up-cert.pem'), leaf.certPem);
    await writeFile(join(dir, 'up-key.pem'), leaf.keyPem);
    const tsx = ['--import', 'tsx'];
    const up = await startChild(children, process.execPath, [...tsx, join(ROOT, 'bench', 'egress-upstream.ts')], { ...process.env, BENCH_CERT: join(dir, 'up-cert.pem'), BENCH_KEY: join(dir, 'up-key.pem') }, /^(\d+)\n/m, 'stdout');
    const upPort = Number(up.match[1]);
    const url = `https://${HOST}:${upPort}/v1/bench`;

    // Baseline 1: a bare node process, idle.
    const bare = await startChild(children, process.execPath, ['-e', "process.stdout.write('up\\n');setInterval(()=>{},1e9)"], { PATH: process.env.PATH }, /^up\n/m, 'stdout');
    await sleep(settle);
    rows.push({ name: 'node -e (bare)', phase: 'idle', reading: status(bare.child.pid!) });
    bare.child.kill('SIGKILL');

    const bottle = await createBottleCa('bench', new Date());
    const { certPath, keyPath } = await writeBottleCa(join(dir, 'egress'), bottle);
    const routes = join(dir, 'routes.yaml');
    await writeFile(routes, `version: 1\ngeneration: 1\nbottle: bench\nlog: 0\nroutes:\n  - host: ${HOST}\n    port: ${upPort}\n    matches: [{paths: [{type: prefix, value: /v1}]}]\n    auth: {scheme: Bearer, token_env: EGRESS_TOKEN_0}\n    allow_private_cidrs: [127.0.0.0/8]\n    dlp: {outbound_detectors: [token_patterns, known_secrets], inbound_detectors: [naive_injection_detection], outbound_on_match: block}\n`);
    const boot = /"event":"egress_boot"[^\n]*"listen":"[^"]*:(\d+)"/;

    // The daemon exactly as the supervisor spawns it: its env comes from buildChildEnv.
    const env: NodeJS.ProcessEnv = buildChildEnv({
      daemon: 'egress',
      parentEnv: {
        PATH: process.env.PATH,
        BOT_BOTTLE_SLUG: 'bench',
        EGRESS_ROUTES: routes,
        EGRESS_LISTEN: '127.0.0.1:0',
        EGRESS_CA_CERT: certPath,
        EGRESS_CA_KEY: keyPath,
        EGRESS_AUDIT_PATH: join(dir, 'audit.jsonl'),
        EGRESS_UPSTREAM_CA_FILE: join(dir, 'up-ca.pem'),
        EGRESS_RESOLVE: `${HOST}=127.0.0.1`,
        SUPERVISE_INTERNAL_SOCKET: join(dir, 'none.sock'),
        // 1000 tunnels need more than the default 256 client connections.
        EGRESS_MAX_CLIENT_CONNECTIONS: String(tunnels + 100),
      },
      secrets: { EGRESS_TOKEN_0: TOKEN, EGRESS_TOKEN_CANARY: 'bench-canary-value-Zx8Yw7Vu6Ts5Rq4' },
    });
    if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
    for (const kv of (process.env.BENCH_EGRESS_EXTRA_ENV ?? '').split(',').filter(Boolean)) {
      const i = kv.indexOf('=');
      env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const snapDir = process.env.BENCH_MEM_SNAPSHOT_DIR;
    const snapArgs = snapDir ? ['--heapsnapshot-signal=SIGPWR', `--diagnostic-dir=${snapDir}`] : [];
    const eg = await startChild(children, process.execPath, [...snapArgs, '--import', PROBE, main, 'sidecar', 'egress'], env, boot, 'stderr');
    const egPort = Number(eg.match[1]);

    let floor: Child | null = null;
    if (!skipFloor) {
      floor = await startChild(children, process.execPath, [...tsx, join(ROOT, 'bench', 'egress-floor.ts')], {
        PATH: process.env.PATH,
        EGRESS_CA_CERT: certPath,
        EGRESS_CA_KEY: keyPath,
        EGRESS_UPSTREAM_CA_FILE: join(dir, 'up-ca.pem'),
      }, boot, 'stderr');
    }
    const floorPort = floor ? Number(floor.match[1]) : 0;

    const read = async (name: string, ch: Child, phase: MemoryRow['phase'], note?: string) => {
      // The heap probe first: in a diagnostic run it collects garbage before VmRSS is read.
      const heap = name === 'egress' ? await heapOf(ch) : {};
      rows.push({ name, phase, reading: { ...status(ch.child.pid!), ...heap }, ...(note ? { note } : {}) });
      if (snapDir && name === 'egress') {
        ch.child.kill('SIGPWR');
        await sleep(8000);
      }
    };
    await sleep(settle);
    await read('egress', eg, 'idle');
    if (floor) await read('node-floor (tsx)', floor, 'idle');

    // CPU per request during the load shows what a heap flag costs (a smaller young generation
    // means more scavenges).
    const loadNote = async (pid: number, port: number) => {
      const cpu0 = cpuMs(pid);
      const errs = await load(port, bottle.certPem, url, n, c);
      return `${n} req, c=${c}, ${errs} errors, ${(((cpuMs(pid) - cpu0) * 1000) / n).toFixed(0)} µs CPU/req`;
    };
    const egLoad = await loadNote(eg.child.pid!, egPort);
    await sleep(settle);
    await read('egress', eg, 'after load', egLoad);
    if (floor) {
      const floorLoad = await loadNote(floor.child.pid!, floorPort);
      await sleep(settle);
      await read('node-floor (tsx)', floor, 'after load', floorLoad);
    }
    if (quiet > 0) {
      await sleep(quiet);
      await read('egress', eg, 'after load, quiet', `${((quiet + settle) / 1000).toFixed(0)} s after the load`);
      if (floor) await read('node-floor (tsx)', floor, 'after load, quiet', '');
    }

    const egTunnels = await openTunnels(egPort, bottle.certPem, upPort, tunnels);
    await sleep(settle + 1000);
    await read('egress', eg, 'tunnels', `${egTunnels.length} idle intercepted tunnels`);
    for (const t of egTunnels) t.destroy();
    if (floor) {
      const fTunnels = await openTunnels(floorPort, bottle.certPem, upPort, tunnels);
      await sleep(settle + 1000);
      await read('node-floor (tsx)', floor, 'tunnels', `${fTunnels.length} idle intercepted tunnels`);
      for (const t of fTunnels) t.destroy();
    }
    return format(rows, env.NODE_OPTIONS ?? '');
  } finally {
    for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

function format(rows: MemoryRow[], nodeOptions: string): EgressMemoryResult {
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(1));
  const bare = rows.find((r) => r.name.startsWith('node -e'))!.reading.rss;
  const lines: string[] = [];
  lines.push(`egress memory bench: node ${process.version}; egress NODE_OPTIONS="${nodeOptions}"; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${new Date().toISOString()}`);
  lines.push('| process | phase | VmRSS MiB | × bare node | RssAnon | RssFile | V8 heap used / total | external (buffers) | note |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const m = r.reading;
    const heap = m.heapUsed === undefined ? '–' : `${f(m.heapUsed)} / ${f(m.heapTotal)}`;
    const ext = m.external === undefined ? '–' : `${f(m.external)} (${f(m.arrayBuffers)})`;
    lines.push(`| ${r.name} | ${r.phase} | ${f(m.rss)} | ${(m.rss / bare).toFixed(2)} | ${f(m.anon)} | ${f(m.file)} | ${heap} | ${ext} | ${r.note ?? ''} |`);
  }
  const eg = (phase: MemoryRow['phase']) => rows.find((r) => r.name === 'egress' && r.phase === phase)?.reading.rss ?? NaN;
  const verdict = (what: string, got: number, target: number) => `${what}: ${f(got)} MiB (target ≤ ${target} MiB): ${got <= target ? 'met' : 'short'}`;
  const verdicts = [
    verdict('egress RSS after load', eg('after load'), EGRESS_RSS_TARGETS.afterLoad),
    verdict('egress RSS with 1000 idle intercepted tunnels', eg('tunnels'), EGRESS_RSS_TARGETS.tunnels),
  ];
  lines.push(...verdicts);
  return { rows, verdicts, lines };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runEgressMemoryBench().then(
    (r) => {
      process.stdout.write(`${r.lines.join('\n')}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
