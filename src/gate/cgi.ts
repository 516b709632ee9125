/**
 * Bridges one HTTP request to `git http-backend` run as CGI (docs/architecture.md §7): request body
 * piped to stdin, CGI headers parsed, response body streamed. The child gets only the CGI
 * variables and a fixed base environment, never the daemon's (credential-bearing) env.
 *
 * Containment (docs/decisions/gate-scan-every-object.md): the backend runs in its own process
 * group, and the group — receive-pack, index-pack, the hook, upload-pack — is killed whenever the
 * request ends early: client gone, body too large, body stalled or too slow, response stalled,
 * whole request too long, malformed CGI output. `git http-backend` reading a Content-Length body
 * loops forever on an early EOF, so nothing of it may survive its request.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChildGroups } from './children.js';

export interface CgiLimits {
  /** Request bodies above this many bytes are answered 413 (declared or counted). */
  readonly maxBodyBytes: number;
  /** No body byte for this long while the body is incomplete → the request ends. */
  readonly bodyIdleMs: number;
  /** The whole body must arrive within this. */
  readonly bodyMs: number;
  /** The response may not be blocked on a client that stopped reading for longer than this. */
  readonly writeStallMs: number;
  /** Hard cap on the whole request, response included. */
  readonly totalMs: number;
}

/** For callers outside the daemon (the demo's upstream); the gate passes its configured limits. */
export const DEFAULT_CGI_LIMITS: CgiLimits = {
  maxBodyBytes: 520 * 1024 * 1024,
  bodyIdleMs: 60_000,
  bodyMs: 600_000,
  writeStallMs: 60_000,
  totalMs: 1_800_000,
};

export interface CgiRequest {
  readonly projectRoot: string;
  readonly pathInfo: string;
  readonly query: string;
  readonly gitProtocol: string | null;
  readonly baseEnv: Readonly<Record<string, string>>;
  /** The daemon's registry of child groups (default: one private to this request). */
  readonly groups?: ChildGroups;
  readonly limits?: CgiLimits;
  readonly onSpawn?: (argv: readonly string[]) => void;
}

/** Why a request ended before the backend finished on its own. */
export type CgiEnd = 'client_gone' | 'body_too_large' | 'body_idle' | 'body_timeout' | 'write_stall' | 'timeout' | 'bad_cgi_output' | 'spawn_failed';

export interface CgiResult {
  /** Exit code of `git http-backend` (-1 when it was killed or never ran). */
  readonly code: number;
  /** Set when the gate ended the request itself. */
  readonly ended?: CgiEnd;
}

const HEADER_LIMIT = 64 * 1024;

export function runHttpBackend(req: IncomingMessage, res: ServerResponse, request: CgiRequest): Promise<CgiResult> {
  const cgi = { ...request, groups: request.groups ?? new ChildGroups(), limits: request.limits ?? DEFAULT_CGI_LIMITS };
  return new Promise((resolve) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > cgi.limits.maxBodyBytes) {
      // Refused before anything runs: no child to contain.
      req.resume();
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`git-gate: request body of ${declared} bytes exceeds the gate's limit of ${cgi.limits.maxBodyBytes} bytes\n`);
      resolve({ code: -1, ended: 'body_too_large' });
      return;
    }
    const env: Record<string, string> = {
      ...cgi.baseEnv,
      GIT_PROJECT_ROOT: cgi.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: cgi.pathInfo,
      QUERY_STRING: cgi.query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
    };
    if (declared !== undefined) env['CONTENT_LENGTH'] = declared;
    const enc = req.headers['content-encoding'];
    if (typeof enc === 'string') env['HTTP_CONTENT_ENCODING'] = enc;
    if (cgi.gitProtocol !== null) env['GIT_PROTOCOL'] = cgi.gitProtocol;

    cgi.onSpawn?.(['git', 'http-backend']);
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    cgi.groups.add(child.pid);
    const killGroup = () => cgi.groups.kill(child.pid);

    let settled = false;
    let ended: CgiEnd | undefined;
    let headerBuf = Buffer.alloc(0);
    let headersDone = false;
    let bodyDone = false;
    let bodyBytes = 0;
    const timers = new Set<NodeJS.Timeout>();
    const after = (ms: number, fn: () => void): NodeJS.Timeout => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
      return t;
    };
    const clear = (t: NodeJS.Timeout | null): void => {
      if (t === null) return;
      clearTimeout(t);
      timers.delete(t);
    };

    const settle = (code: number): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      killGroup();
      cgi.groups.delete(child.pid);
      resolve(ended ? { code, ended } : { code });
    };

    /** Ends the request from the gate's side: kill the group, answer if still possible, settle. */
    const abort = (why: CgiEnd, status: number, text: string): void => {
      if (settled) return;
      ended ??= why;
      killGroup();
      req.unpipe(child.stdin);
      // Read nothing more of this request: the answer goes out, then the connection closes.
      req.pause();
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`${text}\n`, () => req.socket.destroy());
      } else {
        res.destroy();
      }
      settle(-1);
    };

    // Body: counted, capped and timed; piped with backpressure.
    let idleTimer: NodeJS.Timeout | null = null;
    const armIdle = (): void => {
      clear(idleTimer);
      idleTimer = after(cgi.limits.bodyIdleMs, () => abort('body_idle', 408, `git-gate: no request data for ${Math.round(cgi.limits.bodyIdleMs / 1000)}s; request ended`));
    };
    const bodyTimer = after(cgi.limits.bodyMs, () => {
      if (!bodyDone) abort('body_timeout', 408, `git-gate: request body not received within ${Math.round(cgi.limits.bodyMs / 1000)}s; request ended`);
    });
    after(cgi.limits.totalMs, () => abort('timeout', 504, `git-gate: request took longer than ${Math.round(cgi.limits.totalMs / 1000)}s; ended`));
    armIdle();
    req.on('data', (c: Buffer) => {
      bodyBytes += c.length;
      if (bodyBytes > cgi.limits.maxBodyBytes) {
        abort('body_too_large', 413, `git-gate: request body exceeds the gate's limit of ${cgi.limits.maxBodyBytes} bytes`);
        return;
      }
      armIdle();
    });
    req.on('end', () => {
      bodyDone = true;
      clear(idleTimer);
      clear(bodyTimer);
    });
    child.stdin.on('error', () => {});
    req.pipe(child.stdin);
    // A client that goes away before its body is complete (or before the response is) ends
    // everything the request started.
    req.on('aborted', () => abort('client_gone', 400, 'git-gate: client went away'));
    req.on('error', () => abort('client_gone', 400, 'git-gate: client went away'));
    req.on('close', () => {
      if (!bodyDone && !req.complete) abort('client_gone', 400, 'git-gate: client went away');
    });
    res.on('close', () => {
      if (!res.writableFinished) abort('client_gone', 400, 'git-gate: client went away');
    });

    // Response: streamed with backpressure; a client that stops reading is cut off. The CGI head
    // is held until the first body byte (http-backend prints it before reading the request), so
    // a request the gate ends early still gets a real status and reason.
    let head: { status: number; headers: Record<string, string> } | null = null;
    const flushHead = (): void => {
      if (head && !res.headersSent) res.writeHead(head.status, head.headers);
      head = null;
    };
    let stallTimer: NodeJS.Timeout | null = null;
    const write = (chunk: Buffer): void => {
      if (settled || res.destroyed) return;
      flushHead();
      if (!res.write(chunk)) {
        child.stdout.pause();
        clear(stallTimer);
        stallTimer = after(cgi.limits.writeStallMs, () => abort('write_stall', 504, 'git-gate: client stopped reading'));
        res.once('drain', () => {
          clear(stallTimer);
          stallTimer = null;
          child.stdout.resume();
        });
      }
    };
    child.stderr.on('data', () => {});
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        write(chunk);
        return;
      }
      headerBuf = Buffer.concat([headerBuf, chunk]);
      let sep = headerBuf.indexOf('\r\n\r\n');
      let sepLen = 4;
      const lf = headerBuf.indexOf('\n\n');
      if (lf !== -1 && (sep === -1 || lf < sep)) {
        sep = lf;
        sepLen = 2;
      }
      if (sep === -1) {
        if (headerBuf.length > HEADER_LIMIT) abort('bad_cgi_output', 502, 'git-gate: malformed response from git http-backend');
        return;
      }
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of headerBuf.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      if (settled || res.destroyed) return;
      head = { status, headers };
      const rest = headerBuf.subarray(sep + sepLen);
      if (rest.length > 0) write(rest);
    });
    // The backend is done: whatever it left in its group goes too (see 'close' below).
    child.on('exit', () => killGroup());
    child.on('error', () => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('git-gate: cannot run git http-backend\n');
      }
      ended ??= 'spawn_failed';
      settle(-1);
    });
    child.on('close', (code) => {
      if (!settled) {
        if (!headersDone && !res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('git-gate: git http-backend failed\n');
        } else if (!res.destroyed) {
          flushHead();
          res.end();
        }
        // The backend finished before the client sent its whole body: nothing will read the
        // rest, so the connection goes once the answer is out.
        if (!bodyDone) res.once('finish', () => req.socket.destroy());
      }
      settle(code ?? -1);
    });
  });
}
