/**
 * A launched netns bottle. Every exec/attach is a fresh bwrap sandbox in the bottle's network
 * namespace sharing its home (sandbox-argv.ts); close() kills every process in the namespace
 * first, then runs the launch's undo steps in reverse.
 */
import { attachedExit, signalCode } from '../attach-child.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, posix } from 'node:path';
import { Writable } from 'node:stream';
import { BottleError } from '../../errors.js';
import { GUEST_HOME, GUEST_USER, type BottlePlan } from '../../plan/bottle-plan.js';
import type { ExecResult, RunningBottle } from '../backend.js';
import { HELPER_ENV } from '../run-command.js';
import type { UndoStack } from '../undo-stack.js';
import { ARGS_FD, SECCOMP_FD, sandboxArgv, type SystemEntry } from './sandbox-argv.js';
import { sandboxFailure } from './sandbox-failure.js';
import { seccompFilterFor } from './seccomp.js';
import type { NetnsTools } from './tools.js';

/** The agent's PATH inside the sandbox (also where `doctor` looks for agent CLIs). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface NetnsBottleParts {
  plan: BottlePlan;
  tools: NetnsTools;
  netns: string;
  homeDir: string;
  etcDir: string;
  /** The bottle CA was written into the guest home at launch (RunningBottle.caTrusted). */
  caTrusted: boolean;
  system: readonly SystemEntry[];
  sidecarLog: string;
  cgroupProcs: readonly string[];
  hostAddr: string;
  guestAddr: string;
  undo: UndoStack;
  killNamespace(): Promise<void>;
}

export class NetnsBottle implements RunningBottle {
  readonly slug: string;
  readonly caTrusted: boolean;
  readonly hostAddr: string;
  readonly guestAddr: string;
  private readonly children = new Set<ChildProcess>();
  private readonly agentLog: string[] = [];
  private closing: Promise<void> | null = null;
  /** Built at launch: a host architecture without a filter fails the launch (fail closed). */
  private readonly seccomp: Uint8Array;

  constructor(private readonly parts: NetnsBottleParts) {
    this.seccomp = seccompFilterFor(process.arch);
    this.slug = parts.plan.slug;
    this.caTrusted = parts.caTrusted;
    this.hostAddr = parts.hostAddr;
    this.guestAddr = parts.guestAddr;
  }

  private env(extra?: Record<string, string>, tty = false): Record<string, string> {
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH, HOME: GUEST_HOME, USER: GUEST_USER, LOGNAME: GUEST_USER, SHELL: '/bin/sh', LANG: 'C.UTF-8',
      ...this.parts.plan.agent.env,
      ...extra,
    };
    if (tty && process.env.TERM) env.TERM = process.env.TERM;
    return env;
  }

  private spawnIn(argv: readonly string[], opts: { env?: Record<string, string>; cwd?: string; tty?: boolean; stdin: 'pipe' | 'ignore' | 'inherit' }): ChildProcess {
    if (this.closing) throw new BottleError('INTERNAL', `bottle ${this.slug} is closed`);
    const tty = opts.tty === true;
    const launch = sandboxArgv({
      tools: this.parts.tools,
      netns: this.parts.netns,
      homeDir: this.parts.homeDir,
      etcDir: this.parts.etcDir,
      system: this.parts.system,
      cgroupProcs: this.parts.cgroupProcs,
      cwd: opts.cwd ?? GUEST_HOME,
      env: this.env(opts.env, tty),
      seccomp: this.seccomp,
      argv,
    });
    // The helpers get HELPER_ENV only; the agent's environment and bwrap's options go down the
    // extra pipes (sandbox-argv.ts), which bwrap reads to EOF and closes.
    // cwd '/': the helpers' shells export PWD, and bwrap's environment is readable from inside the
    // sandbox (/proc/<bwrap>/environ): the launcher's directory is none of the agent's business.
    const child = spawn(launch.command, launch.args, {
      env: { ...HELPER_ENV },
      cwd: '/',
      stdio: tty ? ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'] : [opts.stdin, 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    feed(child, ARGS_FD, launch.bwrapArgs);
    feed(child, SECCOMP_FD, launch.seccomp);
    this.children.add(child);
    child.once('exit', (code, sig) => {
      this.children.delete(child);
      this.agentLog.push(`${new Date().toISOString()} ${basename(argv[0] ?? '?')} exited ${signalCode(code, sig)}`);
    });
    return child;
  }

  private checkUser(user: string | undefined): void {
    if (user !== undefined && user !== GUEST_USER) {
      throw new BottleError('INTERNAL', `netns runs everything as ${GUEST_USER}; cannot exec as "${user}"`);
    }
  }

  exec(argv: readonly string[], opts: { user?: string; env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<ExecResult> {
    this.checkUser(opts.user);
    const child = this.spawnIn(argv, { env: opts.env, cwd: opts.cwd, stdin: 'pipe' });
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
        const sandboxError = sandboxFailure(r.code, stderr);
        resolve(sandboxError === null ? r : { ...r, sandboxError });
      });
    });
  }

  attach(argv: readonly string[], opts: { tty: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void }): Promise<number> {
    const child = this.spawnIn(argv, { tty: opts.tty, cwd: this.parts.plan.workdir, stdin: opts.tty ? 'inherit' : 'ignore' });
    return attachedExit(child, opts);
  }

  /**
   * Copies a host file or tree to a path under the guest home. The extraction runs INSIDE the
   * sandbox as the agent user: a root-side copy into an agent-writable tree could be redirected
   * by a symlink the agent planted (a resumed home is agent-controlled).
   */
  async copyIn(hostPath: string, guestPath: string): Promise<void> {
    const norm = posix.normalize(guestPath);
    if (!norm.startsWith(`${GUEST_HOME}/`)) {
      throw new BottleError('INTERNAL', `netns copyIn target must be under ${GUEST_HOME} (got ${guestPath})`);
    }
    const destDir = posix.dirname(norm);
    const destName = posix.basename(norm);
    const tar = spawn(this.parts.tools.tar, ['-C', dirname(hostPath), '-cf', '-', '--transform', `s,^${escapeSed(basename(hostPath))},${escapeSed(destName)},`, '--owner=1000', '--group=1000', basename(hostPath)], {
      env: { ...HELPER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tarErr = '';
    tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()));
    const inner = this.spawnIn(['/bin/sh', '-c', 'mkdir -p "$1" && exec tar -xf - -C "$1" --no-same-owner', 'copy-in', destDir], { stdin: 'pipe', cwd: GUEST_HOME });
    let innerErr = '';
    inner.stderr!.on('data', (c: Buffer) => (innerErr += c.toString()));
    inner.stdout!.resume();
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
    let sidecar = '';
    try {
      sidecar = readFileSync(this.parts.sidecarLog, 'utf8');
    } catch {
      // no log yet
    }
    return { sidecar, agent: this.agentLog.map((l) => `${l}\n`).join('') };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.children) c.kill('SIGKILL');
      await this.parts.killNamespace();
      const failed = await this.parts.undo.run();
      if (failed.length > 0) {
        throw new BottleError('TEARDOWN_FAILED', `teardown of ${this.slug} could not remove: ${failed.join(', ')}`, { fix: 'run "bot-bottle cleanup"' });
      }
    })();
    return this.closing;
  }
}

/** Writes `data` to the child's pipe at `fd` and closes it (a child that died early is not an error here). */
function feed(child: ChildProcess, fd: number, data: Uint8Array): void {
  const pipe = child.stdio[fd];
  if (!(pipe instanceof Writable)) return;
  pipe.on('error', () => undefined);
  pipe.end(data);
}

function escapeSed(s: string): string {
  return s.replace(/[\\,.*[\]^$]/g, (c) => `\\${c}`);
}
