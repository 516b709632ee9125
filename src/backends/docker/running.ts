/**
 * A launched docker bottle: the agent container runs `sleep infinity`; every exec/attach is a
 * `docker exec` as the agent user with the plan's env (names on argv, values in the docker
 * client's environment). close() saves both containers' logs, then runs the launch's undo steps
 * in reverse (containers, firewall table, networks).
 */
import { attachedExit, signalCode } from '../attach-child.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { basename, dirname, posix } from 'node:path';
import { BottleError } from '../../errors.js';
import { GUEST_HOME, GUEST_USER, type BottlePlan } from '../../plan/bottle-plan.js';
import type { ExecResult, RunningBottle } from '../backend.js';
import type { UndoStack } from '../undo-stack.js';
import { execArgv } from './argv.js';
import type { Docker } from './engine.js';
import type { DockerNames } from './names.js';

export interface DockerBottleParts {
  plan: BottlePlan;
  docker: Docker;
  names: DockerNames;
  undo: UndoStack;
  sidecarAddr: string;
  agentAddr: string;
  runtime: string | null;
  /** The bottle CA was written into the container before it started (ca-trust.ts). */
  caTrusted: boolean;
  /** Reads the sidecar container's output so far (the live sidecar.log). */
  sidecarLog(): string;
}

/** The agent env names that would redirect or reconfigure the docker client itself. */
export function clientEnvConflicts(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env).filter((k) => k.startsWith('DOCKER_'));
}

export class DockerBottle implements RunningBottle {
  readonly slug: string;
  readonly sidecarAddr: string;
  readonly agentAddr: string;
  readonly runtime: string | null;
  readonly caTrusted: boolean;
  private closing: Promise<void> | null = null;
  /** Every docker client this bottle started that has not exited (exec, attach, copy-in). */
  private readonly clients = new Set<ChildProcess>();

  constructor(private readonly parts: DockerBottleParts) {
    this.slug = parts.plan.slug;
    this.sidecarAddr = parts.sidecarAddr;
    this.agentAddr = parts.agentAddr;
    this.runtime = parts.runtime;
    this.caTrusted = parts.caTrusted;
  }

  get containerName(): string {
    return this.parts.names.agent;
  }

  private env(extra?: Record<string, string>, tty = false): Record<string, string> {
    const env: Record<string, string> = { HOME: GUEST_HOME, USER: GUEST_USER, LOGNAME: GUEST_USER, LANG: 'C.UTF-8', ...this.parts.plan.agent.env, ...extra };
    if (tty && process.env.TERM) env.TERM = process.env.TERM;
    return env;
  }

  private args(argv: readonly string[], o: { user?: string; env?: Record<string, string>; cwd?: string; tty: boolean; stdin: boolean }): { args: string[]; env: Record<string, string> } {
    if (this.closing) throw new BottleError('INTERNAL', `bottle ${this.slug} is closed`);
    const env = this.env(o.env, o.tty);
    return {
      args: execArgv(this.parts.names.agent, argv, { user: o.user ?? GUEST_USER, cwd: o.cwd ?? GUEST_HOME, envNames: Object.keys(env), tty: o.tty, stdin: o.stdin }),
      env,
    };
  }

  /** Starts a docker client and tracks it until it exits, so close() can end one the engine left hanging. */
  private spawnClient(args: readonly string[], env: Record<string, string>, stdio: Parameters<Docker['spawn']>[1]['stdio']): ChildProcess {
    const child = this.parts.docker.spawn(args, { env, stdio });
    this.clients.add(child);
    child.once('close', () => this.clients.delete(child));
    child.once('error', () => this.clients.delete(child));
    return child;
  }

  exec(argv: readonly string[], opts: { user?: string; env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<ExecResult> {
    const { args, env } = this.args(argv, { ...opts, tty: false, stdin: true });
    const child = this.spawnClient(args, env, ['pipe', 'pipe', 'pipe']);
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(opts.stdin ?? '');
      child.once('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
      child.once('close', (code, sig) => {
        const r: ExecResult = { code: signalCode(code, sig), stdout, stderr };
        // 126/127 from the docker client itself (not the command) mean the exec never started.
        const own = /^(Error response from daemon: .*|OCI runtime exec failed: .*)$/m.exec(stderr);
        resolve(own && r.code >= 125 && !/executable file not found|no such file or directory/.test(own[1]!) ? { ...r, sandboxError: own[1]! } : r);
      });
    });
  }

  attach(argv: readonly string[], opts: { tty: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void }): Promise<number> {
    const { args, env } = this.args(argv, { cwd: this.parts.plan.workdir, tty: opts.tty, stdin: opts.tty });
    const child = this.spawnClient(args, env, opts.tty ? 'inherit' : ['ignore', 'pipe', 'pipe']);
    return attachedExit(child, opts);
  }

  /**
   * Copies a host file or tree under the guest home. Extracted INSIDE the container as the agent
   * user (never `docker cp`, which writes as root and follows links the agent may have planted).
   */
  async copyIn(hostPath: string, guestPath: string): Promise<void> {
    const norm = posix.normalize(guestPath);
    if (!norm.startsWith(`${GUEST_HOME}/`)) throw new BottleError('INTERNAL', `docker copyIn target must be under ${GUEST_HOME} (got ${guestPath})`);
    const destDir = posix.dirname(norm);
    const destName = posix.basename(norm);
    const tar = spawn('tar', ['-C', dirname(hostPath), '-cf', '-', '--transform', `s,^${escapeSed(basename(hostPath))},${escapeSed(destName)},`, '--owner=1000', '--group=1000', basename(hostPath)], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErr = '';
    tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()));
    const { args, env } = this.args(['/bin/sh', '-c', 'mkdir -p "$1" && exec tar -xf - -C "$1" --no-same-owner', 'copy-in', destDir], { tty: false, stdin: true });
    const inner = this.spawnClient(args, env, ['pipe', 'ignore', 'pipe']);
    let innerErr = '';
    inner.stderr!.on('data', (c: Buffer) => (innerErr += c.toString()));
    inner.stdin!.on('error', () => undefined);
    tar.stdout.pipe(inner.stdin!);
    const [a, b] = await Promise.all([
      new Promise<number>((r) => tar.once('close', (c) => r(c ?? 1))),
      new Promise<number>((r) => inner.once('close', (c) => r(c ?? 1))),
    ]);
    if (a !== 0 || b !== 0) {
      throw new BottleError('LAUNCH_FAILED', `copying ${hostPath} into the bottle at ${guestPath} failed: ${(tarErr || innerErr).trim().split('\n')[0] ?? ''}`);
    }
  }

  async logs(): Promise<{ sidecar: string; agent: string }> {
    const agent = await this.parts.docker.run(['logs', '--timestamps', this.parts.names.agent]);
    return { sidecar: this.parts.sidecarLog(), agent: agent.code === 0 ? agent.stdout + agent.stderr : '' };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const failed = await this.parts.undo.run();
      await this.endClients();
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `teardown of ${this.slug} could not remove: ${failed.join(', ')}`, { fix: 'run "bot-bottle cleanup"' });
      }
    })();
    return this.closing;
  }

  /**
   * The containers are gone, so every exec stream has ended; a client still running is one the
   * engine never told (seen with gVisor 2022-12: `docker exec` hangs after its container is
   * removed). It gets SIGTERM, then SIGKILL after CLIENT_GRACE_MS, so no launcher waits on it
   * forever and no process outlives the bottle.
   */
  private async endClients(): Promise<void> {
    const left = [...this.clients].filter((c) => c.exitCode === null && c.signalCode === null);
    if (left.length === 0) return;
    const gone = Promise.all(left.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('close', () => r())))));
    const wait = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
    if ((await Promise.race([gone, wait(CLIENT_GRACE_MS)])) !== 'timeout') return;
    for (const c of left) c.kill('SIGTERM');
    if ((await Promise.race([gone, wait(CLIENT_GRACE_MS)])) !== 'timeout') return;
    for (const c of left) c.kill('SIGKILL');
    await gone;
  }
}

/** How long a docker client may outlive its removed container before it is killed. */
export const CLIENT_GRACE_MS = 2000;

function escapeSed(s: string): string {
  return s.replace(/[\\,.*[\]^$]/g, (c) => `\\${c}`);
}
