import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { TOKEN_RULES, TOKEN_RULE_IDS } from '../../src/dlp/rules.js';
import { createScanner } from '../../src/dlp/scanner.js';
import { ALL, DEFAULT, KEY, NONE } from './helpers.js';

const s = createScanner({ knownSecrets: [], fingerprintKey: KEY });
const only = new Set(['token_patterns'] as const);
const a36 = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6';

/** Deterministic filler of `n` characters from `alphabet` (fixtures, not secrets). */
function fill(n: number, alphabet = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC2eF4hJ6kL8'): string {
  let out = '';
  for (let i = 0; out.length < n; i++) out += alphabet[(i * 7 + Math.floor(i / alphabet.length)) % alphabet.length];
  return out;
}
const HEX = '0123456789abcdef';
const JWE_HDR = Buffer.from('{"alg":"dir","enc":"A256GCM"}').toString('base64url');
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** [rule, positive sample, negative sample that must not match this rule]. */
const SAMPLES: [string, string, string][] = [
  ['aws_access_key_id', 'AKIAIOSFODNN7EXAMPLE', 'XAKIAIOSFODNN7EXAMPLE'],
  ['aws_access_key_id', 'ASIAY34FZKBOKMUTVV7A', 'AKIAIOSFODNN7EXAMPL'],
  ['aws_access_key_id', 'ABIAIOSFODNN7EXAMPLE', 'AKIAiosfodnn7example'],
  ['aws_access_key_id', 'ACCAIOSFODNN7EXAMPLE', 'AXIAIOSFODNN7EXAMPLE'],
  ['github_token', `ghp_${a36}`, `ghp_${a36.slice(7)}`],
  ['github_token', `gho_${a36}`, `ghx_${a36}`],
  ['github_token', `ghs_${a36}`, `xghs_${a36}`],
  ['github_token', `ghu_${a36}`, `ghu-${a36}`],
  // v2 lengths: 30+ after the prefix (real-world 36; "just outside" still caught).
  ['github_token', `ghr_${a36.slice(0, 31)}`, `ghr_${a36.slice(0, 29)}`],
  ['github_pat', `github_pat_11ABCDEFG0${'x'.repeat(50)}_yz`, `github_pat_${'x'.repeat(49)}`],
  ['anthropic_key', 'sk-ant-api03-abcdefghij0123456789_-AA', 'sk-ant-short'],
  ['openai_key', 'sk-proj-abcdefghij0123456789XYZ', 'sk-proj-tooShort'],
  ['openai_key', 'sk-svcacct-abcdefghij0123456789XYZ', 'sk-other-abcdefghij0123456789XYZ'],
  ['openai_key', 'sk-admin-abcdefghij0123456789XYZ', 'ask-admin-abcdefghij0123456789XYZ'],
  ['openai_key', `sk-${'A1b2C3d4E5'.repeat(4)}`, `sk-${'A1b2C3d4E5'.repeat(3)}`],
  ['openai_key', 'sk-test-abcdefghij0123456789XYZ', `sk-${'abcdefghij'.repeat(4)}`],
  ['stripe_live_key', 'sk_live_abcdefghij0123456789', 'sk_test_abcdefghij0123456789'],
  ['stripe_live_key', 'rk_live_51Hx_YzAbCdEfGhIjKl', 'rk_live_short'],
  ['slack_token', 'xoxb-1234567890-abcdef', 'xoxz-1234567890-abcdef'],
  ['slack_token', 'xoxp-1234567890-abcdef', 'xoxp-123'],
  ['slack_token', `xapp-1-A0123456789-${fill(24)}`, 'xapp-1-short'],
  ['google_api_key', 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q', 'AIzaSyA1b2C3'],
  ['private_key_pem', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----'],
  ['private_key_pem', '-----BEGIN PRIVATE KEY-----', '-----BEGIN CERTIFICATE-----'],
  ['private_key_pem', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN  PRIVATE KEY-----'],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'eyJhbGciOiJIUzI1NiJ9.notjwtpart.dozjgNryP4J3'],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozj', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.do'],
  // JWE compact (five segments, `dir`: empty key segment); the negative's header names no `enc`.
  ['jwe', `${JWE_HDR}..${fill(16)}.${fill(120)}.${fill(22)}`, `${Buffer.from('{"alg":"HS256"}').toString('base64url')}..${fill(16)}.${fill(120)}.${fill(22)}`],
  ['aws_secret_access_key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['aws_secret_access_key', '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYTOOLONG'],
  ['aws_secret_access_key', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = short'],
  ['npm_token', `npm_${a36}`, `npm_${a36.slice(6)}`],
  ['gitlab_pat', 'glpat-abcdefghij0123456789', 'glpat-abc'],
  ['huggingface_token', `hf_${'abcdefghijklmnopqrstuvwxyzABCDEFGH'}`, `hf_${'abcdefghij'}`],
  ['sendgrid_api_key', `SG.${fill(22)}.${fill(43)}`, 'SG.short.x'],
  ['stripe_test_key', 'sk_test_51HxYzAbCdEfGhIjKlMnOpQr', 'sk_test_short'],
  ['stripe_webhook_secret', `whsec_${fill(32)}`, 'whsec_short'],
  ['slack_webhook', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/'],
  ['twilio_api_key', `SK${fill(32, HEX)}`, 'SKIP_THIS_STEP_AND_THAT_ONE_TOO_XY'],
  ['mailgun_api_key', `key-${fill(32, HEX)}`, 'key-value-pairs'],
  ['pypi_token', `pypi-AgEIcHlwaS5vcmc${fill(60)}`, 'pypi-AgEshort'],
  ['gitlab_token', 'glrt-abcdefghij0123456789', 'glrt-abc'],
  ['azure_storage_key', `DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${fill(86)}==;EndpointSuffix=core.windows.net`, 'AccountKey=short=='],
  ['google_oauth_secret', `GOCSPX-${fill(28)}`, 'GOCSPX-short'],
  ['databricks_token', `dapi${fill(32, HEX)}`, 'dapideadbeef'],
  ['digitalocean_token', `dop_v1_${fill(64, HEX)}`, 'dop_v1_abc'],
  ['shopify_token', `shpat_${fill(32, HEX)}`, 'shpat_xyz'],
  ['vault_token', `hvs.${fill(28)}`, 'hvs.short'],
  ['grafana_token', `glsa_${fill(32)}_${fill(8, HEX)}`, 'glsa_short'],
  ['postman_api_key', `PMAK-${fill(24, HEX)}-${fill(34, HEX)}`, 'PMAK-short'],
  ['age_secret_key', `AGE-SECRET-KEY-1${fill(58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')}`, 'AGE-SECRET-KEY-1SHORT'],
  ['doppler_token', `dp.pt.${fill(43)}`, 'dp.pt.short'],
  ['sentry_token', `sntrys_${fill(60)}`, 'sntrys_short'],
  ['linear_api_key', `lin_api_${fill(40)}`, 'lin_api_short'],
  ['groq_api_key', `gsk_${fill(52)}`, 'gsk_short'],
  ['xai_api_key', `xai-${fill(80)}`, 'xai-short'],
  ['perplexity_api_key', `pplx-${fill(48)}`, 'pplx-short'],
  ['openrouter_key', `sk-or-v1-${fill(64, HEX)}`, 'sk-or-v1-short'],
  ['docker_pat', `dckr_pat_${fill(27)}`, 'dckr_pat_x'],
  ['square_token', `sq0atp-${fill(22)}`, 'sq0atp-x'],
  ['heroku_api_key', `HRKU-${fill(40)}`, 'HRKU-x'],
  ['newrelic_key', `NRAK-${fill(27, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`, 'NRAK-short'],
  ['atlassian_api_token', `ATATT3${fill(180)}`, 'ATATT3short'],
  ['replicate_api_token', `r8_${fill(37)}`, 'r8_short'],
  ['telegram_bot_token', `123456789:AA${fill(33)}`, `123456789:AB${fill(33)}`],
  // Keyword-anchored assignments (value-shape checked) and URL credentials.
  ['credential_assignment', 'password: "Summer2024!x"', 'password: ${DB_PASSWORD}'],
  ['credential_assignment', 'API_KEY=a8f5f167f44f4964e6c998dee827110c', 'API_KEY=changeme'],
  ['credential_assignment', '{"client_secret": "Xk29sLq07vBnMw3e"}', '{"max_tokens": 8192, "token_type": "Bearer"}'],
  ['credential_assignment', 'export DB_PASS=Tr0ub4dor-3xq', 'export DB_PASS="$(cat /run/secret)"'],
  ['credential_assignment', '[db]\npassword = Zq8vK2pL9xW4rT', 'password = getpass()'],
  ['credential_assignment', '?access_token=Zq8vK2pL9xW4rT7yBn3&x=1', '?page_token=Zq8vK2pL9xW4rT7yBn3&x=1'],
  ['credential_assignment', `AZURE_STORAGE_KEY=${fill(86)}==`, 'AZURE_STORAGE_KEY=${AZURE_STORAGE_KEY}'],
  ['credential_assignment', 'signingKey: "kQ9vX2mL7pR4tW8z"', 'signingKey: process.env.SIGNING_KEY'],
  ['url_credentials', 'postgres://admin:S3cr3tP4ss@db.example.com/prod', 'postgres://user:password@localhost/db'],
  // Validated detectors: the negative has the same shape and a wrong checksum.
  ['card_number', '4111 1111 1111 1111', '4111 1111 1111 1112'],
  ['card_number', '5555555555554444', '5555555555554445'],
  ['card_number', '3782-822463-10005', '3782-822463-10006'],
  ['iban', 'DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 01'],
  ['iban', 'GB82WEST12345698765432', 'GB82WEST12345698765433'],
  ['crypto_private_key', '5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ', '5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTK'],
  ['crypto_private_key', 'KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn', 'KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWo'],
  ['crypto_private_key', 'PRIVATE_KEY=0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318', 'sha256=4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'],
  [
    'crypto_private_key',
    'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi',
    `xprv${fill(107, B58)}`,
  ],
];

/** Rules whose findings never carry offsets, and rules run on header surfaces only (own tests below). */
const NO_OFFSET_RULES = ['unscannable_compressed'];
const HEADER_RULES = ['credential_header'];

describe('token_patterns', () => {
  it('E31: every rule of the table has a positive and a negative sample here', () => {
    const covered = new Set([...SAMPLES.map(([r]) => r), ...NO_OFFSET_RULES, ...HEADER_RULES]);
    expect([...covered].sort()).toEqual([...TOKEN_RULE_IDS].sort());
    expect(new Set(TOKEN_RULE_IDS).size).toBe(TOKEN_RULE_IDS.length);
    expect(TOKEN_RULES.filter((r) => r.extra).map((r) => r.id).sort()).toEqual(
      ['aws_secret_access_key', 'gitlab_pat', 'huggingface_token', 'npm_token'].sort(),
    );
  });

  for (const [rule, positive, negative] of SAMPLES) {
    it(`E31: ${rule} detects ${positive.slice(0, 16)}… with its id and offsets`, () => {
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
    it(`E31: ${rule} does not fire on ${negative.slice(0, 18)}…`, () => {
      const f = s.scan([{ name: 'body', text: ` ${negative} ` }], only).filter((x) => x.rule === rule);
      expect(f).toEqual([]);
    });
  }

  it('jwe: a five-segment token in a cookie; three-segment JWTs stay jwt; a broken header is nothing', () => {
    const jwe = `${JWE_HDR}..${fill(16)}.${fill(220)}.${fill(22)}`;
    const cookie = `theme=dark; __Secure-next-auth.session-token=${jwe}`;
    const f = s.scan([{ name: 'header:cookie', text: cookie }], only);
    expect(f.map((x) => [x.rule, cookie.slice(x.start!, x.end!)])).toEqual([['jwe', jwe]]);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(s.scan([{ name: 'body', text: jwt }], only).map((x) => x.rule)).toEqual(['jwt']);
    expect(s.scan([{ name: 'body', text: `eyJub3Rqc29u..${fill(16)}.${fill(40)}.${fill(22)}` }], only)).toEqual([]);
  });

  describe('credential_header (value shape in credential-carrying request headers)', () => {
    const key = fill(40);
    const hdr = (name: string, value: string) => s.scan([{ name: `header:${name}`, text: value }], only).filter((x) => x.rule === 'credential_header');
    it('random values in x-api-key, api-key, x-auth-token, x-access-token, private-token, authorization without a registered scheme', () => {
      for (const name of ['x-api-key', 'api-key', 'apikey', 'x-auth-token', 'x-access-token', 'private-token', 'ocp-apim-subscription-key', 'x-goog-api-key']) {
        const f = hdr(name, key);
        expect(f, name).toHaveLength(1);
        expect(f[0]).toMatchObject({ surface: `header:${name}`, start: 0, end: 40, severity: 'block' });
      }
      expect(hdr('authorization', key)).toHaveLength(1);
      const sso = hdr('authorization', `SSWS ${key}`);
      expect(sso.map((x) => [x.start, x.end])).toEqual([[5, 45]]);
    });
    it('benign: registered schemes, placeholders, short or word-like values, other headers, derived surfaces', () => {
      expect(hdr('authorization', `Bearer ${key}`)).toEqual([]);
      expect(hdr('authorization', `Basic ${Buffer.from('user:pass-Zq8vK2pL9x').toString('base64')}`)).toEqual([]);
      expect(hdr('x-api-key', 'your-api-key-here-please')).toEqual([]);
      expect(hdr('x-api-key', 'sk-ant-xxxxxxxxxxxxxxxxxxxx')).toEqual([]);
      expect(hdr('x-api-key', 'Zq8vK2pL9x')).toEqual([]);
      expect(hdr('x-api-key', 'application-json-default')).toEqual([]);
      expect(hdr('x-csrf-token', key)).toEqual([]);
      expect(hdr('x-request-id', key)).toEqual([]);
      expect(hdr('idempotency-key', key)).toEqual([]);
      expect(hdr('x-xsrf-token', key)).toEqual([]);
      expect(s.scan([{ name: 'header:x-api-key', text: key, derived: true }], only)).toEqual([]);
      expect(s.scan([{ name: 'body', text: key }], only)).toEqual([]);
    });
    it('a specific rule on the same value wins (generic)', () => {
      const f = s.scan([{ name: 'header:x-api-key', text: `ghp_${a36}` }], only);
      expect(f.map((x) => x.rule)).toEqual(['github_token']);
    });
  });

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
