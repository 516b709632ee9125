import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { base64Alignments, encodedForms } from '../../src/dlp/known-forms.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { ALL, CANARY, DEFAULT, KEY, NONE, SENSITIVE, SLOT, scanner } from './helpers.js';

const s = scanner();
const SECRET_WITH_SYMBOLS = 'p@ss/w+rd?é=ü&Z9';
const sym = scanner([{ name: 'MYCO_API', value: SECRET_WITH_SYMBOLS, kind: 'sensitive' }]);

function pct(value: string, upper: boolean): string {
  const hex = Buffer.from(value).toString('hex');
  const out = hex.replace(/(..)/g, '%$1');
  return upper ? out.toUpperCase() : out;
}

/** [label, text embedding the secret, expected rule]. */
function forms(value: string): [string, string, string][] {
  const b = Buffer.from(value);
  const cases: [string, string, string][] = [['raw', `x=${value};`, 'raw']];
  for (let k = 0; k < 3; k++) {
    const std = Buffer.concat([Buffer.from('QRS'.slice(0, k)), b, Buffer.from('tail')]).toString('base64');
    cases.push([`base64 after ${k} prefix bytes`, `auth: ${std}`, 'base64']);
    const url = Buffer.concat([Buffer.from('\xff\xfe'.slice(0, k), 'latin1'), b]).toString('base64url');
    cases.push([`base64url after ${k} prefix bytes`, `t=${url}`, 'base64']);
  }
  cases.push(['hex lower', `h=${b.toString('hex')}`, 'hex']);
  cases.push(['hex upper', `h=${b.toString('hex').toUpperCase()}`, 'hex']);
  cases.push(['%XX lower', `/x/${pct(value, false)}`, 'urlencoded']);
  cases.push(['%XX upper', `/x/${pct(value, true)}`, 'urlencoded']);
  cases.push(['encodeURIComponent', `?q=${encodeURIComponent(value)}&z=1`, value === encodeURIComponent(value) ? 'raw' : 'urlencoded']);
  return cases;
}

describe('known_secrets', () => {
  for (const [label, text, rule] of forms(SLOT)) {
    it(`E34: slot value as ${label} → ${rule}`, () => {
      const f = s.scan([{ name: 'body', text }], DEFAULT).filter((x) => x.detector === 'known_secrets' && x.rule !== 'fragment');
      expect(f.length).toBeGreaterThanOrEqual(1);
      expect(f.map((x) => x.rule)).toContain(rule);
      const hit = f.find((x) => x.rule === rule)!;
      expect(hit).toMatchObject({ secretName: 'EGRESS_TOKEN_0', secretKind: 'slot', severity: 'block', surface: 'body' });
      expect(hit.start).not.toBeNull();
      expect(hit.masked).toBe(`${SLOT.slice(0, 4)}… (len ${SLOT.length})`);
    });
  }
  for (const [label, text, rule] of forms(SECRET_WITH_SYMBOLS)) {
    it(`E34: non-alphanumeric UTF-8 secret as ${label} → ${rule}`, () => {
      const f = sym.scan([{ name: 'body', text }], DEFAULT).filter((x) => x.secretName === 'MYCO_API');
      expect(f.map((x) => x.rule)).toContain(rule);
    });
  }

  it('E34: a redacted copy of each form is clean (offsets cover the whole form)', () => {
    for (const [, text] of forms(SLOT)) {
      const f = s.scan([{ name: 'body', text }], DEFAULT).filter((x) => x.start !== null);
      let out = text;
      for (const x of [...f].sort((a, b) => b.start! - a.start!)) out = out.slice(0, x.start!) + '#' + out.slice(x.end!);
      expect(s.scan([{ name: 'body', text: out }], DEFAULT)).toEqual([]);
    }
  });

  it('base64 alignments keep only characters fixed by the secret bits', () => {
    const bytes = Buffer.from('abcdefgh');
    const al = base64Alignments(bytes);
    expect(al).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      for (const filler of [0x00, 0x41, 0xff]) {
        for (const after of ['', 'Z', 'xyz\u00ff']) {
          const enc = Buffer.concat([Buffer.alloc(k, filler), bytes, Buffer.from(after, 'latin1')]).toString('base64');
          expect(enc).toContain(al[k]);
        }
      }
    }
    expect(encodedForms('abcdefgz').map((f) => f.rule)).toEqual(['raw', 'base64', 'base64', 'base64', 'hex', 'hex', 'urlencoded', 'urlencoded', 'reversed']);
  });

  it('E36: a 6-character sensitive value is skipped with a warning naming the variable, never the value', () => {
    const short = 'abc123';
    const sc = createScanner({ knownSecrets: [{ name: 'MYCO_PIN', value: short, kind: 'sensitive' }], fingerprintKey: KEY });
    expect(sc.warnings).toHaveLength(1);
    expect(sc.warnings[0]).toContain('MYCO_PIN');
    expect(sc.warnings[0]).toContain('shorter than 8');
    expect(sc.warnings[0]).not.toContain(short);
    expect(sc.scan([{ name: 'body', text: `pin=${short} ${Buffer.from(short).toString('hex')}` }], ALL)).toEqual([]);
  });

  it('E38: the canary is found with detector canary even when no detector is enabled', () => {
    for (const [, text] of forms(CANARY)) {
      const f = s.scan([{ name: 'body', text }], NONE);
      expect(f.length).toBeGreaterThanOrEqual(1);
      expect(f.every((x) => x.detector === 'canary' && x.secretKind === 'canary' && x.secretName === 'EGRESS_TOKEN_CANARY')).toBe(true);
    }
    // With detectors off, slot and sensitive values are not reported.
    expect(s.scan([{ name: 'body', text: `${SLOT} ${SENSITIVE}` }], NONE)).toEqual([]);
  });

  it('E33/E37: slot and sensitive findings carry their kind and variable name', () => {
    const f = s.scan([{ name: 'query', text: `a=${SLOT}` }, { name: 'header:x-db', text: SENSITIVE }], DEFAULT);
    expect(f.map((x) => [x.surface, x.secretKind, x.secretName, x.detector])).toEqual([
      ['query', 'slot', 'EGRESS_TOKEN_0', 'known_secrets'],
      ['header:x-db', 'sensitive', 'MYCO_DB_PASS', 'known_secrets'],
    ]);
  });

  it('one fingerprint per secret whatever the form', () => {
    const fps = new Set(
      forms(SLOT).flatMap(([, text]) => s.scan([{ name: 'b', text }], DEFAULT).filter((x) => x.secretName === 'EGRESS_TOKEN_0').map((x) => x.fingerprint)),
    );
    expect(fps.size).toBe(1);
  });

  it('a value under two names is reported as the strictest kind (canary > slot > sensitive)', () => {
    const v = 'shared-value-1234567';
    const sc = createScanner({
      knownSecrets: [
        { name: 'MYCO_X', value: v, kind: 'sensitive' },
        { name: 'EGRESS_TOKEN_3', value: v, kind: 'slot' },
      ],
      fingerprintKey: KEY,
    });
    expect(sc.scan([{ name: 'b', text: v }], DEFAULT).map((x) => [x.secretName, x.secretKind])).toEqual([['EGRESS_TOKEN_3', 'slot']]);
  });

  it('every occurrence is reported (all are rewritable)', () => {
    const f = s.scan([{ name: 'body', text: `${SLOT} and ${SLOT}` }], DEFAULT);
    expect(f.map((x) => x.start)).toEqual([0, SLOT.length + 5]);
  });

  it('many secrets: each of 200 is found, and a clean text yields nothing', () => {
    const values = Array.from({ length: 200 }, (_, i) => `secret-${i}-${Buffer.from(String(i * 7919)).toString('hex')}xyz`);
    const sc = createScanner({ knownSecrets: values.map((value, i) => ({ name: `S_${i}`, value, kind: 'sensitive' as const })), fingerprintKey: KEY });
    for (const i of [0, 57, 199]) {
      const b64 = Buffer.from(`~${values[i]}`).toString('base64');
      expect(sc.scan([{ name: 'b', text: `x ${b64} y` }], DEFAULT).map((x) => x.secretName)).toContain(`S_${i}`);
    }
    expect(sc.scan([{ name: 'b', text: 'nothing to see here '.repeat(100) }], DEFAULT)).toEqual([]);
  });
});
