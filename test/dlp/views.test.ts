import { Buffer } from 'node:buffer';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FragmentAccumulator } from '../../src/dlp/accumulator.js';
import { requestSurfaces } from '../../src/dlp/decode.js';
import { redactFindings, redactForLog } from '../../src/dlp/redact.js';
import { createScanner, MAX_VIEW_DEPTH, SHORT_PIECE_MAX_TEXT } from '../../src/dlp/scanner.js';
import type { Finding } from '../../src/dlp/types.js';
import { unescapeAll } from '../../src/dlp/views.js';
import { DEFAULT, KEY, SENSITIVE, SLOT, scanner } from './helpers.js';

/** Decode-then-rescan (docs/decisions/dlp-v2-views-and-validators.md). */
const s = scanner();
const only = new Set(['token_patterns'] as const);
const TOKEN = 'ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6';

function base32(b: Buffer): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let v = 0;
  let o = '';
  for (const x of b) {
    v = ((v << 8) | x) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      o += A[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits) o += A[(v << (5 - bits)) & 31];
  while (o.length % 8) o += '=';
  return o;
}
const hex = (t: string): string => Buffer.from(t).toString('hex');
const qp = (t: string): string => [...Buffer.from(t)].map((c) => `=${c.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** [label, encoded form of TOKEN, expected view chain]. */
const ENCODINGS: [string, (t: string) => string, string][] = [
  ['base64', (t) => Buffer.from(t).toString('base64'), 'base64'],
  ['base64url', (t) => Buffer.from(`>> ${t}`).toString('base64url'), 'base64'],
  ['base64 wrapped at 76 (CLI)', (t) => Buffer.from(`${'lorem ipsum '.repeat(6)}${t}`).toString('base64').replace(/(.{76})/g, '$1\n'), 'base64'],
  ['base64 wrapped at 64 in JSON (\\n escapes)', (t) => Buffer.from(`${'x '.repeat(30)}${t}`).toString('base64').replace(/(.{64})/g, '$1\\n'), 'base64'],
  ['base64 of base64', (t) => Buffer.from(Buffer.from(t).toString('base64')).toString('base64'), 'base64>base64'],
  ['base32', (t) => base32(Buffer.from(t)), 'base32'],
  ['hex', (t) => hex(t), 'hex'],
  ['HEX', (t) => hex(t).toUpperCase(), 'hex'],
  ['hex with colons', (t) => hex(t).replace(/(..)(?=.)/g, '$1:'), 'hex'],
  ['hex with spaces', (t) => hex(t).replace(/(..)(?=.)/g, '$1 '), 'hex'],
  ['hex with dashes', (t) => hex(t).replace(/(..)(?=.)/g, '$1-'), 'hex'],
  ['0x, comma-separated', (t) => [...Buffer.from(t)].map((b) => `0x${b.toString(16)}`).join(', '), 'hex'],
  ['\\x escapes', (t) => hex(t).replace(/(..)/g, '\\x$1'), 'escape'],
  ['percent', (t) => hex(t).replace(/(..)/g, '%$1'), 'escape'],
  ['percent, twice', (t) => hex(t).replace(/(..)/g, '%25$1'), 'escape'],
  ['percent, three times', (t) => hex(t).replace(/(..)/g, '%2525$1'), 'escape'],
  ['\\u escapes', (t) => [...t].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''), 'escape'],
  ['octal escapes', (t) => [...Buffer.from(t)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join(''), 'escape'],
  ['HTML entities', (t) => [...t].map((c) => `&#${c.charCodeAt(0)};`).join(''), 'escape'],
  ['quoted-printable', (t) => qp(t), 'escape'],
  ['quoted-printable with soft breaks', (t) => qp(t).replace(/(.{30})/g, '$1=\r\n'), 'escape'],
  ['UTF-16LE', (t) => Buffer.from(t, 'utf16le').toString('latin1'), 'utf16'],
  ['UTF-16BE with BOM', (t) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()]).toString('latin1'), 'utf16'],
  ['fullwidth letters', (t) => [...t].map((c) => (/[A-Za-z0-9_]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join(''), 'fold'],
  ['zero-width joiners', (t) => [...t].join('\u200b'), 'fold'],
  ['Unicode tag characters', (t) => [...t].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join(''), 'fold'],
  ['gzip bytes, no Content-Encoding', (t) => gzipSync(`payload ${t}`).toString('latin1'), 'gzip'],
  ['base64 of gzip', (t) => gzipSync(`payload ${t}`).toString('base64'), 'base64>gzip'],
  ['base64 of zlib', (t) => deflateSync(`payload ${t}`).toString('base64'), 'base64>zlib'],
  ['percent of base64 of gzip', (t) => encodeURIComponent(gzipSync(`p ${t}`).toString('base64')), 'escape>base64>gzip'],
];

function zip(name: string, data: Buffer): Buffer {
  const comp = deflateRawSync(data);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(8, 8);
  h.writeUInt32LE(comp.length, 18);
  h.writeUInt32LE(data.length, 22);
  h.writeUInt16LE(name.length, 26);
  return Buffer.concat([h, Buffer.from(name), comp]);
}

describe('decoded views: unknown tokens are found through every encoding', () => {
  for (const [label, enc, view] of ENCODINGS) {
    it(`${label} → github_token via ${view}, not rewritable, raw region named`, () => {
      const text = `{"note":"see ${enc(TOKEN)} ok"}`;
      const f = s.scan([{ name: 'body', text }], only).filter((x) => x.rule === 'github_token');
      expect(f, JSON.stringify(f)).toHaveLength(1);
      expect(f[0]).toMatchObject({ start: null, end: null, view, surface: 'body' });
      const span = f[0]!.spans![0]!;
      expect(span.surface).toBe('body');
      expect(span.start).toBeGreaterThanOrEqual(0);
      expect(span.end).toBeLessThanOrEqual(text.length);
    });
  }

  it('zlib bytes as the whole body (no Content-Encoding) are inflated', () => {
    const f = s.scan([{ name: 'body', text: deflateSync(`payload ${TOKEN}`).toString('latin1') }], only);
    expect(f.map((x) => [x.rule, x.view, x.start])).toEqual([['github_token', 'zlib', null]]);
  });

  it('zip members (deflated) inside a binary body are inflated and scanned', () => {
    const body = Buffer.concat([Buffer.from('--boundary\r\n'), zip('notes.txt', Buffer.from(`x ${TOKEN} y`)), Buffer.from('\r\n--boundary--')]).toString('latin1');
    expect(s.scan([{ name: 'body', text: body }], only).map((x) => [x.rule, x.view])).toEqual([['github_token', 'zip']]);
  });

  it('every other token rule also runs in views (AWS key id in base64, Stripe key in hex)', () => {
    const text = `a=${Buffer.from('id AKIAIOSFODNN7EXAMPLE').toString('base64')} b=${hex('k sk_live_51HxYzAbCdEfGhIjKlMnOpQr')}`;
    expect(s.scan([{ name: 'q', text }], only).map((x) => x.rule)).toEqual(['aws_access_key_id', 'stripe_live_key']);
  });
});

describe('decoded views: known secrets', () => {
  const FORMS: [string, string][] = [
    ['base32', base32(Buffer.from(SLOT))],
    ['quoted-printable', qp(SLOT)],
    ['UTF-16LE', Buffer.from(SLOT, 'utf16le').toString('latin1')],
    ['gzip bytes', gzipSync(SLOT).toString('latin1')],
    ['base64 of gzip', gzipSync(SLOT).toString('base64')],
    ['nested percent', hex(SLOT).replace(/(..)/g, '%2525$1')],
    ['fullwidth', [...SLOT].map((c) => (/[A-Za-z0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('')],
  ];
  for (const [label, form] of FORMS) {
    it(`slot value as ${label} → dlp finding for EGRESS_TOKEN_0`, () => {
      const f = s.scan([{ name: 'body', text: `v=${form}` }], DEFAULT).filter((x) => x.secretName === 'EGRESS_TOKEN_0');
      expect(f.length, label).toBeGreaterThanOrEqual(1);
      expect(f[0]!.start).toBeNull();
    });
  }

  it('reversed (rev) → rule reversed, rewritable', () => {
    const rev = [...SLOT].reverse().join('');
    const f = s.scan([{ name: 'body', text: `x ${rev} y` }], DEFAULT);
    expect(f.map((x) => [x.rule, x.start])).toEqual([['reversed', 2]]);
  });

  it('a secret found raw in a form and again in the decoded view is one finding (the rewritable one)', () => {
    const b64 = Buffer.from(SLOT).toString('base64');
    const f = s.scan([{ name: 'body', text: `k=${b64}` }], DEFAULT);
    expect(f.map((x) => [x.rule, x.start !== null])).toEqual([['base64', true]]);
    // Redacting it leaves nothing, in any view.
    expect(s.scan([{ name: 'body', text: redactFindings(`k=${b64}`, f) }], DEFAULT)).toEqual([]);
  });
});

describe('decoded views: bounds', () => {
  it(`recursion stops at depth ${MAX_VIEW_DEPTH}; maxViewDepth and views:false narrow it`, () => {
    let t = TOKEN;
    const layers: string[] = [];
    for (let i = 0; i < 4; i++) {
      t = Buffer.from(t).toString('base64');
      layers.push(t);
    }
    expect(s.scan([{ name: 'b', text: layers[2]! }], only).map((x) => x.view)).toEqual(['base64>base64>base64']);
    expect(s.scan([{ name: 'b', text: layers[3]! }], only)).toEqual([]);
    expect(s.scan([{ name: 'b', text: layers[0]! }], only, { views: false })).toEqual([]);
    expect(s.scan([{ name: 'b', text: layers[1]! }], only, { maxViewDepth: 1 })).toEqual([]);
  });

  it('a decompression bomb is reported as unscannable_compressed (block), never inflated past the budget', () => {
    const bomb = gzipSync(Buffer.concat([Buffer.alloc(64 * 1024 * 1024), Buffer.from(TOKEN)]));
    const text = `upload=${bomb.toString('base64')}`;
    const t0 = performance.now();
    const f = s.scan([{ name: 'body', text }], only);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(f.map((x) => [x.rule, x.severity, x.start, x.view])).toEqual([['unscannable_compressed', 'block', null, 'base64>gzip']]);
    // Not reported when no content detector runs (canary-only routes).
    expect(s.scan([{ name: 'body', text }], new Set())).toEqual([]);
  });

  it('compressed data within the budget (8× the input + 1 MiB) is inflated and scanned', () => {
    const data = Buffer.from(`${'{"k":"v","n":12345},'.repeat(20000)}${TOKEN}`);
    const f = s.scan([{ name: 'body', text: gzipSync(data).toString('base64') }], only);
    expect(f.map((x) => x.rule)).toEqual(['github_token']);
  });

  it('unescapeAll decodes to a fixed point (first and last rounds are views) and leaves broken escapes', () => {
    expect(unescapeAll('%252567h%zz\\x4')).toEqual(['%2567h%zz\\x4', 'gh%zz\\x4']);
    // Quoted-printable is one layer: the first round is the faithful one, later rounds are extra views.
    expect(unescapeAll('a=3D=41=\r\nB')[0]).toBe('a=AB');
  });
});

describe('decoded views: consumers', () => {
  it('the log redactor masks the encoded region of a token seen only decoded', () => {
    const b64 = Buffer.from(`token ${TOKEN}`).toString('base64');
    const out = redactForLog(`GET /x?t=${b64} 200`, s);
    expect(out).toBe('GET /x?t=[redacted:github_token] 200');
  });

  it('git gate: per-surface scope keeps spans in the file (line numbers come from them)', () => {
    const file = `line one\nkey: ${Buffer.from(TOKEN).toString('base64')}\n`;
    const [f] = s.scan([{ name: 'a.yaml', text: file }], only, { fragmentScope: 'surface' });
    expect(f).toMatchObject({ rule: 'github_token', surface: 'a.yaml', view: 'base64' });
    expect(file.slice(f!.spans![0]!.start, f!.spans![0]!.end)).toBe(Buffer.from(TOKEN).toString('base64'));
  });

  it('a generic assignment yields to the specific rule on the same value', () => {
    expect(s.scan([{ name: 'b', text: `token: ${TOKEN}` }], only).map((x) => x.rule)).toEqual(['github_token']);
    expect(s.scan([{ name: 'b', text: `password=${SLOT}` }], DEFAULT).map((x) => x.rule)).toEqual(['raw']);
  });
});

describe('known secrets in short pieces', () => {
  const LONG = 'Lk4vQ9zR2mX7pT1wN8bC5yH3jF6gD0sA';
  const sc = createScanner({ knownSecrets: [{ name: 'EGRESS_TOKEN_1', value: LONG, kind: 'slot' }], fingerprintKey: KEY });
  const pieces = LONG.match(/.{1,5}/g)!.filter((p) => p.length >= 4);

  it('5-character pieces spread over headers of one request → fragment', () => {
    const f = sc.scan(
      requestSurfaces({ host: 'x.test', path: '/', headers: pieces.map((p, i) => [`x-p${i}`, p] as const) }),
      DEFAULT,
    );
    expect(f.map((x: Finding) => [x.rule, x.secretName])).toEqual([['fragment', 'EGRESS_TOKEN_1']]);
    expect(f[0]!.spans!.length).toBe(pieces.length);
  });

  it('one piece per request, across requests (accumulator) → fragment once coverage reaches the threshold', () => {
    const acc = new FragmentAccumulator();
    const got = pieces.map((p, i) => sc.scan([{ name: 'header:x-trace', text: p }], DEFAULT, { accumulator: acc, nowMs: i * 1000 }).map((x) => x.rule).join());
    expect(got.slice(0, 3)).toEqual(['', '', '']);
    expect(got[3]).toBe('fragment');
  });

  it('pieces that are parts of dashed/dotted ids, or in large texts, do not count', () => {
    const dashed = pieces.map((p) => `id-${p}-x`).join(' ');
    expect(sc.scan([{ name: 'header:x', text: dashed }], DEFAULT)).toEqual([]);
    const big = `${'lorem ipsum dolor '.repeat(Math.ceil(SHORT_PIECE_MAX_TEXT / 18))} ${pieces.join(' and ')}`;
    expect(sc.scan([{ name: 'body', text: big }], DEFAULT)).toEqual([]);
  });

  it('the sensitive value split in 4-character pieces over query and headers', () => {
    const p = SENSITIVE.replace(/-/g, '').match(/.{1,4}/g)!;
    const f = s.scan(requestSurfaces({ host: 'h.test', path: '/', query: `a=${p[0]}&b=${p[1]}`, headers: p.slice(2).map((x, i) => [`x-${i}`, x] as const) }), DEFAULT);
    expect(f.map((x) => [x.rule, x.secretName])).toEqual([['fragment', 'MYCO_DB_PASS']]);
  });
});

describe('de-delimited view (docs/decisions/dlp-v2-views-and-validators.md)', () => {
  const GH = TOKEN;
  const STRIPE = `sk_live_51${'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6kL8'.repeat(3).slice(0, 97)}`;
  const NPM = 'npm_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6';
  const AWS = 'AKIAZ2B4D6F8H0J2L4N6';
  const wrap = (t: string, w: number, sep = '\n'): string => t.match(new RegExp(`.{1,${w}}`, 'g'))!.join(sep);
  const rules = (surfaces: { name: string; text: string; derived?: boolean }[]): string[] => s.scan(surfaces, only).map((f) => `${f.rule}@${f.view ?? 'raw'}`);

  it('finds tokens split by one repeated delimiter, in every kind of surface', () => {
    expect(rules([{ name: 'body', text: GH.replace(/(.{4})/g, '$1-') }])).toEqual(['github_token@delim']);
    expect(rules(requestSurfaces({ host: 'h.test', path: '/v1/q', query: `v=${encodeURIComponent(AWS.replace(/(.{4})(?!$)/g, '$1 '))}&x=1` }))).toEqual(['aws_access_key_id@escape>delim']);
    expect(rules([{ name: 'header:x-v', text: [...GH].join('.') }])).toEqual(['github_token@delim']);
    expect(rules([{ name: 'body', text: JSON.stringify({ c: [...STRIPE] }) }])).toEqual(['stripe_live_key@delim']);
    expect(rules([{ name: 'body', text: JSON.stringify({ parts: wrap(GH, 4, '\u0000').split('\u0000') }, null, 2) }])).toEqual(['github_token@delim']);
    expect(rules([{ name: 'body', text: `k = ${wrap(GH, 5, ':')};` }])).toEqual(['github_token@delim']);
  });

  it('joins narrow line wraps, string concatenation and shell continuations', () => {
    expect(rules([{ name: 'body', text: `token:\n${wrap(GH, 10)}\nend` }])).toEqual(['github_token@delim']);
    expect(rules([{ name: 'body', text: JSON.stringify({ text: wrap(GH, 10) }) }])).toEqual(['github_token@delim']);
    expect(rules([{ name: 'body', text: `${wrap(GH, 20)}\n` }])).toEqual(['github_token@delim']);
    const concat = `const k = "${STRIPE.slice(0, 12)}" + "${STRIPE.slice(12, 40)}" +\n  "${STRIPE.slice(40)}";`;
    expect(rules([{ name: 'body', text: concat }])).toEqual(['stripe_live_key@delim']);
    expect(rules([{ name: 'body', text: JSON.stringify({ code: concat }) }])).toEqual(['stripe_live_key@delim']);
    const sh = `echo ${NPM.slice(0, 14)}\\\n${NPM.slice(14, 28)}\\\n${NPM.slice(28)} | tee x`;
    expect(rules([{ name: 'body', text: sh }])).toEqual(['npm_token@delim']);
    expect(rules([{ name: 'body', text: JSON.stringify({ cmd: sh }) }])).toEqual(['npm_token@delim']);
  });

  it('known secrets: base64 wrapped at 8 columns', () => {
    const b64 = Buffer.from(SENSITIVE).toString('base64');
    const f = s.scan([{ name: 'body', text: wrap(b64, 8) }], DEFAULT);
    expect(f.map((x) => [x.detector, x.secretName, x.view])).toEqual([['known_secrets', 'MYCO_DB_PASS', 'delim']]);
  });

  it('hex in a path segment between slashes', () => {
    expect(rules(requestSurfaces({ host: 'h.test', path: `/v1/obj/${hex(GH)}/x` }))).toEqual(['github_token@hex']);
  });

  it('a printed IBAN is one (raw) finding, not a second one through its de-delimited view', () => {
    expect(rules([{ name: 'body', text: 'pay to DE89 3704 0044 0532 0130 00 please' }])).toEqual(['iban@raw']);
  });

  it('benign: prose of equal-length words, JSON structure, ids, addresses, env lines, lists of names', () => {
    const benign = [
      'error build const error const on review commit branch merge model token system review test',
      JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8192, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }),
      JSON.stringify({ required: ['path', 'content', 'mode'], enum: ['Bearer', 'Basic', 'Digest', 'Negotiate'], tags: ['v1.2.3', 'v1.2.4', 'rc-1a2b'] }),
      '123e4567-e89b-12d3-a456-426614174000 2001:0db8:85a3:0000:0000:8a2e:0370:7334 aa:bb:cc:dd:ee:ff 192.168.100.200',
      'API_KEY_A=abc123\nDB_PASS_B=xyz789\nTOKEN_CC=qwe456\n',
      'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,A,B,C,1,2,3',
      'e.exports=function(t,n,r){return t.a.b.c.d.e.f.g.h(n,r)}',
      'sha512-abcd\nsha512-efgh\nsha512-ijkl\nsha512-mnop',
      'docker run \\\n  --rm \\\n  -v a:b \\\n  image:tag',
    ];
    for (const text of benign) expect(s.scan([{ name: 'body', text }], DEFAULT), text).toEqual([]);
  });

  it('linear on adversarial input (many delimiters, many quotes)', () => {
    const texts = ['a.'.repeat(200_000), '"a","'.repeat(100_000), 'ab\\\n'.repeat(100_000), `${'abcd\n'.repeat(100_000)}x`];
    for (const text of texts) {
      const t0 = performance.now();
      s.scan([{ name: 'body', text }], DEFAULT);
      expect(performance.now() - t0, text.slice(0, 10)).toBeLessThan(2000);
    }
  });
});
