/**
 * The backend-neutral planning step (docs/architecture.md §4.3): manifests +
 * provider → one immutable BottlePlan, the sidecar secrets, and the display/JSON document.
 *
 * NO side effects: nothing is written, created or registered here (a declined or dry-run launch
 * leaves nothing behind). It reads host files (skills, keys, the Codex login) and resolves every
 * credential ONCE, so a missing variable fails before anything exists (a dry run lists it in the
 * document instead). materializeState() is the first step that writes.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { renderGateConfig, agentGitConfig, type RenderedGateConfig } from '../gate/render.js';
import { resolveEnvEntries } from '../manifest/env-entries.js';
import { displayPath } from '../manifest/home.js';
import { checkDockerfile, checkStaticKeys, resolveSkillDirs } from '../manifest/launch-checks.js';
import { resolveIdentity } from '../manifest/loader.js';
import type { Agent, GitIdentity, SelectedBottles } from '../manifest/types.js';
import type { RoutesFile } from '../egress/routes-file-types.js';
import { resolveProvider, ALL_FIXED_SYNTHETIC_REFS } from '../providers/registry.js';
import type { ProviderContext, ProvisionPlan } from '../providers/types.js';
import { BUNDLED_DOCKER_DIR } from '../providers/paths.js';
import { allocateSlug, type RandomSource } from '../state/slug.js';
import { stateDirFor, STATE_ENTRIES } from '../state/paths.js';
import type { BottleMetadata } from '../state/metadata.js';
import { VERSION } from '../version.js';
import { buildAgentEnv, EGRESS_PROXY_URL, SUPERVISE_MCP_URL } from './agent-env.js';
import {
  GUEST_CA_BUNDLE,
  GUEST_CA_CERT,
  GUEST_HOME,
  GUEST_PROMPT_FILE,
  GUEST_WORKSPACE,
  SIDECAR_NAMES,
  type BottlePlan,
  type GuestFile,
  type SidecarSecrets,
} from './bottle-plan.js';
import { deepFreeze } from './freeze.js';
import { chooseImage } from './image.js';
import { imageBuildAvailability, SUPERVISE_AVAILABLE } from './availability.js';
import { buildPlanDocument, type PlanCredential, type PlanDocument, type SuperviseMcp } from './plan-document.js';
import { credentialStatus, resolveTokenValues, TokenResolutionError } from './resolve-token-values.js';
import { mergeRoutes, type MergedRoute } from './route-merge.js';
import { buildRoutesFile } from './routes-doc.js';
import { assignSlots } from './slots.js';
import { checkTokenExposure } from './token-exposure.js';
import { validateProvisionPlan } from './validate-provision-plan.js';

export interface PrepareOptions {
  /** BOT_BOTTLE_HOME, resolved. */
  readonly home: string;
  /** The operator's HOME: skills (`~/.claude/skills`), the Codex login, `~` in messages. */
  readonly userHome: string;
  readonly cwd: string;
  readonly copyCwd: boolean;
  readonly agent: Agent;
  readonly selected: SelectedBottles;
  readonly backend: string;
  readonly backendRuntime?: string | null;
  /** The chosen backend builds the agent image (`Backend.buildsCustomImages`). */
  readonly backendBuildsImages?: boolean;
  /** null = default (agent name). */
  readonly label: string | null;
  /** Label from the modal or `--label` without `--headless` (slug verbatim, no suffix). */
  readonly labelIsExplicit: boolean;
  /** `none` or a colour name. */
  readonly color: string;
  readonly headless: boolean;
  readonly dryRun: boolean;
  /** The host environment (process.env for the CLI). Only planning reads it, never a backend. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** Asks a `?` env entry on the controlling TTY without echo. Absent = not interactive. */
  readonly ask?: (name: string, prompt: string) => Promise<string>;
  /** An available backend reports a bottle with this slug (besides an existing state dir). */
  readonly isSlugTaken?: (slug: string) => Promise<boolean>;
  /** Use this slug (resume) instead of allocating one. */
  readonly slug?: string;
  readonly rng?: RandomSource;
  readonly now?: () => Date;
  /** Host file reads for providers; default node:fs (null when absent). */
  readonly readHostFile?: (path: string) => Promise<Uint8Array | null>;
  /** `display(file)` for messages and the document (default `~` form). */
  readonly display?: (file: string) => string;
}

/** Everything a launch needs, computed without side effects. `secrets` is not enumerable. */
export interface PreparedLaunch {
  readonly plan: BottlePlan;
  readonly document: PlanDocument;
  readonly routesFile: RoutesFile;
  readonly gate: RenderedGateConfig;
  readonly metadata: BottleMetadata;
  /** Guest files kept as host copies in state/<slug>/provider/ (contain no secrets). */
  readonly providerFiles: readonly GuestFile[];
  readonly warnings: readonly string[];
  /** Typed inputs of the document, for the text preflight (src/cli/format-bottle.ts formatters). */
  readonly view: {
    readonly agent: Agent;
    readonly selected: SelectedBottles;
    readonly identity: GitIdentity;
    readonly routes: readonly MergedRoute[];
    readonly template: string;
  };
  /** Slot values + canaries for the sidecar supervisor only. Never print, log or persist. */
  readonly secrets: SidecarSecrets;
}

async function defaultReadHostFile(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

async function pathExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function regularFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** 32 random bytes, base64url (the canary, docs/security-model.md §2.4). */
export function mintCanary(): string {
  return randomBytes(32).toString('base64url');
}

export async function preparePlan(o: PrepareOptions): Promise<PreparedLaunch> {
  const now = o.now ?? (() => new Date());
  const display = o.display ?? ((f: string) => displayPath(f, o.userHome));
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
  };

  // 1. Slug (docs/cli.md#start-in-short). Reading only: nothing is reserved until materializeState.
  const slug =
    o.slug ??
    (await allocateSlug({
      agentName: o.agent.name,
      label: o.label,
      labelIsExplicit: o.labelIsExplicit && !o.headless,
      rng: o.rng,
      isTaken: async (s) => (await pathExists(stateDirFor(o.home, s))) || ((await o.isSlugTaken?.(s)) ?? false),
    }));
  const stateDir = stateDirFor(o.home, slug);
  const label = o.label ?? o.agent.name;
  const workdir = o.copyCwd ? GUEST_WORKSPACE : GUEST_HOME;
  const cfg = o.selected.config;

  // 2. Provider (lazy plugin load) and its settings.
  const resolved = await resolveProvider(cfg.agentProvider.template, { home: o.home, cwd: o.cwd, warn });
  resolved.provider.validateSettings?.(cfg.agentProvider.settings);
  const skills = resolveSkillDirs(o.agent, o.userHome);
  checkDockerfile(cfg.agentProvider.dockerfile, o.userHome);
  checkStaticKeys(cfg.gitGate.repos, o.userHome);

  const ctx: ProviderContext = {
    slug,
    label,
    color: o.color === 'none' ? null : o.color,
    headless: o.headless,
    guestUser: 'node',
    guestHome: GUEST_HOME,
    workdir,
    agent: { name: o.agent.name, prompt: o.agent.prompt, skills: [...o.agent.skills] },
    config: cfg.agentProvider,
    endpoints: { superviseMcpUrl: SUPERVISE_AVAILABLE ? SUPERVISE_MCP_URL : null, egressProxyUrl: EGRESS_PROXY_URL },
    ca: { guestCertPath: GUEST_CA_CERT, guestBundlePath: GUEST_CA_BUNDLE },
    host: { home: o.userHome, env: o.hostEnv, readFile: o.readHostFile ?? defaultReadHostFile },
    now,
  };
  const provision: ProvisionPlan = await resolved.provider.plan(ctx);
  validateProvisionPlan({ plan: provision, template: cfg.agentProvider.template, syntheticRefs: resolved.syntheticRefs, reservedRefs: ALL_FIXED_SYNTHETIC_REFS });

  // 3. Routes: merge, slots; git-gate: rendered config with its own slots.
  const merged = mergeRoutes(provision.template, provision.egressRoutes, cfg.egress.routes);
  const egressSlots = assignSlots(
    merged.routes.map((m) => m.route.auth?.tokenRef),
    'EGRESS_TOKEN_',
  );
  const gate = renderGateConfig(cfg.gitGate.repos);
  // Host variables by name and status, for the document. A dry run reports a missing or invalid
  // one there instead of failing, so a plan can be previewed without credentials; a launch still
  // stops on it (docs/decisions/plan-dry-run-credentials.md).
  const credentials: PlanCredential[] = [];
  const noteCredential = (name: string, usedBy: PlanCredential['usedBy'], status: PlanCredential['status']): void => {
    if (!credentials.some((c) => c.name === name && c.usedBy === usedBy)) credentials.push({ name, usedBy, status });
  };
  for (const repo of cfg.gitGate.repos) {
    if (repo.key?.provider === 'gitea') {
      const ref = repo.key.provisionerToken;
      const v = o.hostEnv[ref];
      const missing = v === undefined || v === '';
      noteCredential(ref, 'git-gate', missing ? 'missing' : 'set');
      if (missing && !o.dryRun) {
        throw new TokenResolutionError('TOKEN_MISSING', `git-gate credential not set on the host: ${ref} (export it, or remove the repo that uses it)`, [ref]);
      }
    }
  }

  // 4. THE one resolution (docs/architecture.md §6): egress and git-gate slots together, provisioned
  //    credentials overriding process env for the same name. A dry run resolves only the usable
  //    ones (the exposure check below still sees every value that would reach the bottle).
  const tokenEnvMap: Record<string, string> = { ...egressSlots.tokenEnvMap, ...gate.tokenSlots };
  const hostEnv = { ...o.hostEnv, ...provision.provisionedEnv };
  for (const [slot, ref] of Object.entries(tokenEnvMap)) noteCredential(ref, slot.startsWith('EGRESS_') ? 'egress' : 'git-gate', credentialStatus(ref, hostEnv));
  const usableSlots = o.dryRun ? Object.fromEntries(Object.entries(tokenEnvMap).filter(([, ref]) => credentialStatus(ref, hostEnv) === 'set')) : tokenEnvMap;
  const resolvedTokens = resolveTokenValues(usableSlots, hostEnv);

  // 5. Manifest env. A dry run asks nothing: prompted entries are reported, not resolved, and a
  //    `${VAR}` entry whose host variable is unset is listed as missing.
  let entries = o.dryRun && !o.headless ? cfg.env.filter((e) => e.kind !== 'prompted') : cfg.env;
  for (const e of entries) if (e.kind === 'host') noteCredential(e.hostVar, 'env', o.hostEnv[e.hostVar] === undefined ? 'missing' : 'set');
  if (o.dryRun) entries = entries.filter((e) => !(e.kind === 'host' && o.hostEnv[e.hostVar] === undefined));
  const env = await resolveEnvEntries(entries, { hostEnv: o.hostEnv, headless: o.headless, ...(o.ask ? { ask: o.ask } : {}) });

  // 6. Agent env, files, exposure check.
  const canary = mintCanary();
  const agentEnv = buildAgentEnv({
    slug,
    label,
    color: o.color,
    canary,
    providerEnv: provision.guestEnv,
    providerName: provision.template,
    manifestEnv: env.values,
  });
  warnings.push(...agentEnv.warnings);
  const files: GuestFile[] = provision.files.map((f) => ({ path: f.path, content: f.content, ...(f.mode !== undefined ? { mode: f.mode } : {}) }));
  if (o.agent.prompt !== '') files.push({ path: GUEST_PROMPT_FILE, content: o.agent.prompt });
  checkTokenExposure(resolvedTokens, tokenEnvMap, { env: agentEnv.env, files, prompt: o.agent.prompt });

  // 7. Image cascade (docs/plan-json.md).
  const stateOverride = join(stateDir, STATE_ENTRIES.dockerfile);
  const image = chooseImage({
    slug,
    template: provision.template,
    providerTag: provision.image.tag,
    bundledDockerfile: provision.image.dockerfile,
    bundledContext: provision.image.context ?? (provision.image.dockerfile?.startsWith(BUNDLED_DOCKER_DIR) ? BUNDLED_DOCKER_DIR : null),
    stateOverride: (await regularFile(stateOverride)) ? stateOverride : null,
    manifestDockerfile: cfg.agentProvider.dockerfile,
    pluginDockerfile: resolved.pluginDockerfile,
    pluginDir: resolved.pluginDir,
  });

  const identity = resolveIdentity(o.agent, cfg);
  const gitUser = { ...(identity.name ? { name: identity.name.value } : {}), ...(identity.email ? { email: identity.email.value } : {}) };
  const routesFile = buildRoutesFile({ slug, log: cfg.egress.log, routes: merged.routes, slotOf: egressSlots.slotOf });

  const plan: BottlePlan = {
    schema: 'bot-bottle/bottle-plan@1',
    slug,
    label,
    color: o.color,
    agentName: o.agent.name,
    bottleNames: [...o.selected.names],
    backend: o.backend,
    headless: o.headless,
    home: o.home,
    stateDir,
    cwd: o.cwd,
    copyCwd: o.copyCwd,
    workdir,
    agent: {
      env: agentEnv.env,
      interactiveArgv: [...provision.interactiveArgv],
      resumeArgv: [...provision.resumeArgv],
      headlessArgv: [...provision.headlessArgv],
      headlessResumeArgv: [...provision.headlessResumeArgv],
      files,
      skills: skills.map((s) => ({ hostPath: s.hostPath, guestPath: `${provision.skillsDir}/${s.name}` })),
      // A build without the supervise daemon registers nothing: a server that does not run would
      // only make the agent report a broken tool (docs/decisions/supervise-daemon-available.md).
      mcpRegisterArgv: SUPERVISE_AVAILABLE && provision.mcpRegisterArgv !== null ? [...provision.mcpRegisterArgv] : null,
      transcriptPaths: [...provision.transcriptPaths],
      gitConfig: agentGitConfig(cfg.gitGate.repos, gitUser),
      image:
        image.source === 'bundled'
          ? { tag: image.tag, dockerfile: null, context: null, defaultDockerfile: image.dockerfile, source: image.source }
          : { tag: image.tag, dockerfile: image.dockerfile, context: image.context, defaultDockerfile: provision.image.dockerfile, source: image.source },
    },
    ca: {
      hostCertPath: join(stateDir, STATE_ENTRIES.caCert),
      hostKeyPath: join(stateDir, STATE_ENTRIES.caKey),
      guestCertPath: GUEST_CA_CERT,
      guestBundlePath: GUEST_CA_BUNDLE,
    },
    // A build without the supervise daemon does not start it, so no firewall port opens for it.
    sidecar: { daemons: SIDECAR_NAMES.filter((d) => SUPERVISE_AVAILABLE || d !== 'supervise'), configDir: stateDir, env: { BOT_BOTTLE_SLUG: slug } },
  };

  const hidden = new Set(provision.hiddenEnvNames);
  const mcp: SuperviseMcp = !SUPERVISE_AVAILABLE
    ? 'skipped'
    : provision.mcpRegisterArgv !== null
      ? 'registered'
      : files.some((f) => f.content.includes(SUPERVISE_MCP_URL))
        ? 'configured'
        : 'unavailable';
  const document = buildPlanDocument({
    slug,
    slugTentative: o.dryRun,
    agent: o.agent,
    selected: o.selected,
    identity,
    template: provision.template,
    image,
    providerNotes: provision.notes,
    routes: merged.routes,
    dropped: merged.dropped,
    slotOf: egressSlots.slotOf,
    gitGateSlots: gate.tokenSlots,
    manifestEnv: cfg.env,
    providerEnvNames: Object.keys(provision.guestEnv).filter((n) => !hidden.has(n)),
    workspace: o.copyCwd ? { guestPath: GUEST_WORKSPACE, hostPath: o.cwd } : null,
    backend: { name: o.backend, runtime: o.backendRuntime ?? null },
    mcp,
    superviseAvailable: SUPERVISE_AVAILABLE,
    imageBuild: imageBuildAvailability(o.backend, o.backendBuildsImages === true),
    credentials,
    headless: o.headless,
    label,
    color: o.color,
    notes: [...provision.notes, ...merged.notes, ...o.selected.notes],
    warnings,
    display,
  });

  const metadata: BottleMetadata = {
    slug,
    agentName: o.agent.name,
    bottleNames: [...o.selected.names],
    backend: o.backend,
    label,
    color: o.color,
    cwd: o.cwd,
    copyCwd: o.copyCwd,
    startedAt: now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    headless: o.headless,
    template: provision.template,
    version: VERSION,
  };

  const secrets: SidecarSecrets = Object.freeze({ ...resolvedTokens, EGRESS_TOKEN_CANARY: canary, GIT_GATE_CANARY: canary });
  const prepared = {
    plan: deepFreeze(plan),
    document,
    routesFile,
    gate,
    metadata,
    providerFiles: provision.files.map((f) => ({ ...f })),
    warnings,
    view: { agent: o.agent, selected: o.selected, identity, routes: merged.routes, template: provision.template },
  } as Omit<PreparedLaunch, 'secrets'>;
  // Not enumerable: a stray JSON.stringify / console.log of the prepared launch shows no value.
  Object.defineProperty(prepared, 'secrets', { value: secrets, enumerable: false });
  return prepared as PreparedLaunch;
}
