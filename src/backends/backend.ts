/**
 * The one seam between the launch pipeline and an isolation technology (docs/architecture.md §2).
 * Backends never import providers, never read host credentials, never resolve tokens.
 */
import type { BottlePlan, SidecarSecrets } from '../plan/bottle-plan.js';

export type Availability = { ok: true } | { ok: false; reason: string; fix: string };

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the backend could not build the sandbox, so the command never ran: the backend's own error line. */
  sandboxError?: string;
}

export interface RunningBottle {
  readonly slug: string;
  /**
   * True when launch already installed the bottle CA as src/launch/ca-bundle.ts describes (a
   * guest home that is a host directory); provisioning then skips its sandboxed exec.
   */
  readonly caTrusted?: boolean;
  exec(argv: readonly string[], opts?: { user?: string; env?: Record<string, string>; stdin?: string; cwd?: string }): Promise<ExecResult>;
  /** Interactive (tty) or streamed session; resolves with the exit code (signal n -> 128+n). */
  attach(argv: readonly string[], opts: { tty: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void }): Promise<number>;
  copyIn(hostPath: string, guestPath: string): Promise<void>;
  logs(): Promise<{ sidecar: string; agent: string }>;
  /** Idempotent; reverse-order teardown of everything launch created. */
  close(): Promise<void>;
}

export interface ActiveBottle {
  slug: string;
  agent: string;
  label: string;
  color: string;
  backend: string;
  bottles: string[];
  sidecars: string[];
  headless: boolean;
  startedAt: string;
}

export interface CleanupPlan {
  backend: string;
  resources: Array<{ kind: string; name: string; slug: string | null }>;
}

export interface Backend {
  readonly name: string;
  /**
   * Set when the agent's CLI is the HOST's binary (netns binds the host's system directories
   * into the sandbox): the PATH the sandbox searches and the host directories it sees. `start`
   * and `resume` then refuse before creating anything when the CLI is not installed there
   * (docs/decisions/agent-cli-preflight.md). null = the backend brings its own agent runtime.
   */
  readonly agentBinaryFromHost: { readonly path: string; readonly visibleRoots: readonly string[] } | null;
  /**
   * True when the backend builds the agent image from a custom Dockerfile (per-bottle, manifest,
   * plugin). The launcher then applies an approved `capability-block` by rebuilding and resuming
   * the bottle (docs/supervise.md, "Applying approvals"); elsewhere it is recorded for later.
   */
  readonly buildsCustomImages?: boolean;
  available(): Promise<Availability>;
  /**
   * The runtime a launch would use now, for the preflight's backend line (docs/cli.md, preflight):
   * null when the backend cannot tell (not available); absent when it has only one. Throws what
   * the launch would throw (a required runtime missing).
   */
  plannedRuntime?(): Promise<{ runtime: string; warning: string | null } | null>;
  launch(plan: BottlePlan, secrets: SidecarSecrets, hooks: { onProgress(step: string): void; signal?: AbortSignal }): Promise<RunningBottle>;
  listActive(): Promise<ActiveBottle[]>;
  reloadEgress(slug: string): Promise<void>;
  commit?(slug: string): Promise<{ image?: string; homeDir?: string }>;
  cleanupPlan(liveSlugs: ReadonlySet<string>): Promise<CleanupPlan>;
  cleanup(plan: CleanupPlan): Promise<void>;
}
