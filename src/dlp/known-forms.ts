import { Buffer } from 'node:buffer';

/**
 * The rule ids of known-secret findings (docs/security-model.md §2.4), shown in denials and audit.
 */
export type KnownSecretRule = 'raw' | 'base64' | 'hex' | 'urlencoded' | 'reversed' | 'fragment';

export interface EncodedForm {
  readonly text: string;
  readonly rule: Exclude<KnownSecretRule, 'fragment'>;
}

/**
 * Every verbatim form of a secret that known-secret matching looks for, de-duplicated:
 * raw; base64 standard and URL-safe at the 3 byte alignments (only the characters fixed by the
 * secret's own bits); hex lower/upper; `%XX` for every byte in both cases; encodeURIComponent.
 */
export function encodedForms(value: string): EncodedForm[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: EncodedForm[] = [];
  const seen = new Set<string>();
  const add = (text: string, rule: EncodedForm['rule']): void => {
    if (text.length === 0 || seen.has(text)) return;
    seen.add(text);
    forms.push({ text, rule });
  };
  add(value, 'raw');
  for (const b64 of base64Alignments(bytes)) {
    add(b64, 'base64');
    add(b64.replace(/\+/g, '-').replace(/\//g, '_'), 'base64');
  }
  const hex = bytes.toString('hex');
  add(hex, 'hex');
  add(hex.toUpperCase(), 'hex');
  let pctLower = '';
  for (let i = 0; i < hex.length; i += 2) pctLower += `%${hex.slice(i, i + 2)}`;
  add(pctLower, 'urlencoded');
  add(pctLower.toUpperCase(), 'urlencoded');
  add(safeEncodeURIComponent(value), 'urlencoded');
  // Reversed (`rev`, one line of shell; docs/decisions/dlp-v2-views-and-validators.md), by code point so surrogate pairs stay whole.
  // Other transforms (base32, QP, UTF-16, compression…) are decoded views, not forms.
  add([...value].reverse().join(''), 'reversed');
  return forms;
}

/**
 * For k ∈ {0,1,2} filler bytes before the secret: the base64 characters determined only by the
 * secret's bits — drop the first ⌈4k/3⌉ (they mix in filler) and the trailing partial character
 * (it mixes in whatever follows), and never padding.
 */
export function base64Alignments(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const buf = Buffer.alloc(k + bytes.length);
    buf.set(bytes, k);
    const full = buf.toString('base64').replace(/=+$/, '');
    const fixedChars = Math.floor(((k + bytes.length) * 8) / 6);
    const text = full.slice(Math.ceil((4 * k) / 3), fixedChars);
    if (text.length > 0) out.push(text);
  }
  return out;
}

function safeEncodeURIComponent(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // Lone surrogates: no such URL form exists, the %XX form still covers the bytes.
    return value;
  }
}
