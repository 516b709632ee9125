/**
 * The git gate daemon (docs/architecture.md §7): a node:http server in front of `git http-backend`,
 * one bare mirror per declared repo, refresh-before-serve, and the pre-receive decision served to
 * the hook over a Unix socket. An instance, not module state: tests run several side by side.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { access, appendFile, chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { createScanner } from '../dlp/scanner.js';
import type { KnownSecret, Scanner } from '../dlp/types.js';
import { createSuperviseApprover, unavailableApprover, type Approver } from './approver.js';
import { runHttpBackend, type CgiLimits } from './cgi.js';
import type { GateConfig, GateRepoConfig } from './config.js';
import { upstreamEnv, type CredentialContext } from './credentials.js';
import { baseGitEnv, GitRunner, type SpawnObserver } from './git.js';
import { hookScript } from './hook-script.js';
import { RepoLock } from './lock.js';
import { ensureMirror, refreshMirror, type RefreshResult } from './mirror.js';
import { errAdvertisement } from './pkt-line.js';
import { preReceive, type PushRecord } from './push.js';
import { maskSecrets } from './scan.js';

export const DEFAULT_FETCH_TIMEOUT_SECONDS = 60;
export const DEFAULT_ALLOW_TIMEOUT_SECONDS = 300;
export const DEFAULT_MAX_BLOB_BYTES = 20 * 1024 * 1024;

/**
 * Bounds on hostile input (docs/decisions/gate-scan-every-object.md). Request bodies: receive-pack
 * takes at most `receive.maxInputSize` (512 MiB) of pack, plus room for the ref commands.
 */
export interface GateLimits {
  readonly maxBodyBytes: number;
  readonly bodyIdleSeconds: number;
  readonly bodySeconds: number;
  readonly writeStallSeconds: number;
  /** Whole-request cap for fetches; a push gets this or scan + approval + upstream time, whichever is longer. */
  readonly requestSeconds: number;
  /** Objects new to the gate one push may bring. */
  readonly scanMaxObjects: number;
  /** Bytes of new objects one push may bring (all blobs, trees, commits, tags together). */
  readonly scanMaxTotalBytes: number;
  /** Wall-clock budget of one push's scan. */
  readonly scanSeconds: number;
}

export const DEFAULT_LIMITS: GateLimits = {
  maxBodyBytes: 512 * 1024 * 1024 + 8 * 1024 * 1024,
  bodyIdleSeconds: 60,
  bodySeconds: 600,
  writeStallSeconds: 60,
  requestSeconds: 1800,
  scanMaxObjects: 100_000,
  scanMaxTotalBytes: 1024 * 1024 * 1024,
  scanSeconds: 300,
};

export interface GateSecrets {
  /** GIT_GATE_TOKEN_<n> → value. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly canary?: string;
  /** Sensitive-prefix variables (name → value). */
  readonly sensitive?: Readonly<Record<string, string>>;
}

export type GateEvent =
  | { readonly event: 'gitgate_boot'; readonly listen: string; readonly repos: readonly string[]; readonly warnings: readonly string[] }
  | { readonly event: 'gitgate_refresh'; readonly repo: string; readonly ok: boolean; readonly reason?: string; readonly head_repaired?: string; readonly initial?: boolean; readonly ms: number }
  | {
      readonly event: 'gitgate_push';
      readonly repo: string;
      readonly outcome: PushRecord['outcome'];
      readonly refs: ReadonlyArray<{ ref: string; old: string; new: string }>;
      readonly findings: PushRecord['findings'];
      readonly proposal_id?: string;
      readonly detail?: string;
    }
  | { readonly event: 'gitgate_request_ended'; readonly repo: string; readonly endpoint: string; readonly reason: string }
  | { readonly event: 'gitgate_error'; readonly message: string };

export interface GitGateOptions {
  readonly config: GateConfig;
  /** Directory of config.yaml; credential paths are relative to it. */
  readonly configDir: string;
  readonly root: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly secrets: GateSecrets;
  readonly fetchTimeoutSeconds?: number;
  readonly allowTimeoutSeconds?: number;
  readonly maxBlobBytes?: number;
  readonly limits?: Partial<GateLimits>;
  readonly upstreamCaFile?: string;
  readonly resolve?: ReadonlyMap<string, string>;
  readonly auditPath?: string;
  /** SUPERVISE_INTERNAL_SOCKET; ignored when `approver` is given. */
  readonly superviseSocket?: string;
  readonly approver?: Approver;
  readonly onEvent?: (e: GateEvent) => void;
  readonly onSpawn?: SpawnObserver;
  /** Best-effort fetch of every mirror right after startup (default true). */
  readonly initialFetch?: boolean;
}

export interface GitGate {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class GateStartupError extends Error {
  readonly code = 'GATE_STARTUP';
  /**
   * sysexits EX_CONFIG: the startup exit (docs/cli.md#exit-codes) for bad config, missing
   * credential files or slots.
   */
  readonly exitCode = 78;
  constructor(message: string) {
    super(message);
    this.name = 'GateStartupError';
  }
}

const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

async function readable(p: string): Promise<boolean> {
  try {
    await access(p, fsc.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function checkCredentials(o: GitGateOptions): Promise<void> {
  for (const repo of o.config.repos) {
    if (repo.ssh) {
      for (const [key, p] of [['key_file', repo.ssh.keyFile], ['known_hosts_file', repo.ssh.knownHostsFile]] as const) {
        const full = isAbsolute(p) ? p : join(o.configDir, p);
        if (!(await readable(full))) {
          throw new GateStartupError(`git-gate: repos.${repo.name}.ssh.${key} ${full} is missing or unreadable; relaunch the bottle to re-render the gate's credentials`);
        }
      }
    }
    if (repo.https) {
      const v = o.secrets.tokens[repo.https.tokenEnv];
      if (v === undefined || v === '') {
        throw new GateStartupError(`git-gate: ${repo.https.tokenEnv} (token for repo '${repo.name}') is not set in the daemon environment; the sidecar supervisor must pass it`);
      }
    }
  }
  if (o.upstreamCaFile !== undefined && !(await readable(o.upstreamCaFile))) {
    throw new GateStartupError(`git-gate: GIT_GATE_UPSTREAM_CA_FILE ${o.upstreamCaFile} is missing or unreadable`);
  }
}

function knownSecrets(s: GateSecrets): KnownSecret[] {
  const out: KnownSecret[] = [];
  for (const [name, value] of Object.entries(s.tokens)) out.push({ name, value, kind: 'slot' });
  if (s.canary) out.push({ name: 'GIT_GATE_CANARY', value: s.canary, kind: 'canary' });
  for (const [name, value] of Object.entries(s.sensitive ?? {})) out.push({ name, value, kind: 'sensitive' });
  return out;
}

export async function startGitGate(o: GitGateOptions): Promise<GitGate> {
  await checkCredentials(o);
  const emit = (e: GateEvent) => {
    try {
      o.onEvent?.(e);
    } catch {
      // observers never break the gate
    }
  };
  const fetchTimeoutMs = (o.fetchTimeoutSeconds ?? DEFAULT_FETCH_TIMEOUT_SECONDS) * 1000;
  const allowTimeoutSeconds = o.allowTimeoutSeconds ?? DEFAULT_ALLOW_TIMEOUT_SECONDS;
  const maxBlobBytes = o.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const limits: GateLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const cgiLimits = (push: boolean): CgiLimits => ({
    maxBodyBytes: limits.maxBodyBytes,
    bodyIdleMs: limits.bodyIdleSeconds * 1000,
    bodyMs: limits.bodySeconds * 1000,
    writeStallMs: limits.writeStallSeconds * 1000,
    // A push may legitimately wait for its body, the scan, an operator and upstream in turn.
    totalMs:
      (push
        ? Math.max(limits.requestSeconds, limits.bodySeconds + limits.scanSeconds + allowTimeoutSeconds + 2 * (fetchTimeoutMs / 1000) + 60)
        : limits.requestSeconds) * 1000,
  });
  const root = o.root;
  const runDir = join(root, 'run');
  const hooksDir = join(root, 'hooks');
  await mkdir(join(root, 'repos'), { recursive: true, mode: 0o700 });
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await chmod(runDir, 0o700);
  await mkdir(hooksDir, { recursive: true, mode: 0o755 });

  const git = new GitRunner(baseGitEnv(root), o.onSpawn);
  // Children run in their own process groups (so one request's group can be killed alone); they
  // would therefore survive the daemon's own death: end them on any exit Node still sees.
  const killChildrenOnExit = () => git.killAll();
  process.on('exit', killChildrenOnExit);
  const scanner: Scanner = createScanner({ knownSecrets: knownSecrets(o.secrets), fingerprintKey: randomBytes(32) });
  const secretValues = [...Object.values(o.secrets.tokens), ...(o.secrets.canary ? [o.secrets.canary] : []), ...Object.values(o.secrets.sensitive ?? {})];
  const approver = o.approver ?? (o.superviseSocket ? createSuperviseApprover(o.superviseSocket) : unavailableApprover);

  let caBundle: string | undefined;
  if (o.upstreamCaFile !== undefined) {
    // "Extra" roots: git's sslCAInfo replaces the default bundle, so combine system roots + extra.
    const parts: string[] = [];
    for (const f of SYSTEM_CA_BUNDLES) {
      if (await readable(f)) {
        parts.push(await readFile(f, 'utf8'));
        break;
      }
    }
    parts.push(await readFile(o.upstreamCaFile, 'utf8'));
    caBundle = join(runDir, 'upstream-ca.pem');
    await writeFile(caBundle, parts.join('\n'), { mode: 0o644 });
  }
  const credCtx: CredentialContext = {
    configDir: o.configDir,
    tokens: o.secrets.tokens,
    ...(caBundle ? { caBundle } : {}),
    ...(o.resolve ? { resolve: o.resolve } : {}),
  };

  // Hook: regenerated every start (gate-owned, read-only for everyone else).
  // sun_path holds ~107 bytes; deep state dirs (host-process sidecars) fall back to a private
  // 0700 directory under the system temp dir. The hook has the path baked in either way.
  let sockPath = join(runDir, 'hook.sock');
  let sockDir: string | null = null;
  if (Buffer.byteLength(sockPath) > 100) {
    sockDir = await mkdtemp(join(tmpdir(), 'bb-gate-'));
    await chmod(sockDir, 0o700);
    sockPath = join(sockDir, 'hook.sock');
  }
  const hookPath = join(hooksDir, 'pre-receive');
  await rm(hookPath, { force: true });
  await writeFile(hookPath, hookScript(process.execPath, sockPath), { mode: 0o555 });

  const repos = new Map<string, { cfg: GateRepoConfig; dir: string; lock: RepoLock; approvals: Set<string> }>();
  for (const cfg of o.config.repos) {
    const dir = await ensureMirror(git, root, hooksDir, cfg);
    repos.set(cfg.name, { cfg, dir: await realpath(dir), lock: new RepoLock(), approvals: new Set() });
  }

  let auditChain: Promise<void> = Promise.resolve();
  const audit = (line: Record<string, unknown>) => {
    if (!o.auditPath) return;
    const path = o.auditPath;
    auditChain = auditChain
      .then(async () => {
        await mkdir(dirname(path), { recursive: true });
        await appendFile(path, JSON.stringify({ ts: new Date().toISOString(), ...line }) + '\n', { mode: 0o600 });
      })
      .catch((err: unknown) => emit({ event: 'gitgate_error', message: `audit write failed: ${(err as Error).message}` }));
  };

  const refresh = (name: string, initial = false): Promise<RefreshResult> => {
    const r = repos.get(name);
    if (!r) return Promise.resolve({ ok: false, reason: 'unknown repo', hostKeyMismatch: false });
    return r.lock.refresh(async () => {
      const t0 = Date.now();
      let env: Record<string, string>;
      try {
        env = upstreamEnv(r.cfg, credCtx);
      } catch (err) {
        return { ok: false, reason: (err as Error).message, hostKeyMismatch: false } as RefreshResult;
      }
      const res = await refreshMirror({ git, dir: r.dir, env, timeoutMs: fetchTimeoutMs, secrets: secretValues });
      const ev = {
        event: 'gitgate_refresh' as const,
        repo: name,
        ok: res.ok,
        ...(res.ok ? (res.headRepaired ? { head_repaired: res.headRepaired } : {}) : { reason: res.reason }),
        ...(initial ? { initial } : {}),
        ms: Date.now() - t0,
      };
      emit(ev);
      audit(ev);
      return res;
    });
  };

  const refreshFailText = (r: GateRepoConfig, res: Extract<RefreshResult, { ok: false }>): string => {
    if (res.hostKeyMismatch) {
      const host = (() => {
        try {
          return new URL(r.url).hostname;
        } catch {
          return r.url;
        }
      })();
      return `git-gate: host key of ${host} does not match the pinned host_key for '${r.name}'; refusing to connect`;
    }
    return `git-gate: could not refresh '${r.name}' from upstream (${res.reason}); refusing to serve possibly stale data`;
  };

  const sendErrAdvertisement = (res: ServerResponse, service: string, text: string) => {
    const body = errAdvertisement(text);
    res.writeHead(200, {
      'content-type': `application/x-${service}-advertisement`,
      'cache-control': 'no-cache',
      'content-length': body.length,
    });
    res.end(body);
  };

  const plain = (res: ServerResponse, status: number, text: string): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${text}\n`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://git-gate');
    const m = /^\/([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(url.pathname);
    const nameOnly = /^\/([^/]+?)(?:\.git)?(?:\/.*)?$/.exec(url.pathname);
    const name = m?.[1] ?? nameOnly?.[1] ?? '';
    const repo = repos.get(name);
    if (!repo) {
      const declared = [...repos.keys()].join(', ') || 'none';
      req.resume();
      return plain(res, 404, `git-gate: no repository '${name}' in this bottle (declared: ${declared})`);
    }
    if (!m) {
      req.resume();
      return plain(res, 404, 'git-gate: only git smart HTTP is served (no dumb protocol)');
    }
    const endpoint = m[2] as string;
    const wantMethod = endpoint === 'info/refs' ? 'GET' : 'POST';
    if (req.method !== wantMethod) {
      req.resume();
      res.setHeader('allow', wantMethod);
      return plain(res, 405, `git-gate: ${endpoint} takes ${wantMethod}`);
    }
    const proto = req.headers['git-protocol'];
    const gitProtocol = typeof proto === 'string' && /^version=[12]$/.test(proto) ? proto : null;
    const cgiFor = (push: boolean) => ({
      projectRoot: join(root, 'repos'),
      pathInfo: url.pathname,
      query: url.search.slice(1),
      gitProtocol,
      baseEnv: baseGitEnv(root),
      groups: git.groups,
      limits: cgiLimits(push),
      ...(o.onSpawn ? { onSpawn: o.onSpawn } : {}),
    });
    const cgi = cgiFor(false);
    const backend = async (push: boolean): Promise<void> => {
      const r = await runHttpBackend(req, res, push ? cgiFor(true) : cgi);
      if (r.ended) emit({ event: 'gitgate_request_ended', repo: name, endpoint, reason: r.ended });
    };

    if (endpoint === 'info/refs') {
      const service = url.searchParams.get('service');
      if (service === 'git-upload-pack') {
        const r = await refresh(name);
        if (!r.ok) return sendErrAdvertisement(res, service, refreshFailText(repo.cfg, r));
        await backend(false);
        return;
      }
      if (service === 'git-receive-pack') {
        // No upstream contact here: secret findings are reported even when upstream is down.
        if (repo.cfg.policy.readOnly) return sendErrAdvertisement(res, service, `git-gate: '${name}' is read-only in this bottle`);
        await backend(false);
        return;
      }
      return plain(res, 404, 'git-gate: only git smart HTTP is served (no dumb protocol)');
    }
    if (endpoint === 'git-upload-pack') {
      await backend(false);
      return;
    }
    if (repo.cfg.policy.readOnly) {
      req.resume();
      return plain(res, 403, `git-gate: '${name}' is read-only in this bottle`);
    }
    // The lock is released when the request ends, however it ends (the backend's group is dead
    // by then), so an abandoned push can never block later fetches and pushes of this repo.
    await repo.lock.run(() => backend(true));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      emit({ event: 'gitgate_error', message: `request failed: ${(err as Error).message}` });
      plain(res, 500, 'git-gate: internal error');
    });
  });
  // Node's own limits sit just behind the gate's per-request ones (which answer with a reason).
  server.headersTimeout = 30_000;
  server.requestTimeout = limits.bodySeconds * 1000 + 5000;

  // The hook's side of a push: runs inside the receive-pack POST, which already holds the repo lock.
  const hookSockets = new Set<net.Socket>();
  const hookServer = net.createServer((sock) => {
    hookSockets.add(sock);
    sock.on('close', () => hookSockets.delete(sock));
    let buf = '';
    let started = false;
    // The hook dies with its request (client gone, timeout): then nothing more is done for the push.
    const gone = new AbortController();
    sock.on('close', () => gone.abort());
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (d: string): void => {
      if (started) return;
      buf += d;
      if (buf.length > 4 * 1024 * 1024) {
        sock.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      started = true;
      const send = (obj: unknown) => {
        if (!sock.destroyed) sock.write(JSON.stringify(obj) + '\n');
      };
      void (async (): Promise<void> => {
        let msg: { cwd?: unknown; env?: unknown; stdin?: unknown };
        try {
          msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
        } catch {
          send({ say: 'git-gate: internal error: malformed hook message; push refused', exit: 1 });
          sock.end();
          return;
        }
        const cwd = typeof msg.cwd === 'string' ? await realpath(msg.cwd).catch(() => '') : '';
        const entry = [...repos.values()].find((r) => r.dir === cwd);
        if (!entry || typeof msg.stdin !== 'string' || typeof msg.env !== 'object' || msg.env === null) {
          send({ say: 'git-gate: internal error: push for an unknown repository; push refused', exit: 1 });
          sock.end();
          return;
        }
        const qenv: Record<string, string> = {};
        for (const k of ['GIT_DIR', 'GIT_QUARANTINE_PATH', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES']) {
          const v = (msg.env as Record<string, unknown>)[k];
          if (typeof v === 'string') qenv[k] = v;
        }
        let result: { exit: number; record: PushRecord };
        try {
          result = await preReceive(
            {
              repo: entry.cfg,
              dir: entry.dir,
              git,
              quarantineEnv: qenv,
              upstreamEnv: () => upstreamEnv(entry.cfg, credCtx),
              scanner,
              approver,
              approvals: entry.approvals,
              scanLimits: {
                maxBlobBytes,
                maxObjects: limits.scanMaxObjects,
                maxTotalBytes: limits.scanMaxTotalBytes,
                timeoutMs: limits.scanSeconds * 1000,
              },
              signal: gone.signal,
              allowTimeoutSeconds,
              upstreamTimeoutMs: fetchTimeoutMs,
              secrets: secretValues,
              say: (line) => send({ say: line }),
            },
            msg.stdin,
          );
        } catch (err) {
          emit({ event: 'gitgate_error', message: `pre-receive failed: ${(err as Error).message}` });
          send({ say: 'git-gate: internal error while checking the push; push refused', exit: 1 });
          sock.end();
          return;
        }
        const r = result.record;
        const ev: GateEvent = {
          event: 'gitgate_push',
          repo: r.repo,
          outcome: r.outcome,
          refs: r.updates.map((u) => ({ ref: maskSecrets(scanner, u.ref), old: u.oldOid, new: u.newOid })),
          findings: r.findings,
          ...(r.proposalId ? { proposal_id: r.proposalId } : {}),
          ...(r.detail ? { detail: r.detail } : {}),
        };
        emit(ev);
        audit(ev);
        send({ exit: result.exit });
        sock.end();
      })();
    });
  });

  await rm(sockPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    hookServer.once('error', reject);
    hookServer.listen(sockPath, () => resolve());
  });
  await chmod(sockPath, 0o600);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => resolve());
    });
  } catch (err) {
    hookServer.close();
    throw new GateStartupError(`git-gate: cannot listen on ${o.listen.host}:${o.listen.port} (${(err as Error).message})`);
  }
  const port = (server.address() as AddressInfo).port;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  emit({ event: 'gitgate_boot', listen: `${host}:${port}`, repos: [...repos.keys()], warnings: [...scanner.warnings] });

  if (o.initialFetch !== false) {
    for (const name of repos.keys()) void refresh(name, true);
  }

  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        git.killAll();
        process.off('exit', killChildrenOnExit);
        // A hook still waiting (e.g. for approval) is cut off: its push is refused (exit 1).
        for (const sock of hookSockets) sock.destroy();
        await new Promise<void>((resolve) => hookServer.close(() => resolve()));
        await rm(sockPath, { force: true });
        if (sockDir) await rm(sockDir, { recursive: true, force: true });
        await auditChain;
      })();
      return closing;
    },
  };
}
