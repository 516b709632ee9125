/**
 * The manifest layer's output: validated, normalised, merged data. Everything downstream (plan,
 * providers, info/preflight rendering) reads these types and never the raw YAML.
 *
 * Conventions: camelCase here (snake_case stays in the files); "unset" is `undefined`, which is
 * different from an explicit empty value (docs/configuration.md §2: `null` counts as not declared).
 */

export type PathMatchType = 'exact' | 'prefix' | 'regex';
export interface PathMatch {
  readonly type: PathMatchType;
  readonly value: string;
}
export interface HeaderMatch {
  readonly name: string; // lower-cased
  readonly value: string;
  readonly type: 'exact' | 'regex';
}
/** One `matches` entry; at least one field is present. */
export interface RouteMatch {
  readonly paths?: readonly PathMatch[];
  readonly methods?: readonly string[]; // upper-cased
  readonly headers?: readonly HeaderMatch[];
}

export type AuthScheme = 'Bearer' | 'token' | 'Basic' | 'header';
export interface RouteAuth {
  readonly scheme: AuthScheme;
  /** Name of a HOST env var (or a provider's synthetic reference); never a value. */
  readonly tokenRef: string;
  /** Only with scheme `header`; lower-cased header name. */
  readonly header?: string;
}

export type OutboundDetector = 'token_patterns' | 'known_secrets' | 'entropy';
export type InboundDetector = 'naive_injection_detection';
export type OnMatch = 'block' | 'redact' | 'supervise';

/**
 * Declared DLP settings; `undefined` fields take the origin's default
 * (docs/configuration.md §3.4.3).
 */
export interface RouteDlp {
  readonly outboundDetectors?: readonly OutboundDetector[]; // [] = off
  readonly inboundDetectors?: readonly InboundDetector[]; // [] = off
  readonly outboundOnMatch?: OnMatch;
}

export interface Route {
  /** Lower-case, trailing dot dropped, punycode; IPv6 unbracketed; or `*.` + >= 2 labels. */
  readonly host: string;
  readonly port?: number;
  readonly matches?: readonly RouteMatch[];
  readonly auth?: RouteAuth;
  readonly tlsPassthrough: boolean;
  readonly git: { readonly fetch: boolean };
  readonly dlp: RouteDlp;
  readonly allowPrivateCidrs: readonly string[];
}

/** Where a route was declared; kept beside the route so deep-equality ignores it. */
export interface RouteSource {
  readonly bottle: string;
  readonly file: string;
}
export interface SourcedRoute {
  readonly route: Route;
  readonly source: RouteSource;
}

export type EnvEntry =
  | { readonly name: string; readonly kind: 'literal'; readonly value: string; readonly warnInterpolation?: boolean }
  | { readonly name: string; readonly kind: 'host'; readonly hostVar: string }
  | { readonly name: string; readonly kind: 'prompted'; readonly prompt: string };

export interface GitUser {
  readonly name?: string;
  readonly email?: string;
}

export type GitGateKey =
  | { readonly provider: 'static'; readonly path: string } // absolute, ~ expanded
  | { readonly provider: 'gitea'; readonly provisionerToken: string; readonly apiUrl: string };

export interface GitGateRepo {
  readonly name: string;
  /** Normalised: scp form becomes ssh://user@host:22/path. */
  readonly url: string;
  readonly kind: 'ssh' | 'https' | 'file';
  readonly host: string | null; // null for file://
  readonly port: number | null;
  readonly key?: GitGateKey; // ssh only
  readonly hostKeys: readonly string[]; // ssh only; pinned "<type> <base64> [comment]"
  readonly tokenRef?: string; // https only
  readonly readOnly: boolean;
  readonly protectedRefs: readonly string[];
  readonly allowForcePush: boolean;
  readonly allowDelete: boolean;
  /** `allow_non_commit_refs`: pushed refs may point at trees/blobs (default false; docs/configuration.md §3.5). */
  readonly allowNonCommitRefs?: boolean;
}

export interface AgentProviderConfig {
  readonly template: string;
  /** Absolute path, or null for the provider default. */
  readonly dockerfile: string | null;
  readonly authToken: string | null;
  readonly forwardHostCredentials: boolean;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** The merged content of one or more bottles (after extends / selection fold). */
export interface BottleConfig {
  readonly env: readonly EnvEntry[]; // declaration order, unique names
  readonly egress: { readonly routes: readonly SourcedRoute[]; readonly log: 0 | 1 | 2 };
  readonly gitGate: {
    readonly user: GitUser & { readonly sources?: { readonly name?: string; readonly email?: string } };
    readonly repos: readonly GitGateRepo[];
  };
  readonly agentProvider: AgentProviderConfig;
}

/** Display tree of a bottle and its parents (`a ← [b ← base, c]`). */
export interface ExtendsTree {
  readonly name: string;
  readonly parents: readonly ExtendsTree[];
}

export interface SelectedBottles {
  readonly names: readonly string[]; // selection order
  readonly trees: readonly ExtendsTree[];
  readonly sources: Readonly<Record<string, string>>; // bottle name -> file (every loaded bottle)
  readonly config: BottleConfig;
  /** Merge notes for the preflight (e.g. agent_provider overridden). */
  readonly notes: readonly string[];
}

export interface Agent {
  readonly name: string;
  readonly origin: 'home' | 'repo';
  readonly file: string;
  readonly description: string | null;
  readonly prompt: string; // trimmed body; '' = none
  readonly skills: readonly string[];
  readonly bottles: readonly string[]; // default selection, [] = none
  readonly gitUser: GitUser;
}

export type Provenance = 'agent' | 'bottle';
export interface IdentityField {
  readonly value: string;
  readonly from: Provenance;
  readonly file: string;
}
export interface GitIdentity {
  readonly name?: IdentityField;
  readonly email?: IdentityField;
}
