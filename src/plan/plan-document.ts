/**
 * The `bot-bottle/plan@1` document (field list in docs/plan-json.md): what
 * `start --dry-run --format json` prints and the text preflight renders. Names, kinds, slots and
 * references only — never a secret, prompted or interpolated VALUE. Pure.
 */
import type { Agent, EnvEntry, ExtendsTree, GitGateRepo, GitIdentity, Route, SelectedBottles } from '../manifest/types.js';
import type { DroppedRoute, MergedRoute } from './route-merge.js';
import { originTag } from './route-merge.js';
import { effectiveDlp } from './routes-doc.js';
import type { ImageSource } from './image.js';
import { NOT_AVAILABLE } from './availability.js';

export interface PlanRouteDoc {
  host: string;
  port: number | null;
  origin: string;
  auth: { scheme: string; tokenRef: string; slot: string; header?: string } | null;
  tlsPassthrough: boolean;
  gitFetch: boolean;
  matches: Array<{ paths?: Array<{ type: string; value: string }>; methods?: string[]; headers?: Array<{ name: string; type: string; value: string }> }> | null;
  dlp: { outbound: string[] | false; inbound: string[] | false; onMatch: string } | null;
  allowPrivateCidrs: string[];
}

/** `note` is null when available, else why not (docs/decisions/supervise-not-available.md). */
export interface Availability {
  available: boolean;
  note: string | null;
}

/**
 * How the agent reaches the supervise MCP server: `registered` by command, `configured` in the
 * provider's settings files, `skipped` (the provider would register it, but supervise is not
 * available), `unavailable` (the agent has no MCP support).
 */
export type SuperviseMcp = 'registered' | 'configured' | 'skipped' | 'unavailable';

export interface PlanCredential {
  /** The host variable (token reference, provisioner token or `${VAR}` of an env entry). */
  name: string;
  usedBy: 'egress' | 'git-gate' | 'env';
  /** `missing`/`invalid` only in a dry run: a launch stops with TOKEN_MISSING/TOKEN_INVALID. */
  status: 'set' | 'missing' | 'invalid';
}

export interface PlanDocument {
  schema: 'bot-bottle/plan@1';
  slug: string;
  slugTentative: boolean;
  agent: { name: string; origin: 'home' | 'repo'; source: string; skills: string[]; promptChars: number; promptFirstLine: string | null };
  /** `image`/`dockerfile`/`imageSource`: what the image cascade picks; `imageBuild` says whether anything builds it. */
  provider: { template: string; image: string; dockerfile: string | null; imageSource: ImageSource; imageBuild: Availability; notes: string[] };
  bottles: Array<{ name: string; source: string; extends: string[] }>;
  bottleTrees: string[];
  gitIdentity: { name: { value: string; from: 'agent' | 'bottle' } | null; email: { value: string; from: 'agent' | 'bottle' } | null };
  gitGate: Array<{ name: string; url: string; kind: 'ssh' | 'https' | 'file'; host: string | null; port: number | null; key: 'static' | 'gitea' | null; hostKeyPinned: boolean; tokenRef: string | null; slot: string | null; readOnly: boolean }>;
  egress: { log: 0 | 1 | 2; routes: PlanRouteDoc[]; dropped: Array<{ host: string; origin: string; reason: string }> };
  env: Array<{ name: string; kind: 'literal' | 'host' | 'prompted' | 'provider'; hostVar?: string }>;
  workspace: { guestPath: string; hostPath: string } | null;
  backend: { name: string; runtime: string | null };
  /** Host variables the launch reads, by name; never a value (docs/plan-json.md). */
  credentials: PlanCredential[];
  /** `enabled`: the policy (always on); `available`: whether this version runs the daemon. */
  supervise: { enabled: true; mcp: SuperviseMcp } & Availability;
  headless: boolean;
  label: string;
  color: string;
  notes: string[];
  warnings: string[];
}

/** `a ← b ← c`, multiple parents `a ← [b ← base, c]` (docs/architecture.md §4.4). */
export function renderTree(t: ExtendsTree): string {
  if (t.parents.length === 0) return t.name;
  if (t.parents.length === 1) return `${t.name} ← ${renderTree(t.parents[0]!)}`;
  return `${t.name} ← [${t.parents.map(renderTree).join(', ')}]`;
}

function routeDoc(m: MergedRoute, slotOf: ReadonlyMap<string, string>, display: (file: string) => string): PlanRouteDoc {
  const r: Route = m.route;
  const origin = m.origin.kind === 'provider' ? originTag(m.origin) : `bottle:${display(m.origin.file)}`;
  let dlp: PlanRouteDoc['dlp'] = null;
  if (!r.tlsPassthrough) {
    const d = effectiveDlp(r, m.origin.kind === 'provider' ? 'provider' : 'manifest');
    dlp = {
      outbound: d.outbound_detectors === 'all' ? ['token_patterns', 'known_secrets', 'entropy'] : d.outbound_detectors === false ? false : [...d.outbound_detectors],
      inbound: d.inbound_detectors === 'all' ? ['naive_injection_detection'] : d.inbound_detectors === false ? false : [...d.inbound_detectors],
      onMatch: d.outbound_on_match,
    };
  }
  return {
    host: r.host,
    port: r.port ?? null,
    origin,
    auth: r.auth
      ? { scheme: r.auth.scheme, tokenRef: r.auth.tokenRef, slot: slotOf.get(r.auth.tokenRef) ?? '', ...(r.auth.header !== undefined ? { header: r.auth.header } : {}) }
      : null,
    tlsPassthrough: r.tlsPassthrough,
    gitFetch: r.git.fetch,
    matches: r.matches
      ? r.matches.map((x) => ({
          ...(x.paths ? { paths: x.paths.map((p) => ({ type: p.type, value: p.value })) } : {}),
          ...(x.methods ? { methods: [...x.methods] } : {}),
          ...(x.headers ? { headers: x.headers.map((h) => ({ name: h.name, type: h.type, value: h.value })) } : {}),
        }))
      : null,
    dlp,
    allowPrivateCidrs: [...r.allowPrivateCidrs],
  };
}

export interface PlanDocumentInput {
  readonly slug: string;
  readonly slugTentative: boolean;
  readonly agent: Agent;
  readonly selected: SelectedBottles;
  readonly identity: GitIdentity;
  readonly template: string;
  readonly image: { tag: string; dockerfile: string | null; source: ImageSource };
  readonly providerNotes: readonly string[];
  readonly routes: readonly MergedRoute[];
  readonly dropped: readonly DroppedRoute[];
  readonly slotOf: ReadonlyMap<string, string>;
  readonly gitGateSlots: Readonly<Record<string, string>>;
  readonly manifestEnv: readonly EnvEntry[];
  /** Provider guestEnv names minus hiddenEnvNames. */
  readonly providerEnvNames: readonly string[];
  readonly workspace: { guestPath: string; hostPath: string } | null;
  readonly backend: { name: string; runtime: string | null };
  readonly mcp: SuperviseMcp;
  readonly superviseAvailable: boolean;
  readonly imageBuild: Availability;
  readonly credentials: readonly PlanCredential[];
  readonly headless: boolean;
  readonly label: string;
  readonly color: string;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  /** `~`/relative display of absolute files. */
  display(file: string): string;
}

function repoDoc(r: GitGateRepo, slotByRef: ReadonlyMap<string, string>): PlanDocument['gitGate'][number] {
  return {
    name: r.name,
    url: r.url,
    kind: r.kind,
    host: r.host,
    port: r.port,
    key: r.key ? r.key.provider : null,
    hostKeyPinned: r.hostKeys.length > 0,
    tokenRef: r.tokenRef ?? null,
    slot: r.tokenRef ? (slotByRef.get(r.tokenRef) ?? null) : null,
    readOnly: r.readOnly,
  };
}

function availability(available: boolean): Availability {
  return { available, note: available ? null : NOT_AVAILABLE };
}

export function buildPlanDocument(i: PlanDocumentInput): PlanDocument {
  const gateSlotByRef = new Map(Object.entries(i.gitGateSlots).map(([slot, ref]) => [ref, slot] as const));
  const providerEnv = i.providerEnvNames.filter((n) => !i.manifestEnv.some((e) => e.name === n));
  const firstLine = i.agent.prompt.split('\n').find((l) => l.trim() !== '') ?? null;
  return {
    schema: 'bot-bottle/plan@1',
    slug: i.slug,
    slugTentative: i.slugTentative,
    agent: {
      name: i.agent.name,
      origin: i.agent.origin,
      source: i.display(i.agent.file),
      skills: [...i.agent.skills],
      promptChars: i.agent.prompt.length,
      promptFirstLine: firstLine,
    },
    provider: {
      template: i.template,
      image: i.image.tag,
      dockerfile: i.image.source === 'bundled' ? null : i.image.dockerfile,
      imageSource: i.image.source,
      imageBuild: { ...i.imageBuild },
      notes: [...i.providerNotes],
    },
    bottles: i.selected.trees.map((t) => ({ name: t.name, source: i.display(i.selected.sources[t.name] ?? ''), extends: t.parents.map((p) => p.name) })),
    bottleTrees: i.selected.trees.map(renderTree),
    gitIdentity: {
      name: i.identity.name ? { value: i.identity.name.value, from: i.identity.name.from } : null,
      email: i.identity.email ? { value: i.identity.email.value, from: i.identity.email.from } : null,
    },
    gitGate: i.selected.config.gitGate.repos.map((r) => repoDoc(r, gateSlotByRef)),
    egress: {
      log: i.selected.config.egress.log,
      routes: i.routes.map((m) => routeDoc(m, i.slotOf, i.display)),
      dropped: i.dropped.map((d) => ({ host: d.host, origin: d.origin.kind === 'provider' ? originTag(d.origin) : `bottle:${i.display(d.origin.file)}`, reason: d.reason })),
    },
    env: [
      ...i.manifestEnv.map((e) => (e.kind === 'host' ? { name: e.name, kind: e.kind, hostVar: e.hostVar } : { name: e.name, kind: e.kind })),
      ...providerEnv.map((name) => ({ name, kind: 'provider' as const })),
    ],
    workspace: i.workspace,
    backend: i.backend,
    credentials: i.credentials.map((c) => ({ ...c })),
    supervise: { enabled: true, mcp: i.mcp, ...availability(i.superviseAvailable) },
    headless: i.headless,
    label: i.label,
    color: i.color,
    notes: [...i.notes],
    warnings: [...i.warnings],
  };
}
