/**
 * The sidecar bundle supervisor (docs/architecture.md §7): one child process per daemon, each with
 * its own allowlisted env; readiness when every daemon has written `listening` on its lifeline
 * (lifeline.ts; docs/decisions/launch-readiness.md); signal forwarding with a grace period.
 * Library code: it never prints — the CLI subscribes to its events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import type { DaemonName } from '../plan/bottle-plan.js';
import { listenTarget } from './daemons.js';
import { LISTENING_LINE } from './lifeline.js';

export const STOP_GRACE_MS = 8_000;
/** 30 s; 120 s when the daemons run from TypeScript sources (compiled on the fly). */
export const READY_TIMEOUT_MS = import.meta.url.endsWith('.ts') ? 120_000 : 30_000;

export interface ChildSpec {
  daemon: DaemonName;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
}

export interface SupervisorEvents {
  output: [daemon: DaemonName, stream: 'stdout' | 'stderr', line: string];
  ready: [ports: Record<string, number>];
  exit: [daemon: DaemonName, code: number];
  killed: [daemon: DaemonName];
}

/** A daemon exited before every listener was up (e.g. its startup exit 78). */
export class SidecarStartError extends Error {
  readonly code = 'SIDECAR_START_FAILED';
  constructor(
    readonly daemon: DaemonName,
    readonly exitCode: number,
  ) {
    super(`sidecar daemon ${daemon} exited with ${exitCode} before it was ready`);
  }
}

export class SidecarReadyTimeout extends Error {
  readonly code = 'SIDECAR_READY_TIMEOUT';
  constructor(readonly pending: DaemonName[]) {
    super(`sidecar daemons not listening in time: ${pending.join(', ')}`);
  }
}

interface Running {
  spec: ChildSpec;
  child: ChildProcess;
  exited: Promise<number>;
  code: number | null;
  /** Resolves when the daemon writes `listening` on its lifeline. */
  listening: Promise<void>;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  return 128 + (n ?? 0);
}

function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; flush(): void } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    flush() {
      if (buf) onLine(buf);
      buf = '';
    },
  };
}


export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly running: Running[] = [];
  private stopping: Promise<void> | null = null;
  private readyAt: number | null = null;
  readonly graceMs: number;

  constructor(
    private readonly specs: readonly ChildSpec[],
    opts: { graceMs?: number } = {},
  ) {
    super();
    this.graceMs = opts.graceMs ?? STOP_GRACE_MS;
  }

  pids(): Partial<Record<DaemonName, number>> {
    const out: Partial<Record<DaemonName, number>> = {};
    for (const r of this.running) if (r.child.pid !== undefined) out[r.spec.daemon] = r.child.pid;
    return out;
  }

  /**
   * Starts every child and resolves with their ports once each has reported `listening` on its
   * lifeline. A child exiting first stops the others and rejects with SidecarStartError carrying
   * its code; no report within `readyTimeoutMs` stops them all and rejects with SidecarReadyTimeout.
   */
  async start(readyTimeoutMs = READY_TIMEOUT_MS): Promise<Record<string, number>> {
    for (const spec of this.specs) {
      // fd 3: the lifeline (lifeline.ts). We never write to it: its end closing tells the daemon
      // we died. The daemon writes one line on it, `listening`, once it serves.
      const child = spawn(spec.command, [...spec.args], { env: spec.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
      const lifeline = child.stdio[3] as Readable | null;
      lifeline?.on('error', () => undefined);
      const r: Running = { spec, child, code: null, exited: Promise.resolve(0), listening: Promise.resolve() };
      r.listening = new Promise<void>((resolve) => {
        const split = lineSplitter((line) => {
          if (line === LISTENING_LINE) resolve();
        });
        lifeline?.on('data', (c: Buffer) => split.push(c));
      });
      r.exited = new Promise<number>((resolve) => {
        child.once('error', () => {
          r.code = 127;
          resolve(127);
        });
        child.once('exit', (code, signal) => {
          r.code = exitCodeOf(code, signal);
          resolve(r.code);
        });
      });
      for (const stream of ['stdout', 'stderr'] as const) {
        const split = lineSplitter((line) => this.emit('output', spec.daemon, stream, line));
        child[stream]?.on('data', (c: Buffer) => split.push(c));
        child[stream]?.on('end', () => split.flush());
      }
      void r.exited.then((code) => this.emit('exit', spec.daemon, code));
      this.running.push(r);
    }

    // The first of: every daemon listening, one daemon exiting, the deadline.
    let timer: NodeJS.Timeout | undefined;
    const pending = new Set(this.running);
    for (const r of this.running) void r.listening.then(() => pending.delete(r));
    const outcome = await Promise.race([
      Promise.all(this.running.map((r) => r.listening)).then(() => ({ kind: 'ready' as const })),
      ...this.running.map((r) => r.exited.then(() => ({ kind: 'exited' as const, r }))),
      new Promise<{ kind: 'timeout' }>((res) => {
        timer = setTimeout(() => res({ kind: 'timeout' }), readyTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // A child that reported and then died at once fails the start the same way.
    const dead = outcome.kind === 'exited' ? outcome.r : this.running.find((r) => r.code !== null);
    if (dead) {
      await this.stop('SIGTERM');
      throw new SidecarStartError(dead.spec.daemon, dead.code ?? 1);
    }
    if (outcome.kind === 'timeout') {
      const names = [...pending].map((r) => r.spec.daemon);
      await this.stop('SIGTERM');
      throw new SidecarReadyTimeout(names);
    }
    this.readyAt = Date.now();
    const ports: Record<string, number> = {};
    for (const r of this.running) ports[r.spec.daemon] = listenTarget(r.spec.daemon, r.spec.env).port;
    this.emit('ready', ports);
    return ports;
  }

  isReady(): boolean {
    return this.readyAt !== null;
  }

  /** SIGHUP → egress only (route reload). */
  reload(): void {
    for (const r of this.running) if (r.spec.daemon === 'egress' && r.code === null) r.child.kill('SIGHUP');
  }

  /** Forward `signal`, wait the grace period, SIGKILL what is left. Idempotent. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.stopping) {
      // A second signal is forwarded too, but the grace timer is not restarted.
      for (const r of this.running) if (r.code === null) r.child.kill(signal);
      return this.stopping;
    }
    this.stopping = (async () => {
      for (const r of this.running) if (r.code === null) r.child.kill(signal);
      const all = Promise.all(this.running.map((r) => r.exited));
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), this.graceMs);
      });
      const outcome = await Promise.race([all.then(() => 'done' as const), grace]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const r of this.running) {
          if (r.code === null) {
            this.emit('killed', r.spec.daemon);
            r.child.kill('SIGKILL');
          }
        }
        await all;
      }
    })();
    return this.stopping;
  }

  /** Resolves when every child has ended, with the highest child exit code. */
  async wait(): Promise<number> {
    const codes = await Promise.all(this.running.map((r) => r.exited));
    return codes.reduce((a, b) => Math.max(a, b), 0);
  }
}
