/**
 * The backend-agnostic contract of the sandbox-escape suite (docs/escape-suite.md): what an attack
 * is, what it gets to work with, and what a backend adapter must provide. Attacks only ever talk to
 * these interfaces, so a new backend needs a new adapter and nothing else.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Upstream names of the stand-ins (all resolve, for the sidecars only, to the stand-in address). */
export const HOSTS = {
  api: 'api.escape.test', // allowed, credential injected, DLP on
  echo: 'echo.escape.test', // allowed with `matches` (prefix /api/), credential injected, reflects headers
  git: 'git.escape.test', // the git upstream behind the gate; no egress route
  meta: 'meta.escape.test', // routed, but resolves to the cloud metadata address
  priv: 'private.escape.test', // routed, but resolves to a private address the route does not allow
  none: 'noroute.escape.test', // no route at all
} as const;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  sandboxError?: string;
}

export interface SeenRequest {
  host: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface StandIns {
  /** Where the stand-ins listen (port 443); the adapter makes the sidecars resolve HOSTS there. */
  address: string;
  caFile: string;
  /** Every decrypted byte any stand-in received (latin1). */
  received(): string;
  requests: SeenRequest[];
  /** Refs of the upstream bare repo. */
  headRefs(): Record<string, string>;
  close(): Promise<void>;
}

/** What the suite plants and expects; the adapter turns it into a bottle. */
export interface Fixture {
  /** The token_ref value egress injects as `Bearer` on the api and echo routes. */
  secret: string;
  canary: string;
  /** F4: an agent env var literally named `S`, and a hostile PATH. */
  envS: string;
  hostilePath: string;
  /** Routes file (YAML) and git-gate config (YAML), backend-independent. */
  routesYaml(slug: string): string;
  gateConfigYaml: string;
  /** name → address the sidecars must resolve (EGRESS_RESOLVE / GIT_GATE_RESOLVE). */
  resolve: Record<string, string>;
  upstreamCaFile: string;
}

/** One running bottle as seen by the suite. */
export interface BottleHandle {
  readonly slug: string;
  /** Run argv inside the agent runtime, as the agent. */
  exec(argv: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** The address the agent reaches its sidecars at (what `egress`/`git-gate` resolve to inside). */
  readonly sidecarHost: string;
  readonly ports: { readonly egress: number; readonly gitGate: number; readonly supervise: number };
}

export interface ProcInfo {
  pid: number;
  uid: number;
  capEff: string;
  argv: string;
  rssKb: number;
  name: string;
}

/** Host-side probes the outside attacks need; every backend implements them its own way. */
export interface HostProbes {
  /** Run argv on the host as another local uid (65534). */
  asOtherUid(argv: readonly string[]): Promise<ExecResult>;
  /** Run argv from a "container"/LAN neighbour: a network namespace with its own veth to the host. */
  fromNeighbour(argv: readonly string[]): Promise<ExecResult>;
  /** The host's address as the neighbour sees it (for the neighbour's positive control). */
  neighbourGateway(): Promise<string>;
  /** A second bottle (launched once, lazily; closed with the first). */
  secondBottle(): Promise<BottleHandle>;
  /** Every process of this bottle's sidecar tree (supervisor, daemons, their children). */
  sidecarProcesses(): ProcInfo[];
  /** argv (NUL → space) of every host process right now. */
  hostArgv(): string[];
  /** Addresses of the host other than the sidecar address, as targets from inside the bottle. */
  otherHostAddresses(): string[];
  /** Text of egress's audit log (JSON lines; '' when none yet). */
  egressAudit(): string;
  /** Host path of the routes file egress reads, and of the CA private key. */
  routesFile(): string;
  caKeyFile(): string;
  /** Start a process on the host as the agent's host uid (outside the sandbox); returns its pid. */
  spawnOutsideAsAgentUid(): Promise<{ pid: number; alive(): boolean; kill(): void }>;
  /** The cgroup memory limit of the sidecars in bytes, or null when none is applied. */
  sidecarMemoryLimit(): number | null;
}

/** What is left on the host after close (must be empty). */
export interface AfterClose {
  leftovers(): Promise<string[]>;
  /** Resources `bot-bottle cleanup --dry-run --json` reports for this bottle. */
  cleanupDryRun(): Promise<string[]>;
  /** Processes still running as any uid the sidecars used (when not root), or under the state dir. */
  strayProcesses(): string[];
}

export interface LaunchedBottle extends BottleHandle {
  readonly probes: HostProbes;
  close(): Promise<AfterClose>;
}

export interface EscapeAdapter {
  readonly name: string;
  /** null when it can run here; else the printed reason for skipping. */
  unavailable(): string | null;
  launch(fixture: Fixture): Promise<LaunchedBottle>;
}

/** Context handed to each attack. */
export interface AttackContext {
  readonly fixture: Fixture;
  readonly bottle: BottleHandle;
  readonly probes: HostProbes;
  readonly upstreams: StandIns;
  /** exec `/bin/sh -c script` inside the bottle. */
  sh(script: string, timeoutMs?: number): Promise<ExecResult>;
  /** Set after close (phase 'after-close' only). */
  readonly after: AfterClose | null;
  /** The promise `start` of attack `id` returned (undefined when it has none). */
  started(id: string): Promise<unknown> | undefined;
  /** Processes seen in the sidecar tree while the bottle ran (for after-close checks). */
  readonly seenSidecarUids: Set<number>;
}

export interface Outcome {
  observed: string;
  pass: boolean;
}

export interface Attack {
  id: string;
  title: string;
  expected: string;
  /** 'live' (default) runs while the bottle is up; 'after-close' after teardown. */
  phase?: 'live' | 'after-close';
  /** Runs alone (not in a concurrent batch): it loads the sidecars or measures them. */
  exclusive?: boolean;
  /** Started before the live phase (e.g. a slow client that must outlast egress's header timeout); its result is `ctx.started(id)`. */
  start?(ctx: AttackContext): Promise<unknown>;
  run(ctx: AttackContext): Promise<Outcome>;
}

export interface AttackResult {
  id: string;
  title: string;
  expected: string;
  observed: string;
  pass: boolean;
}

export interface SuiteResult {
  backend: string;
  results: AttackResult[];
  /** Which marker (if any) a stand-in received. */
  upstreamLeaks: string[];
}
