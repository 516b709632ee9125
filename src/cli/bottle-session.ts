/**
 * One bottle session of `start` or `resume` (docs/cli.md): the launch lifecycle with the signal
 * handlers and the launcher's output, and — when the bottle stopped for an approved capability
 * request — the rebuild on `state/<slug>/Dockerfile` and the resume of the same slug, again until
 * the agent ends for another reason (docs/supervise.md, "Applying approvals";
 * docs/decisions/supervise-capability-rebuild.md). This process is "the launcher".
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError, EXIT } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import { CAPABILITY_RESUME_PROMPT } from '../launch/capability.js';
import { deployKeyHooks } from '../launch/deploy-keys.js';
import { rematerializeState } from '../launch/resume-state.js';
import { runLaunch, type LaunchEvent, type LaunchResult } from '../launch/run.js';
import { writePreserve } from '../launch/state-files.js';
import { resolveHome } from '../manifest/home.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import { STATE_ENTRIES, stateDirFor } from '../state/paths.js';
import { warn } from './output.js';
import { prepareResume } from './resume-plan.js';

function printEvent(e: LaunchEvent): void {
  if (e.type === 'warning') warn(e.message);
  else process.stderr.write(`bot-bottle: ${e.message}\n`);
}

/** runLaunch with SIGINT/SIGTERM/SIGHUP wired to its abort signal; Ctrl-C belongs to an interactive agent. */
async function launchOnce(prepared: PreparedLaunch, backend: Backend, o: { resume: boolean; prompt: string | undefined }): Promise<LaunchResult> {
  const controller = new AbortController();
  let interactiveSession = false;
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => (interactiveSession ? undefined : controller.abort(EXIT.sigint))],
    ['SIGTERM', () => controller.abort(EXIT.sigterm)],
    ['SIGHUP', () => controller.abort(EXIT.sighup)],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const tty = o.prompt === undefined && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);
    return await runLaunch(prepared, {
      backend,
      ...(o.resume ? { resume: true, ...deployKeyHooks(prepared, process.env, () => rematerializeState(prepared)) } : deployKeyHooks(prepared, process.env)),
      ...(o.prompt !== undefined ? { prompt: o.prompt } : { tty }),
      capabilityRestart: true,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'ready') interactiveSession = o.prompt === undefined;
        printEvent(e);
      },
      onOutput: (stream, chunk) => {
        (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
      },
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** Runs the session and every capability relaunch; returns the exit code of the last agent run. */
export async function runBottleSession(prepared: PreparedLaunch, backend: Backend, o: { resume: boolean; prompt: string | undefined }): Promise<number> {
  let result = await launchOnce(prepared, backend, o);
  const headless = o.prompt !== undefined;
  while (result.capability) result = await relaunchForCapability(result.slug, result.capability.proposalIds, headless);
  return result.exitCode;
}

/** Written to the store by the launcher only; a store that cannot open costs the audit row, not the line. */
async function auditFailure(slug: string, ids: readonly string[], error: string): Promise<void> {
  try {
    const [{ openStore }, { auditCapabilityRebuildFailed }] = await Promise.all([import('../supervise/store/index.js'), import('../supervise/host/capability-state.js')]);
    const store = openStore(resolveHome(process.env));
    try {
      auditCapabilityRebuildFailed(store, slug, ids, error);
    } finally {
      store.close();
    }
  } catch (err) {
    warn(`could not audit the failed rebuild of ${slug}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Rebuild and resume after a stop for approved capability requests: the resume plan re-reads the
 * manifests and finds `state/<slug>/Dockerfile` at the top of the image cascade; the launch builds
 * it. Interactive sessions re-attach with the resume argv, headless ones get the fixed prompt.
 * A failure leaves the state preserved (`capability-approved`), prints one line and is audited.
 */
async function relaunchForCapability(slug: string, ids: readonly string[], headless: boolean): Promise<LaunchResult> {
  const stateDir = stateDirFor(resolveHome(process.env), slug);
  // A committed snapshot would win over the Dockerfile at resume (docs/cli.md, `resume`).
  rmSync(join(stateDir, STATE_ENTRIES.committedImage), { force: true });
  process.stderr.write(`bot-bottle: rebuilding ${slug} on the approved Dockerfile and resuming it\n`);
  try {
    const { prepared, backend } = await prepareResume(slug, { headless, dryRun: false });
    if (prepared.plan.agent.image.source !== 'state-override') throw new BottleError('STATE_NOT_FOUND', `${join(stateDir, STATE_ENTRIES.dockerfile)} is gone`);
    return await launchOnce(prepared, backend, { resume: true, prompt: headless ? CAPABILITY_RESUME_PROMPT : undefined });
  } catch (err) {
    const line = err instanceof BottleError ? err.message : err instanceof Error ? err.message : String(err);
    if (existsSync(stateDir)) writePreserve(stateDir, 'capability-approved', 0);
    await auditFailure(slug, ids, line);
    process.stderr.write(
      `bot-bottle: error: rebuilding ${slug} for the approved capability request failed: ${line}; state kept — fix or remove ${join(stateDir, STATE_ENTRIES.dockerfile)}, then: bot-bottle resume ${slug}\n`,
    );
    const exitCode = err instanceof BottleError && err.code === 'ABORTED' ? err.exitCode : EXIT.error;
    return { slug, exitCode, preserved: true, reason: 'capability-approved', stateDir };
  }
}
