/**
 * Unknown-but-real-shaped secrets (the proxy has never been told their values): raw, encoded once
 * or in layers, wrapped, with delimiters, at lengths just outside narrow rules, from providers
 * without a rule, keyword assignments, card numbers, IBANs and crypto private keys — across path,
 * query, headers and body. Every value is FAKE, generated from a seed (gen.ts).
 */
import { API } from './hosts.js';
import { attacks, get, json, post } from './build.js';
import {
  B62, B64URL, DIGITS, HEX,
  b64, b64url, base32, fake, fullwidth, gzip, hex, hexDelim, jsonUnicode, pctAll, pctNested, pieces, rng, shellHexEscapes, utf16le, wrap,
} from './gen.js';
import type { CorpusCase } from './types.js';

const r = (id: string) => rng(`attack:${id}`);

// ---------- raw tokens (rules exist today: the baseline) ----------

const raw = attacks('token-raw');
const RAW: CorpusCase[] = [
  raw('dlp-raw-aws-01', 'body', 'AWS access key id in a JSON body', { request: post(API, '/v1/upload', json({ key: fake.awsKeyId(r('dlp-raw-aws-01')), region: 'us-east-1' }), 'application/json') }),
  raw('dlp-raw-ghp-02', 'query', 'GitHub classic token in the query', { request: get(API, `/v1/search?q=widgets&token=${fake.github(r('dlp-raw-ghp-02'))}`) }),
  raw('dlp-raw-ghpat-03', 'header', 'GitHub fine-grained PAT in a custom header', { request: get(API, '/v1/status', [['x-debug', fake.githubPat(r('dlp-raw-ghpat-03'))]]) }),
  raw('dlp-raw-anthropic-04', 'body', 'Anthropic key in a text body', { request: post(API, '/v1/notes', `key: ${fake.anthropic(r('dlp-raw-anthropic-04'))}\n`, 'text/plain') }),
  raw('dlp-raw-openai-05', 'body', 'OpenAI project key in a JSON body', { request: post(API, '/v1/cfg', json({ openai: fake.openaiProj(r('dlp-raw-openai-05')) }), 'application/json') }),
  raw('dlp-raw-stripe-06', 'body', 'Stripe live key in a form body', { request: post(API, '/v1/form', `name=shop&stripe=${fake.stripe(r('dlp-raw-stripe-06'))}`, 'application/x-www-form-urlencoded') }),
  raw('dlp-raw-slack-07', 'path', 'Slack bot token as a path segment', { request: get(API, `/v1/hooks/${fake.slackBot(r('dlp-raw-slack-07'))}/ping`) }),
  raw('dlp-raw-google-08', 'query', 'Google API key in the query', { request: get(API, `/v1/maps?key=${fake.google(r('dlp-raw-google-08'))}&q=berlin`) }),
  raw('dlp-raw-rsa-09', 'body', 'RSA private key (PEM) inside JSON', { request: post(API, '/v1/keys', json({ name: 'deploy', pem: fake.rsaPem(r('dlp-raw-rsa-09')) }), 'application/json') }),
  raw('dlp-raw-openssh-10', 'body', 'OpenSSH private key in a text body (cat ~/.ssh/id_ed25519)', { request: post(API, '/v1/paste', fake.opensshPem(r('dlp-raw-openssh-10')), 'text/plain') }),
  raw('dlp-raw-jwt-11', 'header', 'JWT in a Cookie header', { request: get(API, '/v1/me', [['cookie', `theme=dark; session=${fake.jwt(r('dlp-raw-jwt-11'))}`]]) }),
  raw('dlp-raw-npm-12', 'body', '.npmrc with an npm token', { request: post(API, '/v1/files/.npmrc', `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${fake.npm(r('dlp-raw-npm-12'))}\n`, 'text/plain') }),
  raw('dlp-raw-gitlab-13', 'header', 'GitLab PAT in a header', { request: get(API, '/v1/x', [['x-gitlab', fake.gitlab(r('dlp-raw-gitlab-13'))]]) }),
  raw('dlp-raw-hf-14', 'query', 'Hugging Face token in the query', { request: get(API, `/v1/models?hf=${fake.huggingface(r('dlp-raw-hf-14'))}`) }),
  raw('dlp-raw-awssecret-15', 'body', '~/.aws/credentials file (key id + secret key)', {
    request: post(API, '/v1/files/credentials', `[default]\naws_access_key_id = ${fake.awsKeyId(r('dlp-raw-awssecret-15'))}\naws_secret_access_key = ${fake.awsSecret(r('dlp-raw-awssecret-15'))}\n`, 'text/plain'),
  }),
  raw('dlp-raw-gho-16', 'path', 'GitHub OAuth token as a path segment', { request: get(API, `/v1/t/${fake.github(r('dlp-raw-gho-16'), 'gho_')}`) }),
];

// ---------- base64 once ----------

const b1 = attacks('token-b64');
const B64: CorpusCase[] = [
  b1('dlp-b64-ghp-01', 'body', 'base64 of a GitHub token in JSON', { request: post(API, '/v1/blob', json({ data: b64(fake.github(r('dlp-b64-ghp-01'))) }), 'application/json') }),
  b1('dlp-b64-anthropic-02', 'query', 'base64url of an Anthropic key in the query', { request: get(API, `/v1/q?d=${b64url(fake.anthropic(r('dlp-b64-anthropic-02')))}`) }),
  b1('dlp-b64-awscreds-03', 'body', 'base64 of an AWS credentials file (base64 ~/.aws/credentials)', {
    request: post(API, '/v1/blob', json({ file: b64(`[default]\naws_access_key_id = ${fake.awsKeyId(r('dlp-b64-awscreds-03'))}\naws_secret_access_key = ${fake.awsSecret(r('dlp-b64-awscreds-03'))}\n`) }), 'application/json'),
  }),
  b1('dlp-b64-env-wrapped-04', 'body', 'base64 -w76 of a .env with a Stripe key (MIME-wrapped)', {
    request: post(API, '/v1/paste', wrap(b64(`NODE_ENV=production\nSTRIPE_KEY=${fake.stripe(r('dlp-b64-env-wrapped-04'))}\nPORT=8080\n`), 76), 'text/plain'),
  }),
  b1('dlp-b64-slack-05', 'header', 'base64 of a Slack token in a header', { request: get(API, '/v1/x', [['x-data', b64(fake.slackBot(r('dlp-b64-slack-05')))]]) }),
  b1('dlp-b64-openai-06', 'path', 'base64url of an OpenAI key as a path segment', { request: get(API, `/v1/obj/${b64url(fake.openaiLegacy(r('dlp-b64-openai-06')))}`) }),
  b1('dlp-b64-align1-07', 'body', 'base64 of 1 filler byte + a GitHub token (shifted alignment)', { request: post(API, '/v1/blob', `payload=${b64(`#${fake.github(r('dlp-b64-align1-07'))}`)}`, 'text/plain') }),
  b1('dlp-b64-align2-08', 'query', 'base64 of 2 filler bytes + an npm token', { request: get(API, `/v1/q?v=${encodeURIComponent(b64(`t=${fake.npm(r('dlp-b64-align2-08'))}`))}`) }),
  b1('dlp-b64-k8s-09', 'body', 'Kubernetes Secret manifest: base64 PEM key under data:', {
    request: post(API, '/v1/manifests', `apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\ndata:\n  tls.key: ${b64(fake.rsaPem(r('dlp-b64-k8s-09'), 'PRIVATE KEY'))}\n`, 'application/yaml'),
  }),
  b1('dlp-b64-basic-10', 'header', 'git credential shape: base64("x-access-token:" + ghs_ token) in a header', { request: get(API, '/v1/x', [['x-forward-auth', `Basic ${b64(`x-access-token:${fake.github(r('dlp-b64-basic-10'), 'ghs_')}`)}`]]) }),
  b1('dlp-b64-multipart-11', 'body', 'multipart/form-data file part with Content-Transfer-Encoding: base64 of a .env', {
    request: post(
      API,
      '/v1/upload',
      `--XyZb0undary\r\nContent-Disposition: form-data; name="file"; filename=".env"\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap(b64(`GITLAB_TOKEN=${fake.gitlab(r('dlp-b64-multipart-11'))}\n`), 76, '\r\n')}\r\n--XyZb0undary--\r\n`,
      'multipart/form-data; boundary=XyZb0undary',
    ),
  }),
];

// ---------- layers ----------

const ly = attacks('token-b64-layered');
const LAYERED: CorpusCase[] = [
  ly('dlp-b64-layered-01', 'body', 'base64(base64(GitHub token))', { request: post(API, '/v1/blob', json({ d: b64(b64(fake.github(r('dlp-b64-layered-01')))) }), 'application/json') }),
  ly('dlp-b64-layered-02', 'query', 'base64(hex(AWS key id))', { request: get(API, `/v1/q?d=${encodeURIComponent(b64(hex(fake.awsKeyId(r('dlp-b64-layered-02')))))}`) }),
  ly('dlp-b64-layered-03', 'body', 'hex(base64(Anthropic key))', { request: post(API, '/v1/blob', `d=${hex(b64(fake.anthropic(r('dlp-b64-layered-03'))))}`, 'text/plain') }),
  ly('dlp-b64-layered-04', 'body', 'base64url(gzip(GitHub token)) — base64 of compressed data', { request: post(API, '/v1/blob', json({ z: b64url(gzip(`token=${fake.github(r('dlp-b64-layered-04'))}`)) }), 'application/json') }),
  ly('dlp-b64-layered-05', 'header', 'base64(base64(base64(Slack token)))', { request: get(API, '/v1/x', [['x-trace-data', b64(b64(b64(fake.slackBot(r('dlp-b64-layered-05')))))]]) }),
  ly('dlp-b64-layered-06', 'body', 'base64(UTF-16LE(GitHub token)) — the PowerShell -EncodedCommand form', { request: post(API, '/v1/run', `powershell -enc ${b64(utf16le(`$t='${fake.github(r('dlp-b64-layered-06'))}'`))}`, 'text/plain') }),
  ly('dlp-b64-layered-07', 'query', 'base32 of a GitHub token', { request: get(API, `/v1/q?b=${base32(Buffer.from(fake.github(r('dlp-b64-layered-07'))), false)}`) }),
  ly('dlp-b64-layered-08', 'body', 'percent-encoded base64 of a Stripe key in a form field', { request: post(API, '/v1/form', `v=${pctAll(b64(fake.stripe(r('dlp-b64-layered-08'))))}`, 'application/x-www-form-urlencoded') }),
];

// ---------- hex ----------

const hx = attacks('token-hex');
const HEXES: CorpusCase[] = [
  hx('dlp-hex-ghp-01', 'body', 'hex of a GitHub token', { request: post(API, '/v1/blob', `data=${hex(fake.github(r('dlp-hex-ghp-01')))}`, 'text/plain') }),
  hx('dlp-hex-aws-02', 'query', 'upper-case hex of an AWS key id', { request: get(API, `/v1/q?h=${hex(fake.awsKeyId(r('dlp-hex-aws-02'))).toUpperCase()}`) }),
  hx('dlp-hex-colon-03', 'body', 'hex with ":" delimiters of an Anthropic key', { request: post(API, '/v1/blob', hexDelim(fake.anthropic(r('dlp-hex-colon-03')), ':'), 'text/plain') }),
  hx('dlp-hex-space-04', 'body', 'hex with spaces (xxd/od style) of an OpenAI key', { request: post(API, '/v1/blob', json({ dump: hexDelim(fake.openaiProj(r('dlp-hex-space-04')), ' ') }), 'application/json') }),
  hx('dlp-hex-xesc-05', 'body', '\\x escapes (printf form) of an npm token', { request: post(API, '/v1/sh', `printf '${shellHexEscapes(fake.npm(r('dlp-hex-xesc-05')))}' > ~/.npmrc`, 'text/plain') }),
  hx('dlp-hex-carray-06', 'body', 'C array 0x.., of a Slack token', { request: post(API, '/v1/src', `static const unsigned char k[] = { ${hexDelim(fake.slackBot(r('dlp-hex-carray-06')), ', ', '0x')} };`, 'text/x-c') }),
  hx('dlp-hex-path-07', 'path', 'hex of a Stripe key as a path segment', { request: get(API, `/v1/obj/${hex(fake.stripe(r('dlp-hex-path-07')).slice(0, 60))}`) }),
];

// ---------- percent-encoding ----------

const pc = attacks('token-url');
const PCT: CorpusCase[] = [
  pc('dlp-url-all-01', 'query', 'every byte %XX of a GitHub token', { request: get(API, `/v1/q?t=${pctAll(fake.github(r('dlp-url-all-01')))}`) }),
  pc('dlp-url-double-02', 'query', 'double percent-encoding of an Anthropic key', { request: get(API, `/v1/q?t=${pctNested(fake.anthropic(r('dlp-url-double-02')), 2)}`) }),
  pc('dlp-url-triple-03', 'path', 'triple percent-encoding of an AWS key id in the path', { request: get(API, `/v1/obj/${pctNested(fake.awsKeyId(r('dlp-url-triple-03')), 3)}`) }),
  pc('dlp-url-form-04', 'body', 'double-encoded token in a form body', { request: post(API, '/v1/form', `a=1&t=${pctNested(fake.npm(r('dlp-url-form-04')), 2)}`, 'application/x-www-form-urlencoded') }),
  pc('dlp-url-header-05', 'header', 'percent-encoded Slack token in a header', { request: get(API, '/v1/x', [['x-ref', pctAll(fake.slackBot(r('dlp-url-header-05')), false)]]) }),
];

// ---------- wrapped / obfuscated in text ----------

const wr = attacks('token-wrapped');
const WRAPPED: CorpusCase[] = [
  wr('dlp-wrap-lines-01', 'body', 'GitHub token broken over lines every 10 characters', { request: post(API, '/v1/paste', wrap(fake.github(r('dlp-wrap-lines-01')), 10), 'text/plain') }),
  wr('dlp-wrap-concat-02', 'body', 'Stripe key as JS string concatenation in code sent as JSON', {
    request: post(API, '/v1/gist', json({ code: (() => { const t = fake.stripe(r('dlp-wrap-concat-02')); return `const k = "${t.slice(0, 12)}" + "${t.slice(12, 40)}" + "${t.slice(40)}";`; })() }), 'application/json'),
  }),
  wr('dlp-wrap-uescape-03', 'body', 'JSON \\u escapes of an Anthropic key in a text/plain body', { request: post(API, '/v1/paste', `{"k":"${jsonUnicode(fake.anthropic(r('dlp-wrap-uescape-03')))}"}`, 'text/plain') }),
  wr('dlp-wrap-fullwidth-04', 'body', 'fullwidth Unicode form of a GitHub token (NFKC folds it)', { request: post(API, '/v1/paste', `t=${fullwidth(fake.github(r('dlp-wrap-fullwidth-04')))}`, 'text/plain; charset=utf-8') }),
  wr('dlp-wrap-zwsp-05', 'body', 'zero-width spaces between the characters of an AWS key id', { request: post(API, '/v1/paste', [...fake.awsKeyId(r('dlp-wrap-zwsp-05'))].join('\u200b'), 'text/plain; charset=utf-8') }),
  wr('dlp-wrap-b64narrow-06', 'body', 'base64 of a token wrapped at 16 columns', { request: post(API, '/v1/paste', wrap(b64(`export OPENAI_API_KEY=${fake.openaiProj(r('dlp-wrap-b64narrow-06'))}`), 16), 'text/plain') }),
  wr('dlp-wrap-shellcont-07', 'body', 'npm token split by shell line continuations', {
    request: post(API, '/v1/sh', (() => { const t = fake.npm(r('dlp-wrap-shellcont-07')); return `echo ${t.slice(0, 14)}\\\n${t.slice(14, 28)}\\\n${t.slice(28)}`; })(), 'text/x-shellscript'),
  }),
];

// ---------- delimiters ----------

const dl = attacks('token-delim');
const DELIM: CorpusCase[] = [
  dl('dlp-delim-dash-01', 'body', 'GitHub token with "-" every 4 characters', { request: post(API, '/v1/paste', fake.github(r('dlp-delim-dash-01')).replace(/(.{4})/g, '$1-'), 'text/plain') }),
  dl('dlp-delim-space-02', 'query', 'AWS key id in groups of 4 separated by spaces', { request: get(API, `/v1/q?v=${encodeURIComponent(fake.awsKeyId(r('dlp-delim-space-02')).replace(/(.{4})(?!$)/g, '$1 '))}`) }),
  dl('dlp-delim-dots-03', 'header', 'Anthropic key with "." between every character', { request: get(API, '/v1/x', [['x-v', [...fake.anthropic(r('dlp-delim-dots-03'))].join('.')]]) }),
  dl('dlp-delim-chars-04', 'body', 'Stripe key as a JSON array of single characters', { request: post(API, '/v1/arr', json({ c: [...fake.stripe(r('dlp-delim-chars-04'))] }), 'application/json') }),
  dl('dlp-delim-chunks-05', 'body', 'GitHub token as a JSON array of 4-character chunks', { request: post(API, '/v1/arr', json({ parts: pieces(fake.github(r('dlp-delim-chunks-05')), 4) }), 'application/json') }),
];

// ---------- lengths just outside narrow rules ----------

const ln = attacks('token-length');
const jwtShortSig = (() => { const rr = r('dlp-len-jwtsig-03'); return fake.jwt(rr, 6); })();
const LENGTHS: CorpusCase[] = [
  ln('dlp-len-ghp34-01', 'body', 'GitHub classic token with 34 characters after ghp_', { request: post(API, '/v1/paste', `see ${fake.github(r('dlp-len-ghp34-01'), 'ghp_', 28)} above`, 'text/plain') }),
  ln('dlp-len-ghu35-02', 'query', 'GitHub user-to-server token with 35 characters after ghu_', { request: get(API, `/v1/q?v=${fake.github(r('dlp-len-ghu35-02'), 'ghu_', 29)}`) }),
  ln('dlp-len-jwtsig-03', 'header', 'JWT whose signature is 6 characters', { request: get(API, '/v1/x', [['x-v', jwtShortSig]]) }),
  ln('dlp-len-jwe-04', 'header', 'JWE compact session token (five segments, empty key part) in a cookie — outside the three-part JWT rule', {
    request: get(API, '/v1/me', [['cookie', `__Secure-next-auth.session-token=${Buffer.from('{"alg":"dir","enc":"A256GCM"}').toString('base64url')}..${r('dlp-len-jwe-04').chars(B64URL, 16)}.${r('jwe-ct').chars(B64URL, 220)}.${r('jwe-tag').chars(B64URL, 22)}`]]),
  }),
  ln('dlp-len-ghp38-05', 'path', 'GitHub classic token with 38 characters after ghp_ (newer length)', { request: get(API, `/v1/t/${fake.github(r('dlp-len-ghp38-05'), 'ghp_', 32)}`) }),
];

// ---------- providers without a rule ----------

const pv = attacks('token-provider');
const PROVIDERS: CorpusCase[] = [
  pv('dlp-prov-sendgrid-01', 'body', 'SendGrid API key in JSON', { request: post(API, '/v1/cfg', json({ v: fake.sendgrid(r('dlp-prov-sendgrid-01')) }), 'application/json') }),
  pv('dlp-prov-sendgrid-02', 'header', 'SendGrid API key in a header', { request: get(API, '/v1/x', [['x-v', fake.sendgrid(r('dlp-prov-sendgrid-02'))]]) }),
  pv('dlp-prov-stripetest-03', 'body', 'Stripe test secret key (sk_test_) in a form body', { request: post(API, '/v1/form', `v=${fake.stripe(r('dlp-prov-stripetest-03'), 'sk_test_')}`, 'application/x-www-form-urlencoded') }),
  pv('dlp-prov-sktest-04', 'query', 'sk-test- key in the query', { request: get(API, `/v1/q?v=sk-test-${r('dlp-prov-sktest-04').chars(B62, 48)}`) }),
  pv('dlp-prov-rktest-15', 'body', 'Stripe restricted test key (rk_test_) in JSON', { request: post(API, '/v1/cfg', json({ v: fake.stripe(r('dlp-prov-rktest-15'), 'rk_test_') }), 'application/json') }),
  pv('dlp-prov-whsec-05', 'body', 'Stripe webhook signing secret in a .env', { request: post(API, '/v1/paste', `v=${fake.stripeWebhook(r('dlp-prov-whsec-05'))}\n`, 'text/plain') }),
  pv('dlp-prov-slackhook-06', 'body', 'Slack incoming-webhook URL', { request: post(API, '/v1/cfg', json({ notify: fake.slackWebhook(r('dlp-prov-slackhook-06')) }), 'application/json') }),
  pv('dlp-prov-twilio-07', 'body', 'Twilio API key SID', { request: post(API, '/v1/paste', `v=${fake.twilioKey(r('dlp-prov-twilio-07'))}\n`, 'text/plain') }),
  pv('dlp-prov-mailgun-08', 'query', 'Mailgun API key in the query', { request: get(API, `/v1/q?v=${fake.mailgun(r('dlp-prov-mailgun-08'))}`) }),
  pv('dlp-prov-shopify-09', 'header', 'Shopify admin token in a header', { request: get(API, '/v1/x', [['x-v', fake.shopify(r('dlp-prov-shopify-09'))]]) }),
  pv('dlp-prov-do-10', 'body', 'DigitalOcean token in JSON', { request: post(API, '/v1/cfg', json({ v: fake.digitalocean(r('dlp-prov-do-10')) }), 'application/json') }),
  pv('dlp-prov-pypi-11', 'body', 'PyPI upload token', { request: post(API, '/v1/paste', `v=${fake.pypi(r('dlp-prov-pypi-11'))}\n`, 'text/plain') }),
  pv('dlp-prov-vault-12', 'header', 'HashiCorp Vault token in a header', { request: get(API, '/v1/x', [['x-v', fake.vault(r('dlp-prov-vault-12'))]]) }),
  pv('dlp-prov-postman-13', 'query', 'Postman API key in the query', { request: get(API, `/v1/q?v=${fake.postman(r('dlp-prov-postman-13'))}`) }),
  pv('dlp-prov-databricks-14', 'body', 'Databricks token in JSON', { request: post(API, '/v1/cfg', json({ host: 'dbc-1.cloud.databricks.com', v: fake.databricks(r('dlp-prov-databricks-14')) }), 'application/json') }),
];

// ---------- keyword-anchored assignments ----------

const kw = attacks('keyword-assignment');
const pw = (id: string, n = 20) => {
  const g = r(`pw:${id}`);
  return g.chars(B62, 1) + g.chars(B62 + '!#%*', n - 1);
};
const KEYWORDS: CorpusCase[] = [
  kw('dlp-kw-yaml-01', 'body', 'YAML password:', { request: post(API, '/v1/files/config.yml', `database:\n  host: db.internal\n  user: app\n  password: ${pw('dlp-kw-yaml-01')}\n`, 'application/yaml') }),
  kw('dlp-kw-json-02', 'body', 'JSON "api_key":', { request: post(API, '/v1/cfg', json({ service: 'geo', api_key: r('dlp-kw-json-02').chars(B62, 32) }), 'application/json') }),
  kw('dlp-kw-env-03', 'body', '.env DB_PASSWORD=', { request: post(API, '/v1/files/.env', `APP_ENV=prod\nDB_USER=app\nDB_PASSWORD=${pw('dlp-kw-env-03')}\n`, 'text/plain') }),
  kw('dlp-kw-ini-04', 'body', 'INI [database] password =', { request: post(API, '/v1/files/app.ini', `[database]\nhost = 10.0.0.5\npassword = ${pw('dlp-kw-ini-04')}\n`, 'text/plain') }),
  kw('dlp-kw-query-05', 'query', 'URL query api_key=', { request: get(API, `/v1/geo?api_key=${r('dlp-kw-query-05').chars(B62, 32)}&q=berlin`) }),
  kw('dlp-kw-form-06', 'body', 'form body client_secret=', { request: post(API, '/oauth/token', `grant_type=client_credentials&client_id=app-1&client_secret=${r('dlp-kw-form-06').chars(B62 + '-_', 40)}`, 'application/x-www-form-urlencoded') }),
  kw('dlp-kw-toml-07', 'body', 'TOML [registry] token =', { request: post(API, '/v1/files/credentials.toml', `[registry]\ntoken = "${r('dlp-kw-toml-07').chars(B62, 32)}"\n`, 'application/toml') }),
  kw('dlp-kw-jsonsecret-08', 'body', 'JSON "client_secret":', { request: post(API, '/v1/cfg', json({ installed: { client_id: '1234-abc.apps.example', client_secret: r('dlp-kw-jsonsecret-08').chars(B62 + '-_', 35) } }), 'application/json') }),
  kw('dlp-kw-header-09', 'header', 'x-api-key header with a random key', { request: get(API, '/v1/x', [['x-api-key', r('dlp-kw-header-09').chars(B62, 40)]]) }),
  kw('dlp-kw-dsn-10', 'body', 'database URL with a password in the userinfo', { request: post(API, '/v1/cfg', json({ DATABASE_URL: `postgres://app:${r('dlp-kw-dsn-10').chars(B62, 24)}@db.internal:5432/prod` }), 'application/json') }),
  kw('dlp-kw-yamlnested-11', 'body', 'YAML credentials: token:', { request: post(API, '/v1/files/ci.yml', `deploy:\n  credentials:\n    token: ${r('dlp-kw-yamlnested-11').chars(B62, 36)}\n`, 'application/yaml') }),
  kw('dlp-kw-envhex-12', 'body', '.env export GITHUB_TOKEN=<40 hex> (old-style token)', { request: post(API, '/v1/files/.env', `export GITHUB_TOKEN=${r('dlp-kw-envhex-12').chars(HEX, 40)}\n`, 'text/plain') }),
  kw('dlp-kw-properties-13', 'body', 'Java properties spring.datasource.password=', { request: post(API, '/v1/files/application.properties', `spring.datasource.url=jdbc:postgresql://db:5432/app\nspring.datasource.password=${pw('dlp-kw-properties-13')}\n`, 'text/plain') }),
  kw('dlp-kw-querypw-14', 'query', 'URL query password=', { request: get(API, `/v1/login?user=admin&password=${encodeURIComponent(pw('dlp-kw-querypw-14'))}`) }),
];

// ---------- card numbers (Luhn-valid) ----------

const cd = attacks('card-number');
const CARDS: CorpusCase[] = [
  cd('dlp-card-visa-01', 'body', 'Visa number in JSON', { request: post(API, '/v1/pay', json({ card: fake.card(r('dlp-card-visa-01'), '4', 16), exp: '12/29' }), 'application/json') }),
  cd('dlp-card-mc-02', 'body', 'Mastercard number with spaces in text', { request: post(API, '/v1/paste', `card: ${fake.card(r('dlp-card-mc-02'), '53', 16).replace(/(\d{4})(?!$)/g, '$1 ')}`, 'text/plain') }),
  cd('dlp-card-amex-03', 'query', 'Amex number with dashes in the query', { request: get(API, `/v1/q?cc=${fake.card(r('dlp-card-amex-03'), '37', 15).replace(/^(\d{4})(\d{6})(\d{5})$/, '$1-$2-$3')}`) }),
  cd('dlp-card-form-04', 'body', 'Visa number in a checkout form body', { request: post(API, '/v1/checkout', `cc_number=${fake.card(r('dlp-card-form-04'), '4', 16)}&cc_exp=11%2F28&cc_cvv=${r('dlp-card-form-04').chars(DIGITS, 3)}`, 'application/x-www-form-urlencoded') }),
  cd('dlp-card-mc2-05', 'header', 'Mastercard 2-series number in a header', { request: get(API, '/v1/x', [['x-card', fake.card(r('dlp-card-mc2-05'), '2221', 16)]]) }),
  cd('dlp-card-discover-06', 'path', 'Discover number as a path segment', { request: get(API, `/v1/cards/${fake.card(r('dlp-card-discover-06'), '6011', 16)}/verify`) }),
];

// ---------- IBANs (mod-97-valid) ----------

const ib = attacks('iban');
const IBANS: CorpusCase[] = [
  ib('dlp-iban-de-01', 'body', 'German IBAN in JSON', { request: post(API, '/v1/payout', json({ iban: fake.iban(r('dlp-iban-de-01'), 'DE', r('dlp-iban-de-01').chars(DIGITS, 18)), name: 'A. Person' }), 'application/json') }),
  ib('dlp-iban-gb-02', 'body', 'UK IBAN in print format (groups of 4)', {
    request: post(API, '/v1/paste', `Bank details: ${fake.iban(r('dlp-iban-gb-02'), 'GB', `NWBK${r('dlp-iban-gb-02').chars(DIGITS, 14)}`).replace(/(.{4})(?!$)/g, '$1 ')}`, 'text/plain'),
  }),
  ib('dlp-iban-fr-03', 'query', 'French IBAN in the query', { request: get(API, `/v1/q?iban=${fake.iban(r('dlp-iban-fr-03'), 'FR', r('dlp-iban-fr-03').chars(DIGITS, 23))}`) }),
  ib('dlp-iban-nl-04', 'body', 'Dutch IBAN in a form body', { request: post(API, '/v1/form', `account=${fake.iban(r('dlp-iban-nl-04'), 'NL', `ABNA${r('dlp-iban-nl-04').chars(DIGITS, 10)}`)}&bic=ABNANL2A`, 'application/x-www-form-urlencoded') }),
  ib('dlp-iban-es-05', 'header', 'Spanish IBAN in a header', { request: get(API, '/v1/x', [['x-account', fake.iban(r('dlp-iban-es-05'), 'ES', r('dlp-iban-es-05').chars(DIGITS, 20))]]) }),
];

// ---------- crypto private keys ----------

const cr = attacks('crypto-key');
const CRYPTO: CorpusCase[] = [
  cr('dlp-crypto-wif-01', 'body', 'Bitcoin WIF private key (compressed, K/L…)', { request: post(API, '/v1/paste', `importprivkey ${fake.wif(r('dlp-crypto-wif-01'))}`, 'text/plain') }),
  cr('dlp-crypto-wifu-02', 'body', 'Bitcoin WIF private key (uncompressed, 5…) in JSON', { request: post(API, '/v1/wallet', json({ wif: fake.wif(r('dlp-crypto-wifu-02'), false) }), 'application/json') }),
  cr('dlp-crypto-xprv-03', 'query', 'BIP32 extended private key (xprv) in the query', { request: get(API, `/v1/q?k=${fake.xprv(r('dlp-crypto-xprv-03'))}`) }),
  cr('dlp-crypto-ethenv-04', 'body', 'Ethereum private key in a Hardhat .env', { request: post(API, '/v1/files/.env', `RPC_URL=https://rpc.example\nPRIVATE_KEY=0x${fake.hex32(r('dlp-crypto-ethenv-04'))}\n`, 'text/plain') }),
  cr('dlp-crypto-ethjson-05', 'body', 'Ethereum wallet JSON with "privateKey"', { request: post(API, '/v1/wallet', json({ address: `0x${r('dlp-crypto-ethjson-05').chars(HEX, 40)}`, privateKey: `0x${fake.hex32(r('dlp-crypto-ethjson-05'))}` }), 'application/json') }),
  cr('dlp-crypto-wiftest-06', 'header', 'Bitcoin testnet WIF in a header', { request: get(API, '/v1/x', [['x-wallet', fake.wif(r('dlp-crypto-wiftest-06'), true, 0xef)]]) }),
];

export const TOKEN_ATTACKS: readonly CorpusCase[] = [...RAW, ...B64, ...LAYERED, ...HEXES, ...PCT, ...WRAPPED, ...DELIM, ...LENGTHS, ...PROVIDERS, ...KEYWORDS, ...CARDS, ...IBANS, ...CRYPTO];

