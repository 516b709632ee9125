/**
 * A launched bottle of a CLI-driven backend (smolmachines: `smolvm machine exec`; macos-container:
 * `container exec`): every exec re-passes the agent's whole env (the VM or container record never
 * holds it; it holds no token value either), as `node`; close() runs the launch's undo steps in
 * reverse.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BottleError } from '../errors.js';
import { GUEST_USER, type BottlePlan } from '../plan/bottle-plan.js';
import type { ExecResult, RunningBottle } from './backend.js';
import type { Argv, CommandRunner } from './command-runner.js';
import { copyInViaExec } from './copy-in.js';
import { guestEnv } from './guest-env.js';
import type { UndoStack } from './undo-stack.js';

/** How one command runs in the guest: user null = the guest's root. */
export interface GuestExecShape {
  readonly user: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly interactive?: boolean;
  readonly tty?: boolean;
}

export interface CliBottleParts {
  plan: BottlePlan;
  run: CommandRunner;
  /** The backend's name, for errors. */
  backend: string;
  /** The VM or container commands run in. */
  target: string;
  /** Where the guest reaches its sidecars (proxy URLs are rewritten to it). */
  sidecarAddr: string;
  guestExec(target: string, argv: readonly string[], shape: GuestExecShape): Argv;
  sidecarLog: string;
  undo: UndoStack;
}

/** `user` as the RunningBottle caller names it → runuser's user, or null for the guest's root. */
function execUser(backend: string, user: string | undefined): string | null {
  if (user === undefined || user === GUEST_USER) return GUEST_USER;
  if (user === 'root') return null;
  throw new BottleError('INTERNAL', `${backend} runs commands as ${GUEST_USER} or root; cannot exec as "${user}"`);
}

export class CliBottle implements RunningBottle {
  readonly slug: string;
  readonly sidecarAddr: string;
  readonly target: string;
  private readonly agentLog: string[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly parts: CliBottleParts) {
    this.slug = parts.plan.slug;
    this.sidecarAddr = parts.sidecarAddr;
    this.target = parts.target;
  }

  /** The argv of one exec (also what attach spawns). */
  execArgv(argv: readonly string[], opts: { user?: string; env?: Record<string, string>; cwd?: string; interactive?: boolean; tty?: boolean } = {}): Argv {
    return this.parts.guestExec(this.target, argv, {
      user: execUser(this.parts.backend, opts.user),
      env: guestEnv(this.parts.plan.agent.env, this.sidecarAddr, opts.env),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.interactive ? { interactive: true } : {}),
      ...(opts.tty ? { tty: true } : {}),
    });
  }

  private live(): void {
    if (this.closing) throw new BottleError('INTERNAL', `bottle ${this.slug} is closed`);
  }

  async exec(argv: readonly string[], opts: { user?: string; env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<ExecResult> {
    this.live();
    const a = this.execArgv(argv, { ...opts, interactive: opts.stdin !== undefined });
    const r = await this.parts.run(a.command, a.args, opts.stdin !== undefined ? { input: opts.stdin } : {});
    this.agentLog.push(`${new Date().toISOString()} ${basename(argv[0] ?? '?')} exited ${r.code}`);
    return r;
  }

  attach(argv: readonly string[], opts: { tty: boolean; onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void }): Promise<number> {
    this.live();
    const a = this.execArgv(argv, { cwd: this.parts.plan.workdir, interactive: opts.tty, tty: opts.tty, ...(opts.tty && process.env.TERM ? { env: { TERM: process.env.TERM } } : {}) });
    const child = spawn(a.command, [...a.args], { stdio: opts.tty ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    if (!opts.tty) {
      const out = (stream: 'stdout' | 'stderr') => (c: Buffer) => (opts.onOutput ? opts.onOutput(stream, c) : process[stream].write(c));
      child.stdout!.on('data', out('stdout'));
      child.stderr!.on('data', out('stderr'));
    }
    return new Promise((resolve) => {
      child.once('error', () => resolve(127));
      child.once('close', (code, sig) => resolve(code ?? (sig ? 128 + 1 : 1)));
    });
  }

  async copyIn(hostPath: string, guestPath: string): Promise<void> {
    this.live();
    const code = await copyInViaExec(this.parts.run, hostPath, guestPath, (argv) => this.execArgv(argv, { interactive: true }));
    this.agentLog.push(`${new Date().toISOString()} copy-in exited ${code}`);
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
      const failed = await this.parts.undo.run();
      if (failed.length > 0) throw new BottleError('TEARDOWN_FAILED', `teardown of ${this.slug} could not remove: ${failed.join(', ')}`, { fix: 'run "bot-bottle cleanup"' });
    })();
    return this.closing;
  }
}
