/**
 * The request-normalisation pass (docs/decisions/egress-normalisation.md): a table of hostile
 * requests (each with the refusal or git verdict it must get), a table of ordinary requests that
 * must come out unchanged, the canonical rewrites, and properties (never throws, idempotent, no
 * dot segments or encoded separators survive).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  absolutePortAllowed, connectPortAllowed, normalizeRequest, upstreamFramingHeaders,
  type NormalizeInput, type NormalizeResult, type NormalizedRequest,
} from '../../src/egress/normalize.js';

const H = 'git.example.test';

/** The request-target as Node hands it over: latin-1, one char per UTF-8 wire byte. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly target?: string;
  /** Host header value; null leaves it out. */
  readonly host?: string | null;
  readonly headers?: readonly string[];
  /** Plain absolute-form proxying (http://) instead of a CONNECT-inner request. */
  readonly plain?: boolean;
  readonly port?: number;
}

function input(c: Case): NormalizeInput {
  const plain = c.plain === true;
  const scheme = plain ? 'http' : 'https';
  const port = c.port ?? (plain ? 80 : 443);
  const host = c.host === undefined ? H : c.host;
  return {
    method: c.method ?? 'GET',
    target: { scheme, host: H, port },
    rawTarget: c.target ?? '/',
    rawHeaders: [...(host === null ? [] : ['Host', host]), ...(c.headers ?? [])],
    isConnectInner: !plain,
  };
}

/** What the proxy does with the result: the refusal `code/reason`, a push denial, or ok. */
function verdict(r: NormalizeResult): string {
  if (!r.ok) return `${r.code}/${r.reason}`;
  return r.req.isGitPush ? 'git_push_via_egress' : 'ok';
}

function ok(c: Case): NormalizedRequest {
  const r = normalizeRequest(input(c));
  if (!r.ok) throw new Error(`${c.name}: refused ${r.code}/${r.reason} (${r.detail})`);
  return r.req;
}

const PUSH = 'git_push_via_egress';
const POST_BODY = ['Content-Length', '10'];

const ATTACKS: ReadonlyArray<Case & { readonly expect: string }> = [
  // ---- push around the gate: the git service read on the normalised form ----
  { name: 'git%2Dreceive-pack', method: 'POST', target: '/acme/w.git/git%2Dreceive-pack', headers: POST_BODY, expect: PUSH },
  { name: 'git-receive-pac%6b', method: 'POST', target: '/acme/w.git/git-receive-pac%6b', headers: POST_BODY, expect: PUSH },
  { name: 'git-receive-pac%6B upper hex', method: 'POST', target: '/acme/w.git/git-receive-pac%6B', headers: POST_BODY, expect: PUSH },
  { name: 'upper-case service path', method: 'POST', target: '/acme/w.git/GIT-RECEIVE-PACK', headers: POST_BODY, expect: PUSH },
  { name: 'trailing slash after receive-pack', method: 'POST', target: '/acme/w.git/git-receive-pack/', headers: POST_BODY, expect: PUSH },
  { name: 'encoded slash before receive-pack', method: 'POST', target: '/acme/w.git%2Fgit-receive-pack', headers: POST_BODY, expect: PUSH },
  { name: 'receive-pack via PUT', method: 'PUT', target: '/acme/w.git/git-receive-pack', headers: POST_BODY, expect: PUSH },
  { name: 'receive-pack in plain http', method: 'POST', target: `http://${H}/acme/w.git/git-receive-pack`, plain: true, headers: POST_BODY, expect: PUSH },
  { name: 'fullwidth letters in the service segment', method: 'POST', target: wire('/acme/w.git/git-receive-ｐａｃｋ'), headers: POST_BODY, expect: PUSH },
  { name: 'double-encoded k', method: 'POST', target: '/acme/w.git/git-receive-pac%256b', headers: POST_BODY, expect: 'bad_path/double_encoding' },
  { name: 'info/refs receive-pack advertisement', target: '/acme/w.git/info/refs?service=git-receive-pack', expect: PUSH },
  { name: 'service value with encoded letter', target: '/acme/w.git/info/refs?service=git-receive-pac%6b', expect: PUSH },
  { name: 'service value with encoded dash', target: '/acme/w.git/info/refs?service=git%2Dreceive-pack', expect: PUSH },
  { name: 'service value double-encoded', target: '/acme/w.git/info/refs?service=git-receive-pac%256b', expect: PUSH },
  { name: 'service value upper-case', target: '/acme/w.git/info/refs?service=GIT-RECEIVE-PACK', expect: PUSH },
  { name: 'service name encoded', target: '/acme/w.git/info/refs?%73ervice=git-receive-pack', expect: PUSH },
  { name: 'service name fullwidth', target: wire('/acme/w.git/info/refs?ｓｅｒｖｉｃｅ=git-receive-pack'), expect: PUSH },
  { name: 'service on a non-refs path', target: '/acme/w.git/anything?service=git-receive-pack', expect: PUSH },
  { name: 'repeated service', target: '/acme/w.git/info/refs?service=git-upload-pack&service=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service, Service=', target: '/acme/w.git/info/refs?service=git-upload-pack&Service=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service, serv%69ce=', target: '/acme/w.git/info/refs?service=git-upload-pack&serv%69ce=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service, double-encoded name', target: '/acme/w.git/info/refs?service=git-upload-pack&SERV%2569CE=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service behind ;', target: '/acme/w.git/info/refs?service=git-upload-pack;service=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service, + before the name', target: '/acme/w.git/info/refs?service=git-upload-pack&+service=git-receive-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated service, same value', target: '/acme/w.git/info/refs?service=git-upload-pack&service=git-upload-pack', expect: 'bad_request/duplicate_query_param' },
  { name: 'receive-pack request content type', method: 'POST', target: '/acme/w.git/git-upload-pack', headers: ['Content-Type', 'application/x-git-receive-pack-request', ...POST_BODY], expect: PUSH },
  { name: 'receive-pack result in Accept', method: 'POST', target: '/acme/w.git/x', headers: ['Accept', 'application/x-git-receive-pack-result', ...POST_BODY], expect: PUSH },
  { name: 'receive-pack advertisement content type', method: 'POST', target: '/x', headers: ['Content-Type', 'Application/X-Git-Receive-Pack-Advertisement', ...POST_BODY], expect: PUSH },

  // ---- paths: double encoding, dot segments, ; parameters, separators ----
  { name: '%252F', target: '/v1/a%252F..%252Fsecret', expect: 'bad_path/double_encoding' },
  { name: '%252e%252e', target: '/v1/%252e%252e/secret', expect: 'bad_path/double_encoding' },
  { name: '%2525 (decodes to %)', target: '/v1/%252541', expect: 'bad_path/double_encoding' },
  { name: 'escape spelled with escaped digits', target: '/v1/%25%32%65%25%32%65/x', expect: 'bad_path/double_encoding' },
  { name: '/v1/allowed/..;/secret', target: '/v1/allowed/..;/secret', expect: 'bad_path/path_parameter' },
  { name: '..; at the start', target: '/..;/secret', expect: 'bad_path/path_parameter' },
  { name: 'matrix parameter', target: '/v1/allowed;x=1/b', expect: 'bad_path/path_parameter' },
  { name: 'encoded ; after ..', target: '/v1/allowed/..%3B/secret', expect: 'bad_path/path_parameter' },
  { name: 'plain ..', target: '/v1/allowed/../secret', expect: 'bad_path/dot_segment' },
  { name: 'plain .', target: '/v1/./x', expect: 'bad_path/dot_segment' },
  { name: '%2e%2e', target: '/v1/%2e%2e/secret', expect: 'bad_path/dot_segment' },
  { name: '.%2E', target: '/v1/.%2E/secret', expect: 'bad_path/dot_segment' },
  { name: '%2E alone', target: '/v1/%2E/x', expect: 'bad_path/dot_segment' },
  { name: '..%2F inside a segment', target: '/v1/..%2Fsecret', expect: 'bad_path/dot_segment' },
  { name: 'x%2F..%2F..', target: '/v1/x%2F..%2F..%2Fsecret', expect: 'bad_path/dot_segment' },
  { name: '.. with a trailing space', target: '/v1/..%20/secret', expect: 'bad_path/dot_segment' },
  { name: 'trailing .. at the end', target: '/v1/allowed/..', expect: 'bad_path/dot_segment' },
  { name: 'raw backslash', target: '/v1\\..\\secret', expect: 'bad_path/backslash' },
  { name: '%5C', target: '/v1/%5C../secret', expect: 'bad_path/encoded_separator' },
  { name: '%5c lower-case', target: '/v1/%5csecret', expect: 'bad_path/encoded_separator' },
  { name: 'encoded slash making an empty segment', target: '/v1/a%2F%2Fb', expect: 'bad_path/encoded_separator' },
  { name: 'encoded slash leading a segment', target: '/v1/%2Fetc/passwd', expect: 'bad_path/encoded_separator' },
  { name: 'overlong / %c0%af', target: '/v1/%c0%af../x', expect: 'bad_path/invalid_utf8' },
  { name: 'overlong dots %c0%ae%c0%ae', target: '/v1/%c0%ae%c0%ae/x', expect: 'bad_path/invalid_utf8' },
  { name: 'overlong 3-byte /', target: '/v1/%e0%80%af', expect: 'bad_path/invalid_utf8' },
  { name: 'lone continuation byte', target: '/v1/%80', expect: 'bad_path/invalid_utf8' },
  { name: 'raw invalid UTF-8 byte', target: '/v1/\xff', expect: 'bad_path/invalid_utf8' },
  { name: 'fullwidth solidus', target: '/v1/..%EF%BC%8Fsecret', expect: 'bad_path/unicode_lookalike' },
  { name: 'fullwidth solidus raw', target: wire('/v1/..／secret'), expect: 'bad_path/unicode_lookalike' },
  { name: 'fullwidth full stops', target: '/v1/%EF%BC%8E%EF%BC%8E/x', expect: 'bad_path/unicode_lookalike' },
  { name: 'two-dot leader', target: '/v1/%E2%80%A5/x', expect: 'bad_path/unicode_lookalike' },
  { name: 'division slash', target: '/v1/a%E2%88%95b', expect: 'bad_path/unicode_lookalike' },
  { name: 'fullwidth reverse solidus', target: '/v1/a%EF%BC%BCb', expect: 'bad_path/unicode_lookalike' },
  { name: 'NUL', target: '/v1/%00/x', expect: 'bad_path/control_char' },
  { name: 'CRLF header injection', target: '/v1/x%0d%0aHost:%20evil', expect: 'bad_path/control_char' },
  { name: 'DEL', target: '/v1/%7f', expect: 'bad_path/control_char' },
  { name: 'C1 NEL', target: '/v1/%c2%85', expect: 'bad_path/control_char' },
  { name: 'raw tab', target: '/v1/\tx', expect: 'bad_path/control_char' },
  { name: 'malformed escape', target: '/v1/%zz', expect: 'bad_path/bad_percent' },
  { name: 'truncated escape', target: '/v1/%2', expect: 'bad_path/bad_percent' },
  { name: 'IIS %u escape', target: '/v1/%u002e%u002e/x', expect: 'bad_path/bad_percent' },
  { name: 'asterisk-form', method: 'OPTIONS', target: '*', expect: 'bad_request/bad_target' },
  { name: 'fragment', target: '/v1/x#frag', expect: 'bad_request/bad_target' },
  { name: 'character that cannot come from the wire', target: '/v1/\u2215', expect: 'bad_request/bad_target' },

  // ---- headers: repeats, identity, framing ----
  { name: 'second Host', headers: ['Host', 'evil.test'], expect: 'bad_request/duplicate_header' },
  { name: 'second host, other case', headers: ['HOST', H], expect: 'bad_request/duplicate_header' },
  { name: 'Host names another host', host: 'evil.test', expect: 'host_mismatch/host_mismatch' },
  { name: 'Host names another port', host: `${H}:444`, expect: 'host_mismatch/host_mismatch' },
  { name: 'Host with userinfo', host: `user@${H}`, expect: 'host_mismatch/host_mismatch' },
  { name: 'no Host', host: null, expect: 'bad_request/missing_host' },
  { name: 'Content-Encoding identity + gzip', method: 'POST', headers: ['Content-Encoding', 'identity', 'Content-Encoding', 'gzip', ...POST_BODY], expect: 'bad_request/duplicate_header' },
  { name: 'Content-Encoding twice, same value', method: 'POST', headers: ['Content-Encoding', 'gzip', 'content-encoding', 'gzip', ...POST_BODY], expect: 'bad_request/duplicate_header' },
  { name: 'Content-Type twice', method: 'POST', headers: ['Content-Type', 'text/plain', 'Content-Type', 'application/dns-message', ...POST_BODY], expect: 'bad_request/duplicate_header' },
  { name: 'Content-Length twice', method: 'POST', headers: ['Content-Length', '5', 'Content-Length', '5'], expect: 'bad_request/duplicate_header' },
  { name: 'Content-Length list, different values', method: 'POST', headers: ['Content-Length', '5, 6'], expect: 'bad_request/bad_content_length' },
  { name: 'Content-Length list, same values', method: 'POST', headers: ['Content-Length', '5, 5'], expect: 'bad_request/bad_content_length' },
  { name: 'Content-Length signed', method: 'POST', headers: ['Content-Length', '+5'], expect: 'bad_request/bad_content_length' },
  { name: 'Content-Length hex', method: 'POST', headers: ['Content-Length', '0x10'], expect: 'bad_request/bad_content_length' },
  { name: 'CL and TE', method: 'POST', headers: ['Content-Length', '5', 'Transfer-Encoding', 'chunked'], expect: 'bad_request/conflicting_framing' },
  { name: 'TE: chunked, chunked', method: 'POST', headers: ['Transfer-Encoding', 'chunked, chunked'], expect: 'bad_request/bad_transfer_encoding' },
  { name: 'TE: gzip, chunked', method: 'POST', headers: ['Transfer-Encoding', 'gzip, chunked'], expect: 'bad_request/bad_transfer_encoding' },
  { name: 'TE: identity', method: 'POST', headers: ['Transfer-Encoding', 'identity'], expect: 'bad_request/bad_transfer_encoding' },
  { name: 'TE: xchunked', method: 'POST', headers: ['Transfer-Encoding', 'xchunked'], expect: 'bad_request/bad_transfer_encoding' },
  { name: 'TE twice', method: 'POST', headers: ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], expect: 'bad_request/duplicate_header' },
  { name: 'GET with a chunked body', headers: ['Transfer-Encoding', 'chunked'], expect: 'bad_request/body_not_allowed' },
  { name: 'GET with a Content-Length body', headers: ['Content-Length', '10'], expect: 'bad_request/body_not_allowed' },
  { name: 'HEAD with a body', method: 'HEAD', headers: ['Content-Length', '5'], expect: 'bad_request/body_not_allowed' },
  { name: 'Connection names Host', headers: ['Connection', 'close, Host'], expect: 'bad_request/connection_names_critical' },
  { name: 'Connection names Content-Length', method: 'POST', headers: ['Connection', 'Content-Length', ...POST_BODY], expect: 'bad_request/connection_names_critical' },
  { name: 'X-HTTP-Method-Override', method: 'POST', headers: ['X-HTTP-Method-Override', 'DELETE', ...POST_BODY], expect: 'bad_request/method_override' },
  { name: '_method in the query', method: 'POST', target: '/v1/x?_method=DELETE', headers: POST_BODY, expect: 'bad_request/method_override' },
  { name: 'X-Original-URL', headers: ['X-Original-URL', '/admin'], expect: 'bad_request/path_override' },
  { name: 'CR/LF in a header value', headers: ['X-A', 'a\r\nHost: evil.test'], expect: 'bad_request/bad_header' },
  { name: 'space in a header name', headers: ['X A', 'b'], expect: 'bad_request/bad_header' },
  { name: 'lower-case method', method: 'post', expect: 'bad_request/bad_method' },
  { name: 'CONNECT inside a tunnel', method: 'CONNECT', target: '/', expect: 'bad_request/bad_method' },
  { name: 'WebSocket upgrade on POST', method: 'POST', headers: ['Upgrade', 'websocket', 'Connection', 'Upgrade'], expect: 'bad_request/bad_websocket' },
  { name: 'Upgrade twice', headers: ['Upgrade', 'websocket', 'Upgrade', 'h2c', 'Connection', 'Upgrade'], expect: 'bad_request/duplicate_header' },
  { name: 'absolute-form naming another host', target: 'https://evil.test/v1', expect: 'host_mismatch/host_mismatch' },
  { name: 'absolute-form with userinfo', target: `https://u@${H}/v1`, expect: 'bad_request/bad_target' },
  { name: 'https absolute-form on the plain proxy', plain: true, target: `https://${H}/v1`, expect: 'bad_request/bad_target' },
  { name: 'repeated dns (DoH)', target: '/dns-query?dns=AAAA&dns=BBBB', expect: 'bad_request/duplicate_query_param' },
  { name: 'repeated dns, encoded name', target: '/dns-query?d%6es=AAAA&dns=BBBB', expect: 'bad_request/duplicate_query_param' },
  { name: 'NUL in the query', target: '/v1/x?a=%00&service=git-receive-pack', expect: 'bad_request/control_char' },
  { name: 'raw tab in the query', target: '/v1/x?a=\tb', expect: 'bad_request/control_char' },
  { name: 'malformed escape in the query', target: '/v1/x?a=%zz', expect: 'bad_request/bad_percent' },
];

describe('attack corpus', () => {
  it('has at least 60 cases with distinct names', () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(ATTACKS.map((c) => c.name)).size).toBe(ATTACKS.length);
  });
  for (const c of ATTACKS) {
    it(`${c.name} → ${c.expect}`, () => {
      expect(verdict(normalizeRequest(input(c)))).toBe(c.expect);
    });
  }
});

describe('CONNECT and absolute-form ports', () => {
  const cases: ReadonlyArray<{ name: string; fn: (routePort: number | null, port: number) => boolean; routePort: number | null; port: number; allowed: boolean }> = [
    { name: 'CONNECT :80 on a route without port', fn: connectPortAllowed, routePort: null, port: 80, allowed: false },
    { name: 'CONNECT :8443 on a route without port', fn: connectPortAllowed, routePort: null, port: 8443, allowed: false },
    { name: 'CONNECT :443 on a route with port 8443', fn: connectPortAllowed, routePort: 8443, port: 443, allowed: false },
    { name: 'http:// :443 on a route without port', fn: absolutePortAllowed, routePort: null, port: 443, allowed: false },
    { name: 'http:// :8080 on a route without port', fn: absolutePortAllowed, routePort: null, port: 8080, allowed: false },
    { name: 'CONNECT :443 on a route without port', fn: connectPortAllowed, routePort: null, port: 443, allowed: true },
    { name: 'CONNECT :8443 on a route with port 8443', fn: connectPortAllowed, routePort: 8443, port: 8443, allowed: true },
    { name: 'http:// :80 on a route without port', fn: absolutePortAllowed, routePort: null, port: 80, allowed: true },
    { name: 'http:// :8080 on a route with port 8080', fn: absolutePortAllowed, routePort: 8080, port: 8080, allowed: true },
  ];
  for (const c of cases) it(c.name, () => expect(c.fn(c.routePort, c.port)).toBe(c.allowed));
});

const BENIGN: ReadonlyArray<Case & { readonly git?: 'upload-pack' }> = [
  { name: 'root', target: '/' },
  { name: 'OpenAI models', target: '/v1/models' },
  { name: 'chat completions POST', method: 'POST', target: '/v1/chat/completions', headers: ['Content-Type', 'application/json', 'Content-Length', '123'] },
  { name: 'Anthropic messages with a flag', method: 'POST', target: '/v1/messages?beta=true', headers: ['content-type', 'application/json', 'Content-Length', '2'] },
  { name: 'GitHub issues listing', target: '/repos/acme/widget/issues?state=open&per_page=100' },
  { name: 'search with + and encoded :', target: '/search/code?q=foo+bar+language%3Ats' },
  { name: 'encoded space', target: '/files/my%20file.txt' },
  { name: 'npm scoped package', target: '/@types%2Fnode' },
  { name: 'npm scoped tarball', target: '/@babel%2Fcore/-/core-7.24.0.tgz' },
  { name: 'GitLab project id with encoded slash', target: '/api/v4/projects/acme%2Fwidget/merge_requests?state=opened' },
  { name: 'git fetch advertisement', target: '/acme/widget.git/info/refs?service=git-upload-pack', git: 'upload-pack' },
  { name: 'git fetch POST', method: 'POST', target: '/acme/widget.git/git-upload-pack', headers: ['Content-Type', 'application/x-git-upload-pack-request', 'Accept', 'application/x-git-upload-pack-result', 'Content-Length', '200'], git: 'upload-pack' },
  { name: 'git fetch POST, chunked', method: 'POST', target: '/acme/widget.git/git-upload-pack', headers: ['Content-Type', 'application/x-git-upload-pack-request', 'Transfer-Encoding', 'chunked'], git: 'upload-pack' },
  { name: 'repeated non-security parameter', target: '/tags?tag=a&tag=b' },
  { name: 'empty value and bare flag', target: '/v1/x?empty=&flag' },
  { name: 'pip simple index', target: '/simple/requests/' },
  { name: 'PyPI source tarball', target: '/packages/source/r/requests/requests-2.31.0.tar.gz' },
  { name: 'registry manifest by digest', target: '/v2/library/ubuntu/manifests/sha256:abc123' },
  { name: 'UTF-8 path', target: '/wiki/Caf%C3%A9' },
  { name: 'tilde, underscore, dots inside a name', target: '/v1/items/~user/file_name-1.2' },
  { name: 'trailing slash', target: '/a/b/c/' },
  { name: 'encoded URL in the query', target: '/oauth/authorize?redirect_uri=https%3A%2F%2Fexample.com%2Fcb&state=x' },
  { name: 'commas and a minus in the query', target: '/v1/x?list=a,b,c&sort=-created' },
  { name: 'UTF-8 in the query', target: '/search?q=%E2%9C%93' },
  { name: 'single ; in the query', target: '/v1/x?a=1;b=2' },
  { name: 'well-known path', target: '/.well-known/openid-configuration' },
  { name: 'dot-file segment', target: '/v1/.hidden/file' },
  { name: 'dots inside a segment', target: '/v1/a...b' },
  { name: 'npm search', target: '/-/v1/search?text=react&size=20' },
  { name: 'JSON in the query', target: '/v1/x?json=%7B%22a%22%3A1%7D' },
  { name: 'WebSocket upgrade', target: '/v1/realtime?model=gpt', headers: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version', '13'] },
  { name: 'file content download', target: '/v1/files/file-abc/content' },
  { name: 'DELETE without a body', method: 'DELETE', target: '/v1/x/1' },
  { name: 'DELETE with a body', method: 'DELETE', target: '/v1/x/1', headers: ['Content-Length', '2'] },
  { name: 'crates download', target: '/api/v1/crates/serde/1.0.0/download' },
  { name: 'Go module proxy', target: '/golang.org/x/net/@v/v0.20.0.info' },
  { name: 'encoded space in the query', target: '/v1/x?q=a%20b' },
  { name: 'sub-delims in the path', target: "/path/with(parens)/and!bang*star'quote$dollar,comma=eq+plus" },
  { name: 'encoded check mark in the path', target: '/v1/%E2%9C%93' },
  { name: 'encoded % followed by text', target: '/v1/100%25' },
  { name: 'dumb-HTTP refs without service', target: '/acme/widget.git/info/refs' },
  { name: 'percent-encoded reserved chars kept', target: '/v1/a%40b%3Dc%2Bd' },
  { name: 'Host with the port spelled out', host: `${H}:443`, target: '/v1/x' },
  { name: 'Host in other case', host: 'Git.Example.Test', target: '/v1/x' },
  { name: 'PATCH with gzip body', method: 'PATCH', target: '/v1/x', headers: ['Content-Encoding', 'gzip', 'Content-Length', '30'] },
  { name: 'GET with Content-Length: 0', target: '/v1/x', headers: ['Content-Length', '0'] },
  { name: 'method override naming the same method', method: 'POST', target: '/v1/x', headers: ['X-HTTP-Method-Override', 'POST', 'Content-Length', '1'] },
];

describe('benign requests normalise unchanged', () => {
  it('has at least 30 cases with distinct names', () => {
    expect(BENIGN.length).toBeGreaterThanOrEqual(30);
    expect(new Set(BENIGN.map((c) => c.name)).size).toBe(BENIGN.length);
  });
  for (const c of BENIGN) {
    it(c.name, () => {
      const r = ok(c);
      expect(r.pathForUpstream).toBe(c.target ?? '/');
      expect(r.isGitPush).toBe(false);
      expect(r.gitService).toBe(c.git ?? null);
      const q = r.pathForUpstream.indexOf('?');
      expect(r.path).toBe(q < 0 ? r.pathForUpstream : r.pathForUpstream.slice(0, q));
    });
  }

  it('plain absolute-form keeps path and query', () => {
    const r = ok({ name: 'plain', plain: true, target: `http://${H}/v1/x?y=1` });
    expect(r.pathForUpstream).toBe('/v1/x?y=1');
    expect(r.headers.slice(0, 2)).toEqual(['Host', H]);
    expect(ok({ name: 'plain-bare', plain: true, target: `http://${H}?y=1` }).pathForUpstream).toBe('/?y=1');
    expect(ok({ name: 'plain-port', plain: true, port: 8080, host: `${H}:8080`, target: `http://${H}:8080/` }).headers.slice(0, 2)).toEqual(['Host', `${H}:8080`]);
  });
});

describe('canonical rewrites', () => {
  const rewrites: ReadonlyArray<[string, string]> = [
    ['/@types%2fnode', '/@types%2Fnode'], // npm sends lower-case hex; the registry reads either
    ['/acme/w.git/git%2dupload-pac%6b', '/acme/w.git/git-upload-pack'],
    ['/v1//x///y', '/v1/x/y'],
    ['//v1/x', '/v1/x'],
    ['/v1/x//', '/v1/x/'],
    ['//', '/'],
    ['/v1/{id}|"x"', '/v1/%7Bid%7D%7C%22x%22'],
    [wire('/wiki/Café'), '/wiki/Caf%C3%A9'],
    ['/v1/caf%c3%a9', '/v1/caf%C3%A9'],
    ['/v1/x?q=a%2db&r=%7e', '/v1/x?q=a-b&r=~'],
    ['/v1/x?q={"a":1}', '/v1/x?q=%7B%22a%22:1%7D'],
    [wire('/v1/x?q=ü'), '/v1/x?q=%C3%BC'],
    ['/v1/x?a=b\\c', '/v1/x?a=b%5Cc'],
  ];
  for (const [from, to] of rewrites) {
    it(`${JSON.stringify(from)} → ${to}`, () => expect(ok({ name: from, target: from }).pathForUpstream).toBe(to));
  }

  it('decodes the path and the query once for DLP and matching', () => {
    const r = ok({ name: 'd', target: '/v1/caf%C3%A9%20x?q=a+b%20c&n=%25' });
    expect(r.decodedPath).toBe('/v1/café x');
    expect(r.query).toEqual([['q', 'a b c'], ['n', '%']]);
    expect(r.queryString).toBe('q=a+b%20c&n=%25');
  });

  it('an encoded slash adds the slash-decoded form to matchPaths', () => {
    expect(ok({ name: 'gl', target: '/api/v4/projects/acme%2Fwidget' }).matchPaths).toEqual(['/api/v4/projects/acme%2Fwidget', '/api/v4/projects/acme/widget']);
    expect(ok({ name: 'np', target: '/v1/x' }).matchPaths).toEqual(['/v1/x']);
  });
});

describe('headers and framing', () => {
  it('rebuilds Host first, drops hop-by-hop and framing headers, keeps the rest in order', () => {
    const r = ok({
      name: 'h', method: 'POST', target: '/v1/x', host: `git.EXAMPLE.test:443`,
      headers: ['Connection', 'keep-alive, X-Trace', 'Keep-Alive', 'timeout=5', 'X-Trace', 'abc', 'Proxy-Authorization', 'Basic x', 'TE', 'trailers', 'Trailer', 'X-Sum', 'Upgrade', 'h2c', 'Authorization', 'Bearer t', 'Accept', 'a', 'Accept', 'b', 'Cookie', 'a=1', 'Cookie', 'b=2', 'Content-Length', '5'],
    });
    expect(r.headers).toEqual(['Host', H, 'Authorization', 'Bearer t', 'Accept', 'a', 'Accept', 'b', 'Cookie', 'a=1', 'Cookie', 'b=2']);
    expect([...r.hopByHop].sort()).toEqual(['connection', 'keep-alive', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'x-trace']);
    expect(r.headerMap).toEqual({ host: H, authorization: 'Bearer t', accept: 'a, b', cookie: 'a=1; b=2' });
    expect(r.framing).toEqual({ kind: 'length', length: 5 });
    expect(r.websocket).toBe(false);
  });

  it('Host for a non-default port and an IPv6 target', () => {
    const v6: NormalizeInput = { method: 'GET', target: { scheme: 'https', host: '2001:db8::1', port: 8443 }, rawTarget: '/', rawHeaders: ['Host', '[2001:db8::1]:8443'], isConnectInner: true };
    const r = normalizeRequest(v6);
    expect(r.ok && r.req.headers.slice(0, 2)).toEqual(['Host', '[2001:db8::1]:8443']);
  });

  it('WebSocket keeps Upgrade and a single Connection: Upgrade', () => {
    const r = ok({ name: 'ws', target: '/ws', headers: ['Connection', 'keep-alive, Upgrade', 'Upgrade', 'WebSocket', 'Sec-WebSocket-Key', 'k'] });
    expect(r.websocket).toBe(true);
    expect(r.headers).toEqual(['Host', H, 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k']);
  });

  it('Upgrade without Connection: upgrade is not a WebSocket and is dropped', () => {
    const r = ok({ name: 'nows', target: '/ws', headers: ['Upgrade', 'websocket'] });
    expect(r.websocket).toBe(false);
    expect(r.headers).toEqual(['Host', H]);
  });

  it('framing: none, length, chunked; every content coding in order', () => {
    expect(ok({ name: 'n', method: 'POST' }).framing).toEqual({ kind: 'none' });
    expect(ok({ name: 'c', method: 'POST', headers: ['Transfer-Encoding', ' Chunked '] }).framing).toEqual({ kind: 'chunked' });
    const r = ok({ name: 'ce', method: 'POST', headers: ['Content-Encoding', 'identity, GZIP ,br', 'Content-Length', '3', 'Content-Type', 'text/plain'] });
    expect(r.contentEncoding).toEqual(['identity', 'gzip', 'br']);
    expect(r.contentType).toBe('text/plain');
  });

  it('upstream framing is explicit whenever the length is unknown', () => {
    expect(upstreamFramingHeaders({ kind: 'chunked' }, null)).toEqual([['transfer-encoding', 'chunked']]);
    expect(upstreamFramingHeaders({ kind: 'length', length: 7 }, null)).toEqual([['content-length', '7']]);
    expect(upstreamFramingHeaders({ kind: 'none' }, null)).toEqual([]);
    expect(upstreamFramingHeaders({ kind: 'chunked' }, 12)).toEqual([['content-length', '12']]);
    expect(upstreamFramingHeaders({ kind: 'length', length: 7 }, 5)).toEqual([['content-length', '5']]);
    expect(upstreamFramingHeaders({ kind: 'none' }, 0)).toEqual([]);
  });

  it('details never echo header values, paths or query values', () => {
    const secret = 'sk-live-SECRET';
    const probes: Case[] = [
      { name: 'a', target: `/v1/${secret}/..` },
      { name: 'b', target: `/v1/x?service=${secret}&service=y` },
      { name: 'c', headers: ['Host', secret] },
      { name: 'd', host: secret },
      { name: 'e', method: 'POST', headers: ['Content-Length', secret] },
    ];
    for (const p of probes) {
      const r = normalizeRequest(input(p));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.detail).not.toContain(secret);
    }
  });
});

// ---------- properties ----------

const runs = { numRuns: 1000 };

/** Path-ish strings heavy in the characters that matter: %, /, ., ;, \, hex digits, Unicode, bytes. */
const pathChar = fc.constantFrom(
  '/', '/', '.', '..', '%', '%2', '%2e', '%2E', '%2f', '%2F', '%5c', '%25', '%3b', ';', '\\', 'a', 'b', 'F', 'e', '0', '7', '-', '_', '~',
  '@', ':', '+', '=', '&', '?', '#', ' ', '\t', '{', '%c0', '%af', '%C3%A9', '%EF%BC%8F', '%00', 'git-receive-pack', 'git-upload-pack',
  'service=', '\xc3\xa9', '\xff', 'é', '／',
);
const pathArb = fc.array(pathChar, { maxLength: 24 }).map((xs) => `/${xs.join('')}`);
const headerArb = fc.array(
  fc.tuple(
    fc.constantFrom('Host', 'host', 'Content-Length', 'Transfer-Encoding', 'Content-Encoding', 'Content-Type', 'Connection', 'Upgrade', 'X-A', 'Accept', 'TE', 'Proxy-X', 'Bad Name', ''),
    fc.oneof(fc.constantFrom(H, 'evil.test', '5', '0', 'chunked', 'gzip', 'upgrade', 'websocket', 'close, x-a', 'a\r\nb', '', '-1'), fc.string({ maxLength: 12 })),
  ),
  { maxLength: 6 },
);

function again(first: NormalizedRequest, method: string, isConnectInner: boolean): NormalizeResult {
  const framing = upstreamFramingHeaders(first.framing, null).flat();
  return normalizeRequest({
    method,
    target: { scheme: first.scheme, host: first.host, port: first.port },
    rawTarget: first.pathForUpstream,
    rawHeaders: [...first.headers, ...framing],
    isConnectInner,
  });
}

function dotOrSeparatorProblem(path: string): string | null {
  for (const form of [path, path.replace(/%2F/g, '/')]) {
    for (const seg of form.split('/').slice(1)) if (seg === '.' || seg === '..') return `dot segment in ${form}`;
  }
  if (/%5C|\\|;|%3B|%25[0-9A-Fa-f]{2}|\/\/|\/%2F|%2F\/|%2F%2F|^%2F/i.test(path.slice(1))) return `separator or double encoding in ${path}`;
  return null;
}

describe('properties', () => {
  it('never throws, whatever the method, target and headers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'CONNECT', 'get'), fc.string({ maxLength: 8 })), fc.oneof(pathArb, fc.string({ maxLength: 40 })), fc.array(fc.string({ maxLength: 10 }), { maxLength: 9 }), fc.boolean(), (method, target, headers, inner) => {
        normalizeRequest({ method, target: { scheme: inner ? 'https' : 'http', host: H, port: inner ? 443 : 80 }, rawTarget: target, rawHeaders: headers, isConnectInner: inner });
      }),
      runs,
    );
  });

  it('is idempotent on its own output', () => {
    fc.assert(
      fc.property(pathArb, fc.option(pathArb.map((p) => p.slice(1)), { nil: null }), headerArb, fc.constantFrom('GET', 'POST', 'DELETE'), (path, query, extra, method) => {
        const rawTarget = query === null ? path : `${path}?${query}`;
        const first = normalizeRequest({ method, target: { scheme: 'https', host: H, port: 443 }, rawTarget, rawHeaders: ['Host', H, ...extra.flat()], isConnectInner: true });
        if (!first.ok) return;
        const second = again(first.req, method, true);
        expect(second.ok).toBe(true);
        if (!second.ok) return;
        const pick = (r: NormalizedRequest) => [r.path, r.decodedPath, r.queryString, r.query, r.pathForUpstream, r.headers, r.framing, r.contentEncoding, r.websocket, r.gitService];
        expect(pick(second.req)).toEqual(pick(first.req));
      }),
      runs,
    );
  });

  it('an accepted path has no dot segment, encoded backslash, ; or double encoding in any match form', () => {
    fc.assert(
      fc.property(pathArb, (path) => {
        const r = normalizeRequest({ method: 'GET', target: { scheme: 'https', host: H, port: 443 }, rawTarget: path, rawHeaders: ['Host', H], isConnectInner: true });
        if (!r.ok) return;
        for (const p of r.req.matchPaths) expect(dotOrSeparatorProblem(p)).toBeNull();
        expect(r.req.decodedPath.split('/').some((s) => s === '.' || s === '..')).toBe(false);
        expect(r.req.pathForUpstream).toMatch(/^\/[\x21-\x7e]*$/);
        expect(r.req.pathForUpstream).not.toMatch(/%[0-9A-F]?[a-f]/);
      }),
      runs,
    );
  });

  it('a path segment spelling git-receive-pack in any accepted encoding is a push', () => {
    const spell = fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }).map((enc) =>
      [...'git-receive-pack'].map((ch, i) => (enc[i] ? `%${ch.charCodeAt(0).toString(16)}` : ch)).join(''),
    );
    fc.assert(
      fc.property(spell, fc.boolean(), (seg, upper) => {
        const s = upper ? seg.toUpperCase() : seg;
        const r = normalizeRequest({ method: 'POST', target: { scheme: 'https', host: H, port: 443 }, rawTarget: `/acme/w.git/${s}`, rawHeaders: ['Host', H, 'Content-Length', '1'], isConnectInner: true });
        expect(r.ok && r.req.isGitPush).toBe(true);
      }),
      runs,
    );
  });
});
