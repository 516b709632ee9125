import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodySurfaces, decodeBody, decodeText, requestSurfaces } from '../../src/dlp/decode.js';
import { scanInbound } from '../../src/dlp/inbound.js';
import { redactFindings, redactForLog } from '../../src/dlp/redact.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { ALL, KEY, SLOT, scanner } from './helpers.js';

const s = scanner();
const runs = { numRuns: 300 };

describe('property: the scanner never throws and always finds a planted secret', () => {
  it('scan, redaction and inbound never throw on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 60 }), (text, name) => {
        const f = s.scan([{ name, text }, { name, text, derived: true }], ALL);
        for (const x of f) {
          if (x.start !== null) expect(x.start >= 0 && x.end! <= text.length && x.start < x.end!).toBe(true);
        }
        redactFindings(text, f);
        redactForLog(text, s);
        scanInbound(text);
      }),
      runs,
    );
  });

  it('decoding and scanning arbitrary buffers never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', undefined), (bytes, enc) => {
        const r = decodeBody(bytes, enc);
        const { text } = decodeText(r.ok ? r.bytes : bytes);
        s.scan(bodySurfaces(text, 'application/json'), ALL);
        s.scan(requestSurfaces({ host: text.slice(0, 20), path: `/${text}`, query: text, headers: [['x', text]], body: text }), ALL);
      }),
      runs,
    );
  });

  it('a secret embedded raw, base64 (any alignment, std/url), hex or %XX at a random position is found', () => {
    const encode = (form: number, v: string, pad: string): string => {
      switch (form) {
        case 0:
          return v;
        case 1:
          return Buffer.from(pad + v + pad).toString('base64');
        case 2:
          return Buffer.from(pad + v).toString('base64url');
        case 3:
          return Buffer.from(v).toString('hex');
        case 4:
          return Buffer.from(v).toString('hex').toUpperCase();
        default:
          return Buffer.from(v).toString('hex').replace(/(..)/g, '%$1');
      }
    };
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 64 }).filter((v) => v.length >= 8),
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 200 }),
        fc.integer({ min: 0, max: 5 }),
        fc.string({ maxLength: 2 }),
        (secret, before, after, form, pad) => {
          const sc = createScanner({ knownSecrets: [{ name: 'MYCO_S', value: secret, kind: 'sensitive' }], fingerprintKey: KEY });
          const text = before + encode(form, secret, pad) + after;
          const f = sc.scan([{ name: 'body', text }], new Set(['known_secrets']));
          expect(f.some((x) => x.secretName === 'MYCO_S' && x.rule !== 'fragment')).toBe(true);
          // Redaction of the rewritable findings leaves no verbatim form behind.
          const out = redactFindings(text, f);
          expect(sc.scan([{ name: 'body', text: out }], new Set(['known_secrets'])).filter((x) => x.rule !== 'fragment')).toEqual([]);
        },
      ),
      runs,
    );
  });

  it('the marker slot value split at any point across two surfaces is found', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: SLOT.length - 8 }), fc.string({ maxLength: 50 }), (cut, noise) => {
        const f = s.scan(
          [
            { name: 'query', text: `${noise}&a=${SLOT.slice(0, cut)}` },
            { name: 'body', text: `{"b":"${SLOT.slice(cut)}"} ${noise}` },
          ],
          ALL,
        );
        expect(f.some((x) => x.secretName === 'EGRESS_TOKEN_0')).toBe(true);
      }),
      runs,
    );
  });

  it('redactForLog never leaves the planted slot value, in any form, in any log line', () => {
    const hex = Buffer.from(SLOT).toString('hex');
    const forms = [
      SLOT,
      Buffer.from(`a${SLOT}`).toString('base64'),
      Buffer.from(`ab${SLOT}`).toString('base64url'),
      hex,
      hex.toUpperCase(),
      hex.replace(/(..)/g, '%$1'),
      SLOT.match(/.{1,3}/g)!.join('-'),
      SLOT.match(/.{1,5}/g)!.join('\n'),
    ];
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.constantFrom(...forms), fc.string({ maxLength: 80 }), fc.constantFrom(...forms), (a, f1, b, f2) => {
        const line = `${a}${f1}${b}${f2}`;
        const out = redactForLog(line, s);
        for (const v of [SLOT, hex, hex.toUpperCase()]) expect(out).not.toContain(v);
        expect(s.scan([{ name: 'log', text: out }], new Set(['token_patterns', 'known_secrets'])).filter((x) => x.secretName === 'EGRESS_TOKEN_0')).toEqual([]);
      }),
      runs,
    );
  });
});
