/**
 * Hand-written validation context: collects issues with precise key paths and source positions.
 * Hand validation (rather than zod) because every message must name the key path, the file
 * position, the allowed keys and a "did you mean" — and never echo an env value.
 */
import { ManifestError, type ManifestIssue } from './errors.js';
import { keyPathOf, type PathSeg, type PositionMap } from './front-matter.js';
import { didYouMean } from './suggest.js';
import { legacyHint, type LegacyLocation } from './legacy.js';

export type Obj = Record<string, unknown>;

export class Ctx {
  readonly issues: ManifestIssue[] = [];
  constructor(
    /** Display path (`~` for the user's home); '' for inputs without a file. */
    readonly file: string,
    readonly positions: PositionMap = new Map(),
    /** Prefix for key paths (e.g. `routes[2]` for provider routes). */
    readonly basePath: readonly PathSeg[] = [],
  ) {}

  issue(path: readonly PathSeg[], message: string, at: 'key' | 'value' = 'value'): void {
    const full = [...this.basePath, ...path];
    let pos: { line: number; column: number } | undefined;
    for (let i = path.length; i >= 0 && pos === undefined; i--) {
      const p = this.positions.get(keyPathOf(path.slice(0, i)));
      if (p) pos = at === 'key' && i === path.length ? (p.key ?? p.value) : p.value;
    }
    this.issues.push({ file: this.file, line: pos?.line ?? (this.file ? 1 : 0), column: pos?.column ?? (this.file ? 1 : 0), keyPath: keyPathOf(full), message });
  }

  /** Shown name of a key path inside messages. */
  name(path: readonly PathSeg[]): string {
    return keyPathOf([...this.basePath, ...path]);
  }

  ok(): boolean {
    return this.issues.length === 0;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new ManifestError(this.issues);
  }

  /**
   * Unknown-key check for one map. `where` names the map in messages (`bottle front-matter`,
   * `egress.routes[0]`); `location` selects the legacy-key table (docs/configuration.md §8).
   */
  keys(obj: Obj, path: readonly PathSeg[], allowed: readonly string[], where: string, location?: LegacyLocation): boolean {
    let good = true;
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      good = false;
      const hint = location ? legacyHint(location, k) : undefined;
      if (hint) {
        this.issue([...path, k], hint, 'key');
        continue;
      }
      this.issue([...path, k], `unknown key "${k}" in ${where}${didYouMean(k, allowed)} (allowed keys: ${allowed.join(', ')})`, 'key');
    }
    return good;
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'string') return 'a string';
  return typeof v;
}

/** Quoting hint for a scalar given where a string is required (YAML 1.2 core keeps no/on as strings). */
export function quoteHint(key: string, v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return `; quote it: ${key}: "${String(v)}"`;
  return '';
}

export function expectString(ctx: Ctx, v: unknown, path: readonly PathSeg[], opts: { nonEmpty?: boolean } = {}): string | undefined {
  const last = path[path.length - 1];
  if (v === undefined || v === null) {
    ctx.issue(path, `${ctx.name(path)} is required`);
    return undefined;
  }
  if (typeof v !== 'string') {
    ctx.issue(path, `${ctx.name(path)} must be a string, not ${describe(v)}${quoteHint(String(last ?? 'value'), v)}`);
    return undefined;
  }
  if (opts.nonEmpty && v.trim() === '') {
    ctx.issue(path, `${ctx.name(path)} must not be empty`);
    return undefined;
  }
  return v;
}

export function expectBool(ctx: Ctx, v: unknown, path: readonly PathSeg[]): boolean | undefined {
  if (typeof v !== 'boolean') {
    ctx.issue(path, `${ctx.name(path)} must be true or false, not ${describe(v)}${typeof v === 'string' ? ' (remove the quotes)' : ''}`);
    return undefined;
  }
  return v;
}

export function expectMap(ctx: Ctx, v: unknown, path: readonly PathSeg[]): Obj | undefined {
  if (!isObj(v)) {
    ctx.issue(path, `${ctx.name(path)} must be a map, not ${describe(v)}`);
    return undefined;
  }
  return v;
}

export function expectList(ctx: Ctx, v: unknown, path: readonly PathSeg[], opts: { nonEmpty?: boolean; what?: string } = {}): unknown[] | undefined {
  if (!Array.isArray(v)) {
    ctx.issue(path, `${ctx.name(path)} must be a list${opts.what ? ` of ${opts.what}` : ''}, not ${describe(v)}`);
    return undefined;
  }
  if (opts.nonEmpty && v.length === 0) {
    ctx.issue(path, `${ctx.name(path)} must not be an empty list`);
    return undefined;
  }
  return v;
}

/** A string or a list of strings → list (`extends`, agent `bottle`). */
export function stringOrList(ctx: Ctx, v: unknown, path: readonly PathSeg[]): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) {
    ctx.issue(path, `${ctx.name(path)} must be a name or a list of names, not ${describe(v)}`);
    return undefined;
  }
  const out: string[] = [];
  v.forEach((item, i) => {
    if (typeof item !== 'string') ctx.issue([...path, i], `${ctx.name([...path, i])} must be a name (string), not ${describe(item)}`);
    else out.push(item);
  });
  return out.length === v.length ? out : undefined;
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MANIFEST_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Host env var references that manifests may never use (docs/configuration.md §3.4.2): they belong
 * to the pipeline or providers.
 */
export function reservedTokenRef(name: string): boolean {
  return (
    name === 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN' ||
    name.startsWith('EGRESS_TOKEN_') ||
    name.startsWith('GIT_GATE_TOKEN_') ||
    name.startsWith('BOT_BOTTLE_PROVIDER_')
  );
}

/** Validates a host env var reference (token_ref, auth_token, provisioner_token). */
export function checkHostVarRef(
  ctx: Ctx,
  v: unknown,
  path: readonly PathSeg[],
  allow?: (name: string) => boolean,
): string | undefined {
  const s = expectString(ctx, v, path, { nonEmpty: true });
  if (s === undefined) return undefined;
  if (allow?.(s)) return s;
  if (!ENV_NAME.test(s)) {
    ctx.issue(path, `${ctx.name(path)} must be the name of a host environment variable (letters, digits, _; not starting with a digit), e.g. GITHUB_TOKEN`);
    return undefined;
  }
  if (reservedTokenRef(s)) {
    ctx.issue(path, `${ctx.name(path)} names a reserved variable (${s}): EGRESS_TOKEN_*, GIT_GATE_TOKEN_*, BOT_BOTTLE_PROVIDER_* and BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN belong to bot-bottle; use your own variable name`);
    return undefined;
  }
  return s;
}
