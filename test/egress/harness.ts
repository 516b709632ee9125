/**
 * Test harness for egress integration tests: an in-process egress (createEgressServer) or a real
 * child process (src/egress/main.ts), a bottle CA, loopback TLS upstreams with their own CA, and
 * clients (curl, undici ProxyAgent, raw CONNECT).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { createBottleCa, loadCa, writeBottleCa, type LoadedCa } from '../../src/egress/ca.js';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { compileRouteTable } from '../../src/egress/route-table.js';
import { createEgressServer, type EgressServer, type EgressServerOptions } from '../../src/egress/server.js';
import { memoryAudit, type AuditRecord } from '../../src/egress/log.js';
import { createTestCa, type TestCa } from '../helpers/test-ca.js';
import { startTlsUpstream, type Handler, type TlsUpstream } from '../helpers/tls-upstream.js';
import { REPO_ROOT } from '../helpers/cli.js';

export const A = 'api.example.test';
export const SECRET0 = 'egress-slot0-SECRET-value-7f3a9c2e51';
export const CANARY = 'CaNaRy-b64url-Zq3xV9mK2pL8wR4tY6uI0oP1';

let sharedUpstreamCa: Promise<TestCa> | undefined;
export function upstreamCa(): Promise<TestCa> {
  sharedUpstreamCa ??= createTestCa('egress-test upstream CA');
  return sharedUpstreamCa;
}

let sharedBottleCa: Promise<{ pem: { certPem: string; keyPem: string }; loaded: LoadedCa }> | undefined;
export function bottleCa() {
  sharedBottleCa ??= (async () => {
    const pem = await createBottleCa('test-bottle', new Date());
    return { pem, loaded: await loadCa(pem) };
  })();
  return sharedBottleCa;
}

export async function upstream(handler?: Handler, names: string[] = [A, 'git.test', 'plain.test', 'a.b.cdn.test', 'api.x.test', 'www.x.test', 'pinned.test', '127.0.0.1', 'localhost']): Promise<TlsUpstream> {
  return startTlsUpstream({ ca: await upstreamCa(), names, ...(handler ? { handler } : {}) });
}

export function routesYaml(routes: string, log = 0, generation = 1): string {
  return `version: 1\ngeneration: ${generation}\nbottle: test-bottle\nlog: ${log}\nroutes:\n${routes}`;
}

export interface InProc {
  egress: EgressServer;
  port: number;
  proxy: string;
  logs: string[];
  audit: AuditRecord[];
  caPem: string;
  lookups: string[];
  close(): Promise<void>;
}

export async function startInProc(routes: string, over: Partial<EgressServerOptions> & { log?: 0 | 1 | 2; resolve?: Record<string, string[]> } = {}): Promise<InProc> {
  const ca = await bottleCa();
  const up = await upstreamCa();
  const table = compileRouteTable(parseRoutesFile(routesYaml(routes, over.log ?? 2)));
  const logs: string[] = [];
  const audit = memoryAudit();
  const lookups: string[] = [];
  const resolveMap = new Map<string, string[]>(Object.entries(over.resolve ?? { [A]: ['127.0.0.1'], 'git.test': ['127.0.0.1'], 'plain.test': ['127.0.0.1'], 'b.cdn.test': ['127.0.0.1'], 'a.b.cdn.test': ['127.0.0.1'], 'api.x.test': ['127.0.0.1'], 'www.x.test': ['127.0.0.1'], 'pinned.test': ['127.0.0.1'] }));
  const egress = createEgressServer({
    table,
    ca: ca.loaded,
    bottle: 'test-bottle',
    tokens: { EGRESS_TOKEN_0: SECRET0 },
    canary: CANARY,
    logSink: (l) => void logs.push(l),
    audit,
    resolveMap,
    onLookup: (h) => void lookups.push(h),
    upstreamCaPem: up.certPem,
    ...over,
  });
  const addr = await egress.listen(0, '127.0.0.1');
  return {
    egress,
    port: addr.port,
    proxy: `http://127.0.0.1:${addr.port}`,
    logs,
    audit: audit.records,
    caPem: ca.pem.certPem,
    lookups,
    close: () => egress.destroy(),
  };
}

export interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function viaUndici(proxy: string, caPem: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Resp> {
  const dispatcher = new ProxyAgent({ uri: proxy, requestTls: { ca: caPem } });
  try {
    const r = await request(url, { dispatcher, method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {}, body: init.body ?? null });
    return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
  } catch (e) {
    const err = e as { cause?: { statusCode?: number }; statusCode?: number; message: string };
    throw err;
  } finally {
    await dispatcher.close();
  }
}

/** Raw CONNECT: returns the status line and head of the proxy's answer. */
export function rawConnect(port: number, authority: string): Promise<{ status: number; text: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.removeAllListeners('data');
        const status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf)?.[1] ?? 0);
        if (status === 200) return resolve({ status, text: buf, socket: s });
        s.on('data', (c2: Buffer) => (buf += c2.toString('latin1')));
        s.on('end', () => resolve({ status, text: buf, socket: s }));
        s.on('close', () => resolve({ status, text: buf, socket: s }));
      }
    });
    s.on('error', reject);
  });
}

/** CONNECT + TLS to the proxy's leaf; sends one raw HTTP/1.1 request and returns the raw answer. */
export async function tunnelRaw(port: number, authority: string, caPem: string, requestText: string, servername?: string): Promise<{ text: string; peerCert: tls.PeerCertificate }> {
  const c = await rawConnect(port, authority);
  if (c.status !== 200) throw new Error(`CONNECT ${c.status}: ${c.text}`);
  const host = authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket: c.socket, ca: caPem, servername: servername ?? (net.isIP(host) ? undefined : host), ALPNProtocols: ['http/1.1'] } as tls.ConnectionOptions, () => {
      const peerCert = t.getPeerCertificate();
      t.write(requestText);
      let buf = '';
      t.on('data', (d: Buffer) => (buf += d.toString('latin1')));
      t.on('end', () => resolve({ text: buf, peerCert }));
      t.on('close', () => resolve({ text: buf, peerCert }));
    });
    t.on('error', reject);
  });
}

export function runCurl(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', ['-sS', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export async function tempDir(prefix = 'bb-egress-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Daemon {
  child: ChildProcess;
  port: number;
  proxy: string;
  stderr(): string;
  stdout(): string;
  dir: string;
  routesPath: string;
  auditPath: string;
  caCertPath: string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts src/egress/main.ts as a real child process with files in a temp dir. */
export async function startDaemon(routesText: string, env: Record<string, string> = {}, opts: { waitReady?: boolean; dir?: string; viaCli?: boolean } = {}): Promise<Daemon> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'bb-egressd-')));
  const ca = await bottleCa();
  const up = await upstreamCa();
  const caDir = join(dir, 'egress');
  const { certPath, keyPath } = await writeBottleCa(caDir, ca.pem);
  const routesPath = join(dir, 'live-config', 'routes.yaml');
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'live-config'), { recursive: true }));
  await writeFile(routesPath, routesText);
  const upCaPath = join(dir, 'upstream-ca.pem');
  await writeFile(upCaPath, up.certPem);
  const auditPath = join(dir, 'logs', 'egress-audit.jsonl');
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    EGRESS_ROUTES: routesPath,
    EGRESS_LISTEN: '127.0.0.1:0',
    EGRESS_CA_CERT: certPath,
    EGRESS_CA_KEY: keyPath,
    EGRESS_AUDIT_PATH: auditPath,
    EGRESS_UPSTREAM_CA_FILE: upCaPath,
    EGRESS_RESOLVE: `${A}=127.0.0.1,git.test=127.0.0.1,plain.test=127.0.0.1`,
    BOT_BOTTLE_SLUG: 'test-bottle',
    SUPERVISE_INTERNAL_SOCKET: join(dir, 'run', 'supervise.sock'),
    EGRESS_TOKEN_0: SECRET0,
    EGRESS_TOKEN_CANARY: CANARY,
    ...env,
  };
  // viaCli: the real `bot-bottle sidecar egress` command (flags instead of two of the variables).
  const args = opts.viaCli
    ? [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'sidecar', 'egress', '--routes', routesPath, '--listen', '127.0.0.1:0']
    : [join(REPO_ROOT, 'src', 'egress', 'main.ts')];
  if (opts.viaCli) {
    delete childEnv.EGRESS_ROUTES;
    delete childEnv.EGRESS_LISTEN;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
  let port = 0;
  if (opts.waitReady !== false) {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`egress did not start: ${stderr}`)), 30_000);
      const check = () => {
        const m = /"event":"egress_boot"[^\n]*"listen":"[^"]*:(\d+)"/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stderr!.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`egress exited ${code}: ${stderr}`));
      });
    });
  }
  return {
    child,
    port,
    proxy: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stdout: () => stdout,
    dir,
    routesPath,
    auditPath,
    caCertPath: certPath,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export async function readAudit(path: string): Promise<Array<Record<string, unknown>>> {
  try {
    return (await readFile(path, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
}
