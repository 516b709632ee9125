/**
 * `bot-bottle sidecar supervise` (docs/architecture.md §7a): the MCP listener for the agent, the
 * internal API for egress and the git gate, the spool (outbox, inbox watch, heartbeat). Holds no
 * credentials and opens no store: the host imports the spool.
 */
import http from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { VERSION } from '../version.js';
import { Broker } from './broker.js';
import { superviseConfigFromEnv, SuperviseConfigError, type SuperviseConfig } from './config.js';
import { startInternalApi } from './internal-api.js';
import { createMcpServer } from './mcp-tools.js';
import { SpoolWriter } from './spool.js';

export const HEARTBEAT_INTERVAL_MS = 5000;
/** EX_CONFIG, as egress and the gate use for a startup error. */
const EXIT_CONFIG = 78;

export interface SuperviseDaemon {
  config: SuperviseConfig;
  broker: Broker;
  /** The MCP listener's bound port (tests listen on port 0). */
  port: number;
  close(): Promise<void>;
}

function sendStatus(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(`${text}\n`);
}

/** Largest MCP request body: a full egress-allow is well under 100 KiB, a Dockerfile ≤ 64 KiB. */
export const MAX_MCP_BODY = 1024 * 1024;

function readBounded(req: http.IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJsonRpcError(res: http.ServerResponse, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(body);
}

function mcpHandler(broker: Broker, config: SuperviseConfig, log: (l: string) => void) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/mcp' && path !== '/') return sendStatus(res, 404, 'not found; the MCP endpoint is /mcp');
    // Stateless: no session stream to GET, no session to DELETE.
    if (req.method !== 'POST') return sendStatus(res, 405, 'method not allowed; POST JSON-RPC to /mcp', { allow: 'POST' });
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return sendStatus(res, 415, 'content-type must be application/json');
    if (Number(req.headers['content-length'] ?? 0) > MAX_MCP_BODY) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`request body exceeds ${MAX_MCP_BODY} bytes\n`, () => req.destroy());
      return;
    }
    const connection = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) connection.abort();
    });
    const server = createMcpServer({ broker, config, connection: connection.signal, log });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    // The body is read here, bounded: the agent is untrusted and the SDK would buffer any size.
    readBounded(req, MAX_MCP_BODY)
      .then(async (body) => {
        if (body === null) {
          res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
          res.end(`request body exceeds ${MAX_MCP_BODY} bytes\n`, () => req.destroy());
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return sendJsonRpcError(res, -32700, 'Parse error: the body is not JSON');
        }
        await server.connect(transport);
        await transport.handleRequest(req, res, parsed);
      })
      .catch((err: unknown) => {
        log(`MCP request failed: ${(err as Error).message}`);
        if (!res.headersSent) sendStatus(res, 500, 'internal error');
        else res.destroy();
      });
  };
}

export async function startSuperviseDaemon(env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): Promise<SuperviseDaemon> {
  const config = superviseConfigFromEnv(env);
  const spool = new SpoolWriter(config.spoolDir);
  await spool.init();
  const broker = new Broker({ spool, bottle: config.bottle, log });
  const stopInbox = spool.watchInbox(
    (rec) => broker.deliver(rec),
    (file, message) => log(`inbox file ${file} ignored: ${message}`),
  );
  const beat = () => spool.writeHeartbeat({ at: new Date().toISOString(), pid: process.pid, version: VERSION }).catch((err: unknown) => log(`heartbeat not written: ${(err as Error).message}`));
  await beat();
  const heartbeat = setInterval(() => void beat(), HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  const internal = await startInternalApi(broker, config.internalSocket, log);
  const server = http.createServer(mcpHandler(broker, config, log));
  // A request must arrive promptly (slow senders are cut off), while its answer may take up to
  // SUPERVISE_TOOL_TIMEOUT_SECONDS: Node's requestTimeout covers receiving the request only.
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  // Bounds what one agent can hold open (each waiting call is one connection).
  server.maxConnections = 128;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
  log(`listening on ${config.listen.host}:${port} (MCP), ${config.internalSocket} (internal), spool ${config.spoolDir}`);
  return {
    config,
    broker,
    port,
    async close() {
      clearInterval(heartbeat);
      stopInbox();
      broker.stop();
      server.closeAllConnections();
      internal.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => internal.close(r))]);
    },
  };
}

/** Runs the daemon until SIGTERM/SIGINT; resolves with the exit code. */
export async function runSuperviseDaemon(env: NodeJS.ProcessEnv, onListening?: () => void): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let d: SuperviseDaemon;
  try {
    d = await startSuperviseDaemon(env, log);
  } catch (err) {
    if (err instanceof SuperviseConfigError) {
      log(err.message);
      return EXIT_CONFIG;
    }
    log(`supervise: cannot start: ${(err as Error).message}`);
    return EXIT_CONFIG;
  }
  onListening?.();
  return new Promise((resolve) => {
    const stop = () => void d.close().then(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
