import { Buffer } from 'node:buffer';
import { ASSIGNMENT_ANCHORS, matchAssignment, matchUrlCredentials } from './assignments.js';
import { IBAN_COUNTRIES, isExtendedPrivateKey, matchIban } from './validators.js';

/**
 * The `token_patterns` rule table (docs/security-model.md §2.4, docs/security-model.md §2.5,
 * docs/decisions/dlp-token-rules.md, docs/decisions/dlp-v2-views-and-validators.md). Rule ids are
 * API: they appear in denials, logs, audit records and git-gate reports.
 *
 * Each rule has literal `anchors` (every match contains one at a fixed place) that go into the
 * scanner's one-pass automaton; only an anchor hit runs the rule's regex, so the cost of the table
 * does not grow with the text. `verify` is a sticky regex run at the anchor's start, unless the rule
 * says `lookbehind`: then the anchor sits inside the match and the regex runs over a small window.
 * Rules without anchors (`trigger`) are run by the scanner on the character runs its loop already
 * delimits (docs/decisions/dlp-v2-views-and-validators.md).
 */
export interface TokenRule {
  readonly id: string;
  readonly description: string;
  readonly anchors: readonly string[];
  /** Sticky (`y`) regex run at the anchor start (absent when `match` decides). */
  readonly verify?: RegExp;
  /**
   * Custom matcher run at an anchor hit [start, end) instead of `verify` (keyword assignments,
   * validated detectors): returns the value span or null. Bounded work per call.
   */
  readonly match?: (text: string, start: number, end: number) => { readonly start: number; readonly end: number } | null;
  /**
   * For rules whose anchor is not the match start: the window [hit-lookbehind, hit+lookahead) is
   * searched with `verify` (non-sticky copy) and a match must contain the anchor hit.
   */
  readonly window?: { readonly lookbehind: number; readonly lookahead: number };
  /** Only this tail of the match is the secret (offsets, mask, fingerprint, redaction). */
  readonly valueLength?: number;
  /** Value-shape predicate on the matched value (a match failing it is no finding). */
  readonly check?: (value: string) => boolean;
  /** `true` for the extra rules of docs/decisions/dlp-token-rules.md. */
  readonly extra?: boolean;
  /**
   * Generic rule (keyword assignment): its finding is dropped when a specific rule or a known
   * secret reports the same value (same surface and overlapping offsets, or same fingerprint).
   */
  readonly generic?: boolean;
  /** Checksum-validated detector: never fires on a value failing its checksum. */
  readonly validated?: boolean;
  /**
   * Rules the scanner runs without anchors: `digits` on runs of digits/separators (card numbers),
   * `run` on token-character runs (WIF, hex keys), `compressed` when an embedded compressed stream
   * cannot be inspected within the decode budget, `header` on raw request-header surfaces.
   */
  readonly trigger?: 'digits' | 'run' | 'compressed' | 'header';
  /**
   * After a failed attempt, later anchors inside the same `[A-Za-z0-9_-]` run are skipped: they
   * end their first segment at the same place and fail the same way. Keeps "eyJ-eyJ-eyJ…" linear.
   */
  readonly skipRunOnFail?: boolean;
  /**
   * Extend a match to a closing line found within `within` characters (found with indexOf, memoised
   * per surface: linear even for thousands of unclosed headers).
   */
  readonly extendTo?: { readonly marker: string; readonly line: RegExp; readonly within: number };
}

const re = (source: string, flags = ''): RegExp => new RegExp(source, `y${flags}`);

/** At least two of lower/upper/digit: the random part of a real key (rejects words and kebab-case names). */
const mixed = (v: string): boolean => (/[0-9]/.test(v) ? 1 : 0) + (/[a-z]/.test(v) ? 1 : 0) + (/[A-Z]/.test(v) ? 1 : 0) >= 2;

/** The first segment of a compact JWE decodes to a JSON object with string `alg` and `enc`. */
function isJweHeader(v: string): boolean {
  const dot = v.indexOf('.');
  if (dot < 0 || dot > 2048) return false;
  try {
    const h: unknown = JSON.parse(Buffer.from(v.slice(0, dot), 'base64url').toString('utf8'));
    if (typeof h !== 'object' || h === null) return false;
    const { alg, enc } = h as { alg?: unknown; enc?: unknown };
    return typeof alg === 'string' && typeof enc === 'string';
  } catch {
    return false;
  }
}

/** Prefix rule (real-world lengths, docs/decisions/dlp-v2-views-and-validators.md). */
const prefixed = (id: string, description: string, anchors: readonly string[], source: string, extra: Partial<TokenRule> = {}): TokenRule => ({
  id,
  description,
  anchors,
  verify: re(source),
  ...extra,
});

export const TOKEN_RULES: readonly TokenRule[] = [
  {
    id: 'aws_access_key_id',
    description: 'AWS access key id',
    anchors: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    verify: re(String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`),
  },
  {
    // Classic tokens are 36 characters after the prefix; v2 accepts 30+ (lengths "just outside").
    id: 'github_token',
    description: 'GitHub OAuth/app/user/refresh token',
    anchors: ['gho_', 'ghp_', 'ghs_', 'ghu_', 'ghr_'],
    verify: re(String.raw`\bgh[opsur]_[A-Za-z0-9]{30,251}\b`),
  },
  {
    id: 'github_pat',
    description: 'GitHub fine-grained personal access token',
    anchors: ['github_pat_'],
    verify: re(String.raw`\bgithub_pat_[A-Za-z0-9_]{50,255}\b`),
  },
  {
    id: 'anthropic_key',
    description: 'Anthropic API key',
    anchors: ['sk-ant-'],
    verify: re(String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`),
  },
  {
    // Project/service/admin keys, the `sk-test-`/`sk-live-` style, and legacy `sk-` + 32+ alphanumerics
    // (48 in practice) that mix letters and digits.
    id: 'openai_key',
    description: 'OpenAI API key (and sk- style keys)',
    anchors: ['sk-'],
    verify: re(String.raw`\bsk-(?:proj-|svcacct-|admin-|test-|live-)[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{32,}\b`),
    check: (v) => /^sk-(?:proj|svcacct|admin|test|live)-/.test(v) || mixed(v.slice(3)),
  },
  {
    id: 'stripe_live_key',
    description: 'Stripe live secret or restricted key',
    anchors: ['sk_live_', 'rk_live_'],
    verify: re(String.raw`\b(?:sk|rk)_live_[A-Za-z0-9_]{16,}`),
  },
  {
    id: 'slack_token',
    description: 'Slack token (bot, user, app, refresh)',
    anchors: ['xox', 'xapp-'],
    verify: re(String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxoxe\.xox[bp]-[A-Za-z0-9-]{10,}|\bxapp-\d-[A-Za-z0-9-]{20,}`),
  },
  {
    // 35 characters after AIza in practice; v2 accepts 30+.
    id: 'google_api_key',
    description: 'Google API key',
    anchors: ['AIza'],
    verify: re(String.raw`\bAIza[0-9A-Za-z_-]{30,}`),
  },
  {
    // Matching starts at the BEGIN line; the match extends to the END line when present so a
    // redaction removes the key material, not only its header (bounded: 16 KiB covers RSA-8192).
    id: 'private_key_pem',
    description: 'PEM private key',
    anchors: ['-----BEGIN '],
    verify: re(String.raw`-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----`),
    extendTo: { marker: '-----END ', line: re(String.raw`-----END (?:[A-Z0-9]+ )?PRIVATE KEY(?: BLOCK)?-----`), within: 16384 },
  },
  {
    // v2: signatures of any base64url length >= 4.
    id: 'jwt',
    description: 'JSON Web Token',
    anchors: ['eyJ'],
    verify: re(String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}`),
    skipRunOnFail: true,
  },
  {
    // JWE compact serialization: five base64url segments (the encrypted-key one is empty for
    // `dir`), the protected header a JSON object naming its content encryption (`enc`).
    id: 'jwe',
    description: 'JSON Web Encryption token (compact, five segments)',
    anchors: ['eyJ'],
    verify: re(String.raw`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{1,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_.-])`),
    check: isJweHeader,
    skipRunOnFail: true,
  },
  // The extra rules (docs/decisions/dlp-token-rules.md).
  {
    // Keyword then exactly 40 base64 characters; the keyword must name AWS or "access key" so a
    // generic `secret_key = …` (Django, etc.) is not taken for one. Anchors are the keyword's
    // "ecret" in the three usual casings (secret, Secret, SECRET).
    id: 'aws_secret_access_key',
    description: 'AWS secret access key (after its keyword)',
    anchors: ['ecret', 'ECRET'],
    verify: new RegExp(
      String.raw`(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?[ \t]{0,8}(?::|=>|=)[ \t]{0,8}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
      'gi',
    ),
    window: { lookbehind: 6, lookahead: 96 },
    valueLength: 40,
    extra: true,
  },
  prefixed('npm_token', 'npm access token', ['npm_'], String.raw`\bnpm_[A-Za-z0-9]{32,40}\b`, { extra: true, check: (v) => mixed(v.slice(4)) }),
  prefixed('gitlab_pat', 'GitLab personal access token', ['glpat-'], String.raw`\bglpat-[A-Za-z0-9_-]{20,}`, { extra: true }),
  prefixed('huggingface_token', 'Hugging Face access token', ['hf_'], String.raw`\bhf_[A-Za-z0-9]{30,40}\b`, { extra: true, check: (v) => mixed(v.slice(3)) }),
  // More providers (docs/decisions/dlp-v2-views-and-validators.md): real-world formats, prefixes specific enough to need no context.
  prefixed('sendgrid_api_key', 'SendGrid API key', ['SG.'], String.raw`\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}`),
  prefixed('stripe_test_key', 'Stripe test-mode secret or restricted key', ['sk_test_', 'rk_test_'], String.raw`\b(?:sk|rk)_test_[A-Za-z0-9_]{16,}`),
  prefixed('stripe_webhook_secret', 'Stripe webhook signing secret', ['whsec_'], String.raw`\bwhsec_[A-Za-z0-9+/=]{24,}`),
  prefixed('slack_webhook', 'Slack incoming webhook URL', ['hooks.slack.com/'], String.raw`hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}`),
  prefixed('twilio_api_key', 'Twilio API key SID', ['SK'], String.raw`\bSK[0-9a-fA-F]{32}\b`, { check: (v) => mixed(v.slice(2)) }),
  prefixed('mailgun_api_key', 'Mailgun private API key', ['key-'], String.raw`\bkey-[0-9a-f]{32}\b`, { check: (v) => mixed(v.slice(4)) }),
  prefixed('pypi_token', 'PyPI upload token', ['pypi-AgE'], String.raw`\bpypi-AgE[A-Za-z0-9_-]{50,}`),
  prefixed(
    'gitlab_token',
    'GitLab deploy/runner/CI/feed/OAuth token',
    ['gldt-', 'glrt-', 'glcbt-', 'glptt-', 'glft-', 'glsoat-', 'glimt-', 'glagent-', 'gloas-', 'GR1348941'],
    String.raw`\bgl(?:dt|rt|cbt|ptt|ft|soat|imt|agent|oas)-[A-Za-z0-9_-]{20,}|\bGR1348941[A-Za-z0-9_-]{20,}`,
  ),
  {
    id: 'azure_storage_key',
    description: 'Azure storage account key in a connection string',
    anchors: ['AccountKey='],
    verify: re(String.raw`AccountKey=[A-Za-z0-9+/]{86}==`),
    valueLength: 88,
  },
  prefixed('google_oauth_secret', 'Google OAuth client secret', ['GOCSPX-'], String.raw`\bGOCSPX-[A-Za-z0-9_-]{24,}`),
  prefixed('databricks_token', 'Databricks access token', ['dapi'], String.raw`\bdapi[0-9a-f]{32}(?:-\d)?\b`, { check: (v) => mixed(v.slice(4)) }),
  prefixed('digitalocean_token', 'DigitalOcean token', ['dop_v1_', 'doo_v1_', 'dor_v1_'], String.raw`\bdo[opr]_v1_[a-f0-9]{64}\b`),
  prefixed('shopify_token', 'Shopify access token', ['shpat_', 'shpca_', 'shppa_', 'shpss_'], String.raw`\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b`),
  prefixed('vault_token', 'HashiCorp Vault token', ['hvs.', 'hvb.', 'hvr.'], String.raw`\bhv[sbr]\.[A-Za-z0-9_-]{24,}`, { check: (v) => mixed(v.slice(4)) }),
  prefixed('grafana_token', 'Grafana service account / cloud token', ['glsa_', 'glc_'], String.raw`\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|\bglc_[A-Za-z0-9+/]{32,}={0,2}`),
  prefixed('postman_api_key', 'Postman API key', ['PMAK-'], String.raw`\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`),
  prefixed('age_secret_key', 'age encryption secret key', ['AGE-SECRET-KEY-1'], String.raw`AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}`),
  prefixed('doppler_token', 'Doppler token', ['dp.'], String.raw`\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}`),
  prefixed('sentry_token', 'Sentry auth token', ['sntrys_', 'sntryu_'], String.raw`\bsntry[su]_[A-Za-z0-9+/=_]{40,}`),
  prefixed('linear_api_key', 'Linear API key', ['lin_api_'], String.raw`\blin_api_[A-Za-z0-9]{40}\b`),
  prefixed('groq_api_key', 'Groq API key', ['gsk_'], String.raw`\bgsk_[A-Za-z0-9]{40,}\b`, { check: (v) => mixed(v.slice(4)) }),
  prefixed('xai_api_key', 'xAI API key', ['xai-'], String.raw`\bxai-[A-Za-z0-9]{60,}\b`, { check: (v) => mixed(v.slice(4)) }),
  prefixed('perplexity_api_key', 'Perplexity API key', ['pplx-'], String.raw`\bpplx-[A-Za-z0-9]{40,}\b`, { check: (v) => mixed(v.slice(5)) }),
  prefixed('openrouter_key', 'OpenRouter API key', ['sk-or-v1-'], String.raw`\bsk-or-v1-[a-f0-9]{64}\b`),
  prefixed('docker_pat', 'Docker Hub personal access token', ['dckr_pat_'], String.raw`\bdckr_pat_[A-Za-z0-9_-]{24,}`),
  prefixed('square_token', 'Square access token or OAuth secret', ['sq0atp-', 'sq0csp-'], String.raw`\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,}`),
  prefixed('heroku_api_key', 'Heroku API key', ['HRKU-'], String.raw`\bHRKU-[A-Za-z0-9_-]{30,}`),
  prefixed('newrelic_key', 'New Relic user API key', ['NRAK-'], String.raw`\bNRAK-[A-Z0-9]{27}\b`),
  prefixed('atlassian_api_token', 'Atlassian API token', ['ATATT3'], String.raw`\bATATT3[A-Za-z0-9_=-]{100,}`),
  prefixed('replicate_api_token', 'Replicate API token', ['r8_'], String.raw`\br8_[A-Za-z0-9]{37}\b`, { check: (v) => mixed(v.slice(3)) }),
  {
    id: 'telegram_bot_token',
    description: 'Telegram bot token',
    anchors: [':AA'],
    verify: new RegExp(String.raw`(?<![0-9])[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])`, 'g'),
    window: { lookbehind: 11, lookahead: 40 },
  },
  // Keyword-anchored assignments and URL credentials, generic: a specific rule wins.
  {
    id: 'credential_assignment',
    description: 'password/secret/token/api_key/private_key assigned a secret-shaped value (YAML, JSON, .env, INI, TOML, shell, query)',
    anchors: ASSIGNMENT_ANCHORS,
    match: matchAssignment,
    generic: true,
  },
  {
    id: 'url_credentials',
    description: 'password in a URL (scheme://user:password@host)',
    anchors: ['://'],
    match: matchUrlCredentials,
    generic: true,
  },
  {
    // Run by the scanner on raw `header:<name>` surfaces (no anchor): see matchCredentialHeader.
    id: 'credential_header',
    description: 'random-looking value in a credential-carrying request header (x-api-key, x-auth-token, authorization with no registered scheme…)',
    anchors: [],
    trigger: 'header',
    generic: true,
  },
  // Validated detectors: checksums decide.
  {
    id: 'card_number',
    description: 'payment card number (issuer prefix and length, Luhn)',
    anchors: [],
    trigger: 'digits',
    validated: true,
  },
  {
    id: 'iban',
    description: 'IBAN (country length, mod-97)',
    anchors: IBAN_COUNTRIES,
    match: (text, start) => matchIban(text, start),
    validated: true,
  },
  {
    // WIF and 64-hex keys come from the scanner's character runs (trigger); BIP32 extended private
    // keys from their prefix anchors.
    id: 'crypto_private_key',
    description: 'cryptocurrency private key (WIF / BIP32 xprv base58check, 64-hex with key context)',
    anchors: ['xprv', 'tprv', 'yprv', 'zprv', 'uprv', 'vprv'],
    verify: re(String.raw`[xtyzuv]prv[1-9A-HJ-NP-Za-km-z]{100,112}(?![1-9A-HJ-NP-Za-km-z])`),
    check: isExtendedPrivateKey,
    trigger: 'run',
    validated: true,
  },
  {
    id: 'unscannable_compressed',
    description: 'compressed data in the request that decompresses beyond the decode budget (cannot be inspected)',
    anchors: [],
    trigger: 'compressed',
  },
];

/** Position of each rule in TOKEN_RULES (per-surface state is indexed by it). */
export const TOKEN_RULE_INDEX: ReadonlyMap<TokenRule, number> = new Map(TOKEN_RULES.map((r, i) => [r, i]));

export const TOKEN_RULE_IDS: readonly string[] = TOKEN_RULES.map((r) => r.id);
