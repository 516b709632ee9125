/**
 * Runs `bot-bottle sidecar --tokens-from-stdin --config <stateDir> --listen <addr>` as a host
 * process (netns; smolmachines without Docker). Secrets go to its stdin as one JSON line and
 * nowhere else (never argv, env or a file). Its stderr (prefixed daemon output) goes to
 * state/<slug>/logs/sidecar.log live. Given cgroup.procs files, a tiny root sh joins them and then
 * execs the supervisor, so it is inside the bottle's sidecar cgroup before it parses anything and
 * every daemon and git process it starts inherits the limits
 * (docs/decisions/netns-sidecar-cgroup.md). Given a `drop`, that shell then execs the backend's
 * root prefix (netns: mount staging + `setpriv`), so the supervisor runs as an unprivileged uid
 * before it reads a byte (docs/decisions/netns-sidecar-uid.md).
 *
 * The supervisor is spawned at once but gets its secrets only when `release` resolves: it loads its
 * code while the backend still builds the firewall, and starts no daemon before that (it reads
 * stdin before anything else). A rejected or aborted release stops it without a byte written
 * (docs/decisions/launch-overlap.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import type { BottlePlan, SidecarSecrets } from '../plan/bottle-plan.js';
import { selfCommand } from '../sidecar/self-command.js';
import { VERSION } from '../version.js';

/**
 * How long a backend waits for the supervisor's `ready` line. Sidecars always run compiled
 * (self-command.ts) and are ready in about a second; 30 s leaves room for a loaded machine.
 */
export const SIDECAR_READY_TIMEOUT_MS = 30_000;

export interface HostSidecar {
  pid: number;
  /** Daemons the supervisor reported ready (a daemon this build lacks is skipped by it). */
  daemons: string[];
  child: ChildProcess;
  logPath: string;
  /** SIGTERM, wait for the supervisor's own 8 s grace, then SIGKILL the whole process group. */
  stop(): Promise<void>;
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** How to run `bot-bottle <args>`; injectable so tests can substitute a stand-in supervisor. */
export type SidecarCommand = (args: string[]) => { command: string; args: string[] };

/** Where the supervisor runs: the cgroups it joins before exec, through `sh`. */
export interface SidecarPlacement {
  /** Absolute path of the shell that joins the cgroups. */
  sh: string;
  /** `cgroup.procs` files to write the supervisor's pid into; empty = run without limits. */
  procsFiles: readonly string[];
  /** Run the supervisor as another user (netns); absent = as the launcher. */
  drop?: SidecarDrop;
}

/** How the supervisor is started as an unprivileged uid (built by the backend). */
export interface SidecarDrop {
  /** Root argv exec'd after the cgroup join; it ends by exec-ing the supervisor argv appended to it. */
  prefix: readonly string[];
  /** `--config` as the supervisor sees it. */
  configDir: string;
  /** Replaces the plan's sidecar env (host paths rewritten) and sets HOME. */
  env: Readonly<Record<string, string>>;
}

// The pid written is the shell's own, which `exec` hands to the supervisor: there is no moment in
// which the supervisor runs outside its cgroup. `set -e`: a failed join fails the launch rather
// than running the sidecars unbounded after limits were promised. Files come as separate
// arguments up to `--` (a cgroup path may contain any character but NUL).
const JOIN_SCRIPT = 'set -e; while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"';
const JOIN_NAME = 'bb-sidecar-cgroup';

/** ` (…its last log line…)`: the log may be deleted with a failed launch's state dir. */
function lastDaemonLine(logTail: string, daemon: string): string {
  const lines = logTail.split('\n').filter((l) => l.startsWith(`[${daemon}] `));
  const last = lines.at(-1)?.slice(daemon.length + 3).trim();
  return last ? `: ${last.slice(0, 300)}` : '';
}

export async function startHostSidecar(
  plan: BottlePlan,
  secrets: SidecarSecrets,
  listen: string,
  signal?: AbortSignal,
  sidecarCommand: SidecarCommand = selfCommand,
  placement?: SidecarPlacement,
  release: Promise<void> = Promise.resolve(),
): Promise<HostSidecar> {
  const logDir = join(plan.stateDir, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const logPath = join(logDir, 'sidecar.log');
  // O_NOFOLLOW: the launcher is root and never writes through a link.
  const logFd = openSync(logPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  const drop = placement?.drop;
  const supervisor = sidecarCommand([
    'sidecar', '--tokens-from-stdin', '--config', drop?.configDir ?? plan.stateDir, '--listen', listen, '--daemons', plan.sidecar.daemons.join(','),
  ]);
  const argv = [...(drop?.prefix ?? []), supervisor.command, ...supervisor.args];
  const { command, args } = placement && placement.procsFiles.length > 0
    ? { command: placement.sh, args: ['-c', JOIN_SCRIPT, JOIN_NAME, ...placement.procsFiles, '--', ...argv] }
    : { command: argv[0]!, args: argv.slice(1) };
  const env: Record<string, string> = { BOT_BOTTLE_SLUG: plan.slug };
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ'] as const) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, drop ? drop.env : plan.sidecar.env);
  // Own process group: a terminal Ctrl-C reaches the launcher only, which tears down in order.
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', logFd], detached: true });
  closeSync(logFd);
  child.stdin!.on('error', () => undefined);

  const exited = new Promise<number>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.kill('SIGTERM');
    } catch {
      // gone
    }
    const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
    if ((await Promise.race([exited, t])) === 'timeout' && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      await exited;
    }
  };

  // The secrets wait for the backend's go (its firewall exists); nothing is written otherwise.
  const released = await new Promise<{ ok: true } | { ok: false; err: unknown }>((resolve) => {
    const onAbort = () => resolve({ ok: false, err: new BottleError('ABORTED', 'launch interrupted while the sidecars were starting') });
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    release.then(
      () => resolve({ ok: true }),
      (err: unknown) => resolve({ ok: false, err }),
    ).finally(() => signal?.removeEventListener('abort', onAbort));
  });
  if (!released.ok) {
    child.stdin!.destroy();
    await stop();
    throw released.err;
  }
  child.stdin!.end(`${JSON.stringify(secrets)}\n`);

  const ready = await new Promise<{ ok: true; version: string; daemons: string[] } | { ok: false; reason: string }>((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve({ ok: false, reason: `not ready after ${SIDECAR_READY_TIMEOUT_MS / 1000}s` }), SIDECAR_READY_TIMEOUT_MS);
    const onAbort = () => resolve({ ok: false, reason: 'aborted' });
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /^ready (.*?)\s*version=(\S+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ ok: true, version: m[2]!, daemons: [...m[1]!.matchAll(/([a-z-]+)=\d+/g)].map((x) => x[1]!) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `exited with ${code}` });
    });
  });
  if (!ready.ok) {
    await stop();
    if (ready.reason === 'aborted') throw new BottleError('ABORTED', 'launch interrupted while the sidecars were starting');
    const logTail = tail(logPath);
    // Only a supervisor that exited by itself names a failing daemon; after our own timeout
    // SIGTERM every daemon "exits with 143", which says nothing.
    const daemon = ready.reason.startsWith('exited') ? /sidecar daemon (\S+) exited with (\d+)/.exec(logTail) : null;
    const own = /^bot-bottle: error: (.*)$/m.exec(logTail) ?? new RegExp(`^((?:${JOIN_NAME}|bb-sidecar-stage|setpriv|unshare|mount|chown|cp): .*)$`, 'm').exec(logTail);
    const what = daemon
      ? `sidecar daemon ${daemon[1]} exited with ${daemon[2]} at startup${lastDaemonLine(logTail, daemon[1]!)}`
      : `sidecars failed to start (${ready.reason}${own ? `: ${own[1]}` : ''})`;
    throw new BottleError('LAUNCH_FAILED', `${what} for bottle ${plan.slug}`, {
      fix: `see ${logPath}`,
      data: { logTail },
    });
  }
  if (ready.version !== VERSION) {
    await stop();
    throw new BottleError('LAUNCH_FAILED', `sidecar version ${ready.version} does not match bot-bottle ${VERSION}`, { fix: 'reinstall bot-bottle' });
  }
  child.stdout!.resume();
  return { pid: child.pid!, daemons: ready.daemons, child, logPath, stop };
}
