/**
 * Host-name exfiltration scoring (docs/decisions/egress-dns-exfil.md): names an agent picks under a
 * wildcard route are judged before egress resolves them. Exfil shapes block, the provider names
 * coding agents really use pass, and the unique-name window is bounded in memory and time.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Buffer } from 'node:buffer';
import { createScanner } from '../../src/dlp/scanner.js';
import type { Scanner } from '../../src/dlp/types.js';
import { normalizeHost } from '../../src/egress/host.js';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { compileRouteTable, selectRoute } from '../../src/egress/route-table.js';
import {
  DNS_EXFIL_DEFAULTS,
  DNS_EXFIL_HARD_RULES,
  DnsExfilGuard,
  SubdomainWindow,
  dnsExfilAuditEntry,
  hostPartOf,
  randomAlphabet,
  redactedHost,
  registrableDomain,
  scoreHostName,
  windowKeyFor,
  type DnsExfilRule,
  type DnsExfilVerdict,
} from '../../src/egress/dns-exfil.js';

const SLOT = 'MARKERslot0-Zq8vK2pL9xW4rT7y';
const CANARY = 'Y2FuYXJ5LW1hcmtlci1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ';
const GH_TOKEN = 'ghp_R8x2KqLm9VbT4nWc7YpZ3dFh6JsA1uEo5GiX';
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function makeScanner(): Scanner {
  return createScanner({
    knownSecrets: [
      { name: 'EGRESS_TOKEN_0', value: SLOT, kind: 'slot' },
      { name: 'EGRESS_TOKEN_CANARY', value: CANARY, kind: 'canary' },
    ],
    fingerprintKey: new Uint8Array(32).fill(7),
  });
}
const scanner = makeScanner();

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
function base32(s: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
/** Splits into labels of n characters. */
const chunk = (s: string, n: number) => s.match(new RegExp(`.{1,${n}}`, 'g'))!.join('.');
/** Deterministic pseudo-random string (a test must not depend on Math.random). */
function pseudo(alphabet: string, n: number, seed: number): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += alphabet[(x >>> 16) % alphabet.length];
  }
  return out;
}
const HEX = '0123456789abcdef';
const B36 = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** What the proxy knows: the normalised host (lower-case) and the raw spelling. */
function score(raw: string, suffix: string, s: Scanner | null = scanner): DnsExfilVerdict {
  const host = normalizeHost(raw)!.host;
  return scoreHostName({ host, rawHosts: [raw], wildcardSuffix: suffix }, s ?? undefined);
}

// ---------------------------------------------------------------------------------------------

interface ExfilCase {
  readonly name: string;
  readonly raw: string;
  readonly suffix: string;
  /** A rule that must be among the reasons, when the case is about one rule. */
  readonly rule?: DnsExfilRule;
}

const E = '.evil.example'; // an attacker's zone behind `*.evil.example`
const EXFIL: ExfilCase[] = [
  { name: 'hex of a GitHub token split over two 40-char labels', raw: `${chunk(hex(GH_TOKEN), 40)}${E}`, suffix: E },
  { name: 'hex of the AWS secret, 63 + 17', raw: `${chunk(hex(AWS_SECRET), 63)}${E}`, suffix: E },
  { name: 'hex in ten 8-char labels', raw: `${chunk(hex(GH_TOKEN).slice(0, 80), 8)}${E}`, suffix: E, rule: 'dns_exfil/deep_name' },
  { name: 'hex in four 4-char labels', raw: `a1b2.c3d4.e5f6.a7b8${E}`, suffix: E, rule: 'dns_exfil/split_random_chunk' },
  { name: 'hex in five 6-char labels', raw: `${chunk(hex('secret-data!!!!').slice(0, 30), 6)}${E}`, suffix: E },
  { name: 'one 40-hex label (SHA-1 sized)', raw: `${pseudo(HEX, 40, 1)}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'one 48-hex label', raw: `${pseudo(HEX, 48, 2)}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'SHA-256 split 32 + 32', raw: `${chunk(pseudo(HEX, 64, 3), 32)}${E}`, suffix: E, rule: 'dns_exfil/multiple_random_labels' },
  { name: 'base32 of the AWS secret, 32 + 32', raw: `${chunk(base32(AWS_SECRET), 32)}${E}`, suffix: E },
  { name: 'one 24-char base32 label', raw: `${base32('fifteen bytes!!')}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'one 32-char base32 label', raw: `${base32('twenty bytes of key!')}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'base32 in hyphenated 5-char groups', raw: `${base32('password=hunter22!').match(/.{1,5}/g)!.join('-')}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'base64url, mixed case', raw: `${b64url('AWS key wJalrX')}${E}`, suffix: E, rule: 'dns_exfil/mixed_case_label' },
  { name: 'GitHub token as written (mixed case)', raw: `${GH_TOKEN}${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: 'GitHub token lower-cased', raw: `${GH_TOKEN.toLowerCase()}${E}`, suffix: E },
  { name: 'AWS key id in a label', raw: `${AWS_ID}${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: 'AWS key id lower-cased (DLP misses it once lower-cased)', raw: `${AWS_ID.toLowerCase()}${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: 'AWS key id split at a label boundary', raw: `akiaiosf.odnn7example${E}`, suffix: E },
  { name: 'AWS key id behind a word', raw: `files-${AWS_ID.toLowerCase()}.cdn${E}`, suffix: E },
  { name: 'JWT header, lower-cased', raw: `eyjhbgcioijiuzi1nij9.x${E}`, suffix: E },
  { name: 'known secret (slot value) in a label', raw: `${SLOT}${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: 'known secret hex-encoded over labels', raw: `${chunk(hex(SLOT), 28)}${E}`, suffix: E },
  { name: 'the canary in a label', raw: `${CANARY}${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: 'Anthropic key prefix, lower-cased', raw: `sk-ant-api03-abcdefghijkl${E}`, suffix: E },
  { name: 'Slack bot token', raw: `xoxb-1234567890-abcdefghij${E}`, suffix: E },
  { name: 'percent-encoded AWS key id', raw: `%41KIAIOSFODNN7EXAMPLE${E}`, suffix: E, rule: 'dns_exfil/token_in_name' },
  { name: '30-digit decimal label', raw: `${pseudo('0123456789', 30, 4)}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'nibbles as letters a–p, 40 chars', raw: `${hex('exfil-data-xyz-1234').slice(0, 40).replace(/[0-9a-f]/g, (c) => 'abcdefghijklmnop'[parseInt(c, 16)]!)}${E}`, suffix: E },
  { name: 'four levels of random labels', raw: `${[5, 6, 7, 8].map((s) => pseudo(HEX, 12, s)).join('.')}${E}`, suffix: E, rule: 'dns_exfil/multiple_random_labels' },
  { name: 'two 16-char base36 labels', raw: `${pseudo(B36, 16, 9)}.${pseudo(B36, 16, 10)}${E}`, suffix: E, rule: 'dns_exfil/multiple_random_labels' },
  { name: 'deep nesting of words', raw: `alpha.bravo.charlie.delta.echo.foxtrot${E}`, suffix: E, rule: 'dns_exfil/deep_name' },
  { name: 'deep nesting of 3-char code', raw: `x9q.k2z.p7w.m4v.r8t.j3n.b6c.h5d${E}`, suffix: E },
  { name: 'long name of word-like labels', raw: `the-quick-brown-fox-jumps-over.the-lazy-dog-again-and-again.until-the-name-is-very-long.and-longer-still${E}`, suffix: E, rule: 'dns_exfil/long_name' },
  { name: 'a label over 63 characters', raw: `${'word'.repeat(17)}${E}`, suffix: E },
  { name: 'base64url with underscores', raw: `${pseudo(B36 + '_-', 30, 11)}${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'two UUIDs in one label', raw: `1b4e28ba-2fa1-11d2-883f-0016d3cca427-2c5e38cb-3ab2-12e3-994a-1127e4ddb538${E}`, suffix: E },
  { name: 'hex behind decoy words', raw: `data-${pseudo(HEX, 40, 12)}-files${E}`, suffix: E, rule: 'dns_exfil/high_entropy_label' },
  { name: 'two 20-hex labels', raw: `${pseudo(HEX, 20, 13)}.${pseudo(HEX, 20, 14)}${E}`, suffix: E, rule: 'dns_exfil/multiple_random_labels' },
  { name: 'CamelCase words (case carries bits)', raw: `ThisIsMyExfilChannel${E}`, suffix: E, rule: 'dns_exfil/mixed_case_label' },
  { name: 'base32 over three 10-char labels', raw: `${chunk(base32('eighteen bytes!!!!').slice(0, 30), 10)}${E}`, suffix: E },
  { name: 'under an allowed provider: hex in two labels of an R2 name', raw: `${pseudo(HEX, 32, 15)}.${pseudo(HEX, 32, 16)}.r2.cloudflarestorage.com`, suffix: '.r2.cloudflarestorage.com', rule: 'dns_exfil/multiple_random_labels' },
  { name: 'under an allowed provider: a 40-hex "bucket"', raw: `${pseudo(HEX, 40, 17)}.s3.amazonaws.com`, suffix: '.s3.amazonaws.com', rule: 'dns_exfil/high_entropy_label' },
  { name: 'soft signals together: random label, depth 5, long name', raw: `${pseudo(HEX, 30, 18)}.images-and-media.static-content.delivery-network.edge${E}`, suffix: E, rule: 'dns_exfil/combined_score' },
];

// Real names behind wildcard routes that must pass (with the wildcard an operator would write).
const BENIGN: Array<[string, string]> = [
  ['d1a2b3c4d5e6f7.cloudfront.net', '.cloudfront.net'],
  ['d3kqq1lsdbbo8e.cloudfront.net', '.cloudfront.net'],
  ['d2cj5ui6zq4nuf.cloudfront.net', '.cloudfront.net'],
  // The corpus's benign CloudFront/API-Gateway-style labels (test/egress/corpus/benign.ts).
  ['d3k81ch9hvuctc.cloudfront.net', '.cloudfront.net'],
  ['k3x9q2m7vd.execute-api.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['abc123.execute-api.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', '.amazonaws.com'],
  ['my-bucket.s3.amazonaws.com', '.amazonaws.com'],
  ['my-company-terraform-state.s3.us-west-2.amazonaws.com', '.amazonaws.com'],
  ['github-production-release-asset-2e65be.s3.amazonaws.com', '.s3.amazonaws.com'],
  ['github-production-user-asset-6210df.s3.amazonaws.com', '.s3.amazonaws.com'],
  ['github-cloud.s3.amazonaws.com', '.s3.amazonaws.com'],
  ['objects.githubusercontent.com', '.githubusercontent.com'],
  ['pkg-containers.githubusercontent.com', '.githubusercontent.com'],
  ['raw.githubusercontent.com', '.githubusercontent.com'],
  ['avatars.githubusercontent.com', '.githubusercontent.com'],
  ['release-assets.githubusercontent.com', '.githubusercontent.com'],
  ['objects-origin.githubusercontent.com', '.githubusercontent.com'],
  ['pipelinesghubeus6.actions.githubusercontent.com', '.githubusercontent.com'],
  ['results-receiver.actions.githubusercontent.com', '.githubusercontent.com'],
  ['productionresultssa0.blob.core.windows.net', '.core.windows.net'],
  ['codeload.github.com', '.github.com'],
  ['api.github.com', '.github.com'],
  ['uploads.github.com', '.github.com'],
  ['0f1e2d3c4b5a69788796a5b4c3d2e1f0.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com'],
  ['9c4e1b7a2f3d4e5c8a9b0c1d2e3f4a5b.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com'],
  ['build-cache.9c4e1b7a2f3d4e5c8a9b0c1d2e3f4a5b.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com'],
  ['9c4e1b7a2f3d4e5c8a9b0c1d2e3f4a5b.eu.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com'],
  ['123456789012.dkr.ecr.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['registry.npmjs.org', '.npmjs.org'],
  ['registry.yarnpkg.com', '.yarnpkg.com'],
  ['files.pythonhosted.org', '.pythonhosted.org'],
  ['test.pypi.org', '.pypi.org'],
  ['upload.pypi.org', '.pypi.org'],
  ['registry-1.docker.io', '.docker.io'],
  ['auth.docker.io', '.docker.io'],
  ['production.cloudflare.docker.com', '.docker.com'],
  ['storage.googleapis.com', '.googleapis.com'],
  ['oauth2.googleapis.com', '.googleapis.com'],
  ['us-central1-aiplatform.googleapis.com', '.googleapis.com'],
  ['generativelanguage.googleapis.com', '.googleapis.com'],
  ['my-bucket.storage.googleapis.com', '.googleapis.com'],
  ['europe-west1-docker.pkg.dev', '.pkg.dev'],
  ['proxy.golang.org', '.golang.org'],
  ['sum.golang.org', '.golang.org'],
  ['static.crates.io', '.crates.io'],
  ['index.crates.io', '.crates.io'],
  ['static.rust-lang.org', '.rust-lang.org'],
  ['repo.maven.apache.org', '.apache.org'],
  ['deb.debian.org', '.debian.org'],
  ['security.debian.org', '.debian.org'],
  ['archive.ubuntu.com', '.ubuntu.com'],
  ['dl-cdn.alpinelinux.org', '.alpinelinux.org'],
  ['index.rubygems.org', '.rubygems.org'],
  ['cdn.jsdelivr.net', '.jsdelivr.net'],
  ['fastly.jsdelivr.net', '.jsdelivr.net'],
  ['api.anthropic.com', '.anthropic.com'],
  ['statsig.anthropic.com', '.anthropic.com'],
  ['api.openai.com', '.openai.com'],
  ['rmjfmkbjwqp4dv3dgtzeh6qkxa0daypb.lambda-url.us-west-2.on.aws', '.on.aws'],
  ['mybucket.blob.core.windows.net', '.core.windows.net'],
  ['myaccount.dfs.core.windows.net', '.core.windows.net'],
  ['myregistry.azurecr.io', '.azurecr.io'],
  ['my-app-3f8a9d2c1b4e.herokuapp.com', '.herokuapp.com'],
  ['my-project-k2j3h4g5f-team.vercel.app', '.vercel.app'],
  ['project-git-main-team.vercel.app', '.vercel.app'],
  ['5f3e2b1a9c8d7e0012345678--mysite.netlify.app', '.netlify.app'],
  ['service-abc123xyz-uc.a.run.app', '.run.app'],
  ['1b4e28ba-2fa1-11d2-883f-0016d3cca427.cfargotunnel.com', '.cfargotunnel.com'],
  ['ec2-54-123-45-67.compute-1.amazonaws.com', '.amazonaws.com'],
  ['my-lb-1234567890.us-east-1.elb.amazonaws.com', '.amazonaws.com'],
  ['bucket.s3.dualstack.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['prod-registry-k8s-io-us-east-1.s3.dualstack.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com', '.amazonaws.com'],
  ['bedrock-runtime.us-west-2.amazonaws.com', '.amazonaws.com'],
  ['sts.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['cf-templates-1a2b3c4d5e6f-us-east-1.s3.amazonaws.com', '.amazonaws.com'],
  ['elasticbeanstalk-us-east-1-123456789012.s3.amazonaws.com', '.amazonaws.com'],
  ['aws-cloudtrail-logs-123456789012-abcdef12.s3.amazonaws.com', '.amazonaws.com'],
  ['cdn-lfs.huggingface.co', '.huggingface.co'],
  ['cdn-lfs-us-1.huggingface.co', '.huggingface.co'],
  ['registry.gitlab.com', '.gitlab.com'],
  ['xn--bcher-kva.example.com', '.example.com'],
  ['www.example.com', '.example.com'],
  ['eu-west-1.api.example.com', '.example.com'],
  ['o123456.ingest.sentry.io', '.sentry.io'],
  ['o450123.ingest.us.sentry.io', '.sentry.io'],
  ['my-project-default-rtdb.firebaseio.com', '.firebaseio.com'],
  ['mxqkcbhzkxqzvwqjvbfd.supabase.co', '.supabase.co'],
  ['ep-cool-darkness-123456.us-east-2.aws.neon.tech', '.neon.tech'],
  ['dev-abc123xyz.us.auth0.com', '.auth0.com'],
  ['my-domain.auth.us-east-1.amazoncognito.com', '.amazoncognito.com'],
  ['1a2b-203-0-113-5.ngrok-free.app', '.ngrok-free.app'],
  ['username.github.io', '.github.io'],
  ['fuzzy-space-waffle-5g4r7q9xw9jh7v9x-3000.app.github.dev', '.github.dev'],
  ['mycompany.atlassian.net', '.atlassian.net'],
  ['hooks.slack.com', '.slack.com'],
  ['cdn01.quay.io', '.quay.io'],
  ['pypi.tuna.tsinghua.edu.cn', '.tsinghua.edu.cn'],
  ['registry.npmmirror.com', '.npmmirror.com'],
  ['a1b2c3d4.my-site.pages.dev', '.pages.dev'],
  ['my-worker.my-subdomain.workers.dev', '.workers.dev'],
  ['eastus.data.mcr.microsoft.com', '.microsoft.com'],
  ['dc.services.visualstudio.com', '.visualstudio.com'],
  ['netix.dl.sourceforge.net', '.sourceforge.net'],
  ['unofficial-builds.nodejs.org', '.nodejs.org'],
  ['s3.us-east-1.amazonaws.com', '.amazonaws.com'],
  ['my-deployment-1a2b3c.es.us-east-1.aws.found.io', '.found.io'],
  ['asia-northeast1-docker.pkg.dev', '.pkg.dev'],
  // Spelled as people type them: case in the operator's base domain or a capitalised word.
  ['Objects.GitHubUserContent.com', '.githubusercontent.com'],
  ['My-Bucket.s3.amazonaws.com', '.s3.amazonaws.com'],
];

describe('dns_exfil: exfiltration shapes are refused before resolution', () => {
  it(`has at least 40 exfil cases (${EXFIL.length})`, () => {
    expect(EXFIL.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of EXFIL) {
    it(`blocks: ${c.name}`, () => {
      const v = score(c.raw, c.suffix);
      expect(v.decision, `${v.rule} ${v.reasons.join(',')} ${JSON.stringify(v.metrics)}`).toBe('block');
      expect(v.score).toBeGreaterThanOrEqual(DNS_EXFIL_DEFAULTS.blockScore);
      if (c.rule) expect(v.reasons).toContain(c.rule);
      expect(v.reasons[0]).toBe(v.rule);
    });
  }

  it('also blocks the token-shaped cases without a scanner (shapes, any case)', () => {
    for (const raw of [`${AWS_ID.toLowerCase()}${E}`, `${GH_TOKEN.toLowerCase()}${E}`, `sk-ant-api03-abcdefghijkl${E}`, `eyjhbgcioijiuzi1nij9.x${E}`]) {
      const v = score(raw, E, null);
      expect(v.decision).toBe('block');
      expect(v.reasons).toContain('dns_exfil/token_shape');
    }
    expect(score(`${AWS_ID.toLowerCase()}${E}`, E, null).tokenRules).toContain('aws_access_key_id');
    // Shapes want a digit where real tokens have one: words do not trip them.
    for (const raw of [`xoxo-gossip-fans${E}`, `asiapacificregions${E}`]) expect(score(raw, E, null).tokenRules).toEqual([]);
  });

  it('names the DLP rule and finding when the scanner matches (for the deny body and audit)', () => {
    const v = score(`${AWS_ID}${E}`, E);
    expect(v.tokenRules).toContain('aws_access_key_id');
    expect(v.findings.some((f) => f.rule === 'aws_access_key_id' && f.surface === 'host')).toBe(true);
    const known = score(`${SLOT}${E}`, E);
    expect(known.findings.some((f) => f.detector === 'known_secrets' && f.secretName === 'EGRESS_TOKEN_0')).toBe(true);
    const audit = dnsExfilAuditEntry(v);
    expect(audit).toMatchObject({ detector: 'dns_exfil', rule: 'dns_exfil/token_in_name', surface: 'host', action: 'block', token_rules: expect.arrayContaining(['aws_access_key_id']) });
    expect(JSON.stringify(audit).toLowerCase()).not.toContain(AWS_ID.toLowerCase());
    // Allowed names that scored leave a trace too; clean ones leave none.
    expect(dnsExfilAuditEntry(score('0f1e2d3c4b5a69788796a5b4c3d2e1f0.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com'))).toMatchObject({ action: 'allow', rule: 'dns_exfil/random_label' });
    expect(dnsExfilAuditEntry(score('objects.githubusercontent.com', '.githubusercontent.com'))).toBeNull();
  });

  it('scans every spelling the agent sent (Host header, CONNECT authority with port)', () => {
    const host = `${AWS_ID.toLowerCase()}${E}`;
    // The normalised host alone is lower case; the raw Host header still carries the token.
    const v = scoreHostName({ host, rawHosts: [`${host}:443`, `${AWS_ID}${E}`], wildcardSuffix: E }, scanner);
    expect(v.reasons).toContain('dns_exfil/token_in_name');
  });

  it('random hex/base32/base36 chunks of 33+ characters in one label always block (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(HEX, 'abcdefghijklmnopqrstuvwxyz234567', B36), fc.integer({ min: 33, max: 63 }), fc.integer({ min: 1, max: 1e9 }), (alphabet, n, seed) => {
        const label = pseudo(alphabet, n, seed);
        return scoreHostName({ host: `${label}${E}`, wildcardSuffix: E }).decision === 'block';
      }),
      { numRuns: Number(process.env.DNSX_RUNS ?? 300) },
    );
  });

  it('two random 16+ char labels always block (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 32 }), fc.integer({ min: 1, max: 1e9 }), (n, seed) => {
        const host = `${pseudo(HEX, n, seed)}.${pseudo(HEX, n, seed + 1)}${E}`;
        return scoreHostName({ host, wildcardSuffix: E }).decision === 'block';
      }),
      { numRuns: 200 },
    );
  });
});

describe('dns_exfil: real-world names pass', () => {
  it(`has at least 40 benign names (${BENIGN.length})`, () => {
    expect(BENIGN.length).toBeGreaterThanOrEqual(40);
  });
  for (const [raw, suffix] of BENIGN) {
    it(`allows ${raw}`, () => {
      const v = score(raw, suffix);
      expect(v.decision, `${v.rule} ${v.reasons.join(',')} ${JSON.stringify(v.metrics)}`).toBe('allow');
      expect(v.rule).toBeNull();
      expect(v.score).toBeLessThan(DNS_EXFIL_DEFAULTS.blockScore);
    });
  }

  it('a 32-hex R2 account id is one random label within bounds (scored, not blocked)', () => {
    const v = score('0f1e2d3c4b5a69788796a5b4c3d2e1f0.r2.cloudflarestorage.com', '.r2.cloudflarestorage.com');
    expect(v.metrics).toMatchObject({ depth: 1, randomLabels: 1, longestRandom: 32 });
    expect(v.reasons).toContain('dns_exfil/random_label');
    expect(v.carriesRandom).toBe(true);
  });

  it('IPFS subdomain gateways need a per-route override (59-char CIDv1 base32)', () => {
    const host = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi.ipfs.dweb.link';
    expect(scoreHostName({ host, wildcardSuffix: '.ipfs.dweb.link' }).rule).toBe('dns_exfil/high_entropy_label');
    const v = scoreHostName({ host, wildcardSuffix: '.ipfs.dweb.link', thresholds: { maxRandomBase32Length: 63 } });
    expect(v.decision).toBe('allow');
  });

  it('exact routes have no agent-chosen labels: allowed with score 0', () => {
    const v = scoreHostName({ host: `${pseudo(HEX, 40, 20)}.example.com`, wildcardSuffix: null }, scanner);
    expect(v).toMatchObject({ decision: 'allow', score: 0, reasons: [], rule: null });
  });

  it('English words are not taken for random chunks', () => {
    const words = ['configuration', 'githubusercontent', 'cloudflarestorage', 'production', 'elasticbeanstalk', 'generativelanguage', 'authentication', 'notifications', 'organizations', 'distribution', 'kubernetes', 'repository', 'storageaccount', 'artifactregistry', 'translations', 'documentation'];
    for (const w of words) expect(randomAlphabet(w), w).toBeNull();
    expect(randomAlphabet(pseudo(HEX, 16, 30))).toBe('hex');
    expect(randomAlphabet('123456789012')).toBe('digits');
  });
});

describe('dns_exfil: verdicts are value-free', () => {
  it('reasons, rule and metrics never contain label text', () => {
    for (const c of EXFIL) {
      const v = score(c.raw, c.suffix);
      const shown = JSON.stringify({ reasons: v.reasons, rule: v.rule, metrics: v.metrics, tokenRules: v.tokenRules, audit: dnsExfilAuditEntry(v) });
      const labels = normalizeHost(c.raw)!.host.slice(0, -c.suffix.length).split(/[.\-_]/).filter((l) => l.length >= 6);
      for (const l of labels) expect(shown.toLowerCase()).not.toContain(l.toLowerCase());
      for (const r of v.reasons) expect(r).toMatch(/^dns_exfil\/[a-z_]+$/);
    }
  });

  it('redactedHost hides the chosen labels, keeps the base domain', () => {
    expect(redactedHost(`${hex(AWS_SECRET).slice(0, 40)}.x${E}`, E)).toBe(`[dns_exfil:2]${E}`);
    expect(redactedHost('api.example.com', null)).toBe('api.example.com');
  });
});

describe('dns_exfil: unique names per registrable domain in a sliding window', () => {
  const T0 = 1_700_000_000_000;
  const words = (i: number) => `mirror${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`;

  it('blocks the name that takes a domain past 32 unique names in 60 s; known names still pass', () => {
    const g = new DnsExfilGuard({ scanner });
    for (let i = 0; i < 32; i++) expect(g.check({ host: `${words(i)}${E}`, wildcardSuffix: E, nowMs: T0 + i }).decision).toBe('allow');
    const v = g.check({ host: `${words(32)}${E}`, wildcardSuffix: E, nowMs: T0 + 1000 });
    expect(v).toMatchObject({ decision: 'block', rule: 'dns_exfil/unique_subdomains' });
    expect(v.metrics.uniqueInWindow).toBe(33);
    // A name already seen in the window is not new: it keeps working.
    expect(g.check({ host: `${words(5)}${E}`, wildcardSuffix: E, nowMs: T0 + 1001 }).decision).toBe('allow');
    // A refused name was not recorded: retrying it is refused again.
    expect(g.check({ host: `${words(32)}${E}`, wildcardSuffix: E, nowMs: T0 + 1002 }).decision).toBe('block');
  });

  it('the window slides: names older than 60 s no longer count', () => {
    const g = new DnsExfilGuard();
    for (let i = 0; i < 32; i++) g.check({ host: `${words(i)}${E}`, wildcardSuffix: E, nowMs: T0 });
    expect(g.check({ host: `${words(40)}${E}`, wildcardSuffix: E, nowMs: T0 + 59_999 }).decision).toBe('block');
    expect(g.check({ host: `${words(40)}${E}`, wildcardSuffix: E, nowMs: T0 + 60_000 }).decision).toBe('allow');
  });

  it('many unique random-label names: the 9th in 10 minutes blocks, and expires', () => {
    const g = new DnsExfilGuard();
    const r2 = '.r2.cloudflarestorage.com';
    for (let i = 0; i < 8; i++) expect(g.check({ host: `${pseudo(HEX, 32, 100 + i)}${r2}`, wildcardSuffix: r2, nowMs: T0 + i * 1000 }).decision).toBe('allow');
    const ninth = g.check({ host: `${pseudo(HEX, 32, 200)}${r2}`, wildcardSuffix: r2, nowMs: T0 + 9000 });
    expect(ninth).toMatchObject({ decision: 'block', rule: 'dns_exfil/unique_random_subdomains' });
    expect(g.check({ host: `${pseudo(HEX, 32, 100)}${r2}`, wildcardSuffix: r2, nowMs: T0 + 10_000 }).decision).toBe('allow');
    expect(g.check({ host: `${pseudo(HEX, 32, 200)}${r2}`, wildcardSuffix: r2, nowMs: T0 + 10 * 60_000 + 8000 }).decision).toBe('allow');
  });

  it('routes under one registrable domain share a window; a public-suffix wildcard counts as one key', () => {
    expect(windowKeyFor('.s3.amazonaws.com')).toBe('amazonaws.com');
    expect(windowKeyFor('.execute-api.us-east-1.amazonaws.com')).toBe('amazonaws.com');
    expect(windowKeyFor('.com')).toBe('com');
    expect(windowKeyFor('.co.uk')).toBe('co.uk');
    expect(registrableDomain('a.b.example.co.uk')).toBe('example.co.uk');
    expect(registrableDomain('com')).toBeNull();
    const g = new DnsExfilGuard({ thresholds: { maxUniquePerWindow: 4 } });
    const hosts = ['one.s3.amazonaws.com', 'two.s3.amazonaws.com', 'aaa.execute-api.us-east-1.amazonaws.com', 'bbb.execute-api.us-east-1.amazonaws.com'];
    for (const h of hosts) expect(g.check({ host: h, wildcardSuffix: h.startsWith('one') || h.startsWith('two') ? '.s3.amazonaws.com' : '.execute-api.us-east-1.amazonaws.com', nowMs: T0 }).decision).toBe('allow');
    expect(g.check({ host: 'three.s3.amazonaws.com', wildcardSuffix: '.s3.amazonaws.com', nowMs: T0 }).rule).toBe('dns_exfil/unique_subdomains');
    // `*.com`: every registrable domain under it is the agent's choice, so they share one key.
    const c = new DnsExfilGuard({ thresholds: { maxUniquePerWindow: 2 } });
    expect(c.check({ host: 'alpha.com', wildcardSuffix: '.com', nowMs: T0 }).decision).toBe('allow');
    expect(c.check({ host: 'bravo.com', wildcardSuffix: '.com', nowMs: T0 }).decision).toBe('allow');
    expect(c.check({ host: 'charlie.com', wildcardSuffix: '.com', nowMs: T0 }).decision).toBe('block');
  });

  it('exact routes are neither scored nor counted', () => {
    const g = new DnsExfilGuard({ thresholds: { maxUniquePerWindow: 1 } });
    for (let i = 0; i < 5; i++) expect(g.check({ host: `${words(i)}.example.com`, wildcardSuffix: null, nowMs: T0 }).decision).toBe('allow');
    expect(g.size().names).toBe(0);
  });

  it('per-check thresholds override the process defaults (per-route overrides later)', () => {
    const g = new DnsExfilGuard({ thresholds: { maxUniquePerWindow: 100 } });
    for (let i = 0; i < 3; i++) g.check({ host: `${words(i)}${E}`, wildcardSuffix: E, nowMs: T0 });
    expect(g.check({ host: `${words(3)}${E}`, wildcardSuffix: E, nowMs: T0, thresholds: { maxUniquePerWindow: 3 } }).decision).toBe('block');
    expect(g.check({ host: `${words(3)}${E}`, wildcardSuffix: E, nowMs: T0 }).decision).toBe('allow');
  });

  it('bounded memory: 1e5 unique domains keep the tracker capped (LRU)', () => {
    const w = new SubdomainWindow({ maxKeys: 1024, maxNamesPerKey: 64 });
    for (let i = 0; i < 100_000; i++) w.record(`d${i}.example`, `n${i}.d${i}.example`, T0 + i, 60_000);
    expect(w.size().keys).toBe(1024);
    expect(w.size().names).toBe(1024);
    // The most recent key survived, the first was evicted.
    expect(w.peek('d99999.example', 'n99999.d99999.example', T0 + 100_000, 60_000)).toEqual({ count: 1, known: true });
    expect(w.peek('d0.example', 'n0.d0.example', T0 + 100_000, 60_000)).toEqual({ count: 1, known: false });
  });

  it('bounded memory: 1e5 unique names under one domain keep the per-domain set capped', () => {
    const w = new SubdomainWindow({ maxKeys: 16, maxNamesPerKey: 256 });
    for (let i = 0; i < 100_000; i++) w.record('evil.example', `x${i}.evil.example`, T0, 60_000);
    expect(w.size()).toEqual({ keys: 1, names: 256 });
    const g = new DnsExfilGuard({ limits: { maxKeys: 8, maxNamesPerKey: 64 } });
    for (let i = 0; i < 100_000; i++) {
      const suffix = `.zone${i % 50}.example`;
      g.check({ host: `${words(i % 600)}${suffix}`, wildcardSuffix: suffix, nowMs: T0 + i, thresholds: { maxUniquePerWindow: 10_000 } });
    }
    expect(g.size().keys).toBeLessThanOrEqual(16);
    expect(g.size().names).toBeLessThanOrEqual(16 * 64);
  });

  it('expiry on the tracker itself: entries older than the window are dropped when touched', () => {
    const w = new SubdomainWindow();
    for (let i = 0; i < 10; i++) w.record('k', `n${i}`, T0, 1000);
    expect(w.record('k', 'late', T0 + 1000, 1000)).toBe(1);
    expect(w.size().names).toBe(1);
  });
});

describe('dns_exfil: wiring helpers', () => {
  it('hostPartOf strips ports and brackets as written', () => {
    expect(hostPartOf('AKIAIOSFODNN7EXAMPLE.evil.example:443')).toBe('AKIAIOSFODNN7EXAMPLE.evil.example');
    expect(hostPartOf('[::1]:8080')).toBe('::1');
    expect(hostPartOf('Objects.GitHubUserContent.com')).toBe('Objects.GitHubUserContent.com');
  });

  it('works from a selected wildcard route (what the proxy passes)', () => {
    const table = compileRouteTable(parseRoutesFile('version: 1\ngeneration: 1\nbottle: b\nlog: 0\nroutes:\n  - {host: "*.r2.cloudflarestorage.com"}\n  - {host: api.example.com}\n'));
    const raw = `${chunk(hex(AWS_SECRET), 40)}.r2.cloudflarestorage.com:443`;
    const host = normalizeHost(hostPartOf(raw))!.host;
    const route = selectRoute(table, host, 443)!;
    expect(route.wildcardSuffix).toBe('.r2.cloudflarestorage.com');
    const g = new DnsExfilGuard({ scanner });
    const v = g.check({ host, rawHosts: [raw], wildcardSuffix: route.wildcardSuffix, nowMs: 0 });
    expect(v.decision).toBe('block');
    const exact = selectRoute(table, 'api.example.com', 443)!;
    expect(g.check({ host: 'api.example.com', wildcardSuffix: exact.wildcardSuffix, nowMs: 0 }).decision).toBe('allow');
  });

  it('every hard rule id is stable and namespaced', () => {
    for (const r of DNS_EXFIL_HARD_RULES) expect(r).toMatch(/^dns_exfil\/[a-z_]+$/);
  });

  it('scoring stays cheap: 10 000 checks well under a second each batch', () => {
    const g = new DnsExfilGuard({ scanner });
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) g.check({ host: BENIGN[i % BENIGN.length]![0].toLowerCase(), wildcardSuffix: BENIGN[i % BENIGN.length]![1], nowMs: i });
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
