import { Buffer } from 'node:buffer';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  bodySurfaces,
  decodeBody,
  decodeText,
  encodeText,
  jsonUnescape,
  MAX_DECODED_BYTES,
  percentDecode,
  requestSurfaces,
} from '../../src/dlp/decode.js';
import { DEFAULT, SLOT, scanner } from './helpers.js';

const s = scanner();
const AKIA = 'AKIAIOSFODNN7EXAMPLE';

describe('body decoding', () => {
  const json = Buffer.from(JSON.stringify({ msg: `key ${AKIA}`, pad: 'x'.repeat(200) }));

  it('E44: gzip, x-gzip, deflate (zlib and raw), br and identity decode to the text', () => {
    const cases: [string, Buffer][] = [
      ['gzip', gzipSync(json)],
      ['x-gzip', gzipSync(json)],
      ['deflate', deflateSync(json)],
      ['deflate', deflateRawSync(json)],
      ['br', brotliCompressSync(json)],
      ['identity', json],
      ['', json],
    ];
    for (const [enc, body] of cases) {
      const r = decodeBody(body, enc);
      expect(r.ok, enc).toBe(true);
      if (r.ok) expect(r.bytes.equals(json)).toBe(true);
    }
    expect(decodeBody(json, undefined).ok).toBe(true);
  });

  it('E44: a token inside a gzip body is found after decoding', () => {
    const r = decodeBody(gzipSync(json), 'GZIP');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { text } = decodeText(r.bytes);
    expect(s.scan(bodySurfaces(text, 'application/json'), DEFAULT).map((f) => f.rule)).toEqual(['aws_access_key_id']);
  });

  it('E44: stacked encodings are undone from the last one', () => {
    const r = decodeBody(brotliCompressSync(gzipSync(json)), 'gzip, br');
    expect(r.ok && r.bytes.equals(json)).toBe(true);
  });

  it('E44: an unsupported encoding is a typed result naming it (egress → unscannable_encoding)', () => {
    const r = decodeBody(json, 'compress');
    expect(r).toMatchObject({ ok: false, reason: 'unsupported_encoding', encoding: 'compress' });
    if (!r.ok) expect(r.message).toContain('compress');
    expect(decodeBody(json, 'zstd')).toMatchObject({ ok: false, reason: 'unsupported_encoding' });
    // An agent-chosen header value is never echoed unless it looks like a coding name.
    for (const v of [`x ${SLOT}`, SLOT]) {
      const hostile = decodeBody(json, v);
      expect(JSON.stringify(hostile).toLowerCase()).not.toContain(SLOT.toLowerCase());
    }
    const hostile = decodeBody(json, SLOT);
    expect(hostile).toMatchObject({ ok: false, reason: 'unsupported_encoding', encoding: 'unrecognised' });
  });

  it('E44: corrupt data is a typed result, not an exception', () => {
    expect(decodeBody(Buffer.from('not gzip at all'), 'gzip')).toMatchObject({ ok: false, reason: 'corrupt' });
    expect(decodeBody(Buffer.from('not brotli'), 'br')).toMatchObject({ ok: false, reason: 'corrupt' });
  });

  it('E44: the 100x ratio cap rejects a decompression bomb', () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024));
    expect(bomb.length * 100).toBeLessThan(4 * 1024 * 1024);
    expect(decodeBody(bomb, 'gzip')).toMatchObject({ ok: false, reason: 'too_large', encoding: 'gzip' });
    // Under the ratio it passes.
    const ok = gzipSync(Buffer.from(Array.from({ length: 5000 }, (_, i) => String((i * 7919) % 1000)).join(',')));
    expect(decodeBody(ok, 'gzip').ok).toBe(true);
  });

  it('E44: the 64 MiB output cap (checked with a lowered cap: same code path)', () => {
    expect(MAX_DECODED_BYTES).toBe(64 * 1024 * 1024);
    const data = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 2654435761) % 100000).join(' '));
    const gz = gzipSync(data);
    expect(decodeBody(gz, 'gzip', { maxBytes: data.length - 1 })).toMatchObject({ ok: false, reason: 'too_large' });
    expect(decodeBody(gz, 'gzip', { maxBytes: data.length }).ok).toBe(true);
    expect(decodeBody(brotliCompressSync(data), 'br', { maxBytes: 1000 })).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('E46: a latin-1 binary body with an AKIA key: offsets are byte offsets and redaction round-trips', () => {
    const bin = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]), Buffer.from(` ${AKIA} `), Buffer.from([0xe9, 0x00, 0xff])]);
    const { text, encoding } = decodeText(bin);
    expect(encoding).toBe('latin1');
    const f = s.scan([{ name: 'body', text }], DEFAULT);
    expect(f.map((x) => [x.rule, x.start])).toEqual([['aws_access_key_id', 6]]);
    const redacted = text.slice(0, 6) + 'X'.repeat(20) + text.slice(26);
    const bytes = encodeText(redacted, encoding);
    expect(bytes.length).toBe(bin.length);
    expect(bytes.subarray(0, 5).equals(bin.subarray(0, 5))).toBe(true);
  });

  it('valid UTF-8 decodes as UTF-8', () => {
    expect(decodeText(Buffer.from('héllo ✓'))).toEqual({ text: 'héllo ✓', encoding: 'utf8' });
  });
});

describe('derived views', () => {
  it('JSON \\uXXXX escapes: decoded by the scanner escape view (no whole-body derived surface)', () => {
    const escaped = SLOT.split('').map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const text = `{"t":"${escaped}"}`;
    expect(bodySurfaces(text, 'application/json; charset=utf-8')).toHaveLength(1);
    const f = s.scan(bodySurfaces(text, 'application/json; charset=utf-8'), DEFAULT);
    expect(f.map((x) => [x.rule, x.surface, x.start, x.view])).toEqual([['raw', 'body', null, 'escape']]);
    // The raw region it came from is named (log redaction, gate line numbers), never rewritten.
    expect(f[0]!.spans).toEqual([{ surface: 'body', start: 6, end: text.length - 2 }]);
  });

  it('no derived body surface for JSON at all (the scanner decodes escape clusters itself)', () => {
    expect(bodySurfaces('{"a":"b\\n\\u0041"}', 'application/json')).toHaveLength(1);
  });

  it('attack: JSON with \\u escapes sent as text/plain still gets the unescaped view', () => {
    const escaped = SLOT.split('').map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const f = s.scan(bodySurfaces(`{"t":"${escaped}"}`, 'text/plain'), DEFAULT);
    expect(f.map((x) => x.rule)).toEqual(['raw']);
  });

  it('jsonUnescape resolves all JSON escapes and leaves broken ones', () => {
    expect(jsonUnescape('a\\u0041\\/\\"\\\\n\\n\\q\\u12')).toBe('aA/"\\n\n\\q\\u12');
  });

  it('form bodies are URL-decoded in a derived view (+ as space)', () => {
    const text = `a=1&tok=${encodeURIComponent(SLOT).replace(/-/g, '%2D')}+x`;
    const surfaces = bodySurfaces(text, 'application/x-www-form-urlencoded');
    expect(surfaces[1]).toMatchObject({ derived: true, text: `a=1&tok=${SLOT} x` });
    const f = s.scan(surfaces, DEFAULT);
    expect(f.map((x) => x.rule)).toEqual(['raw']);
    expect(f[0]!.start).toBeNull();
  });

  it('percentDecode never throws on malformed escapes', () => {
    expect(percentDecode('%E0%A4%A and %41%zz %', false)).toBe('\u00e0\u00a4%A and A%zz %');
    expect(percentDecode('a+b%20c', true)).toBe('a b c');
  });

  it('requestSurfaces: host, path (+decoded), query (+decoded), headers, body in order', () => {
    const surfaces = requestSurfaces({
      host: 'api.example.test',
      path: '/v1/a%20b',
      query: 'x=1+2',
      headers: [
        ['X-N', 'v'],
        ['accept', 'y'],
      ],
      body: '{"a":1}',
      contentType: 'application/json',
    });
    expect(surfaces.map((x) => [x.name, x.text, x.derived ?? false])).toEqual([
      ['host', 'api.example.test', false],
      ['path', '/v1/a%20b', false],
      ['path', '/v1/a b', true],
      ['query', 'x=1+2', false],
      ['query', 'x=1 2', true],
      ['header:x-n', 'v', false],
      ['header:accept', 'y', false],
      ['body', '{"a":1}', false],
    ]);
    const rec = requestSurfaces({ host: 'h', path: '/', headers: { 'x-a': ['1', '2'], 'x-b': undefined } });
    expect(rec.map((x) => x.name)).toEqual(['host', 'path', 'header:x-a', 'header:x-a']);
  });

  it('E35 through requestSurfaces: half the slot URL-encoded in the query, half in a JSON body', () => {
    const half = 14;
    const q = `x=1&a=${SLOT.slice(0, half).replace(/-/g, '%2D')}`;
    const f = s.scan(requestSurfaces({ host: 'api.example.test', path: '/v1/x', query: q, body: JSON.stringify({ b: SLOT.slice(half) }), contentType: 'application/json' }), DEFAULT);
    expect(f.map((x) => [x.rule, x.secretName, x.start])).toEqual([['fragment', 'EGRESS_TOKEN_0', null]]);
  });

  it('E32: a token only visible percent-decoded in the path is reported without offsets', () => {
    const f = s.scan(requestSurfaces({ host: 'h.test', path: `/v1/${encodeURIComponent(AKIA).replace('A', '%41')}` }), DEFAULT);
    expect(f.map((x) => [x.rule, x.surface, x.start])).toEqual([['aws_access_key_id', 'path', null]]);
  });
});
