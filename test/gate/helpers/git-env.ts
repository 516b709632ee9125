/** Real git on temp repos for gate tests: an upstream bare repo, an agent HOME, sync helpers. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export interface Tmp {
  dir: string;
  path(...p: string[]): string;
  cleanup(): void;
}

/**
 * Per-test temp dir plus LIFO cleanups, registered with the runner at creation.
 * Call once inside a describe; `fx.tmp` is the current test's dir.
 */
export function useGateTmp(): { readonly tmp: Tmp; defer(fn: () => Promise<void> | void): void } {
  const closers: Array<() => Promise<void> | void> = [];
  let current: Tmp | undefined;
  beforeEach(() => {
    const t = makeTmp();
    current = t;
    closers.push(() => t.cleanup());
  });
  afterEach(async () => {
    while (closers.length) await closers.pop()?.();
  });
  return {
    get tmp(): Tmp {
      if (!current) throw new Error('useGateTmp: no test is running');
      return current;
    },
    defer: (fn) => void closers.push(fn),
  };
}

export function makeTmp(prefix = 'bb-gate-'): Tmp {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (...p) => join(dir, ...p), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface GitOut {
  code: number;
  stdout: string;
  stderr: string;
}

const BASE_ENV = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

/** git as the test itself (upstream setup/inspection): no user config. */
export function git(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): GitOut {
  const r = spawnSync('git', args, {
    cwd: opts.cwd,
    env: { ...BASE_ENV, HOME: '/nonexistent', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function gitOk(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): string {
  const r = git(args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** A bare upstream with `main` holding one commit (files given), HEAD → `branch`. */
export function makeUpstream(tmp: Tmp, name: string, files: Record<string, string> = { 'README.md': '# hello\n' }, branch = 'main'): string {
  const bare = tmp.path(`${name}-upstream.git`);
  gitOk(['init', '--quiet', '--bare', `--initial-branch=${branch}`, bare]);
  const work = tmp.path(`${name}-seed`);
  gitOk(['init', '--quiet', `--initial-branch=${branch}`, work]);
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(join(work, f, '..'), { recursive: true });
    writeFileSync(join(work, f), c);
  }
  gitOk(['add', '-A'], { cwd: work });
  gitOk(['commit', '--quiet', '-m', 'initial'], { cwd: work });
  gitOk(['push', '--quiet', bare, `${branch}:${branch}`], { cwd: work });
  return bare;
}

/** Refs of a bare repo as `ref → oid` (the test's view of upstream, read directly). */
export function refsOf(bare: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of gitOk(['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: bare }).split('\n').filter(Boolean)) {
    const [ref, oid] = line.split(' ');
    out[ref as string] = oid as string;
  }
  return out;
}

export interface Agent {
  home: string;
  /** git as the agent (async: the gate under test runs in this process). */
  git(args: string[], opts?: { cwd?: string; env?: Record<string, string> }): Promise<GitOut>;
  ok(args: string[], opts?: { cwd?: string; env?: Record<string, string> }): Promise<string>;
}

export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env: Record<string, string>; timeoutMs?: number }): Promise<GitOut> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function makeAgent(tmp: Tmp, pairs: ReadonlyArray<readonly [string, string]>, label = 'agent'): Agent {
  const home = tmp.path(`${label}-home`);
  mkdirSync(home, { recursive: true });
  const env = (extra?: Record<string, string>) => ({ ...BASE_ENV, HOME: home, ...extra });
  for (const [k, v] of pairs) {
    const r = spawnSync('git', ['config', '--global', '--add', k, v], { env: env(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git config ${k}: ${r.stderr}`);
  }
  const run = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) =>
    runAsync('git', args, { cwd: opts.cwd ?? home, env: env(opts.env) });
  return {
    home,
    git: run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(`agent git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim();
    },
  };
}

export async function commitFile(agent: Agent, repoDir: string, file: string, content: string | Buffer, message = `add ${file}`): Promise<string> {
  const full = join(repoDir, file);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  await agent.ok(['add', '--', file], { cwd: repoDir });
  await agent.ok(['commit', '--quiet', '-m', message], { cwd: repoDir });
  return agent.ok(['rev-parse', 'HEAD'], { cwd: repoDir });
}
