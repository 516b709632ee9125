/**
 * Keyword-anchored assignments (rule `credential_assignment`) and credentials in URLs
 * (`url_credentials`): `password: …`, `api_key=…`, `"secret": "…"`, `export TOKEN=…`, `--password …`,
 * `<password>…</password>`, `?api_key=…&`, `postgres://user:pass@host`. The value must look like a
 * real secret (value-shape check) so `password: ${PASSWORD}`, placeholders, identifiers and short
 * words do not fire (docs/decisions/dlp-v2-views-and-validators.md). Work per anchor is bounded by
 * the key/value limits below, whatever the text.
 */

/** Keyword fragments whose case variants are the automaton anchors. */
const KEYWORDS = [
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'api-key', 'private_key', 'privatekey', 'access_key', 'accesskey', 'credential',
  'storage_key', 'account_key', 'signing_key', 'encryption_key', 'master_key',
];
const CAMEL = ['apiKey', 'privateKey', 'accessKey', 'storageKey', 'accountKey', 'signingKey', 'encryptionKey', 'masterKey'];

export const ASSIGNMENT_ANCHORS: readonly string[] = [
  ...new Set(
    KEYWORDS.flatMap((k) => [k, k.toUpperCase(), k[0]!.toUpperCase() + k.slice(1)]).concat(CAMEL, CAMEL.map((k) => k[0]!.toUpperCase() + k.slice(1)), ['APIKey']),
  ),
];

/** What a key name (lowercased, `-_.` removed) must end with. */
const KEY_ENDINGS = [
  'password', 'passwd', 'pass', 'pwd', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'accesskey', 'secretkey', 'secretkeybase', 'credential', 'credentials',
  'storagekey', 'accountkey', 'signingkey', 'encryptionkey', 'masterkey',
];
/** Key names ending like a credential that are not one (pagination, CSRF, limits…). */
const KEY_DENY = /(?:page|next|prev|csrf|xsrf|sync|continuation|cancel|cancellation|resume|cursor|max|min|num|total|input|output|prompt|completion|cache|lock|count|reset|verification|verify|push|device|fcm|apns|idempotency|nonce|state|bypass|compass|surpass|trespass|overpass|underpass)(?:token|pass|secret)?$/;

const KEY_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-') KEY_CHAR[ch.charCodeAt(0)] = 1;
const isKeyChar = (c: number): boolean => c < 128 && KEY_CHAR[c] === 1;
const MAX_KEY = 64;
const MAX_VALUE = 256;

/** Placeholder / template / reference values that are not secrets. */
const PLACEHOLDER =
  /example|sample|placeholder|changeme|change_me|change-me|your[_-]?|dummy|redacted|xxxx|\*\*\*|todo|fixme|fake|password|passwd|secret|hunter2|letmein|qwerty|123456|abcdef|process\.env|os\.environ|getenv|environ\[|null|undefined|none|true|false|\.\.\./i;

function classes(v: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let sym = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else sym = 1;
  }
  return lower + upper + digit + sym;
}

function entropy(v: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < v.length; i++) counts.set(v.charCodeAt(i), (counts.get(v.charCodeAt(i)) ?? 0) + 1);
  let h = 0;
  for (const k of counts.values()) {
    const p = k / v.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Value-shape check: 8–256 characters, no whitespace, not a template/reference/placeholder, not an
 * identifier or number, and random-looking (≥ 3 character classes, or long with high entropy).
 */
export function secretShaped(v: string, quoted: boolean): boolean {
  if (v.length < 8 || v.length > MAX_VALUE) return false;
  if (/\s/.test(v)) return false;
  if ('$<{[('.includes(v[0]!) || /^%\w+%$/.test(v)) return false;
  if (v.includes('${') || v.includes('{{') || v.includes('}}') || v.includes('#{') || v.includes('%(') || /^<.*>$/.test(v)) return false;
  if (/^(.)\1+$/.test(v)) return false;
  if (PLACEHOLDER.test(v)) return false;
  if (/^[0-9.,:+-]+$/.test(v)) return false; // numbers, versions, times
  if (/^(?:https?|file|s3|gs):\/\//i.test(v) || (v.startsWith('/') && !v.startsWith('//'))) return false; // URLs, paths
  // Unquoted dotted identifiers (settings.DB_PASSWORD, config.api.key) and function calls.
  if (!quoted && /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(v)) return false;
  if (/[A-Za-z_]\w*\(/.test(v)) return false;
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(v)) return false; // ENV_VAR_NAME
  const k = classes(v);
  if (k >= 3) return entropy(v) >= 2.5;
  if (k === 2) return v.length >= 16 && entropy(v) >= 3.2;
  return v.length >= 24 && entropy(v) >= 3.8;
}

function keyEndsLikeCredential(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_.]/g, '');
  if (KEY_DENY.test(k)) return false;
  return KEY_ENDINGS.some((e) => k.endsWith(e));
}

const QUOTE = (c: number): boolean => c === 34 || c === 39 || c === 96;
const SPACE = (c: number): boolean => c === 32 || c === 9;

/**
 * The value span of a credential assignment whose key contains the keyword at [start, end), or null.
 * Forms: `key: v`, `key = v`, `key := v`, `key => v`, `"key": "v"`, `key=v&…`, `--key v`,
 * `--key=v`, `<key>v</key>`; JSON-escaped quotes (`\"`) count as quotes.
 */
export function matchAssignment(text: string, start: number, end: number): { start: number; end: number } | null {
  let ks = start;
  while (ks > 0 && start - ks < MAX_KEY && isKeyChar(text.charCodeAt(ks - 1))) ks--;
  let ke = end;
  while (ke < text.length && ke - end < MAX_KEY && isKeyChar(text.charCodeAt(ke))) ke++;
  const n = text.length;
  const xml = ks > 0 && text.charCodeAt(ks - 1) === 60 && text.charCodeAt(ke) === 62; // <password>v</password>
  // Cheap rejection first (most anchors are prose: "the token is…"): after the key there must be
  // a separator, or a space for a `--flag`, or the XML close of the tag.
  if (!xml && !separatorFollows(text, ke) && text.charCodeAt(ks) !== 45) return null;
  // A key glued to a longer word (e.g. "passwordless", "tokenizer") fails the ending check below.
  const key = text.slice(ks, ke);
  if (!keyEndsLikeCredential(key.replace(/^-+/, ''))) return null;
  const flag = key.startsWith('--') || (key.startsWith('-') && key.length <= 3);
  let i = ke;
  if (xml) {
    i = ke + 1;
    const close = text.indexOf('<', i);
    if (close < 0 || close - i > MAX_VALUE) return null;
    const v = text.slice(i, close);
    return secretShaped(v, true) ? { start: i, end: close } : null;
  }
  // Closing quote of a quoted key (also \" inside a JSON string), then the separator.
  if (i < n && text.charCodeAt(i) === 92 && QUOTE(text.charCodeAt(i + 1))) i += 2;
  else if (i < n && QUOTE(text.charCodeAt(i))) i++;
  let sp = 0;
  while (i < n && SPACE(text.charCodeAt(i)) && sp < 8) {
    i++;
    sp++;
  }
  const c = text.charCodeAt(i);
  if (c === 58 && text.charCodeAt(i + 1) === 61) i += 2; // :=
  else if (c === 61 && text.charCodeAt(i + 1) === 62) i += 2; // =>
  else if (c === 58 || c === 61) i += 1;
  else if (!(flag && sp > 0)) return null;
  if (text.charCodeAt(i) === 61) return null; // ==, comparisons
  sp = 0;
  while (i < n && SPACE(text.charCodeAt(i)) && sp < 8) {
    i++;
    sp++;
  }
  // Optional opening quote (or \" in JSON-embedded text).
  let quote = -1;
  let escaped = false;
  if (text.charCodeAt(i) === 92 && QUOTE(text.charCodeAt(i + 1))) {
    quote = text.charCodeAt(i + 1);
    escaped = true;
    i += 2;
  } else if (QUOTE(text.charCodeAt(i))) {
    quote = text.charCodeAt(i);
    i++;
  }
  const vs = i;
  let j = i;
  while (j < n && j - vs <= MAX_VALUE) {
    const ch = text.charCodeAt(j);
    if (quote >= 0) {
      if (escaped ? ch === 92 && text.charCodeAt(j + 1) === quote : ch === quote) break;
      if (ch === 10 || ch === 13) return null;
    } else if (ch <= 32 || ch === 44 || ch === 59 || ch === 38 || ch === 34 || ch === 39 || ch === 41 || ch === 125 || ch === 93 || ch === 60 || ch === 92) {
      break;
    }
    j++;
  }
  if (j - vs > MAX_VALUE) return null;
  const v = text.slice(vs, j);
  return secretShaped(v, quote >= 0) ? { start: vs, end: j } : null;
}

/** `:`, `=` (also after a closing quote, `\"` and up to 8 spaces) at `i`. */
function separatorFollows(text: string, i: number): boolean {
  if (text.charCodeAt(i) === 92 && QUOTE(text.charCodeAt(i + 1))) i += 2;
  else if (QUOTE(text.charCodeAt(i))) i++;
  for (let k = 0; k < 8 && SPACE(text.charCodeAt(i)); k++) i++;
  const c = text.charCodeAt(i);
  return c === 58 || c === 61;
}

/** Scheme characters before `://`. */
const SCHEME_CHAR = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45;

/**
 * `scheme://user:password@host` with a secret-shaped password (anchor `://` at [start, end)).
 * Only the password is the value (redaction keeps user and host).
 */
export function matchUrlCredentials(text: string, start: number, end: number): { start: number; end: number } | null {
  let s = start;
  while (s > 0 && start - s < 32 && SCHEME_CHAR(text.charCodeAt(s - 1))) s--;
  if (s === start) return null;
  let i = end;
  let colon = -1;
  const limit = Math.min(text.length, end + 256);
  for (; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 64) break; // @
    if (c === 58 && colon < 0) colon = i;
    if (c <= 32 || c === 47 || c === 63 || c === 35 || c === 34 || c === 39 || c === 60 || c === 62 || c === 92) return null;
  }
  if (i >= limit || colon < 0 || colon === end) return null;
  const host = text.charCodeAt(i + 1);
  if (!((host >= 97 && host <= 122) || (host >= 65 && host <= 90) || (host >= 48 && host <= 57) || host === 91)) return null;
  const user = text.slice(end, colon);
  let pw = text.slice(colon + 1, i);
  try {
    pw = decodeURIComponent(pw);
  } catch {
    // keep as sent
  }
  if (/^(?:user(?:name)?|admin|root|postgres|guest|test|demo|anonymous)$/i.test(pw)) return null;
  if (user.startsWith('$') || user.includes('{')) return null;
  // URL passwords are often shorter than API secrets: 6+ and not a placeholder or reference.
  const shaped = pw.length >= 8 ? secretShaped(pw, true) : pw.length >= 6 && classes(pw) >= 3 && !PLACEHOLDER.test(pw);
  return shaped ? { start: colon + 1, end: i } : null;
}

/**
 * Request header names that carry a credential by convention (`x-api-key`, `api-key`,
 * `x-auth-token`, `x-access-token`, `private-token`, `ocp-apim-subscription-key`…): the name ends
 * with one of these after an optional `x-`/vendor prefix. CSRF/idempotency/paging tokens are not
 * credentials.
 */
const CREDENTIAL_HEADER = /(?:^|[-_])(?:api[-_]?key|apikey|auth[-_]?token|access[-_]?token|auth[-_]?key|secret[-_]?key|secret|private[-_]?token|session[-_]?token|security[-_]?token|subscription[-_]?key|functions[-_]?key|token|password|passwd)$/;
const CREDENTIAL_HEADER_DENY = /(?:csrf|xsrf|idempotency|request|continuation|page|next|cursor|sync|push|device|verification|cache|lock|state|nonce|trace|upload|resume|turnstile|captcha|recaptcha)[-_]?(?:token|key)$/;
/** Registered HTTP authentication schemes (IANA) and common ones: their credentials are the routes' business. */
const AUTH_SCHEMES = /^(?:basic|bearer|digest|hoba|mutual|negotiate|ntlm|oauth|scram-sha-1|scram-sha-256|vapid|aws4-hmac-sha256|dpop|gnap|privatetoken|concealed)$/i;

/**
 * The credential inside a request header value whose name carries credentials, when the value is
 * secret-shaped (16+ characters mixing two of lower/upper/digit, value-shape check): `x-api-key: <random>`, `authorization:
 * <random>` or `authorization: <unregistered scheme> <random>`. `name` is lowercased. Null for
 * other headers, registered authorization schemes, placeholders and short or word-like values.
 */
export function matchCredentialHeader(name: string, value: string): { start: number; end: number } | null {
  if (value.length < 16 || value.length > 4096) return null;
  let s = 0;
  while (s < value.length && SPACE(value.charCodeAt(s))) s++;
  let e = value.length;
  while (e > s && SPACE(value.charCodeAt(e - 1))) e--;
  if (name === 'authorization' || name === 'proxy-authorization') {
    const sp = value.indexOf(' ', s);
    if (sp >= 0 && sp < e) {
      if (AUTH_SCHEMES.test(value.slice(s, sp))) return null;
      s = sp + 1;
      while (s < e && SPACE(value.charCodeAt(s))) s++;
    }
  } else if (!CREDENTIAL_HEADER.test(name) || CREDENTIAL_HEADER_DENY.test(name)) {
    return null;
  }
  if (e - s < 16) return null;
  const v = value.slice(s, e);
  // Two of lower/upper/digit on top of the value shape: `application-json-default` is no key.
  const mix = (/[a-z]/.test(v) ? 1 : 0) + (/[A-Z]/.test(v) ? 1 : 0) + (/[0-9]/.test(v) ? 1 : 0);
  return mix >= 2 && secretShaped(v, true) ? { start: s, end: e } : null;
}
