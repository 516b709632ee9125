/**
 * `H`: a real HTTPS server on 127.0.0.1:0 (test CA) in front of
 * `git http-backend`, demanding HTTP Basic. Built on test/helpers/tls-upstream.ts so every
 * request (and its Authorization header) is recorded. Independent of src/gate/cgi.ts on purpose.
 */
import { spawn } from 'node:child_process';
import { startTlsUpstream, type TlsUpstream } from '../../helpers/tls-upstream.js';

export interface HttpsGitUpstream {
  upstream: TlsUpstream;
  url(repoPath: string): string;
  caPem: string;
  close(): Promise<void>;
}

export async function startHttpsGitUpstream(projectRoot: string, basic: { user: string; pass: string }, names?: string[]): Promise<HttpsGitUpstream> {
  const want = `Basic ${Buffer.from(`${basic.user}:${basic.pass}`).toString('base64')}`;
  const upstream = await startTlsUpstream({
    ...(names ? { names } : {}),
    handler: (req, res) => {
      if (req.headers['authorization'] !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
        res.end('unauthorized\n');
        return;
      }
      const u = new URL(req.url, 'https://upstream');
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: u.pathname,
        QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method,
        CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
        CONTENT_LENGTH: String(req.body.length),
        REMOTE_USER: basic.user,
        REMOTE_ADDR: '127.0.0.1',
      };
      if (typeof req.headers['content-encoding'] === 'string') env['HTTP_CONTENT_ENCODING'] = req.headers['content-encoding'];
      if (typeof req.headers['git-protocol'] === 'string') env['GIT_PROTOCOL'] = req.headers['git-protocol'];
      const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.on('close', () => {
        const all = Buffer.concat(out);
        const sep = all.indexOf('\r\n\r\n');
        const head = all.subarray(0, sep).toString('latin1');
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.split('\r\n')) {
          const i = line.indexOf(':');
          if (i < 0) continue;
          const k = line.slice(0, i).trim();
          const v = line.slice(i + 1).trim();
          if (k.toLowerCase() === 'status') status = parseInt(v, 10);
          else headers[k] = v;
        }
        res.writeHead(status, headers);
        res.end(all.subarray(sep + 4));
      });
      child.stdin.end(req.body);
    },
  });
  return {
    upstream,
    url: (p) => `${upstream.url}/${p}`,
    caPem: upstream.ca.certPem,
    close: () => upstream.close(),
  };
}
