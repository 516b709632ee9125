/**
 * The Docker Engine API over the engine's own socket (node:http, no dependency), for the launch's
 * queries and for writing the bottle CA into a created container: a request here costs a few ms,
 * a docker CLI process 60–150 ms (more under load). Creating, starting and removing objects stay
 * with the CLI (engine.ts), whose argv is unit-tested and replayable by hand
 * (docs/decisions/docker-engine-api.md).
 */
import { request, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { BottleError } from '../../errors.js';

/** Where the engine answers: a unix socket, or a plain tcp:// host (no TLS). */
export type EngineEndpoint = { socketPath: string } | { host: string; port: number };

/**
 * The endpoint DOCKER_HOST names (unset: the default socket). null for what node:http cannot
 * reach without more machinery: TLS (DOCKER_TLS_VERIFY), ssh://, npipe://.
 */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint | null {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (m && !env.DOCKER_TLS_VERIFY) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 2375) };
  return null;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class EngineApi {
  constructor(readonly endpoint: EngineEndpoint) {}

  /** One request; resolves with any status (callers decide what a 404 means), rejects on transport errors. */
  request(method: string, path: string, o: { body?: Buffer; contentType?: string; timeoutMs?: number } = {}): Promise<ApiResponse> {
    const opts: RequestOptions = {
      ...this.endpoint,
      method,
      path,
      timeout: o.timeoutMs ?? 30_000,
      headers: { Host: 'docker', ...(o.body ? { 'Content-Type': o.contentType ?? 'application/json', 'Content-Length': o.body.length } : {}) },
    };
    return new Promise((resolve, reject) => {
      const req = request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`docker engine API ${method} ${path.split('?')[0]} timed out`)));
      req.on('error', reject);
      req.end(o.body);
    });
  }

  /** GET a JSON document; null on 404; a BottleError naming the engine's message otherwise. */
  async json<T>(path: string): Promise<T | null> {
    const r = await this.request('GET', path);
    if (r.status === 404) return null;
    if (r.status !== 200) throw apiError(`GET ${path.split('?')[0]}`, r);
    return JSON.parse(r.body.toString('utf8')) as T;
  }
}

/** The engine's `{"message": …}` as a launch error. */
export function apiError(what: string, r: ApiResponse): BottleError {
  let msg = r.body.toString('utf8').trim();
  try {
    msg = (JSON.parse(msg) as { message?: string }).message ?? msg;
  } catch {
    // not JSON
  }
  return new BottleError('LAUNCH_FAILED', `docker engine API ${what}: ${r.status} ${msg.split('\n')[0]?.slice(0, 300) ?? ''}`, { fix: 'run "bot-bottle doctor --backend docker"' });
}

/** The API client for DOCKER_HOST, or a BACKEND_UNAVAILABLE error saying which hosts it reaches. */
export function engineApi(env: NodeJS.ProcessEnv = process.env): EngineApi {
  const ep = engineEndpoint(env);
  if (ep === null) {
    throw new BottleError('BACKEND_UNAVAILABLE', `docker: DOCKER_HOST=${env.DOCKER_HOST ?? ''} is not an engine this backend can reach (a unix socket, or tcp:// without TLS)`, {
      fix: 'point DOCKER_HOST at the local engine socket (unix:///var/run/docker.sock): the bottle firewall and bind mounts need an engine on this host anyway',
    });
  }
  return new EngineApi(ep);
}
