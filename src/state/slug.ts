/**
 * Slugs (docs/cli.md#start-in-short): the name of one bottle instance and of everything it creates.
 */
import { randomBytes } from 'node:crypto';
import { BottleError } from '../errors.js';

const MAX_LEN = 40;
const SUFFIX_LEN = 5;
const MAX_DRAWS = 5;
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

/** NFKD, drop marks, lower-case, runs of [^a-z0-9] → '-', trim, cut to 40, trim; '' → 'bottle'. */
export function slugify(s: string): string {
  const base = s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_LEN)
    .replace(/^-+|-+$/g, '');
  return base === '' ? 'bottle' : base;
}

export type RandomSource = (n: number) => Uint8Array;

/** Five unbiased base36 characters (bytes ≥ 252 are redrawn so every character is equally likely). */
export function randomSuffix(rng: RandomSource = (n) => randomBytes(n)): string {
  let out = '';
  while (out.length < SUFFIX_LEN) {
    for (const b of rng(SUFFIX_LEN * 2)) {
      if (b < 252 && out.length < SUFFIX_LEN) out += BASE36[b % 36];
    }
  }
  return out;
}

export interface SlugRequest {
  readonly agentName: string;
  readonly label: string | null;
  /** Label from the modal or `--label` without `--headless`: used verbatim, no suffix. */
  readonly labelIsExplicit: boolean;
  /** `<home>/state/<slug>/` exists, or an available backend reports the slug. */
  isTaken(slug: string): Promise<boolean>;
  readonly rng?: RandomSource;
}

export async function allocateSlug(req: SlugRequest): Promise<string> {
  if (req.label !== null && req.labelIsExplicit) {
    const slug = slugify(req.label);
    if (await req.isTaken(slug)) {
      throw new BottleError('SLUG_IN_USE', `"${slug}" is in use; choose another label`, { data: { slug } });
    }
    return slug;
  }
  const basis = slugify(req.label ?? req.agentName);
  for (let i = 0; i < MAX_DRAWS; i++) {
    const slug = `${basis}-${randomSuffix(req.rng)}`;
    if (!(await req.isTaken(slug))) return slug;
  }
  throw new BottleError('SLUG_IN_USE', `could not find a free slug for "${basis}" after ${MAX_DRAWS} draws`, {
    fix: 'remove stale state with "bot-bottle cleanup", or pass --label',
  });
}
