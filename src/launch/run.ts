/**
 * The launch lifecycle on top of a prepared plan (docs/architecture.md §4.5–§4.8):
 * launch → provision → attach → teardown, preserving state on a non-zero exit.
 * Library code: it never prints, never installs signal handlers and never exits — the caller
 * passes an AbortSignal (SIGINT/SIGTERM/SIGHUP in `start`) and subscribes to events.
 *
 * Abort before the agent runs: reverse teardown, the NEW state dir is removed (a resumed one is
 * left as it was) and the promise rejects with BottleError ABORTED. Abort while the agent runs:
 * the agent is stopped, state is preserved with reason `interrupted`, and the result's exitCode is
 * the abort reason when it is a number (143 for SIGTERM, 129 for SIGHUP), else 130.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BottleError, EXIT } from '../errors.js';
import type { BottlePlan, SidecarSecrets } from '../plan/bottle-plan.js';
import type { Backend, RunningBottle } from '../backends/backend.js';
import { materializeState } from '../plan/materialize.js';
import { STATE_ENTRIES } from '../state/paths.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import type { SuperviseStore } from '../supervise/store/types.js';
import { readStateDockerfile } from './capability.js';
import { capabilityWatch } from './capability-watch.js';
import { provision, type ProvisionStep } from './provision.js';
import { restoreTranscript, snapshotTranscript } from './transcript.js';
import { clearPreserve, readPreserveReason, removeSession, writePreserve, writeSession, type PreserveReason } from './state-files.js';

/** What runLaunch needs from the plan pipeline (src/plan/prepare.ts's PreparedLaunch fits). */
export interface LaunchInput {
  readonly plan: BottlePlan;
  readonly secrets: SidecarSecrets;
}

export type LaunchEvent =
  | { type: 'progress'; message: string; slug: string }
  | { type: 'ready'; message: string; slug: string }
  | { type: 'warning'; message: string; slug: string }
  | { type: 'finished'; message: string; slug: string; preserved: boolean; exitCode: number };

export interface LaunchOptions {
  readonly backend: Backend;
  /** Headless: run headlessArgv with this prompt, stdin closed, output streamed. */
  readonly prompt?: string;
  /** Interactive: attach with the terminal (ignored when `prompt` is given). */
  readonly tty?: boolean;
  /** Relaunch of a preserved bottle: resume argv; the state dir survives a failed launch. */
  readonly resume?: boolean;
  readonly signal?: AbortSignal;
  onEvent?(event: LaunchEvent): void;
  onOutput?(stream: 'stdout' | 'stderr', chunk: Uint8Array): void;
  /**
   * Writes `state/<slug>/` (metadata, CA, routes file, git-gate config, deploy keys). Called first
   * so a failure or abort at any later step removes it. Default: materializeState(input) when the
   * input is a full plan-pipeline PreparedLaunch and this is not a resume; else nothing (the
   * caller materialised the state dir).
   */
  readonly materialize?: () => Promise<unknown>;
  /** Revokes provisioned deploy keys at teardown; a rejection preserves the state (`revoke-failed`). */
  readonly revoke?: () => Promise<void>;
  /** Keep the state dir after a clean exit too (`demo --keep`); no `.preserve` is written for it. */
  readonly keepState?: boolean;
  /**
   * The caller relaunches on an approved capability request (docs/supervise.md, "Applying
   * approvals"): on a backend that builds custom images the bottle is stopped 3 s after the
   * approval, preserved with reason `capability-approved`, and the result names the proposals.
   * Without it (or on netns) an approval stays recorded for the next resume.
   */
  readonly capabilityRestart?: boolean;
}

export interface LaunchResult {
  slug: string;
  exitCode: number;
  preserved: boolean;
  reason: PreserveReason | null;
  stateDir: string | null;
  /** Set when the bottle stopped for approved capability requests: rebuild and resume it. */
  capability?: { proposalIds: string[] };
}

const PROGRESS: Record<ProvisionStep, string> = {
  'ca-trust': 'installing the bottle CA',
  'git-config': 'configuring git',
  skills: 'copying skills',
  prompt: 'writing the prompt',
  'provider-files': 'writing provider files',
  mcp: 'registering the supervise MCP server',
  workspace: 'copying the workspace',
};

export function agentArgv(plan: BottlePlan, prompt: string | undefined, resume: boolean): string[] {
  if (prompt === undefined) return [...(resume ? plan.agent.resumeArgv : plan.agent.interactiveArgv)];
  const template = resume ? plan.agent.headlessResumeArgv : plan.agent.headlessArgv;
  return template.map((a) => a.split('{{prompt}}').join(prompt));
}

function isFullPrepared(p: LaunchInput): p is PreparedLaunch {
  return 'routesFile' in p && 'gate' in p && 'metadata' in p;
}

function abortCode(signal: AbortSignal | undefined): number {
  const r: unknown = signal?.reason;
  return typeof r === 'number' ? r : EXIT.sigint;
}

export async function runLaunch(prepared: LaunchInput, opts: LaunchOptions): Promise<LaunchResult> {
  const { plan } = prepared;
  const slug = plan.slug;
  const emit = (e: LaunchEvent) => opts.onEvent?.(e);
  const progress = (message: string) => emit({ type: 'progress', message, slug });
  const resume = opts.resume === true;
  const aborted = () => {
    if (opts.signal?.aborted) throw new BottleError('ABORTED', `launch of ${slug} interrupted`, { exitCode: abortCode(opts.signal) });
  };

  let running: RunningBottle | null = null;
  let builtFrom: string | null = null;
  // Only a state dir this launch created is removed on failure (never a resumed or a clashing one).
  let ownsState = false;
  const failBeforeAgent = async (err: unknown): Promise<never> => {
    if (running) await running.close().catch(() => undefined);
    if (ownsState || resume) {
      removeSession(plan.stateDir);
      rmSync(plan.ca.hostKeyPath, { force: true });
    }
    if (ownsState) rmSync(plan.stateDir, { recursive: true, force: true });
    if (opts.revoke) await opts.revoke().catch(() => undefined);
    if (opts.signal?.aborted) {
      // Backends throw their own ABORTED (default exit 130); the exit code is the signal's (143 for SIGTERM).
      const code = abortCode(opts.signal);
      if (err instanceof BottleError && err.code === 'ABORTED') {
        if (err.exitCode === code) throw err;
        throw new BottleError('ABORTED', err.message, { exitCode: code, ...(err.fix !== undefined ? { fix: err.fix } : {}), data: err.data });
      }
      throw new BottleError('ABORTED', `launch of ${slug} interrupted`, { exitCode: code });
    }
    throw err;
  };

  try {
    aborted();
    const materialize = opts.materialize ?? (!resume && isFullPrepared(prepared) ? () => materializeState(prepared) : undefined);
    if (materialize) {
      progress('writing state');
      await materialize();
    }
    ownsState = !resume;
    if (!existsSync(plan.stateDir)) throw new BottleError('INTERNAL', `state dir ${plan.stateDir} was not created`);
    if (resume) clearPreserve(plan.stateDir);
    // What this launch's image is built from: an approval of exactly this text is already applied
    // (a committed snapshot, when recorded, is what runs instead).
    builtFrom = plan.agent.image.source === 'state-override' && !existsSync(join(plan.stateDir, STATE_ENTRIES.committedImage)) ? readStateDockerfile(plan.stateDir) : null;
    writeSession(plan.stateDir);
    aborted();
    running = await opts.backend.launch(plan, prepared.secrets, {
      // Backends report non-fatal problems as `warning: …` progress lines.
      onProgress: (m) => (m.startsWith('warning: ') ? emit({ type: 'warning', message: m.slice(9), slug }) : progress(m)),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    aborted();
    const bottle = running;
    await provision(plan, bottle, (step) => progress(PROGRESS[step]), aborted, (message) => emit({ type: 'warning', message, slug }));
    if (resume) {
      // The conversation continues where the last teardown left it (a failure costs the history, not the launch).
      await restoreTranscript(plan, bottle).then(
        (restored) => restored && progress('restored the transcript'),
        (err: unknown) => emit({ type: 'warning', message: `transcript not restored: ${err instanceof Error ? err.message : String(err)}`, slug }),
      );
    }
    aborted();
  } catch (err) {
    return failBeforeAgent(err);
  }

  // Attach (step 9). From here on, state is preserved unless the agent exits 0.
  const bottle = running;
  emit({ type: 'ready', message: `bottle ${slug} ready`, slug });
  let exitCode: number;
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    void bottle.close().catch(() => undefined);
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const capability = capabilityWatch({
    plan,
    bottle,
    builtFrom,
    restart: opts.capabilityRestart === true && opts.backend.buildsCustomImages === true,
    beforeStop: () => keepTranscript(plan, bottle, emit),
    progress,
  });
  const stopRelay = await startSuperviseRelay(plan, (message) => emit({ type: 'warning', message, slug }), capability.onPass);
  try {
    const argv = agentArgv(plan, opts.prompt, resume);
    const headless = opts.prompt !== undefined;
    exitCode = await bottle.attach(argv, headless || opts.tty !== true ? { tty: false, ...(opts.onOutput ? { onOutput: opts.onOutput } : {}) } : { tty: true });
  } finally {
    stopRelay();
    capability.cancel();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // A stop that began as the agent ended on its own finishes before teardown.
  await capability.settled();
  if (interrupted || opts.signal?.aborted) {
    interrupted = true;
    exitCode = abortCode(opts.signal);
  }
  const ids = capability.stoppedFor();
  // Preserved runs keep the transcript (a capability stop took it before the bottle closed; an
  // interrupted one is already closing).
  const snapshot = ids === null && !interrupted && (exitCode !== 0 || readPreserveReason(plan.stateDir) !== null);
  const result = await teardown(prepared, opts, bottle, exitCode, interrupted, emit, snapshot);
  return ids !== null && result.reason === 'capability-approved' ? { ...result, capability: { proposalIds: ids } } : result;
}


/**
 * The launcher relays its bottle's supervise spool every second while the agent runs
 * (docs/supervise.md, "Spool"). Loaded lazily (the store is a native addon); a store that
 * cannot open is one warning, never a failed launch.
 */
async function startSuperviseRelay(plan: BottlePlan, warn: (message: string) => void, onPass?: (store: SuperviseStore) => void): Promise<() => void> {
  try {
    const [{ startRelay }, { openStore, storePath }] = await Promise.all([import('../supervise/host/relay.js'), import('../supervise/store/index.js')]);
    const home = dirname(dirname(plan.stateDir));
    return startRelay({
      home,
      slug: plan.slug,
      open: () => openStore(home, { onNotice: warn }),
      storeExists: () => existsSync(storePath(home)),
      onError: warn,
      ...(onPass ? { onPass } : {}),
    });
  } catch (err) {
    warn(`supervise relay not started: ${err instanceof Error ? err.message : String(err)}`);
    return () => undefined;
  }
}

/** Teardown's transcript snapshot: a failure is a warning (docs/cli.md, state directory). */
async function keepTranscript(plan: BottlePlan, bottle: RunningBottle, emit: (e: LaunchEvent) => void): Promise<void> {
  try {
    await snapshotTranscript(plan, bottle);
  } catch (err) {
    emit({ type: 'warning', message: `transcript not saved: ${err instanceof Error ? err.message : String(err)}`, slug: plan.slug });
  }
}

async function teardown(
  prepared: LaunchInput,
  opts: LaunchOptions,
  bottle: RunningBottle,
  agentExit: number,
  interrupted: boolean,
  emit: (e: LaunchEvent) => void,
  snapshot: boolean,
): Promise<LaunchResult> {
  const { plan } = prepared;
  const slug = plan.slug;
  let exitCode = agentExit;
  let teardownError: unknown = null;
  if (snapshot) await keepTranscript(plan, bottle, emit);

  // Logs first: close() may remove what they are read from.
  try {
    const logs = await bottle.logs();
    const dir = join(plan.stateDir, 'logs');
    if (existsSync(dir)) {
      writeFileSync(join(dir, 'agent.log'), logs.agent, { mode: 0o600 });
      if (!existsSync(join(dir, 'sidecar.log'))) writeFileSync(join(dir, 'sidecar.log'), logs.sidecar, { mode: 0o600 });
    }
  } catch {
    emit({ type: 'warning', message: `could not save the logs of ${slug}`, slug });
  }
  try {
    await bottle.close();
  } catch (err) {
    teardownError = err;
  }
  rmSync(plan.ca.hostKeyPath, { force: true });
  removeSession(plan.stateDir);

  let reason: PreserveReason | null = readPreserveReason(plan.stateDir);
  if (opts.revoke) {
    try {
      await opts.revoke();
    } catch (err) {
      // Loud (docs/architecture.md §4.8): each unrevoked key is named so the operator can act.
      for (const line of (err instanceof Error ? err.message : String(err)).split('\n')) emit({ type: 'warning', message: line, slug });
      reason = 'revoke-failed';
      exitCode = EXIT.error;
    }
  }
  if (reason === null && interrupted) reason = 'interrupted';
  if (reason === null && agentExit !== 0) reason = 'exit-nonzero';
  if (teardownError !== null) {
    reason ??= 'exit-nonzero';
    if (exitCode === 0) exitCode = EXIT.error;
    emit({ type: 'warning', message: teardownError instanceof BottleError ? teardownError.oneLine() : `teardown of ${slug} failed`, slug });
  }

  if (reason === null) {
    if (opts.keepState !== true) rmSync(plan.stateDir, { recursive: true, force: true });
    emit({ type: 'finished', message: `bottle ${slug} finished; state removed`, slug, preserved: false, exitCode });
    return { slug, exitCode, preserved: false, reason: null, stateDir: null };
  }
  writePreserve(plan.stateDir, reason, agentExit);
  emit({
    type: 'finished',
    message:
      reason === 'capability-approved'
        ? `bottle ${slug} stopped for an approved capability request; state kept (capability-approved)`
        : `bottle ${slug} exited with ${agentExit}; state kept — resume with: bot-bottle resume ${slug}`,
    slug,
    preserved: true,
    exitCode,
  });
  return { slug, exitCode, preserved: true, reason, stateDir: plan.stateDir };
}
