// Bench stand-in upstream: a keep-alive Node HTTPS server on loopback, in its own process so the
// load generator, the proxy and the upstream do not share one event loop. Prints its port.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(JSON.stringify({ ok: true, model: 'bench', text: 'x'.repeat(200) }));
const server = https.createServer({ cert: readFileSync(process.env.BENCH_CERT!), key: readFileSync(process.env.BENCH_KEY!), keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
