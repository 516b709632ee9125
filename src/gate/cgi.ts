/**
 * Bridges one HTTP request to `git http-backend` run as CGI (docs/architecture.md §7): request body
 * piped to stdin, CGI headers parsed, response body streamed. The child gets only the CGI
 * variables and a fixed base environment, never the daemon's (credential-bearing) env.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CgiRequest {
  readonly projectRoot: string;
  readonly pathInfo: string;
  readonly query: string;
  readonly gitProtocol: string | null;
  readonly baseEnv: Readonly<Record<string, string>>;
}

const HEADER_LIMIT = 64 * 1024;

export function runHttpBackend(req: IncomingMessage, res: ServerResponse, cgi: CgiRequest): Promise<number> {
  return new Promise((resolve) => {
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
    if (req.headers['content-length'] !== undefined) env['CONTENT_LENGTH'] = req.headers['content-length'];
    const enc = req.headers['content-encoding'];
    if (typeof enc === 'string') env['HTTP_CONTENT_ENCODING'] = enc;
    if (cgi.gitProtocol !== null) env['GIT_PROTOCOL'] = cgi.gitProtocol;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let headerBuf = Buffer.alloc(0);
    let headersDone = false;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 16 * 1024) stderr += c.toString('utf8');
    });
    child.stdin.on('error', () => {});
    req.pipe(child.stdin);
    req.on('aborted', () => child.kill('SIGKILL'));
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
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
        if (headerBuf.length > HEADER_LIMIT) {
          child.kill('SIGKILL');
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('git-gate: malformed response from git http-backend\n');
        }
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
      res.writeHead(status, headers);
      const rest = headerBuf.subarray(sep + sepLen);
      if (rest.length > 0) res.write(rest);
    });
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('git-gate: cannot run git http-backend\n');
      resolve(-1);
    });
    child.on('close', (code) => {
      if (!headersDone && !res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`git-gate: git http-backend failed\n`);
      } else {
        res.end();
      }
      resolve(code ?? -1);
    });
  });
}
