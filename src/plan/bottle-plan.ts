/**
 * The backend-neutral launch plan (docs/architecture.md §2). Built by src/plan from manifests and
 * providers; realised by a backend that knows nothing about either. Immutable once built.
 * Secret VALUES are never in here: they travel separately as SidecarSecrets.
 */

export const GUEST_USER = 'node';
export const GUEST_UID = 1000;
export const GUEST_HOME = '/home/node';
export const GUEST_WORKSPACE = '/home/node/workspace';
export const GUEST_CA_CERT = '/home/node/.bot-bottle-ca.pem';
export const GUEST_CA_BUNDLE = '/home/node/.bot-bottle-ca-bundle.pem';
export const GUEST_PROMPT_FILE = '/home/node/.bot-bottle-prompt.txt';
export const SIDECAR_PORTS = { egress: 9099, gitGate: 9420, supervise: 9100 } as const;
export const SIDECAR_NAMES = ['egress', 'git-gate', 'supervise'] as const;

export type DaemonName = 'egress' | 'git-gate' | 'supervise';

export interface GuestFile {
  readonly path: string; // absolute, inside GUEST_HOME
  readonly content: string;
  readonly mode?: number; // default 0o644
}

export interface BottlePlan {
  readonly schema: 'bot-bottle/bottle-plan@1';
  readonly slug: string;
  readonly label: string;
  readonly color: string;
  readonly agentName: string;
  readonly bottleNames: readonly string[];
  readonly backend: string;
  readonly headless: boolean;
  readonly home: string; // BOT_BOTTLE_HOME resolved
  readonly stateDir: string; // <home>/state/<slug>
  readonly cwd: string;
  readonly copyCwd: boolean;
  readonly workdir: string; // GUEST_WORKSPACE with copyCwd, else GUEST_HOME

  readonly agent: {
    /** Full env of the agent process: proxy + CA vars, canary, slug/label/colour, provider env, manifest env. */
    readonly env: Readonly<Record<string, string>>;
    readonly interactiveArgv: readonly string[];
    readonly resumeArgv: readonly string[];
    /** Contains the literal `{{prompt}}` exactly once. */
    readonly headlessArgv: readonly string[];
    readonly headlessResumeArgv: readonly string[];
    readonly files: readonly GuestFile[]; // provider files + prompt file
    readonly skills: ReadonlyArray<{ readonly hostPath: string; readonly guestPath: string }>;
    /** null when the provider registers no server by command, or supervise is not built in (docs/decisions/supervise-daemon-available.md). */
    readonly mcpRegisterArgv: readonly string[] | null;
    readonly transcriptPaths: readonly string[];
    /** Guest git config lines as `[key, value]` pairs, applied with `git config --global`. */
    readonly gitConfig: ReadonlyArray<readonly [string, string]>;
    /**
     * `dockerfile`: a CUSTOM Dockerfile (per-bottle override, manifest, plugin) or null for the
     * provider's stock image, which is built from `defaultDockerfile` (docs/plan-json.md).
     * Backends that cannot build images (netns) refuse a non-null `dockerfile`.
     */
    readonly image: {
      readonly tag: string;
      readonly dockerfile: string | null;
      readonly context: string | null;
      /** The provider's bundled Dockerfile (stock image); null when the provider ships none. */
      readonly defaultDockerfile?: string | null;
      readonly source?: 'bundled' | 'plugin' | 'manifest' | 'state-override';
    };
  };

  readonly ca: {
    readonly hostCertPath: string; // state/<slug>/egress/ca.pem
    readonly hostKeyPath: string; // state/<slug>/egress/ca-key.pem (never leaves the host side)
    readonly guestCertPath: typeof GUEST_CA_CERT;
    readonly guestBundlePath: typeof GUEST_CA_BUNDLE;
  };

  readonly sidecar: {
    readonly daemons: readonly DaemonName[];
    /** `--config` directory for host-process sidecars (= stateDir). */
    readonly configDir: string;
    /** Non-secret daemon settings passed through the supervisor's env (tests, demo). */
    readonly env: Readonly<Record<string, string>>;
  };
}

/** EGRESS_TOKEN_<n>, GIT_GATE_TOKEN_<n>, EGRESS_TOKEN_CANARY, GIT_GATE_CANARY -> value. */
export type SidecarSecrets = Readonly<Record<string, string>>;
