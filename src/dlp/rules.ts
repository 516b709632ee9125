/**
 * The `token_patterns` rule table (docs/security-model.md §2.4, docs/security-model.md §2.5). Rule
 * ids are API: they appear in denials, logs, audit records and git-gate reports.
 *
 * Each rule has literal `anchors` (every match contains one at a fixed place) that go into the
 * scanner's one-pass automaton; only an anchor hit runs the rule's regex, so the cost of the table
 * does not grow with the text. `verify` is a sticky regex run at the anchor's start, unless the rule
 * says `lookbehind`: then the anchor sits inside the match and the regex runs over a small window.
 */
export interface TokenRule {
  readonly id: string;
  readonly description: string;
  readonly anchors: readonly string[];
  /** Sticky (`y`) regex run at the anchor start. */
  readonly verify: RegExp;
  /**
   * For rules whose anchor is not the match start: the window [hit-lookbehind, hit+lookahead) is
   * searched with `verify` (non-sticky copy) and a match must contain the anchor hit.
   */
  readonly window?: { readonly lookbehind: number; readonly lookahead: number };
  /** Only this tail of the match is the secret (offsets, mask, fingerprint, redaction). */
  readonly valueLength?: number;
  /** `true` for the SHOULD rules beyond the required table. */
  readonly extra?: boolean;
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

export const TOKEN_RULES: readonly TokenRule[] = [
  {
    id: 'aws_access_key_id',
    description: 'AWS access key id',
    anchors: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    verify: re(String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`),
  },
  {
    id: 'github_token',
    description: 'GitHub OAuth/app/user/refresh token',
    anchors: ['gho_', 'ghp_', 'ghs_', 'ghu_', 'ghr_'],
    verify: re(String.raw`\bgh[opsur]_[A-Za-z0-9]{36,251}\b`),
  },
  {
    id: 'github_pat',
    description: 'GitHub fine-grained personal access token',
    anchors: ['github_pat_'],
    verify: re(String.raw`\bgithub_pat_[A-Za-z0-9_]{60,255}\b`),
  },
  {
    id: 'anthropic_key',
    description: 'Anthropic API key',
    anchors: ['sk-ant-'],
    verify: re(String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`),
  },
  {
    id: 'openai_key',
    description: 'OpenAI API key',
    anchors: ['sk-'],
    verify: re(String.raw`\bsk-(?:proj-|svcacct-|admin-)[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{40,}`),
  },
  {
    id: 'stripe_live_key',
    description: 'Stripe live secret or restricted key',
    anchors: ['sk_live_', 'rk_live_'],
    verify: re(String.raw`\b(?:sk|rk)_live_[A-Za-z0-9]{20,}`),
  },
  {
    id: 'slack_token',
    description: 'Slack token',
    anchors: ['xox'],
    verify: re(String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`),
  },
  {
    id: 'google_api_key',
    description: 'Google API key',
    anchors: ['AIza'],
    verify: re(String.raw`\bAIza[0-9A-Za-z_-]{35}`),
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
    id: 'jwt',
    description: 'JSON Web Token',
    anchors: ['eyJ'],
    verify: re(String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
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
  {
    id: 'npm_token',
    description: 'npm access token',
    anchors: ['npm_'],
    verify: re(String.raw`\bnpm_[A-Za-z0-9]{36}\b`),
    extra: true,
  },
  {
    id: 'gitlab_pat',
    description: 'GitLab personal access token',
    anchors: ['glpat-'],
    verify: re(String.raw`\bglpat-[A-Za-z0-9_-]{20,}`),
    extra: true,
  },
  {
    id: 'huggingface_token',
    description: 'Hugging Face access token',
    anchors: ['hf_'],
    verify: re(String.raw`\bhf_[A-Za-z0-9]{34}\b`),
    extra: true,
  },
];

/** Position of each rule in TOKEN_RULES (per-surface state is indexed by it). */
export const TOKEN_RULE_INDEX: ReadonlyMap<TokenRule, number> = new Map(TOKEN_RULES.map((r, i) => [r, i]));

export const TOKEN_RULE_IDS: readonly string[] = TOKEN_RULES.map((r) => r.id);
