/**
 * Benign traffic that must pass unchanged: registry metadata, LLM API calls with code in JSON,
 * base64 images and other binaries, UUIDs / git SHAs / sha256 / integrity hashes, minified JS and
 * lock files, docs that quote prompt-injection phrases to explain them, normal git fetch through the
 * git route, WebSocket chat, CDN-style wildcard names, long id-laden query strings and the usual
 * header and encoding variety. Values that look like card numbers, IBANs or private keys here fail
 * their checksums or lack the context on purpose (validators must not fire on them).
 */
import { createHash } from 'node:crypto';
import { API, GIT, PATHS, WILD, WS } from './hosts.js';
import { benigns, bin, get, json, post, type Headers } from './build.js';
import { B62, B64URL, DIGITS, HEX, LOWER, b64, brotli, fake, gzip, ibanValid, luhnValid, png, rng, tar, uuid, zlibDeflate } from './gen.js';
import type { CorpusCase, ResponseSpec } from './types.js';

const r = (id: string) => rng(`benign:${id}`);
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sri = (s: string) => `sha512-${createHash('sha512').update(s).digest('base64')}`;

const NPM_H: Headers = [['user-agent', 'npm/10.8.2 node/v20.17.0 linux x64 workspaces/false'], ['accept', 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'], ['npm-command', 'install'], ['accept-encoding', 'gzip, deflate, br']];
const PIP_H: Headers = [['user-agent', 'pip/24.2 {"ci":null,"cpu":"x86_64","implementation":{"name":"CPython","version":"3.12.4"}}'], ['accept', 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01']];
const GO_H: Headers = [['user-agent', 'Go-http-client/1.1'], ['accept-encoding', 'gzip']];

// ---------- registry metadata ----------

const reg = benigns('benign-registry');
const REGISTRY: CorpusCase[] = [
  reg('ok-npm-pkg-01', 'path', 'npm packument', { request: get(API, '/react', NPM_H) }),
  reg('ok-npm-scoped-02', 'path', 'npm scoped packument (encoded slash)', { request: get(API, '/@types%2fnode', NPM_H) }),
  reg('ok-npm-scoped-03', 'path', 'npm scoped packument @babel/core', { request: get(API, '/@babel%2fcore', NPM_H) }),
  reg('ok-npm-search-04', 'query', 'npm search', { request: get(API, '/-/v1/search?text=keywords:eslint-plugin&size=20&from=40&quality=0.65&popularity=0.98&maintenance=0.5', NPM_H) }),
  reg('ok-npm-tarball-05', 'path', 'npm tarball download', { request: get(API, '/lodash/-/lodash-4.17.21.tgz', NPM_H) }),
  reg('ok-npm-audit-06', 'body', 'npm audit bulk advisory request', { request: post(API, '/-/npm/v1/security/advisories/bulk', json({ lodash: ['4.17.21'], react: ['18.3.1'], 'left-pad': ['1.3.0'], '@types/node': ['20.14.9'] }), 'application/json', NPM_H) }),
  reg('ok-pypi-json-07', 'path', 'PyPI JSON API', { request: get(API, '/pypi/requests/json', PIP_H) }),
  reg('ok-pypi-simple-08', 'path', 'PyPI simple index', { request: get(API, '/simple/numpy/', PIP_H) }),
  reg('ok-pypi-wheel-09', 'path', 'PyPI wheel path with a blake2 hash', { request: get(API, `/packages/${r('whl').chars(HEX, 2)}/${r('whl2').chars(HEX, 2)}/${r('whl3').chars(HEX, 60)}/requests-2.32.3-py3-none-any.whl`, PIP_H) }),
  reg('ok-crates-10', 'path', 'crates.io API', { request: get(API, '/api/v1/crates/serde', [['user-agent', 'cargo 1.80.0 (376290515 2024-07-16)']]) }),
  reg('ok-crates-sparse-11', 'path', 'crates sparse index', { request: get(API, '/se/rd/serde', [['user-agent', 'cargo 1.80.0 (376290515 2024-07-16)'], ['if-none-match', `"${sha1('serde-index')}"`]]) }),
  reg('ok-goproxy-list-12', 'path', 'Go module proxy @v/list', { request: get(API, '/github.com/spf13/cobra/@v/list', GO_H) }),
  reg('ok-goproxy-info-13', 'path', 'Go module proxy .info', { request: get(API, '/github.com/spf13/cobra/@v/v1.8.1.info', GO_H) }),
  reg('ok-gosum-14', 'path', 'Go checksum database lookup', { request: get(API, '/lookup/github.com/spf13/cobra@v1.8.1', GO_H) }),
  reg('ok-maven-15', 'path', 'Maven Central POM', { request: get(API, '/maven2/org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0.pom', [['user-agent', 'Apache-Maven/3.9.8 (Java 21.0.3; Linux 6.8.0)']]) }),
  reg('ok-rubygems-16', 'path', 'RubyGems info', { request: get(API, '/info/rails', [['user-agent', 'bundler/2.5.16 rubygems/3.5.16 ruby/3.3.4 (x86_64-pc-linux-gnu)']]) }),
  reg('ok-docker-manifest-17', 'path', 'container registry manifest', {
    request: get(API, '/v2/library/node/manifests/20-alpine', [['accept', 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json']]),
  }),
  reg('ok-docker-blob-18', 'path', 'container registry blob by sha256 digest', { request: get(API, `/v2/library/node/blobs/sha256:${sha256('layer-1')}`) }),
  reg('ok-gh-commit-19', 'path', 'GitHub API commit by SHA', { request: get(API, `/repos/acme/widget/commits/${sha1('commit-19')}`, [['accept', 'application/vnd.github+json'], ['x-github-api-version', '2022-11-28']]) }),
  reg('ok-gh-pulls-20', 'query', 'GitHub API pulls listing', { request: get(API, '/repos/acme/widget/pulls?state=open&per_page=100&page=2&sort=updated&direction=desc', [['accept', 'application/vnd.github+json']]) }),
];

// ---------- LLM API calls with code ----------

const llm = benigns('benign-llm');
const TS_CODE = `import { readFile } from 'node:fs/promises';

export async function loadConfig(path: string): Promise<Config> {
  const text = await readFile(path, 'utf8');
  const cfg = JSON.parse(text) as Config;
  if (!cfg.endpoint) throw new Error('endpoint missing');
  // The token comes from the environment, never from the file.
  cfg.token = process.env.GITHUB_TOKEN ?? '';
  return cfg;
}
`;
const PY_CODE = `import os
import hashlib

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": os.environ.get("DB_PASSWORD", "")}}

def digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()
`;
const SH_CODE = `#!/usr/bin/env bash
set -euo pipefail
: "\${NPM_TOKEN:?set NPM_TOKEN}"
echo "//registry.npmjs.org/:_authToken=\${NPM_TOKEN}" > .npmrc
npm ci --ignore-scripts
npm test -- --coverage
`;
const GHA_YAML = `name: release
on: { push: { tags: ['v*'] } }
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with: { node-version: 20, registry-url: 'https://registry.npmjs.org' }
      - run: npm publish --provenance
        env:
          NODE_AUTH_TOKEN: \${{ secrets.NPM_TOKEN }}
`;
const ENV_EXAMPLE = `# Copy to .env and fill in
API_KEY=your-api-key-here
DATABASE_URL=
LOG_LEVEL=info
`;
const anthropic = (messages: unknown[], extra: Record<string, unknown> = {}) => json({ model: 'claude-sonnet-4-5', max_tokens: 4096, system: 'You are a careful coding assistant working in a sandbox.', messages, ...extra });
const LLM_H: Headers = [['anthropic-version', '2023-06-01'], ['user-agent', 'claude-cli/2.0.14 (external, cli)'], ['x-stainless-lang', 'js']];
const lockfile = (n: number) => json({
  name: 'widget',
  version: '1.4.0',
  lockfileVersion: 3,
  requires: true,
  packages: Object.fromEntries(Array.from({ length: n }, (_, i) => [`node_modules/pkg-${i}`, { version: `1.${i}.0`, resolved: `https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-1.${i}.0.tgz`, integrity: sri(`pkg-${i}`), license: 'MIT' }])),
});
const gitLog = Array.from({ length: 12 }, (_, i) => `commit ${sha1(`c${i}`)}\nAuthor: Dev ${i} <dev${i}@example.test>\nDate:   Mon Jun ${i + 1} 10:00:00 2024 +0000\n\n    fix: item ${i}\n`).join('\n');
const diff = `diff --git a/package-lock.json b/package-lock.json\nindex ${sha1('a').slice(0, 7)}..${sha1('b').slice(0, 7)} 100644\n--- a/package-lock.json\n+++ b/package-lock.json\n@@ -10,7 +10,7 @@\n-      "integrity": "${sri('old')}",\n+      "integrity": "${sri('new')}",\n`;

const LLM: CorpusCase[] = [
  llm('ok-llm-ts-01', 'body', 'Messages API call with TypeScript source', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: `Review this:\n\n\`\`\`ts\n${TS_CODE}\`\`\`` }]), 'application/json', LLM_H) }),
  llm('ok-llm-py-02', 'body', 'Messages API call with Python (settings reading secrets from env)', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: `Why does this fail?\n${PY_CODE}` }]), 'application/json', LLM_H) }),
  llm('ok-llm-sh-03', 'body', 'Messages API call with a CI shell script', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: SH_CODE }]), 'application/json', LLM_H) }),
  llm('ok-llm-gha-04', 'body', 'Messages API call with a GitHub Actions workflow using ${{ secrets.* }}', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: GHA_YAML }]), 'application/json', LLM_H) }),
  llm('ok-llm-envexample-05', 'body', 'Messages API call with a .env.example full of placeholders', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: `Document these settings:\n${ENV_EXAMPLE}` }]), 'application/json', LLM_H) }),
  llm('ok-llm-gitlog-06', 'body', 'tool_result with git log output (SHAs)', {
    request: post(API, '/v1/messages', anthropic([{ role: 'user', content: 'summarise' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'bash', input: { command: 'git log -12' } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: gitLog }] }]), 'application/json', LLM_H),
  }),
  llm('ok-llm-diff-07', 'body', 'diff of package-lock integrity hashes', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: diff }]), 'application/json', LLM_H) }),
  llm('ok-llm-image-08', 'body', 'message with a base64 PNG image block', {
    request: post(API, '/v1/messages', anthropic([{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: b64(png(r('img8'), 48, 48)) } }, { type: 'text', text: 'What is in this screenshot?' }] }]), 'application/json', LLM_H),
  }),
  llm('ok-llm-stream-09', 'body', 'streaming request with tools', {
    request: post(API, '/v1/messages', anthropic([{ role: 'user', content: 'list files' }], { stream: true, tools: [{ name: 'bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }] }), 'application/json', LLM_H),
  }),
  llm('ok-llm-openai-10', 'body', 'chat completion with code', {
    request: post(API, '/v1/chat/completions', json({ model: 'gpt-4.1', messages: [{ role: 'system', content: 'You write tests.' }, { role: 'user', content: `Write vitest tests for:\n${TS_CODE}` }], temperature: 0.2 }), 'application/json', [['user-agent', 'OpenAI/JS 4.56.0']]),
  }),
  llm('ok-llm-embed-11', 'body', 'embeddings over code chunks', { request: post(API, '/v1/embeddings', json({ model: 'text-embedding-3-small', input: [TS_CODE, PY_CODE, SH_CODE] }), 'application/json') }),
  llm('ok-llm-lock-12', 'body', 'message with a package-lock.json excerpt', { request: post(API, '/v1/messages', anthropic([{ role: 'user', content: lockfile(25) }]), 'application/json', LLM_H) }),
  llm('ok-llm-compose-13', 'body', 'message with a docker-compose file using env references', {
    request: post(API, '/v1/messages', anthropic([{ role: 'user', content: 'services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n      POSTGRES_DB: app\n    ports: ["5432:5432"]\n' }]), 'application/json', LLM_H),
  }),
  llm('ok-llm-tests-14', 'body', 'message with test code asserting well-known hashes and UUIDs', {
    request: post(API, '/v1/messages', anthropic([{ role: 'user', content: `it('hashes', () => {\n  expect(sha256('')).toBe('${sha256('')}');\n  expect(parse('${uuid(r('u14'))}')).toBeTruthy();\n});\n` }]), 'application/json', LLM_H),
  }),
  llm('ok-llm-count-15', 'body', 'count_tokens call', { request: post(API, '/v1/messages/count_tokens', anthropic([{ role: 'user', content: 'x'.repeat(2000) }]), 'application/json', LLM_H) }),
];

// ---------- binaries and base64 ----------

const bn = benigns('benign-binary');
const MIN_JS = (() => {
  const g = r('minjs');
  const ids = Array.from({ length: 40 }, () => g.chars(LOWER, 1) + g.chars(LOWER + DIGITS, g.int(3)));
  let s = '!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).widget=t()}(this,function(){"use strict";';
  for (let i = 0; i < 220; i++) {
    const a = g.pick(ids);
    const b = g.pick(ids);
    s += `var ${a}${i}=function(${b},n){return n=n||{},${b}.map(function(r){return r.id+":"+(n.k||"${g.chars(LOWER, 6)}")})};`;
  }
  return `${s}return{version:"2.3.1"}});\n//# sourceMappingURL=widget.min.js.map\n`;
})();
const SOURCE_MAP = json({ version: 3, file: 'widget.min.js', sources: ['src/index.ts', 'src/util.ts'], names: ['widget', 'map', 'id'], mappings: Array.from({ length: 200 }, () => r('map').chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 4)).join(',') + ';AAAA,SAASA' });
const BINARY: CorpusCase[] = [
  bn('ok-bin-png-01', 'body', 'PNG upload', { request: post(API, '/v1/assets/logo.png', bin(png(r('png1'), 64, 64)), 'image/png') }),
  bn('ok-bin-dataurl-02', 'body', 'data: URL with a base64 PNG in JSON', { request: post(API, '/v1/avatar', json({ avatar: `data:image/png;base64,${b64(png(r('png2'), 40, 40))}` }), 'application/json') }),
  bn('ok-bin-jpeg-03', 'body', 'JPEG-like bytes', { request: post(API, '/v1/assets/photo.jpg', bin(Buffer.concat([Buffer.from('ffd8ffe000104a46494600010101004800480000', 'hex'), r('jpg').bytes(6000), Buffer.from('ffd9', 'hex')])), 'image/jpeg') }),
  bn('ok-bin-tgz-04', 'body', 'tar.gz of source code', { request: post(API, '/v1/artifacts', bin(gzip(tar('package/index.js', MIN_JS))), 'application/gzip') }),
  bn('ok-bin-cache-05', 'body', 'remote build-cache artifact (random bytes)', { request: { ...post(API, `/v8/artifacts/${sha256('artifact-5').slice(0, 16)}`, bin(r('cache').bytes(8192)), 'application/octet-stream'), method: 'PUT' } }),
  bn('ok-bin-grpcweb-06', 'body', 'gRPC-web protobuf frame', { request: post(API, '/acme.v1.Widgets/List', bin(Buffer.concat([Buffer.from([0, 0, 0, 0, 40]), r('pb').bytes(40)])), 'application/grpc-web+proto', [['x-grpc-web', '1']]) }),
  bn('ok-bin-wasm-07', 'body', 'WebAssembly module upload', { request: post(API, '/v1/modules', bin(Buffer.concat([Buffer.from('0061736d01000000', 'hex'), r('wasm').bytes(3000)])), 'application/wasm') }),
  bn('ok-bin-font-08', 'body', 'CSS with a base64 woff2 font', { request: post(API, '/v1/styles', `@font-face{font-family:Inter;src:url(data:font/woff2;base64,${b64(Buffer.concat([Buffer.from('wOF2'), r('font').bytes(3000)]))}) format("woff2")}`, 'text/css') }),
];

// ---------- ids, hashes, numbers ----------

const ids = benigns('benign-ids');
const nonLuhn = (seed: string, prefix: string, len: number) => {
  const g = r(seed);
  for (;;) {
    const n = prefix + g.chars(DIGITS, len - prefix.length);
    if (!luhnValid(n)) return n;
  }
};
const badIban = (() => {
  const g = r('iban');
  const good = fake.iban(g, 'DE', g.chars(DIGITS, 18));
  const bad = `${good.slice(0, 2)}${String((Number(good.slice(2, 4)) + 1) % 100).padStart(2, '0')}${good.slice(4)}`;
  return ibanValid(bad) ? `${good.slice(0, 2)}00${good.slice(4)}` : bad;
})();
const IDS: CorpusCase[] = [
  ids('ok-ids-uuidpath-01', 'path', 'UUIDs in the path', { request: get(API, `/v1/projects/${uuid(r('u1'))}/items/${uuid(r('u1b'))}`) }),
  ids('ok-ids-uuidquery-02', 'query', 'long query of 30 UUIDs', { request: get(API, `/v1/items?ids=${Array.from({ length: 30 }, (_, i) => uuid(r(`u2-${i}`))).join(',')}&fields=id,name,updated_at`) }),
  ids('ok-ids-sha-03', 'query', 'git SHAs in a compare query', { request: get(API, `/repos/acme/widget/compare/${sha1('base')}...${sha1('head')}?per_page=250`) }),
  ids('ok-ids-cursor-04', 'query', 'base64 JSON pagination cursor', { request: get(API, `/v1/events?limit=100&cursor=${b64(json({ id: 918273, ts: '2024-06-01T10:00:00Z' }))}`) }),
  ids('ok-ids-headers-05', 'header', 'trace ids and content hashes in headers', {
    request: get(API, '/v1/x', [['traceparent', `00-${r('tp').chars(HEX, 32)}-${r('tp2').chars(HEX, 16)}-01`], ['x-request-id', uuid(r('rid'))], ['x-amz-content-sha256', sha256('body')], ['if-none-match', `W/"${sha1('etag')}"`]]),
  }),
  ids('ok-ids-stripeobj-06', 'query', 'Stripe object ids (customer, payment intent) — not secrets', { request: get(API, `/v1/payments?customer=cus_${r('cus').chars(B62, 14)}&payment_intent=pi_${r('pi').chars(B62, 24)}`) }),
  ids('ok-ids-eth-07', 'body', 'Ethereum address and transaction hash (public data)', { request: post(API, '/v1/tx', json({ from: `0x${r('eth').chars(HEX, 40)}`, transactionHash: `0x${r('eth2').chars(HEX, 64)}`, blockNumber: 20_123_456 }), 'application/json') }),
  ids('ok-ids-numbers-08', 'body', 'order ids (16 digits, failing Luhn) and ms timestamps', { request: post(API, '/v1/orders', json({ order_id: nonLuhn('o8', '4', 16), created_ms: 1_717_171_717_171, ref: nonLuhn('o8b', '5', 16) }), 'application/json') }),
  ids('ok-ids-ulid-09', 'path', 'ULID and nanoid ids', { request: get(API, `/v1/runs/01J${r('ulid').chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 23)}/steps/${r('nano').chars(B64URL, 21)}`) }),
  ids('ok-ids-badiban-10', 'body', 'IBAN-shaped reference that fails mod-97', { request: post(API, '/v1/notes', `reference: ${badIban}`, 'text/plain') }),
  ids('ok-ids-sri-11', 'query', 'SRI sha384 in a query', { request: get(API, `/v1/cdn/check?integrity=${encodeURIComponent(`sha384-${createHash('sha384').update('x').digest('base64')}`)}`) }),
  ids('ok-ids-phone-12', 'body', 'phone numbers, postcodes and a VAT id in a form', { request: post(API, '/v1/contact', 'name=Erika+Muster&phone=%2B49+30+1234567&zip=10115&vat=DE123456789', 'application/x-www-form-urlencoded') }),
];

// ---------- code and text bodies ----------

const code = benigns('benign-code');
const CARGO_LOCK = Array.from({ length: 20 }, (_, i) => `[[package]]\nname = "crate-${i}"\nversion = "0.${i}.3"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "${sha256(`crate-${i}`)}"\n`).join('\n');
const GO_SUM = Array.from({ length: 20 }, (_, i) => `github.com/acme/mod${i} v1.${i}.0 h1:${createHash('sha256').update(`m${i}`).digest('base64')}\ngithub.com/acme/mod${i} v1.${i}.0/go.mod h1:${createHash('sha256').update(`g${i}`).digest('base64')}`).join('\n');
const YARN_LOCK = Array.from({ length: 15 }, (_, i) => `"pkg-${i}@^1.${i}.0":\n  version "1.${i}.2"\n  resolved "https://registry.yarnpkg.com/pkg-${i}/-/pkg-${i}-1.${i}.2.tgz#${sha1(`y${i}`)}"\n  integrity ${sri(`y${i}`)}\n`).join('\n');
const CODE: CorpusCase[] = [
  code('ok-code-minjs-01', 'body', 'minified JavaScript bundle', { request: post(API, '/v1/bundles/widget.min.js', MIN_JS, 'application/javascript') }),
  code('ok-code-sourcemap-02', 'body', 'source map', { request: post(API, '/v1/bundles/widget.min.js.map', SOURCE_MAP, 'application/json') }),
  code('ok-code-lock-03', 'body', 'package-lock.json', { request: post(API, '/v1/files/package-lock.json', lockfile(60), 'application/json') }),
  code('ok-code-yarn-04', 'body', 'yarn.lock', { request: post(API, '/v1/files/yarn.lock', YARN_LOCK, 'text/plain') }),
  code('ok-code-cargo-05', 'body', 'Cargo.lock with sha256 checksums', { request: post(API, '/v1/files/Cargo.lock', CARGO_LOCK, 'text/plain') }),
  code('ok-code-gosum-06', 'body', 'go.sum with h1: base64 hashes', { request: post(API, '/v1/files/go.sum', GO_SUM, 'text/plain') }),
  code('ok-code-markdown-07', 'body', 'Markdown design doc', { request: post(API, '/v1/docs', '# Caching\n\nWe key entries by `sha256(content)` and keep them for 7 days.\n\n| key | ttl |\n|---|---|\n| build | 7d |\n\nSee RFC 9111 for semantics.\n', 'text/markdown') }),
  code('ok-code-csv-08', 'body', 'CSV of metrics', { request: post(API, '/v1/import', ['date,requests,errors,p95_ms', ...Array.from({ length: 60 }, (_, i) => `2024-06-${String((i % 28) + 1).padStart(2, '0')},${1000 + i * 37},${i % 7},${120 + (i * 13) % 90}`)].join('\n'), 'text/csv') }),
  code('ok-code-sql-09', 'body', 'SQL migration', { request: post(API, '/v1/migrations', 'CREATE TABLE users (\n  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n  email text NOT NULL UNIQUE,\n  password_hash text NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\nCREATE INDEX users_email_idx ON users (lower(email));\n', 'application/sql') }),
  code('ok-code-dockerfile-10', 'body', 'Dockerfile with a pinned digest', { request: post(API, '/v1/files/Dockerfile', `FROM node:20-alpine@sha256:${sha256('node20')}\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --omit=dev\nCOPY . .\nUSER node\nCMD ["node", "server.js"]\n`, 'text/plain') }),
  code('ok-code-graphql-11', 'body', 'GraphQL query', { request: post(API, '/graphql', json({ query: 'query($owner:String!,$name:String!){repository(owner:$owner,name:$name){pullRequests(first:50,states:OPEN){nodes{number title headRefOid}}}}', variables: { owner: 'acme', name: 'widget' } }), 'application/json') }),
  code('ok-code-html-12', 'body', 'HTML page with inline script', { request: post(API, '/v1/pages', `<!doctype html><html><head><script>window.__CFG__={build:"${sha1('build').slice(0, 12)}",env:"prod"}</script></head><body><div id="root"></div></body></html>`, 'text/html') }),
];

// ---------- git fetch through the git route ----------

const git = benigns('benign-git');
const GIT_H: Headers = [['user-agent', 'git/2.43.0'], ['git-protocol', 'version=2']];
const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, '0') + line;
const GITS: CorpusCase[] = [
  git('ok-git-refs-01', 'query', 'info/refs?service=git-upload-pack', { request: get(GIT, '/acme/widget.git/info/refs?service=git-upload-pack', GIT_H) }),
  git('ok-git-lsrefs-02', 'body', 'protocol v2 ls-refs', {
    request: post(GIT, '/acme/widget.git/git-upload-pack', `${pkt('command=ls-refs\n')}${pkt('agent=git/2.43.0\n')}0001${pkt('peel\n')}${pkt('symrefs\n')}${pkt('ref-prefix HEAD\n')}${pkt('ref-prefix refs/heads/\n')}0000`, 'application/x-git-upload-pack-request', [['accept', 'application/x-git-upload-pack-result'], ...GIT_H]),
  }),
  git('ok-git-fetch-03', 'body', 'protocol v2 fetch with want/have lines', {
    request: post(GIT, '/acme/widget.git/git-upload-pack', `${pkt('command=fetch\n')}${pkt('agent=git/2.43.0\n')}0001${pkt('thin-pack\n')}${pkt('ofs-delta\n')}${pkt(`want ${sha1('w1')}\n`)}${pkt(`want ${sha1('w2')}\n`)}${pkt(`have ${sha1('h1')}\n`)}${pkt('done\n')}0000`, 'application/x-git-upload-pack-request', [['accept', 'application/x-git-upload-pack-result'], ...GIT_H]),
  }),
  git('ok-git-gzipfetch-04', 'body', 'fetch request body with Content-Encoding: gzip (git does this for big negotiations)', {
    request: post(GIT, '/acme/widget.git/git-upload-pack', bin(gzip(`${pkt('command=fetch\n')}0001${Array.from({ length: 50 }, (_, i) => pkt(`have ${sha1(`hv${i}`)}\n`)).join('')}${pkt('done\n')}0000`)), 'application/x-git-upload-pack-request', [['content-encoding', 'gzip'], ...GIT_H]),
  }),
  git('ok-git-head-05', 'path', 'dumb-protocol HEAD', { request: get(GIT, '/acme/widget.git/HEAD', [['user-agent', 'git/2.43.0']]) }),
];

// ---------- responses (docs that quote injection phrases, normal content) ----------

const rs = benigns('benign-response');
function served(id: string, description: string, response: ResponseSpec): CorpusCase {
  return rs(id, 'response', description, { request: get(API, `/docs/${id}`), response });
}
const html = (s: string) => ({ status: 200, headers: [['content-type', 'text/html; charset=utf-8']] as const, body: `<!doctype html><html><body><article>${s}</article></body></html>` });
const RESPONSES: CorpusCase[] = [
  served('ok-resp-owasp-01', 'security guide quoting an override phrase to explain it', html('<h2>LLM01: Prompt Injection</h2><p>A direct prompt injection happens when a user types something like “ignore previous instructions” into a chat. Indirect injection hides such text in content the model reads. Mitigations: treat retrieved content as data, constrain tools, require human approval for privileged actions.</p>')),
  served('ok-resp-jailbreak-02', 'research abstract describing DAN prompts', html('<p>We study “DAN” (Do Anything Now) prompts, which tell a model that it is now an unrestricted persona. We find that safety training reduces, but does not eliminate, compliance with such prompts.</p>')),
  served('ok-resp-rustup-03', 'install docs with curl | sh', html("<h2>Install Rust</h2><pre><code>curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh</code></pre><p>Then restart your shell.</p>")),
  served('ok-resp-printenv-04', 'man page excerpt about printenv', { status: 200, headers: [['content-type', 'text/plain']], body: 'PRINTENV(1)\n\nNAME\n       printenv - print all or part of environment\n\nSYNOPSIS\n       printenv [OPTION]... [VARIABLE]...\n' }),
  served('ok-resp-json-05', 'ordinary JSON API response', { status: 200, headers: [['content-type', 'application/json']], body: json({ items: Array.from({ length: 20 }, (_, i) => ({ id: uuid(r(`rj${i}`)), name: `item ${i}`, sha: sha1(`rj${i}`) })), next: null }) }),
  served('ok-resp-readme-06', 'ordinary README', { status: 200, headers: [['content-type', 'text/markdown']], body: '# widget\n\nA tiny widget library.\n\n## Usage\n\n```js\nimport { widget } from "widget";\nwidget({ size: 3 });\n```\n\n## License\n\nMIT\n' }),
  served('ok-resp-changelog-07', 'changelog mentioning system prompts as a feature', { status: 200, headers: [['content-type', 'text/markdown']], body: '## 0.9.0\n\n- Added support for system prompts in the Messages API wrapper.\n- The `--system` flag now reads the system prompt from a file.\n' }),
  served('ok-resp-sse-08', 'ordinary SSE stream of model deltas', { status: 200, headers: [['content-type', 'text/event-stream']], body: Array.from({ length: 10 }, (_, i) => `event: content_block_delta\ndata: ${json({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `part ${i} ` } })}\n\n`).join('') }),
  served('ok-resp-gzip-09', 'gzip-encoded JSON response', { status: 200, headers: [['content-type', 'application/json'], ['content-encoding', 'gzip']], body: bin(gzip(json({ ok: true, packages: Array.from({ length: 30 }, (_, i) => `pkg-${i}`) }))) }),
  served('ok-resp-xml-10', 'XML sitemap', { status: 200, headers: [['content-type', 'application/xml']], body: `<?xml version="1.0"?><urlset>${Array.from({ length: 20 }, (_, i) => `<url><loc>https://docs.example.test/p/${i}</loc></url>`).join('')}</urlset>` }),
  served('ok-resp-envtutorial-11', 'tutorial on reading environment variables', html('<p>In Python, <code>os.environ</code> maps variable names to values. To inspect them from a shell, run <code>printenv</code> or <code>env</code>. Never commit secrets; load them from the environment instead.</p>')),
  served('ok-resp-minjs-12', 'minified JavaScript response', { status: 200, headers: [['content-type', 'application/javascript']], body: MIN_JS }),
];

// ---------- encodings and header variety ----------

const enc = benigns('benign-encoding');
const BODY_JSON = json({ name: 'widget', tags: ['a', 'b'], count: 3 });
const ENCODINGS: CorpusCase[] = [
  enc('ok-enc-ae-all-01', 'header', 'Accept-Encoding: gzip, deflate, br, zstd', { request: get(API, '/v1/list', [['accept-encoding', 'gzip, deflate, br, zstd']]) }),
  enc('ok-enc-ae-identity-02', 'header', 'Accept-Encoding: identity', { request: get(API, '/v1/list', [['accept-encoding', 'identity']]) }),
  enc('ok-enc-ae-q-03', 'header', 'Accept-Encoding with q-values', { request: get(API, '/v1/list', [['accept-encoding', 'br;q=1.0, gzip;q=0.8, *;q=0.1']]) }),
  enc('ok-enc-gzip-04', 'body', 'gzip request body with Content-Encoding', { request: post(API, '/v1/items', bin(gzip(BODY_JSON)), 'application/json', [['content-encoding', 'gzip']]) }),
  enc('ok-enc-br-05', 'body', 'brotli request body with Content-Encoding', { request: post(API, '/v1/items', bin(brotli(BODY_JSON)), 'application/json', [['content-encoding', 'br']]) }),
  enc('ok-enc-deflate-06', 'body', 'deflate request body with Content-Encoding', { request: post(API, '/v1/items', bin(zlibDeflate(BODY_JSON)), 'application/json', [['content-encoding', 'deflate']]) }),
  enc('ok-enc-browser-07', 'header', 'browser-like header set', {
    request: get(API, '/v1/page', [['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'], ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'], ['accept-language', 'en-US,en;q=0.9,de;q=0.8'], ['sec-fetch-mode', 'navigate'], ['sec-fetch-site', 'none'], ['sec-ch-ua', '"Chromium";v="126", "Not.A/Brand";v="24"'], ['upgrade-insecure-requests', '1']]),
  }),
  enc('ok-enc-cookie-08', 'header', 'session and analytics cookies', { request: get(API, '/v1/me', [['cookie', `sid=${uuid(r('sid'))}; _ga=GA1.1.${r('ga').chars(DIGITS, 10)}.${r('ga2').chars(DIGITS, 10)}; theme=dark; lang=en`]]) }),
  enc('ok-enc-form-09', 'body', 'ordinary form post', { request: post(API, '/v1/feedback', 'name=Widget+Team&rating=5&comment=Works+great%2C+thanks%21', 'application/x-www-form-urlencoded') }),
  enc('ok-enc-patch-10', 'body', 'JSON PATCH', { request: post(API, '/v1/items/42', json([{ op: 'replace', path: '/name', value: 'new name' }]), 'application/json-patch+json', [], 'PATCH') }),
  enc('ok-enc-delete-11', 'path', 'DELETE without a body', { request: { method: 'DELETE', url: `https://${API}/v1/items/${uuid(r('del'))}` } }),
  enc('ok-enc-head-12', 'path', 'HEAD request', { request: { method: 'HEAD', url: `https://${API}/v1/files/report.pdf` } }),
  enc('ok-enc-options-13', 'header', 'CORS preflight', { request: { method: 'OPTIONS', url: `https://${API}/v1/items`, headers: [['origin', 'https://app.example.test'], ['access-control-request-method', 'POST'], ['access-control-request-headers', 'content-type']] } }),
  enc('ok-enc-chunked-14', 'body', 'chunked upload of NDJSON', { request: { method: 'POST', url: `https://${API}/v1/logs`, headers: [['content-type', 'application/x-ndjson']], body: Array.from({ length: 40 }, (_, i) => json({ level: 'info', msg: `step ${i} done`, ms: i * 12 })).join('\n'), chunked: { size: 300 } } }),
  enc('ok-enc-utf8-15', 'body', 'UTF-8 text with non-ASCII', { request: post(API, '/v1/notes', 'Grüße aus Köln — 東京 — Ελληνικά — emoji 🚀\n', 'text/plain; charset=utf-8') }),
];

// ---------- WebSocket ----------

const wsb = benigns('benign-ws');
const WS_URL = `https://${WS}/socket`;
const WSS: CorpusCase[] = [
  wsb('ok-ws-chat-01', 'ws-frame', 'JSON chat messages', { ws: { url: WS_URL, frames: [1, 2, 3].map((i) => ({ opcode: 1, payload: json({ type: 'message', id: uuid(r(`ws${i}`)), text: `hello ${i}` }) })) } }),
  wsb('ok-ws-ping-02', 'ws-frame', 'ping with a timestamp, then text', { ws: { url: WS_URL, frames: [{ opcode: 9, payload: '1717171717171' }, { opcode: 1, payload: json({ type: 'heartbeat' }) }] } }),
  wsb('ok-ws-binary-03', 'ws-frame', 'binary protobuf frame', { ws: { url: WS_URL, frames: [{ opcode: 2, payload: { base64: r('wsbin').bytes(256).toString('base64') } }] } }),
  wsb('ok-ws-fragmented-04', 'ws-frame', 'one text message in three fragments', { ws: { url: WS_URL, frames: [{ opcode: 1, payload: '{"type":"diff","pat', fin: false }, { opcode: 0, payload: 'ch":"@@ -1 +1 @@\\n-a\\n+b', fin: false }, { opcode: 0, payload: '"}', fin: true }] } }),
];

// ---------- wildcard-route names and the path-restricted route ----------

const hosts = benigns('benign-host');
const HOSTS: CorpusCase[] = [
  hosts('ok-host-cdn-01', 'host', 'cdn.<wildcard>', { request: get(`cdn.${WILD}`, '/assets/app.css') }),
  hosts('ok-host-region-02', 'host', 'region name label', { request: get(`eu-west-1.${WILD}`, '/v1/health') }),
  hosts('ok-host-cloudfront-03', 'host', 'CloudFront-style distribution id label', { request: get(`d3k81ch9hvuctc.${WILD}`, '/img/logo.svg') }),
  hosts('ok-host-bucket-04', 'host', 'bucket-style label', { request: get(`my-app-assets-prod.${WILD}`, '/index.html') }),
  hosts('ok-host-apigw-05', 'host', 'API-gateway-style id label', { request: get(`k3x9q2m7vd.execute-api.${WILD}`, '/prod/items') }),
  hosts('ok-host-nested-06', 'host', 'two ordinary labels', { request: get(`v2.api.${WILD}`, '/status') }),
  hosts('ok-paths-allowed-07', 'path', 'allowed prefix on the path-restricted route', { request: get(PATHS, '/v1/allowed/items/42') }),
  hosts('ok-paths-query-08', 'query', 'allowed prefix with an encoded query', { request: get(PATHS, '/v1/allowed/search?q=a%20b&page=2') }),
];

export const BENIGN: readonly CorpusCase[] = [...REGISTRY, ...LLM, ...BINARY, ...IDS, ...CODE, ...GITS, ...RESPONSES, ...ENCODINGS, ...WSS, ...HOSTS];

