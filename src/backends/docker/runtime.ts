/**
 * Which OCI runtime the agent container gets (docs/decisions/docker-runsc.md). gVisor (`runsc`)
 * puts a user-space kernel between the agent and the host's; it is used automatically when the
 * engine has it registered, and BOT_BOTTLE_DOCKER_RUNTIME requires (`runsc`) or refuses (`runc`)
 * it. A registered runsc that fails to start a container is a clear failure when required, and
 * in automatic mode a warning, a fallback to the engine's default runtime, and a note (per engine)
 * so later launches do not pay for the failed attempt again. Pure except the note file helpers.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';

export type RuntimeMode = 'auto' | 'runsc' | 'runc';

export function runtimeMode(env: NodeJS.ProcessEnv = process.env): RuntimeMode {
  const v = env.BOT_BOTTLE_DOCKER_RUNTIME ?? 'auto';
  if (v === 'auto' || v === 'runsc' || v === 'runc') return v;
  throw new BottleError('USAGE', `BOT_BOTTLE_DOCKER_RUNTIME must be auto, runsc or runc (got "${v}")`, { fix: 'unset it for automatic selection' });
}

export interface RuntimeChoice {
  /** `--runtime` value, or null for the engine's default (runc). */
  runtime: string | null;
  warning: string | null;
}

export function chooseRuntime(mode: RuntimeMode, registered: readonly string[], brokenNote: string | null): RuntimeChoice {
  const has = registered.includes('runsc');
  if (mode === 'runc') return { runtime: null, warning: null };
  if (mode === 'runsc') {
    if (!has) {
      throw new BottleError('BACKEND_UNAVAILABLE', 'gVisor is required (BOT_BOTTLE_DOCKER_RUNTIME=runsc) but the docker engine has no "runsc" runtime registered', {
        fix: 'install runsc and register it (dockerd --add-runtime runsc=/usr/bin/runsc, or "runtimes" in daemon.json), or unset BOT_BOTTLE_DOCKER_RUNTIME',
      });
    }
    return { runtime: 'runsc', warning: null };
  }
  if (!has) return { runtime: null, warning: null };
  if (brokenNote !== null) return { runtime: null, warning: `gVisor (runsc) is registered but failed on this engine earlier (${brokenNote}); using runc` };
  return { runtime: 'runsc', warning: null };
}

/**
 * The fix for a runsc failure. gVisor releases before 2023 decide "root network namespace" by
 * /proc/sys/net/core/rmem_default existing, which newer kernels (6.x) have in every namespace, so
 * every networked container fails; `--network=host` makes runsc use the container's own
 * namespace as it is (docs/decisions/docker-runsc.md).
 */
export function runscFix(error: string): string {
  if (/cannot run with network enabled in root network namespace/i.test(error)) {
    return 'this runsc misreads network namespaces on this kernel: upgrade gVisor, or register it with "runtimeArgs": ["--network=host"] in the engine\'s daemon.json (docs/decisions/docker-runsc.md)';
  }
  return 'check "runsc" on the engine host (its logs under the engine\'s exec root)';
}

/** True when `docker run` failed in the runtime itself (not the image or the command). */
export function isRuntimeFailure(stderr: string): boolean {
  return /OCI runtime (create|start) failed|runsc|unknown or invalid runtime name/i.test(stderr);
}

/** The per-engine note of a failed runsc (delete it to retry gVisor in auto mode). */
export function brokenNotePath(engineId: string): string {
  return join(tmpdir(), `bot-bottle-runsc-broken-${engineId.replace(/[^A-Za-z0-9]/g, '').slice(0, 64)}`);
}

export function readBrokenNote(engineId: string): string | null {
  try {
    return readFileSync(brokenNotePath(engineId), 'utf8').trim().slice(0, 300) || 'unknown error';
  } catch {
    return null;
  }
}

export function writeBrokenNote(engineId: string, error: string): void {
  try {
    writeFileSync(brokenNotePath(engineId), `${error.trim().split('\n')[0] ?? ''}\n`, { mode: 0o644 });
  } catch {
    // only an optimisation
  }
}

export function clearBrokenNote(engineId: string): void {
  rmSync(brokenNotePath(engineId), { force: true });
}
