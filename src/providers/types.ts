/**
 * The agent provider contract (docs/architecture.md §4.3, step 3). A provider never launches
 * anything: it returns a ProvisionPlan — plain data — that the backend-neutral pipeline (src/plan)
 * validates and turns into a BottlePlan. Providers are consulted only while planning; backends
 * never see them.
 */
import type { AgentProviderConfig, Route } from '../manifest/types.js';

export interface ProviderHost {
  readonly home: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `null` = the file does not exist. Any other failure rejects. */
  readFile(path: string): Promise<Uint8Array | null>;
}

export interface ProviderContext {
  readonly slug: string;
  readonly label: string;
  readonly color: string | null;
  readonly headless: boolean;
  readonly guestUser: 'node';
  readonly guestHome: '/home/node';
  /** '/home/node/workspace' with --cwd, else guestHome. */
  readonly workdir: string;
  readonly agent: { readonly name: string; readonly prompt: string; readonly skills: readonly string[] };
  /** The effective bottle's agent_provider block, unchanged. */
  readonly config: AgentProviderConfig;
  /** `superviseMcpUrl` is null in a build without the supervise daemon: register nothing then. */
  readonly endpoints: { readonly superviseMcpUrl: string | null; readonly egressProxyUrl: string };
  readonly ca: { readonly guestCertPath: string; readonly guestBundlePath: string };
  /** The only way a provider touches the host; tests substitute it. */
  readonly host: ProviderHost;
  now(): Date;
}

/** A manifest route plus `weak` (a default the bottle may replace; only without `auth`). */
export type ProviderRoute = Route & { readonly weak?: boolean };

export interface ProvisionFile {
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
}

export interface ProvisionImage {
  readonly tag: string;
  /** Absolute path of the bundled Dockerfile, or null when the provider ships none. */
  readonly dockerfile: string | null;
  readonly context: string | null;
  readonly buildArgs: Readonly<Record<string, string>>;
}

export interface ProvisionPlan {
  readonly template: string;
  readonly image: ProvisionImage;
  readonly interactiveArgv: readonly string[];
  readonly resumeArgv: readonly string[];
  /** Exactly one element is the literal `{{prompt}}`. */
  readonly headlessArgv: readonly string[];
  readonly headlessResumeArgv: readonly string[];
  readonly guestEnv: Readonly<Record<string, string>>;
  /** Subset of guestEnv keys left out of the preflight and JSON plan (placeholders). */
  readonly hiddenEnvNames: readonly string[];
  readonly files: readonly ProvisionFile[];
  readonly skillsDir: string;
  readonly transcriptPaths: readonly string[];
  readonly mcpRegisterArgv: readonly string[] | null;
  readonly egressRoutes: readonly ProviderRoute[];
  /** Host-side credentials keyed by a synthetic reference. Never in the guest, on disk, argv or output. */
  readonly provisionedEnv: Readonly<Record<string, string>>;
  readonly notes: readonly string[];
}

export interface AgentProvider {
  readonly apiVersion: 1;
  readonly name: string;
  validateSettings?(settings: Readonly<Record<string, unknown>>): void;
  plan(ctx: ProviderContext): Promise<ProvisionPlan>;
}

/** The literal argv placeholder replaced by the headless prompt (one argv element, no shell). */
export const PROMPT_PLACEHOLDER = '{{prompt}}';

/** The placeholder credential value agents see where their CLI insists on one. */
export const EGRESS_PLACEHOLDER = 'egress-placeholder';
