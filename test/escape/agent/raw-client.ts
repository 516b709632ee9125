/**
 * Source of the hand-written HTTP client the protocol attacks (rows 17, 18, F5) run INSIDE the
 * bottle with the host's node: it speaks to egress exactly as a hostile agent would — raw bytes in
 * a CONNECT tunnel, stalled bodies, slow headers. Written into the agent's home through `exec`
 * stdin, so it works on any backend. Prints `key=value` lines.
 */
export const RAW_CLIENT_PATH = '/home/node/.escape-raw-client.cjs';

export const RAW_CLIENT_SOURCE = String.raw`
const net = require('net'), tls = require('tls'), fs = require('fs');
const proxy = new URL(process.env.HTTPS_PROXY || 'http://egress:9099');
const ca = fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS || process.env.CURL_CA_BUNDLE);
const [mode, ...args] = process.argv.slice(2);
const out = (k, v) => console.log(k + '=' + String(v).replace(/\s+/g, ' ').slice(0, 200));
function proxySocket() { return net.connect(Number(proxy.port), proxy.hostname); }
function tunnel(host) {
  return new Promise((resolve, reject) => {
    const s = proxySocket();
    s.once('error', reject);
    s.write('CONNECT ' + host + ':443 HTTP/1.1\r\nHost: ' + host + ':443\r\n\r\n');
    let buf = '';
    const onData = (c) => {
      buf += c.toString('latin1');
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      s.off('data', onData);
      if (!/^HTTP\/1\.[01] 200/.test(buf)) return reject(new Error('CONNECT ' + buf.split('\r\n')[0]));
      const t = tls.connect({ socket: s, servername: host, ca });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    };
    s.on('data', onData);
  });
}
/** Sends bytes, collects the answer until close or ms; resolves {status, closed, text}. */
function exchange(sock, payload, ms) {
  return new Promise((resolve) => {
    let text = '', closed = false;
    const done = () => { clearTimeout(t); resolve({ status: (/^HTTP\/1\.[01] (\d{3})/.exec(text) || [])[1] || '0', closed, text }); };
    const t = setTimeout(() => { sock.destroy(); done(); }, ms);
    sock.on('data', (c) => { text += c.toString('latin1'); });
    sock.on('close', () => { closed = true; done(); });
    sock.on('error', () => {});
    if (payload) sock.write(payload);
  });
}
async function main() {
  if (mode === 'raw') {
    const t = await tunnel(args[0]);
    const r = await exchange(t, Buffer.from(args[1], 'base64'), 6000);
    out('status', r.status); out('closed', r.closed); out('head', r.text.split('\r\n')[0] + ' ' + (r.text.split('\r\n\r\n')[1] || '').slice(0, 80));
  } else if (mode === 'plain') {
    const r = await exchange(proxySocket(), Buffer.from(args[0], 'base64'), 6000);
    out('status', r.status); out('closed', r.closed); out('head', r.text.split('\r\n')[0]);
  } else if (mode === 'stall') {
    // args: host, n uploads, MiB each, seconds to hold the stall
    const [host, n, mib, hold] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
    const results = await Promise.all(Array.from({ length: n }, async (_, k) => {
      const t = await tunnel(host);
      const answer = exchange(t, null, (hold + 20) * 1000);
      t.write('POST /upload-' + k + ' HTTP/1.1\r\nHost: ' + host + '\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n');
      const chunk = Buffer.alloc(1024 * 1024, 97 + k);
      for (let i = 0; i < mib; i++) {
        if (t.destroyed) break;
        const ok = t.write(chunk.length.toString(16) + '\r\n'); t.write(chunk); t.write('\r\n');
        if (!ok) await Promise.race([new Promise((r) => t.once('drain', r)), new Promise((r) => setTimeout(r, 3000))]);
      }
      out('sent' + k, 'done');
      const r = await Promise.race([answer, new Promise((r) => setTimeout(() => r(null), hold * 1000))]);
      if (r === null) { t.destroy(); return 'stalled-open'; }
      return r.status;
    }));
    out('uploads', results.join(','));
  } else if (mode === 'slowloris') {
    const [n, secs] = [Number(args[0]), Number(args[1])];
    let closed = 0;
    const socks = Array.from({ length: n }, () => {
      const s = proxySocket();
      s.on('error', () => {}); s.on('close', () => { closed += 1; });
      s.write('GET http://' + args[2] + '/slow HTTP/1.1\r\nHost: ' + args[2] + '\r\n');
      return s;
    });
    for (let i = 0; i < secs; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const s of socks) if (!s.destroyed) s.write('X-' + i + ': ' + 'a'.repeat(10) + '\r\n');
    }
    out('slow_closed', closed + '/' + n);
    for (const s of socks) s.destroy();
  }
}
main().then(() => process.exit(0), (e) => { out('error', e.message); process.exit(0); });
`;
