/**
 * The compiled CLI (`node dist/cli/main.js`, what users and the sidecars run) as a child process
 * with live output, and a throw-away BOT_BOTTLE_HOME whose agent CLI is `/bin/sh -c <prompt>`.
 * Shared by faults.test.ts and hygiene.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';

export const DIST_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Skip reason (printed) when the compiled CLI is missing. */
export function distMissing(): string | false {
  if (existsSync(DIST_MAIN)) return false;
  const reason = `needs the compiled CLI at ${DIST_MAIN} (npx tsc -p tsconfig.build.json)`;
  process.stderr.write(`SKIP (${reason})\n`);
  return reason;
}

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `stream` contains `text`; rejects on timeout or exit first. */
  waitFor(stream: 'stdout' | 'stderr', text: string | RegExp, ms?: number): Promise<void>;
  /** Exit code; 128+n for a signal death. */
  exited: Promise<number>;
  /** The slug from the headless `bot-bottle: started <slug>` line, once printed. */
  slug(): string | undefined;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function cliEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', BOT_BOTTLE_DEBUG: undefined, BOT_BOTTLE_BACKEND: undefined, ...env } as NodeJS.ProcessEnv;
}

export function spawnCli(args: string[], env: Record<string, string | undefined>, cwd = REPO_ROOT): CliRun {
  const child = spawn(process.execPath, [DIST_MAIN, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number>((r) => child.once('close', (code, sig) => r(code ?? 128 + (SIGNALS[sig ?? ''] ?? 0))));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    slug: () => /^bot-bottle: started (\S+)$/m.exec(err)?.[1],
    async waitFor(stream, text, ms = 60_000) {
      const until = Date.now() + ms;
      const seen = () => {
        const s = stream === 'stdout' ? out : err;
        return typeof text === 'string' ? s.includes(text) : text.test(s);
      };
      while (!seen()) {
        if (done || Date.now() > until) throw new Error(`CLI never printed ${String(text)} on ${stream}${done ? ' (it exited)' : ''}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

export interface DistResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runDist(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<DistResult> {
  const run = spawnCli(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export interface CleanupReport {
  resources: Array<{ kind: string; name: string; slug: string | null }>;
  removableState: string[];
  keptPreserved: string[];
}

/** `cleanup --dry-run --json <slugs…>` restricted to `slugs` (naming a slug also lists its preserved state). */
export async function cleanupDryRun(home: string, slugs: readonly string[]): Promise<CleanupReport> {
  const r = await runDist(['cleanup', '--dry-run', '--json', ...slugs], { BOT_BOTTLE_HOME: home });
  if (r.code !== 0) throw new Error(`cleanup --dry-run failed (${r.code}): ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as CleanupReport & { schema: string };
  if (doc.schema !== 'bot-bottle/cleanup@1') throw new Error(`unexpected cleanup schema ${doc.schema}`);
  const mine = (s: string | null) => s !== null && slugs.includes(s);
  const inMine = (p: string) => slugs.some((s) => p.endsWith(`/state/${s}`) || p === s);
  return {
    resources: doc.resources.filter((x) => mine(x.slug)),
    removableState: doc.removableState.filter(inMine),
    keptPreserved: doc.keptPreserved.filter(inMine),
  };
}

/** A user plugin provider whose headless command is `/bin/sh -c <prompt>`; `files` become provider files. */
function providerSource(withFiles: boolean): string {
  const files = withFiles ? "[{ path: ctx.guestHome + '/.shtool/config', content: 'shtool: 1\\n', mode: 0o644 }]" : '[]';
  return `export default {
  apiVersion: 1,
  name: 'shtool',
  async plan(ctx) {
    return {
      template: 'shtool',
      image: { tag: 'none', dockerfile: null, context: null, buildArgs: {} },
      interactiveArgv: ['/bin/sh'], resumeArgv: ['/bin/sh'],
      headlessArgv: ['/bin/sh', '-c', '{{prompt}}'], headlessResumeArgv: ['/bin/sh', '-c', '{{prompt}}'],
      guestEnv: {}, hiddenEnvNames: [], files: ${files}, skillsDir: ctx.guestHome + '/.shtool/skills',
      transcriptPaths: [], mcpRegisterArgv: null, egressRoutes: [], provisionedEnv: {}, notes: [],
    };
  },
};
`;
}

export interface HomeOptions {
  /** YAML lines of the bottle's front matter after `agent_provider` (e.g. an `egress:` block). */
  bottleYaml?: string;
  /** YAML lines of the agent's front matter after `bottle: sh`. */
  agentYaml?: string;
  providerFiles?: boolean;
}

/** `<home>` with bottle `sh`, agent `runner` and the `shtool` provider; mode 0700 like a real home. */
export function makeHome(o: HomeOptions = {}): string {
  const home = mkdtempSync(join(tmpdir(), 'bb-faults-'));
  for (const d of ['bottles', 'agents', 'contrib/shtool']) mkdirSync(join(home, d), { recursive: true });
  writeFileSync(join(home, 'contrib', 'shtool', 'provider.mjs'), providerSource(o.providerFiles === true));
  for (const d of ['contrib', 'contrib/shtool']) chmodSync(join(home, d), 0o755);
  chmodSync(join(home, 'contrib', 'shtool', 'provider.mjs'), 0o644);
  writeFileSync(join(home, 'bottles', 'sh.md'), `---\nagent_provider:\n  template: shtool\n${o.bottleYaml ?? ''}---\nshell bottle\n`);
  writeFileSync(join(home, 'agents', 'runner.md'), `---\ndescription: runs a shell command\nbottle: sh\n${o.agentYaml ?? ''}---\nYou run shell.\n`);
  chmodSync(home, 0o700);
  return home;
}

/** An egress route block for loopback stand-ins (the SSRF guard needs allow_private_cidrs). */
export function loopbackRoute(port: number, extra = ''): string {
  return `    - host: 127.0.0.1\n      port: ${port}\n      allow_private_cidrs: [127.0.0.0/8]\n${extra}`;
}

/** Shell for the agent: one proxied request, printing `<tag> <status>` (000 when none). */
export function curlLine(tag: string, url: string): string {
  return `printf '%s %s\\n' ${tag} "$(curl -s -o /dev/null --noproxy '' -x http://egress:9099 --max-time 8 -w '%{http_code}' ${url})"`;
}
