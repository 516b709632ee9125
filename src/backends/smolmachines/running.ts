/**
 * A launched smolmachines bottle: every exec is `smolvm machine exec` with the agent's whole env
 * re-passed (the machine record never holds it), as `node` through `runuser`; close() runs the
 * launch's undo steps in reverse (stop and delete the VM, stop the sidecars, release the alias).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { BottleError } from '../../errors.js';
import { GUEST_HOME, GUEST_USER, type BottlePlan } from '../../plan/bottle-plan.js';
import type { ExecResult, RunningBottle } from '../backend.js';
import { firstLine, type CommandRunner } from '../command-runner.js';
import type { UndoStack } from '../undo-stack.js';
import { machineExecArgv, type Argv } from './argv.js';
import { guestEnv } from './guest.js';

export interface SmolBottleParts {
  plan: BottlePlan;
  run: CommandRunner;
  machine: string;
  alias: string;
  sidecarLog: string;
  undo: UndoStack;
}

/** `user` as the RunningBottle caller names it → runuser's user, or null for the guest's root. */
function execUser(user: string | undefined): string | null {
  if (user === undefined || user === GUEST_USER) return GUEST_USER;
  if (user === 'root') return null;
  throw new BottleError('INTERNAL', `smolmachines runs commands as ${GUEST_USER} or root; cannot exec as "${user}"`);
}

export class SmolBottle implements RunningBottle {
  readonly slug: string;
  readonly alias: string;
  readonly machine: string;
  private readonly agentLog: string[] = [];
  private closing: Promise<void> | null = null;

  constructor(private readonly parts: SmolBottleParts) {
    this.slug = parts.plan.slug;
    this.alias = parts.alias;
    this.machine = parts.machine;
  }

  /** The argv of one exec (also what attach spawns). */
  execArgv(argv: readonly string[], opts: { user?: string; env?: Record<string, string>; cwd?: string; interactive?: boolean; tty?: boolean } = {}): Argv {
    return machineExecArgv(this.machine, argv, {
      user: execUser(opts.user),
      env: guestEnv(this.parts.plan.agent.env, this.alias, opts.env),
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

  /**
   * A host file or tree to a path under the guest home: a tar made on the host (into a private
   * temp file), unpacked INSIDE the guest as the agent user, so nothing the agent planted in its
   * home can redirect a root-side write.
   */
  async copyIn(hostPath: string, guestPath: string): Promise<void> {
    this.live();
    const norm = posix.normalize(guestPath);
    if (!norm.startsWith(`${GUEST_HOME}/`)) throw new BottleError('INTERNAL', `smolmachines copyIn target must be under ${GUEST_HOME} (got ${guestPath})`);
    const tmp = mkdtempSync(join(tmpdir(), 'bb-smol-copy-'));
    try {
      const tarFile = join(tmp, 'in.tar');
      const name = basename(hostPath);
      const destName = posix.basename(norm);
      // Plain `tar -cf` (BSD and GNU tar agree on it); the rename to the target name happens in
      // the guest, after extraction.
      const t = await this.parts.run('tar', ['-C', dirname(hostPath), '-cf', tarFile, name], { env: { PATH: '/usr/bin:/bin' } });
      if (t.code !== 0) throw new BottleError('LAUNCH_FAILED', `packing ${hostPath} for the bottle failed: ${firstLine(t)}`);
      const a = this.execArgv(['/bin/sh', '-c', COPY_IN_SCRIPT, 'copy-in', posix.dirname(norm), name, destName], { interactive: true });
      const r = await this.parts.run(a.command, a.args, { input: readFileSync(tarFile) });
      this.agentLog.push(`${new Date().toISOString()} copy-in exited ${r.code}`);
      if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `copying ${hostPath} into the bottle at ${guestPath} failed: ${firstLine(r)}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
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
      const failed = await this.parts.undo.run();
      if (failed.length > 0) throw new BottleError('TEARDOWN_FAILED', `teardown of ${this.slug} could not remove: ${failed.join(', ')}`, { fix: 'run "bot-bottle cleanup"' });
    })();
    return this.closing;
  }
}

/** $1 target dir, $2 the name in the tar, $3 the name it must have. */
const COPY_IN_SCRIPT = 'mkdir -p "$1" && tar -xf - -C "$1" --no-same-owner && if [ "$2" != "$3" ]; then rm -rf "$1/$3" && mv "$1/$2" "$1/$3"; fi';
