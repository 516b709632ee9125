import { describe, expect, it } from 'vitest';
import { scanInbound } from '../../src/dlp/inbound.js';
import { redactForLog } from '../../src/dlp/redact.js';
import { ALL, scanner } from './helpers.js';

/**
 * Attack: the agent controls request bodies, so a body crafted to make verification quadratic
 * (overlapping anchors, unclosed PEM headers, dash-joined JWT prefixes) would stall the proxy.
 * Fix: per-surface skip state and memoised closing-line search keep scanning linear. Each case is
 * 512 KiB; a quadratic scan would take minutes, a linear one well under the bound below.
 */
const SIZE = 512 * 1024;
const BOUND_MS = 4000;
const s = scanner();

const CASES: [string, string][] = [
  ['sk-ant- repeated', 'sk-ant-'],
  ['sk-proj- repeated', 'sk-proj-'],
  ['xoxb- repeated', 'xoxb-'],
  ['eyJ- repeated', 'eyJ-'],
  ['eyJ. repeated', 'eyJabcdefgh.'],
  ['ghp_ repeated', 'ghp_'],
  ['AKIA repeated', 'AKIA'],
  ['glpat- repeated', 'glpat-'],
  ['unclosed PEM headers', '-----BEGIN PRIVATE KEY-----\n'],
  ['PEM headers and bogus END markers', '-----BEGIN PRIVATE KEY-----\n-----END X\n'],
  ['aws secret keywords', 'aws_secret_access_key='],
  ['percent signs', '%%4%4'],
  ['backslash-u', '\\u00'],
  // Decoded views (docs/decisions/dlp-v2-views-and-validators.md): bounded whatever the text.
  ['base64 runs that decode to text', 'QUJDREVGR0hJSktMTU5PUA== '],
  ['one wrapped base64 run', 'QUJDREVGR0hJSktMTU5PUA\n'],
  ['nested percent', '%252525252541'],
  ['escape clusters', '\\x41 a '],
  ['QP escapes and soft breaks', '=41=42=\r\n'],
  ['zero-width characters', '\u200ba '],
  ['gzip magic without a stream', '\x1f\x8b\x08'],
  ['zip headers without members', 'PK\x03\x04'],
  ['UTF-16 alternation', 'a\0'],
  ['keyword assignments', 'password=x '],
  ['credential keys without values', 'api_key: '],
  ['URL credentials anchors', 'a://b:'],
  ['card-like digit groups', '4111 '],
  ['IBAN country codes', 'DE89 '],
  ['hex pairs with colons', 'de:ad:'],
];

describe('adversarial bodies stay linear', () => {
  for (const [label, unit] of CASES) {
    it(`${label}`, () => {
      const text = unit.repeat(Math.ceil(SIZE / unit.length));
      const t0 = performance.now();
      const f = s.scan([{ name: 'body', text }], ALL);
      const ms = performance.now() - t0;
      expect(ms, `${label}: ${ms.toFixed(0)} ms, ${f.length} findings`).toBeLessThan(BOUND_MS);
    });
  }

  it('redactForLog and scanInbound on hostile text stay bounded', () => {
    for (const unit of ['curl x ', 'ignore ', 'sk-ant-', 'send your ']) {
      const text = unit.repeat(Math.ceil(SIZE / unit.length));
      const t0 = performance.now();
      redactForLog(text, s);
      scanInbound(text);
      expect(performance.now() - t0, unit).toBeLessThan(BOUND_MS);
    }
  });
});
