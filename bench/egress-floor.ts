// Bench reference: the smallest TLS-intercepting Node proxy (CONNECT → leaf → internal
// http.Server → keep-alive https.Agent → upstream), with no policy, DLP, logging or audit. It
// shows how much of egress's cost is Node's HTTP/TLS machinery rather than bot-bottle's checks.
import 'reflect-metadata';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { readCaFiles } from '../src/egress/ca.js';
import { LeafCache } from '../src/egress/leaf-cache.js';

const ca = await readCaFiles(process.env.EGRESS_CA_CERT!, process.env.EGRESS_CA_KEY!);
const leaves = new LeafCache({ ca });
const upstreamCa = readFileSync(process.env.EGRESS_UPSTREAM_CA_FILE!, 'utf8');
const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, upstreamCa] });
const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) => (o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4))) as never;
const targets = new WeakMap<object, { host: string; port: number }>();
const inner = http.createServer((req, res) => {
  const t = targets.get(req.socket)!;
  const up = https.request({ agent, host: t.host, port: t.port, servername: t.host, method: req.method, path: req.url, headers: { ...req.headers, authorization: 'Bearer floor' }, lookup, secureContext } as never, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
const server = http.createServer({ noDelay: true });
server.on('connect', async (req, socket: Socket) => {
  const [host, port] = (req.url ?? '').split(':');
  const leaf = await leaves.get(host!);
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  const s = new tls.TLSSocket(socket, { isServer: true, secureContext: leaf.context, ALPNProtocols: ['http/1.1'] });
  targets.set(s, { host: host!, port: Number(port) });
  inner.emit('connection', s);
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`{"event":"egress_boot","listen":"127.0.0.1:${(server.address() as AddressInfo).port}"}\n`));
process.on('SIGTERM', () => process.exit(0));
