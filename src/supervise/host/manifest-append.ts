/**
 * `approve --remember file` (docs/decisions/supervise-remember.md): append approved routes to the
 * bottle's own manifest, `~/.bot-bottle/bottles/<name>.md`, front matter `egress.routes`. An
 * explicit operator action, separate from applying an approval (which never rewrites manifests).
 *
 * The edit goes through the `yaml` Document API so the file's comments, key order and the body
 * after the front matter stay as they were; the result is loaded with the manifest loader before
 * anything is written, and the write is refused (file unchanged) when the target is ambiguous or
 * the result does not load.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { BottleError } from '../../errors.js';
import type { RoutesFileRoute } from '../../egress/routes-file-types.js';
import { displayPath, userHome as defaultUserHome } from '../../manifest/home.js';
import { normalizeHost } from '../../manifest/host.js';
import { indexManifests, loadBottles, parseManifestText, summarizeBottle } from '../../manifest/loader.js';

export interface ManifestAppendPlan {
  readonly path: string;
  readonly bottleName: string;
  /** The file's text when planned: the write is refused if it changed since. */
  readonly before: string;
  readonly text: string;
  readonly hosts: string[];
}

function refuse(message: string, fix?: string): never {
  throw new BottleError('CONFIG_INVALID', message, fix !== undefined ? { fix } : {});
}

/** A route as a manifest writes it: the routes-file keys minus what the host sets. */
function manifestRoute(r: RoutesFileRoute): Record<string, unknown> {
  const out: Record<string, unknown> = { host: r.host };
  if (r.port !== undefined) out.port = r.port;
  if (r.matches) out.matches = r.matches;
  if (r.tls_passthrough) out.tls_passthrough = true;
  if (r.allow_private_cidrs && r.allow_private_cidrs.length > 0) out.allow_private_cidrs = r.allow_private_cidrs;
  if (r.git) out.git = r.git;
  if (r.dlp) out.dlp = r.dlp;
  return out;
}

/** A host as the manifest loader stores it (case, IDNA, trailing dot), for clash checks. */
function canonicalHost(host: string): string {
  const n = normalizeHost(host);
  return n.ok ? n.host : host.toLowerCase();
}

const routeKey = (host: string, port: number | undefined): string[] => (port === undefined ? [`${host} 443`, `${host} 80`] : [`${host} ${port}`]);

/** The front matter's lines and the untouched rest; null when the file has none. */
function splitLines(text: string): { open: string; yaml: string; rest: string } | null {
  const lines = text.split('\n');
  if (!/^---[ \t]*$/.test(lines[0] ?? '')) return null;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '---' || lines[i] === '...') {
      const yaml = lines.slice(1, i).join('\n');
      return { open: lines[0]!, yaml: yaml === '' ? '' : `${yaml}\n`, rest: lines.slice(i).join('\n') };
    }
  }
  return null;
}

/**
 * Plans the edit for the bottle `bottleNames` names (as recorded in the bottle's metadata).
 * Throws a BottleError with one clear line when it must be refused.
 */
export function planManifestAppend(o: {
  home: string;
  cwd: string;
  bottleNames: readonly string[];
  routes: readonly RoutesFileRoute[];
  userHome?: string;
}): ManifestAppendPlan {
  const uh = o.userHome ?? defaultUserHome();
  if (o.bottleNames.length === 0) refuse('this bottle was launched without a bottle file; there is no manifest to write into', 'use --remember bottle or agent instead');
  if (o.bottleNames.length > 1) {
    refuse(`this bottle was launched from ${o.bottleNames.length} bottle files (${o.bottleNames.join(', ')}); which one to write is ambiguous`, 'add the route to one of them by hand, or use --remember bottle');
  }
  const name = o.bottleNames[0]!;
  const index = indexManifests({ home: o.home, cwd: o.cwd, userHome: uh });
  const entry = index.bottles.get(name);
  if (!entry) refuse(`bottle file "${name}" was not found`, 'use --remember bottle instead');
  const shown = displayPath(entry.file, uh);
  if (entry.origin !== 'home') refuse(`bottle "${name}" comes from a repository (${shown}); only ~/.bot-bottle/bottles files are written`, 'add the route to it by hand');
  const summary = summarizeBottle(index, name);
  if (summary.broken) refuse(`${shown} does not load now (${summary.broken}); fix it first`);
  // What the bottle allows now: no route may be lost by the edit (checked on the result below).
  let effectiveBefore: string[];
  try {
    effectiveBefore = loadBottles(index, [name]).config.egress.routes.flatMap((r) => routeKey(r.route.host, r.route.port));
  } catch (err) {
    refuse(`bottle "${name}" does not load now (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); fix it first`);
  }
  const before = readFileSync(entry.file, 'utf8');
  if (before.includes('\r')) refuse(`${shown} has CRLF line endings; add the route by hand`);
  const parts = splitLines(before) ?? { open: '---', yaml: '', rest: `---\n${before}` };
  const doc = parseDocument(parts.yaml, { keepSourceTokens: false });
  if (doc.errors.length > 0) refuse(`${shown}: the front matter does not parse (${doc.errors[0]!.message.split('\n')[0]})`);
  const egress = doc.get('egress', true);
  // `egress:` with no value is an empty mapping to the loader; give it one here too.
  const egressEmpty = isScalar(egress) && egress.value === null;
  if (egress !== undefined && egress !== null && !egressEmpty && !isMap(egress)) refuse(`${shown}: egress is not a mapping; fix it first`);
  const own = doc.getIn(['egress', 'routes'], true);
  if (own !== undefined && own !== null && !isSeq(own)) refuse(`${shown}: egress.routes is not a list; fix it first`);
  const ownKeys = new Set(
    ((doc.getIn(['egress', 'routes']) as { toJSON?: () => unknown } | undefined)?.toJSON?.() as Array<{ host?: unknown; port?: unknown }> | undefined ?? []).flatMap((r) =>
      typeof r?.host === 'string' ? routeKey(canonicalHost(r.host), typeof r.port === 'number' ? r.port : undefined) : [],
    ),
  );
  for (const r of o.routes) {
    if (routeKey(r.host, r.port).some((k) => ownKeys.has(k))) refuse(`${shown} already has a route for ${r.host}; edit it by hand`);
  }
  // A child's own `egress.routes` replaces what it inherits (docs/configuration.md §5.2): adding
  // the key to a bottle that inherits its routes would drop them, and whether the operator meant
  // this file or the parent is ambiguous.
  if (summary.extends.length > 0 && !isSeq(own)) {
    refuse(`bottle "${name}" inherits its routes from ${summary.extends.join(', ')}; adding routes to it would replace them, so which file to change is ambiguous`, 'edit the bottle files by hand, or use --remember bottle');
  }
  const added = o.routes.map(manifestRoute);
  if (isSeq(own)) for (const r of added) own.add(doc.createNode(r));
  else if (egressEmpty) doc.set('egress', doc.createNode({ routes: added }));
  else doc.setIn(['egress', 'routes'], doc.createNode(added));
  const text = `${parts.open}\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}${parts.rest}`;
  // The manifest loader is the judge: the file alone, then with its extends closure.
  let parsed;
  try {
    parsed = parseManifestText(text, { kind: 'bottle', name, file: entry.file, shown, origin: 'home', userHome: uh });
  } catch (err) {
    refuse(`the edited ${shown} would not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); it was not changed`);
  }
  index.cache.set(entry.file, { ok: true, value: parsed.value, positions: parsed.positions });
  let after: Set<string>;
  try {
    after = new Set(loadBottles(index, [name]).config.egress.routes.flatMap((r) => routeKey(r.route.host, r.route.port)));
  } catch (err) {
    refuse(`the edited ${shown} would not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); it was not changed`);
  }
  const lost = effectiveBefore.filter((k) => !after.has(k));
  const missing = o.routes.flatMap((r) => routeKey(r.host, r.port)).filter((k) => !after.has(k));
  if (lost.length > 0 || missing.length > 0) {
    refuse(`the edited ${shown} would not have the intended routes (${lost.length > 0 ? `loses ${lost[0]}` : `lacks ${missing[0]}`}); it was not changed`);
  }
  return { path: entry.file, bottleName: name, before, text, hosts: o.routes.map((r) => r.host) };
}

/** Writes the planned text (temp + rename, same mode) unless the file changed since planning. */
export function writeManifestAppend(plan: ManifestAppendPlan): void {
  const now = readFileSync(plan.path, 'utf8');
  if (now !== plan.before) refuse(`${plan.path} changed while approving; it was not changed`, 'approve with --remember file again');
  const mode = statSync(plan.path).mode & 0o777;
  const tmp = `${plan.path}.tmp-${process.pid}`;
  writeFileSync(tmp, plan.text, { mode });
  renameSync(tmp, plan.path);
}
