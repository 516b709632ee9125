/**
 * Runs git for the gate: an allowlisted environment (never the daemon's own, so no credential
 * reaches a child by accident), no user/system config, a hard timeout that kills the whole
 * process group (git fetch spawns ssh / git-remote-https), and bounded output.
 */
import { spawn } from 'node:child_process';
import { ChildGroups } from './children.js';

export interface GitResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when stdout went over `maxStdout` (the child was killed). */
  readonly overflowed?: boolean;
}

export interface GitRunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  /** Bytes of stdout kept; more → the child is killed and the result has code -1. */
  readonly maxStdout?: number;
  /** Aborting kills the child's process group (the hook that asked for this run went away). */
  readonly signal?: AbortSignal;
}

export type SpawnObserver = (argv: readonly string[]) => void;

/** PATH/HOME/LANG only, plus git settings that make runs independent of the machine's config. */
export function baseGitEnv(home: string, path = process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'): Record<string, string> {
  return {
    PATH: path,
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
  };
}

export class GitRunner {
  constructor(
    private readonly baseEnv: Readonly<Record<string, string>>,
    private readonly onSpawn: SpawnObserver = () => {},
    /** Shared with the CGI bridge so one `killAll` ends every child of the daemon. */
    readonly groups: ChildGroups = new ChildGroups(),
  ) {}

  run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    const argv = ['git', ...args];
    this.onSpawn(argv);
    return new Promise((resolve) => {
      const child = spawn('git', args, {
        cwd: opts.cwd,
        env: { ...this.baseEnv, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout kills ssh/remote helpers too
      });
      const out: Buffer[] = [];
      let outLen = 0;
      let err = '';
      let timedOut = false;
      let overflow = false;
      this.groups.add(child.pid);
      const killGroup = () => this.groups.kill(child.pid);
      const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), killGroup()), opts.timeoutMs) : null;
      const onAbort = () => killGroup();
      if (opts.signal?.aborted) killGroup();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        // Anything the child left running in its group (a helper it did not wait for) ends with it.
        killGroup();
        this.groups.delete(child.pid);
      };
      child.stdout.on('data', (c: Buffer) => {
        outLen += c.length;
        if (opts.maxStdout !== undefined && outLen > opts.maxStdout) {
          overflow = true;
          killGroup();
          return;
        }
        out.push(c);
      });
      child.stderr.on('data', (c: Buffer) => {
        if (err.length < 64 * 1024) err += c.toString('utf8');
      });
      child.stdin.on('error', () => {});
      // A helper that kept the child's stdout open would hold 'close' back forever: once the child
      // itself exited, the rest of its group goes too.
      child.on('exit', () => killGroup());
      child.on('error', (e) => {
        settle();
        resolve({ code: -1, stdout: Buffer.alloc(0), stderr: `cannot run git: ${e.message}`, timedOut: false });
      });
      child.on('close', (code) => {
        settle();
        const aborted = opts.signal?.aborted === true;
        resolve({ code: overflow || aborted ? -1 : code ?? -1, stdout: Buffer.concat(out), stderr: err, timedOut, ...(overflow ? { overflowed: true } : {}) });
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  /** Kills every running git (and its ssh / remote helper): children run in their own process groups and would outlive the daemon. */
  killAll(): void {
    this.groups.killAll();
  }
}
