import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactFindings, redactForLog, redactSurface } from '../../src/dlp/redact.js';
import { CANARY, DEFAULT, ragged, SENSITIVE, SLOT, scanner } from './helpers.js';

const s = scanner();
const GHP = `ghp_${'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6'}`;

describe('redaction', () => {
  it('replaces every raw match and a re-scan is clean', () => {
    const text = JSON.stringify({ a: GHP, b: `x ${SENSITIVE} y`, c: Buffer.from(`:${SENSITIVE}`).toString('base64'), d: [GHP] });
    const findings = s.scan([{ name: 'body', text }], DEFAULT);
    expect(findings.length).toBeGreaterThanOrEqual(4);
    const out = redactFindings(text, findings);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(GHP);
    expect(out).not.toContain(SENSITIVE);
    expect(s.scan([{ name: 'body', text: out }], DEFAULT)).toEqual([]);
    expect(JSON.parse(out).a).toBe(REDACTED);
  });

  it('overlapping findings merge; derived/fragment findings are left alone', () => {
    const base = { detector: 'token_patterns', rule: 'r', surface: 'b', severity: 'block', masked: 'm', fingerprint: 'f' } as const;
    const overlapping = [
      { ...base, start: 2, end: 6 },
      { ...base, start: 4, end: 8 },
      { ...base, start: 8, end: 9 },
      { ...base, start: null, end: null },
    ];
    expect(redactFindings('0123456789', overlapping, '#')).toBe('01##9');
    // A token greedily running into an adjacent secret: one merged replacement.
    const text = `${GHP}${SENSITIVE}`;
    expect(redactFindings(text, s.scan([{ name: 'b', text }], DEFAULT), '#')).toBe('#');
    const frag = s.scan([{ name: 'b', text: ragged(SENSITIVE) }], DEFAULT);
    expect(frag.map((x) => x.rule)).toEqual(['fragment']);
    expect(redactFindings('unchanged', frag)).toBe('unchanged');
  });

  it('redactSurface only applies the findings of its surface', () => {
    const q = `a=${SENSITIVE}`;
    const b = `{"k":"${SENSITIVE}"}`;
    const f = s.scan([{ name: 'query', text: q }, { name: 'body', text: b }], DEFAULT);
    expect(redactSurface('query', q, f)).toBe(`a=${REDACTED}`);
    expect(redactSurface('body', b, f)).toBe(`{"k":"${REDACTED}"}`);
  });
});

describe('log redaction', () => {
  it('token patterns become [redacted:<rule>] without a scanner', () => {
    expect(redactForLog(`auth failed for ${GHP} at AKIAIOSFODNN7EXAMPLE`)).toBe('auth failed for [redacted:github_token] at [redacted:aws_access_key_id]');
    expect(redactForLog('nothing here')).toBe('nothing here');
  });

  it('with the process scanner, known secrets in every form and fragments never survive', () => {
    const hex = Buffer.from(SLOT).toString('hex');
    const line = [
      `raw=${SLOT}`,
      `b64=${Buffer.from(`u:${SLOT}`).toString('base64')}`,
      `hex=${hex.toUpperCase()}`,
      `pct=${hex.replace(/(..)/g, '%$1')}`,
      `canary=${CANARY}`,
      `dashed=${SENSITIVE.match(/.{1,4}/g)!.join('-')}`,
      `split=${SLOT.slice(0, 14)} / ${SLOT.slice(14)}`,
    ].join(' ');
    const out = redactForLog(line, s);
    for (const v of [SLOT, CANARY, SENSITIVE, hex, hex.toUpperCase()]) expect(out).not.toContain(v);
    expect(out).toContain('[redacted:raw]');
    expect(out).toContain('[redacted:base64]');
    expect(out).toContain('[redacted:hex]');
    expect(out).toContain('[redacted:urlencoded]');
    expect(out).toContain('[redacted:fragment]');
    // Nothing the scanner recognises is left.
    expect(s.scan([{ name: 'log', text: out }], DEFAULT)).toEqual([]);
  });
});
