import { describe, expect, it } from 'vitest';
import { TOKEN_RULES, TOKEN_RULE_IDS } from '../../src/dlp/rules.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { ALL, DEFAULT, KEY, NONE } from './helpers.js';

const s = createScanner({ knownSecrets: [], fingerprintKey: KEY });
const only = new Set(['token_patterns'] as const);
const a36 = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6';

/** [rule, positive sample, negative sample that must not match this rule]. */
const SAMPLES: [string, string, string][] = [
  ['aws_access_key_id', 'AKIAIOSFODNN7EXAMPLE', 'XAKIAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'ASIAY34FZKBOKMUTVV7A', 'AKIAIOSFODNN7EXAMPL'],
  ['aws_access_key_id', 'ABIAIOSFODNN7EXAMPLE', 'AKIAiosfodnn7example'],
  ['aws_access_key_id', 'ACCAIOSFODNN7EXAMPLE', 'AXIAIOSFODNN7EXAMPLE'],
  ['github_token', `ghp_${a36}`, `ghp_${a36.slice(1)}`],
  ['github_token', `gho_${a36}`, `ghx_${a36}`],
  ['github_token', `ghs_${a36}`, `xghs_${a36}`],
  ['github_token', `ghu_${a36}`, `ghu-${a36}`],
  ['github_token', `ghr_${a36}`, `ghr_${a36.slice(0, 30)}`],
  ['github_pat', `github_pat_11ABCDEFG0${'x'.repeat(50)}_yz`, `github_pat_${'x'.repeat(59)}`],
  ['anthropic_key', 'sk-ant-api03-abcdefghij0123456789_-AA', 'sk-ant-short'],
  ['openai_key', 'sk-proj-abcdefghij0123456789XYZ', 'sk-proj-tooShort'],
  ['openai_key', 'sk-svcacct-abcdefghij0123456789XYZ', 'sk-other-abcdefghij0123456789XYZ'],
  ['openai_key', 'sk-admin-abcdefghij0123456789XYZ', 'ask-admin-abcdefghij0123456789XYZ'],
  ['openai_key', `sk-${'A1b2C3d4E5'.repeat(4)}`, `sk-${'A1b2C3d4E5'.repeat(3)}`],
  ['stripe_live_key', 'sk_live_abcdefghij0123456789', 'sk_test_abcdefghij0123456789'],
  ['stripe_live_key', 'rk_live_abcdefghij0123456789', 'rk_live_short'],
  ['slack_token', 'xoxb-1234567890-abcdef', 'xoxz-1234567890-abcdef'],
  ['slack_token', 'xoxp-1234567890-abcdef', 'xoxp-123'],
  ['google_api_key', 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q', 'AIzaSyA1b2C3'],
  ['private_key_pem', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----'],
  ['private_key_pem', '-----BEGIN PRIVATE KEY-----', '-----BEGIN CERTIFICATE-----'],
  ['private_key_pem', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN  PRIVATE KEY-----'],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'eyJhbGciOiJIUzI1NiJ9.notjwtpart.dozjgNryP4J3'],
  ['aws_secret_access_key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['aws_secret_access_key', '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYTOOLONG'],
  ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = short'],
  ['npm_token', `npm_${a36}`, `npm_${a36.slice(2)}`],
  ['gitlab_pat', 'glpat-abcdefghij0123456789', 'glpat-abc'],
  ['huggingface_token', `hf_${'abcdefghijklmnopqrstuvwxyzABCDEFGH'}`, `hf_${'abcdefghij'}`],
];

describe('token_patterns', () => {
  it('E31: every rule of the table has a positive and a negative sample here', () => {
    const covered = new Set(SAMPLES.map(([r]) => r));
    expect([...covered].sort()).toEqual([...TOKEN_RULE_IDS].sort());
    expect(TOKEN_RULES.filter((r) => r.extra).map((r) => r.id).sort()).toEqual(
      ['aws_secret_access_key', 'gitlab_pat', 'huggingface_token', 'npm_token'].sort(),
    );
  });

  for (const [rule, positive, negative] of SAMPLES) {
    it(`E31: ${rule} detects ${positive.slice(0, 12)}… with its id and offsets`, () => {
      const text = `prefix ${positive} suffix`;
      const f = s.scan([{ name: 'body', text }], only).filter((x) => x.rule === rule);
      expect(f).toHaveLength(1);
      const hit = f[0]!;
      expect(hit.detector).toBe('token_patterns');
      expect(hit.severity).toBe('block');
      expect(hit.surface).toBe('body');
      const value = text.slice(hit.start!, hit.end!);
      expect(positive).toContain(value);
      expect(hit.masked).toBe(`${value.slice(0, 4)}… (len ${value.length})`);
      expect(hit.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    });
    it(`E31: ${rule} does not fire on ${negative.slice(0, 14)}…`, () => {
      const f = s.scan([{ name: 'body', text: ` ${negative} ` }], only).filter((x) => x.rule === rule);
      expect(f).toEqual([]);
    });
  }

  it('E30: ghp_ + 36 chars in a JSON body is github_token on surface body', () => {
    const f = s.scan([{ name: 'body', text: JSON.stringify({ t: `ghp_${a36}` }) }], DEFAULT);
    expect(f.map((x) => [x.rule, x.surface])).toEqual([['github_token', 'body']]);
  });

  it('E32: the surface name is reported as given (path, query, header:x-n, host)', () => {
    const tok = 'AKIAIOSFODNN7EXAMPLE';
    const f = s.scan(
      [
        { name: 'host', text: `${tok.toLowerCase()}.x.test` },
        { name: 'host', text: `${tok}.cdn.test` },
        { name: 'path', text: `/v1/${tok}` },
        { name: 'query', text: `k=${tok}` },
        { name: 'header:x-n', text: tok },
      ],
      only,
    );
    expect(f.map((x) => x.surface)).toEqual(['host', 'path', 'query', 'header:x-n']);
  });

  it('PEM findings cover the whole key block so redaction removes the key material', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBase64Material\n-----END EC PRIVATE KEY-----';
    const f = s.scan([{ name: 'body', text: `x\n${pem}\ny` }], only);
    expect(f).toHaveLength(1);
    expect(f[0]!.end! - f[0]!.start!).toBe(pem.length);
  });

  it('aws_secret_access_key reports only the 40-character value (keyword kept on redaction)', () => {
    const text = 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const [f] = s.scan([{ name: 'body', text }], only);
    expect(text.slice(f!.start!, f!.end!)).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('derived views report no offsets and are dropped when the raw text has the same finding', () => {
    const tok = 'AKIAIOSFODNN7EXAMPLE';
    const both = s.scan([{ name: 'query', text: `k=${tok}` }, { name: 'query', text: `k=${tok}`, derived: true }], only);
    expect(both).toHaveLength(1);
    expect(both[0]!.start).toBe(2);
    const derivedOnly = s.scan([{ name: 'query', text: 'k=AKIA%49OSFODNN7EXAMPLE' }, { name: 'query', text: `k=${tok}`, derived: true }], only);
    expect(derivedOnly).toHaveLength(1);
    expect(derivedOnly[0]!.start).toBeNull();
    expect(derivedOnly[0]!.end).toBeNull();
  });

  it('token patterns are off when the detector set lacks them', () => {
    expect(s.scan([{ name: 'body', text: `ghp_${a36}` }], NONE)).toEqual([]);
    expect(s.scan([{ name: 'body', text: `ghp_${a36}` }], new Set(['known_secrets']))).toEqual([]);
    expect(s.scan([{ name: 'body', text: `ghp_${a36}` }], ALL).map((x) => x.rule)).toContain('github_token');
  });

  it('fingerprints are stable for the same value and differ between values and keys', () => {
    const one = s.scan([{ name: 'a', text: `ghp_${a36}` }], only)[0]!.fingerprint;
    const two = s.scan([{ name: 'b', text: `x ghp_${a36}` }], only)[0]!.fingerprint;
    const other = s.scan([{ name: 'a', text: `ghp_${a36.replace('a', 'b')}` }], only)[0]!.fingerprint;
    const otherKey = createScanner({ knownSecrets: [], fingerprintKey: new Uint8Array(32) }).scan([{ name: 'a', text: `ghp_${a36}` }], only)[0]!
      .fingerprint;
    expect(one).toBe(two);
    expect(other).not.toBe(one);
    expect(otherKey).not.toBe(one);
  });
});
