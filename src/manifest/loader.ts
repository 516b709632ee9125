/**
 * Loading model (docs/configuration.md §1.4): an index of names (cheap, never throws for a broken
 * file), then loading of exactly the chosen agent and the selected bottles with their `extends`
 * closure. Parsed files are cached on the index.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, isAbsolute, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BottleError } from '../errors.js';
import type { Agent, BottleConfig, ExtendsTree, GitIdentity, IdentityField, SelectedBottles, SourcedRoute } from './types.js';
import { ManifestError } from './errors.js';
import { decodeManifest, parseFrontMatter, type PositionMap } from './front-matter.js';
import { Ctx, MANIFEST_NAME } from './check.js';
import { parseBottle, type OwnBottle, type PartialBottle } from './bottle-schema.js';
import { parseAgent } from './agent-schema.js';
import { fold, materialize, overlay } from './merge.js';
import { displayPath, userHome as defaultUserHome } from './home.js';
import { didYouMean } from './suggest.js';
import { envWarnings } from './env-entries.js';

export const MAX_MANIFEST_BYTES = 256 * 1024;
export const MAX_EXTENDS_DEPTH = 16;

export interface IndexEntry {
  readonly name: string;
  readonly kind: 'agent' | 'bottle';
  readonly origin: 'home' | 'repo';
  /** Absolute path. */
  readonly file: string;
  /** Set when the file was refused while scanning (e.g. repo symlink pointing outside). */
  readonly broken?: string;
}

type Parsed<T> = { ok: true; value: T; positions: PositionMap } | { ok: false; error: ManifestError };

export interface ManifestIndex {
  readonly home: string;
  readonly cwd: string;
  /** The user's home directory, for `~` in messages and paths. */
  readonly userHome: string;
  readonly agents: ReadonlyMap<string, IndexEntry>;
  readonly bottles: ReadonlyMap<string, IndexEntry>;
  /** Trust-boundary and scanning warnings, one line each, already worded for people. */
  readonly warnings: readonly string[];
  /** A legacy `bot-bottle.json` / `claude-bottle.json` in cwd with no `.bot-bottle/` (error at load). */
  readonly legacyConfig: string | null;
  /** @internal parse cache keyed by absolute file path. */
  readonly cache: Map<string, Parsed<Agent | OwnBottle>>;
}

export interface IndexOptions {
  readonly home: string;
  readonly cwd: string;
  readonly userHome?: string;
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function scanDir(dir: string, kind: 'agent' | 'bottle', origin: 'home' | 'repo', out: Map<string, IndexEntry>, warnings: string[], ctx: { userHome: string; repoRoot?: string }): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw new BottleError('CONFIG_INVALID', `cannot read ${displayPath(dir, ctx.userHome)} (${code ?? 'error'})`, {
      fix: 'check its permissions (it should be owned by you, mode 700)',
    });
  }
  for (const fileName of names.sort()) {
    if (fileName.startsWith('.') || !fileName.endsWith('.md')) continue;
    const file = join(dir, fileName);
    let st;
    try {
      st = statSync(file);
    } catch {
      // Dangling symlink: a repo one is refused below; a home one is reported as broken.
      st = null;
    }
    if (st?.isDirectory()) continue;
    const name = fileName.slice(0, -3);
    if (!MANIFEST_NAME.test(name)) {
      warnings.push(`skipping ${displayPath(file, ctx.userHome)}: manifest names must match ^[a-z][a-z0-9-]{0,62}$ (lower-case letters, digits and "-"); rename the file`);
      continue;
    }
    let broken: string | undefined;
    if (ctx.repoRoot !== undefined) {
      let real: string | null = null;
      try {
        real = realpathSync(file);
      } catch {
        real = null;
      }
      if (real === null || !isInside(ctx.repoRoot, real)) broken = `refusing repo agent ${displayPath(file, ctx.userHome)}: it points outside the repository`;
    } else if (st === null) {
      broken = `cannot read ${displayPath(file, ctx.userHome)}: broken symlink`;
    }
    out.set(name, { name, kind, origin, file, ...(broken !== undefined ? { broken } : {}) });
  }
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Index phase: names only. Never throws for a broken manifest; only for an unreadable home. */
export function indexManifests(opts: IndexOptions): ManifestIndex {
  const userHome = opts.userHome ?? defaultUserHome();
  const warnings: string[] = [];
  let homeStat;
  try {
    homeStat = statSync(opts.home);
  } catch {
    homeStat = null; // a missing home is an empty index ("bot-bottle init" creates it)
  }
  if (homeStat !== null && !homeStat.isDirectory()) {
    throw new BottleError('CONFIG_INVALID', `${displayPath(opts.home, userHome)} is not a directory`, {
      fix: 'point BOT_BOTTLE_HOME at a directory, or run "bot-bottle init"',
    });
  }
  const agents = new Map<string, IndexEntry>();
  const bottles = new Map<string, IndexEntry>();
  scanDir(join(opts.home, 'bottles'), 'bottle', 'home', bottles, warnings, { userHome });
  scanDir(join(opts.home, 'agents'), 'agent', 'home', agents, warnings, { userHome });

  const repoDir = join(opts.cwd, '.bot-bottle');
  let legacyConfig: string | null = null;
  const repoIsHome = existsSync(repoDir) && realOrSelf(repoDir) === realOrSelf(opts.home);
  if (!repoIsHome && existsSync(repoDir)) {
    for (const sub of ['bottles', 'contrib']) {
      const p = join(repoDir, sub);
      if (existsSync(p)) warnings.push(`ignoring ${displayPath(p, userHome)}: bottles and plugins are only read from ${displayPath(opts.home, userHome)}`);
    }
    const repoAgents = new Map<string, IndexEntry>();
    scanDir(join(repoDir, 'agents'), 'agent', 'repo', repoAgents, warnings, { userHome, repoRoot: realOrSelf(opts.cwd) });
    for (const [name, entry] of repoAgents) {
      const home = agents.get(name);
      if (home) {
        warnings.push(`repo agent ${displayPath(entry.file, userHome)} is shadowed by ${displayPath(home.file, userHome)}; using the home file`);
        continue;
      }
      agents.set(name, entry);
    }
  } else if (!existsSync(repoDir)) {
    for (const legacy of ['bot-bottle.json', 'claude-bottle.json']) {
      const p = join(opts.cwd, legacy);
      if (existsSync(p)) {
        legacyConfig = p;
        warnings.push(`${displayPath(p, userHome)} is a legacy config and is not read; move it to manifests (see the manifest documentation)`);
        break;
      }
    }
  }
  return { home: opts.home, cwd: opts.cwd, userHome, agents, bottles, warnings, legacyConfig, cache: new Map() };
}

function readText(entry: IndexEntry, shown: string): string {
  let fd: number;
  try {
    fd = openSync(entry.file, 'r');
  } catch (e) {
    throw ManifestError.single(shown, `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw ManifestError.single(shown, 'not a regular file');
    if (st.size > MAX_MANIFEST_BYTES) throw ManifestError.single(shown, `file is larger than 256 KiB (${Math.ceil(st.size / 1024)} KiB); manifests must be small`);
    const buf = Buffer.alloc(Math.min(st.size, MAX_MANIFEST_BYTES) + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n >= buf.length) break;
    }
    if (n > MAX_MANIFEST_BYTES) throw ManifestError.single(shown, 'file is larger than 256 KiB; manifests must be small');
    const text = decodeManifest(buf.subarray(0, n));
    if (text === null) throw ManifestError.single(shown, 'file is not valid UTF-8', { line: 1, column: 1 });
    return text;
  } finally {
    closeSync(fd);
  }
}

/** Parses one manifest text (exported for tests and fuzzing: no file system access). */
export function parseManifestText(
  text: string,
  opts: { kind: 'agent' | 'bottle'; name: string; file: string; shown: string; origin?: 'home' | 'repo'; userHome: string },
): { value: Agent | OwnBottle; positions: PositionMap } {
  const fm = parseFrontMatter(text);
  if (fm.problems.length > 0) {
    throw new ManifestError(fm.problems.map((p) => ({ file: opts.shown, line: p.pos.line, column: p.pos.column, keyPath: p.keyPath, message: p.message })));
  }
  const ctx = new Ctx(opts.shown, fm.positions);
  const value =
    opts.kind === 'agent'
      ? parseAgent(ctx, fm.data, { name: opts.name, origin: opts.origin ?? 'home', file: opts.file, body: fm.body })
      : parseBottle(ctx, fm.data, { name: opts.name, file: opts.file, userHome: opts.userHome });
  ctx.throwIfAny();
  if (!value) throw ManifestError.single(opts.shown, 'invalid manifest');
  return { value, positions: fm.positions };
}

function parseEntry(index: ManifestIndex, entry: IndexEntry): Parsed<Agent | OwnBottle> {
  const cached = index.cache.get(entry.file);
  if (cached) return cached;
  const shown = displayPath(entry.file, index.userHome);
  let result: Parsed<Agent | OwnBottle>;
  try {
    if (entry.broken) throw ManifestError.single(shown, entry.broken);
    const text = readText(entry, shown);
    const r = parseManifestText(text, { kind: entry.kind, name: entry.name, file: entry.file, shown, origin: entry.origin, userHome: index.userHome });
    result = { ok: true, value: r.value, positions: r.positions };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    result = { ok: false, error: e };
  }
  index.cache.set(entry.file, result);
  return result;
}

function notFoundAgent(index: ManifestIndex, name: string): BottleError {
  const names = [...index.agents.keys()];
  return new BottleError('AGENT_NOT_FOUND', `unknown agent "${name}"${didYouMean(name, names)}`, {
    fix: names.length > 0 ? `known agents: ${names.join(', ')} (see bot-bottle list)` : `create ${displayPath(join(index.home, 'agents', `${name}.md`), index.userHome)} or run bot-bottle init`,
    data: { agent: name },
  });
}

export function loadAgent(index: ManifestIndex, name: string): Agent {
  if (index.legacyConfig !== null) {
    throw ManifestError.single(
      displayPath(index.legacyConfig, index.userHome),
      'legacy config files are no longer read; move the settings into ~/.bot-bottle/bottles/<name>.md and .bot-bottle/agents/<name>.md (see the manifest documentation), then delete this file',
    );
  }
  const entry = index.agents.get(name);
  if (!entry) throw notFoundAgent(index, name);
  const p = parseEntry(index, entry);
  if (!p.ok) throw p.error;
  return p.value as Agent;
}

/**
 * Bottle selection (docs/configuration.md §5.3): `--bottle` flags in order, else the agent's
 * default. With `index`, unknown names are refused here too (they always are in loadBottles).
 */
export function selectBottleNames(agent: Agent, flags: readonly string[], index?: ManifestIndex): string[] {
  const fromFlags = flags.length > 0;
  const names = fromFlags ? [...flags] : [...agent.bottles];
  if (names.length === 0) {
    throw new BottleError('NO_BOTTLE', `no bottle selected for agent "${agent.name}": pass --bottle NAME or set bottle: in ${displayPath(agent.file, index?.userHome)}`, {
      data: { agent: agent.name },
    });
  }
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      if (fromFlags) throw new BottleError('USAGE', `bottle "${n}" is selected twice`, { fix: 'pass each --bottle once' });
      throw ManifestError.single(displayPath(agent.file, index?.userHome), `bottle "${n}" is listed twice in bottle:`, { keyPath: 'bottle' });
    }
    seen.add(n);
  }
  if (index) for (const n of names) if (!index.bottles.has(n)) throw notFoundBottle(index, n);
  return names;
}

function notFoundBottle(index: ManifestIndex, name: string): BottleError {
  const names = [...index.bottles.keys()];
  return new BottleError('BOTTLE_NOT_FOUND', `unknown bottle "${name}"${didYouMean(name, names)}`, {
    fix: names.length > 0 ? `available bottles: ${names.join(', ')}` : `create ${displayPath(join(index.home, 'bottles', `${name}.md`), index.userHome)} or run bot-bottle init`,
    data: { bottle: name },
  });
}

interface Resolved {
  readonly partial: PartialBottle;
  readonly tree: ExtendsTree;
}

function loadOwnBottle(index: ManifestIndex, name: string): { own: OwnBottle; positions: PositionMap } {
  const entry = index.bottles.get(name);
  if (!entry) throw notFoundBottle(index, name);
  const p = parseEntry(index, entry);
  if (!p.ok) throw p.error;
  return { own: p.value as OwnBottle, positions: p.positions };
}

function resolveEffective(
  index: ManifestIndex,
  name: string,
  stack: string[],
  cache: Map<string, Resolved>,
  sources: Record<string, string>,
  notes: string[],
): Resolved {
  const hit = cache.get(name);
  if (hit) return hit;
  const { own, positions } = loadOwnBottle(index, name);
  sources[name] = own.file;
  const shown = displayPath(own.file, index.userHome);
  const parents = own.extends ?? [];
  const chain = [...stack, name];
  const trees: ExtendsTree[] = [];
  const parentParts: PartialBottle[] = [];
  parents.forEach((parent, i) => {
    const keyPath = parents.length > 1 || positions.has(`extends[${i}]`) ? (['extends', i] as const) : (['extends'] as const);
    const fail = (message: string): never => {
      const ctx = new Ctx(shown, positions);
      ctx.issue([...keyPath], message);
      throw new ManifestError(ctx.issues);
    };
    if (parent === name) fail(`bottle "${name}" extends itself; remove it from extends`);
    const cycleAt = chain.indexOf(parent);
    if (cycleAt >= 0) fail(`extends cycle: ${[...chain.slice(cycleAt), parent].join(' → ')}; break the cycle`);
    if (chain.length >= MAX_EXTENDS_DEPTH) fail(`extends chain is deeper than ${MAX_EXTENDS_DEPTH} bottles: ${[...chain, parent].join(' → ')}`);
    if (!index.bottles.has(parent)) {
      const names = [...index.bottles.keys()];
      fail(`extends: bottle "${parent}" not found${didYouMean(parent, names)} (available bottles: ${names.length > 0 ? names.join(', ') : 'none'})`);
    }
    const r = resolveEffective(index, parent, chain, cache, sources, notes);
    trees.push(r.tree);
    parentParts.push(r.partial);
  });
  const base = parentParts.length === 0 ? { user: {} } : parentParts.length === 1 ? (parentParts[0] as PartialBottle) : fold(parentParts, notes);
  const resolved: Resolved = { partial: overlay(base, own), tree: { name, parents: trees } };
  cache.set(name, resolved);
  return resolved;
}

function portsOf(r: SourcedRoute): number[] {
  return r.route.port !== undefined ? [r.route.port] : [443, 80];
}

function dedupeRoutes(routes: readonly SourcedRoute[]): SourcedRoute[] {
  const out: SourcedRoute[] = [];
  for (const r of routes) if (!out.some((o) => isDeepStrictEqual(o.route, r.route))) out.push(r);
  return out;
}

/**
 * (host, port) must be unique in the effective table (docs/configuration.md §3.4); unset port
 * overlaps 443 and 80.
 */
function checkRouteClashes(index: ManifestIndex, routes: readonly SourcedRoute[]): void {
  for (let i = 0; i < routes.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = routes[j] as SourcedRoute;
      const b = routes[i] as SourcedRoute;
      if (a.route.host !== b.route.host) continue;
      const port = portsOf(a).find((p) => portsOf(b).includes(p));
      if (port === undefined) continue;
      const who = a.source.bottle === b.source.bottle ? `bottle ${a.source.bottle}` : `bottles ${a.source.bottle}, ${b.source.bottle}`;
      const message = `egress route for ${b.route.host}:${port} is declared twice (${who}); merge them into one route with several matches entries`;
      const shown = displayPath(b.source.file, index.userHome);
      const parsed = index.cache.get(b.source.file);
      const ctx = new Ctx(shown, parsed?.ok ? parsed.positions : new Map());
      const own = parsed?.ok ? (parsed.value as OwnBottle).routes ?? [] : [];
      const at = own.findIndex((r) => isDeepStrictEqual(r.route, b.route));
      ctx.issue(at >= 0 ? ['egress', 'routes', at, 'host'] : [], message);
      throw new ManifestError(ctx.issues, { data: { bottles: [a.source.bottle, b.source.bottle], host: b.route.host, port } });
    }
  }
}

/**
 * Loads the selected bottles and their extends closure, folds them in order
 * (docs/configuration.md §5).
 */
export function loadBottles(index: ManifestIndex, names: readonly string[]): SelectedBottles {
  for (const n of names) if (!index.bottles.has(n)) throw notFoundBottle(index, n);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new BottleError('USAGE', `bottle "${n}" is selected twice`, { fix: 'select each bottle once' });
    seen.add(n);
  }
  const cache = new Map<string, Resolved>();
  const sources: Record<string, string> = {};
  const notes: string[] = [];
  const resolved = names.map((n) => resolveEffective(index, n, [], cache, sources, notes));
  const folded = resolved.length === 1 ? (resolved[0] as Resolved).partial : fold(resolved.map((r) => r.partial), notes);
  const config: BottleConfig = materialize(folded);
  const routes = dedupeRoutes(config.egress.routes);
  checkRouteClashes(index, routes);
  notes.push(...envWarnings(config.env));
  return {
    names: [...names],
    trees: resolved.map((r) => r.tree),
    sources,
    config: { ...config, egress: { ...config.egress, routes } },
    notes: [...new Set(notes)],
  };
}

function field(value: string | undefined, from: 'agent' | 'bottle', file: string | undefined): IdentityField | undefined {
  return value !== undefined && value !== '' ? { value, from, file: file ?? '' } : undefined;
}

/** Agent fields win when non-empty, else the effective bottle's, each with provenance. */
export function resolveIdentity(agent: Agent, bottle: BottleConfig): GitIdentity {
  const u = bottle.gitGate.user;
  const name = field(agent.gitUser.name, 'agent', agent.file) ?? field(u.name, 'bottle', u.sources?.name);
  const email = field(agent.gitUser.email, 'agent', agent.file) ?? field(u.email, 'bottle', u.sources?.email);
  return { ...(name ? { name } : {}), ...(email ? { email } : {}) };
}

export interface AgentSummary {
  readonly entry: IndexEntry;
  readonly agent: Agent | null;
  /** One-line error when the file is broken. */
  readonly broken: string | null;
}
export interface BottleSummary {
  readonly entry: IndexEntry;
  readonly extends: readonly string[];
  readonly broken: string | null;
}

/** For `list` and pickers: parses one agent, reporting instead of throwing. */
export function summarizeAgent(index: ManifestIndex, name: string): AgentSummary {
  const entry = index.agents.get(name);
  if (!entry) throw notFoundAgent(index, name);
  const p = parseEntry(index, entry);
  return p.ok ? { entry, agent: p.value as Agent, broken: null } : { entry, agent: null, broken: p.error.message };
}

export function summarizeBottle(index: ManifestIndex, name: string): BottleSummary {
  const entry = index.bottles.get(name);
  if (!entry) throw notFoundBottle(index, name);
  const p = parseEntry(index, entry);
  return p.ok ? { entry, extends: (p.value as OwnBottle).extends ?? [], broken: null } : { entry, extends: [], broken: p.error.message };
}

/** Relative display of a repo file (`./.bot-bottle/agents/x.md`), else `~` form. */
export function sourceLabel(index: ManifestIndex, file: string): string {
  if (isInside(index.cwd, file) && !isInside(index.home, file)) {
    const rel = relative(index.cwd, file);
    return `.${sep}${rel}`;
  }
  return displayPath(file, index.userHome);
}
