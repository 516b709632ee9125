/**
 * The root-side helpers of a netns exec (sh, ip, mount, setpriv, bwrap) run with a fixed minimal
 * environment; the agent's environment reaches only the agent, through bwrap's options on a pipe
 * (docs/decisions/netns-clean-env.md). Real bottles, real bwrap.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { skipReason } from '../helpers/capabilities.js';
import { makePlan, standinCommand, tempHome } from './helpers/plan.js';

const rnd = () => Math.random().toString(36).slice(2, 8);
const MARKER = `bb-marker-${rnd()}${rnd()}`;

/** Host processes whose cmdline or environ holds `needle`, with their comm and uid. */
function processesHolding(needle: string): Array<{ pid: string; comm: string; uid: string; where: 'cmdline' | 'environ' }> {
  const out: Array<{ pid: string; comm: string; uid: string; where: 'cmdline' | 'environ' }> = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (pid === String(process.pid)) continue; // this test holds the plan
    for (const where of ['cmdline', 'environ'] as const) {
      try {
        if (!readFileSync(`/proc/${pid}/${where}`).includes(needle)) continue;
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        out.push({ pid, where, comm: /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?', uid: /^Uid:\s*(\d+)/m.exec(status)?.[1] ?? '?' });
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return out;
}

/** Descriptors this process hands to every child (no close-on-exec): the sandbox may legitimately see them. */
function inheritableFds(): Set<string> {
  const fds = new Set<string>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) fds.add(fd);
    } catch {
      // closed meanwhile
    }
  }
  return fds;
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip'))('netns: clean environment for the root-side helpers', () => {
  const backend = createNetnsBackend({ sidecarCommand: standinCommand });
  const home = tempHome();
  const evilDir = mkdtempSync(join(tmpdir(), 'bb-evil-'));
  const tripwire = join(evilDir, 'tripped');
  const hostile = {
    S: '/planted-S',
    PATH: `${evilDir}:/usr/bin:/bin`,
    LD_PRELOAD: '/nonexistent-bb.so',
    IFS: '/',
    BASH_ENV: `${evilDir}/bash_env`,
    ENV: `${evilDir}/env`,
    BB_MARKER: MARKER,
  };
  let b: NetnsBottle;

  beforeAll(async () => {
    chmodSync(evilDir, 0o755);
    // Any helper that looked a tool up on the agent's PATH would run these as root.
    for (const tool of ['mkdir', 'mount', 'sh', 'ip', 'setpriv', 'bwrap', 'env', 'cat']) {
      writeFileSync(join(evilDir, tool), `#!/bin/sh\necho "${tool}" >> ${tripwire}\nexit 1\n`, { mode: 0o755 });
    }
    writeFileSync(join(evilDir, 'bash_env'), `echo bash_env >> ${tripwire}\n`);
    writeFileSync(join(evilDir, 'env'), `echo env >> ${tripwire}\n`);
    const plan = makePlan(home, `ce-${rnd()}`, { agentEnv: hostile });
    b = (await backend.launch(plan, {}, { onProgress: () => undefined })) as NetnsBottle;
  });
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    rmSync(evilDir, { recursive: true, force: true });
  });

  it('hostile S, PATH, LD_PRELOAD, IFS, BASH_ENV, ENV reach the agent exactly and change nothing on the host side', async () => {
    const r = await b.exec(['/usr/bin/env']);
    expect(r.sandboxError).toBeUndefined();
    expect(r.code).toBe(0);
    const env = new Map(r.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const [k, v] of Object.entries(hostile)) expect(env.get(k), k).toBe(v);
    // The stage script's own variable did not leak into, nor get clobbered by, the agent's S.
    expect(r.stdout).not.toContain('bb-stage');
    // Only the agent's `env` loaded with LD_PRELOAD (one ld.so warning), not the eight helpers before it.
    expect(r.stderr.match(/nonexistent-bb\.so/g) ?? []).toHaveLength(1);
    // No helper ran anything from the agent's PATH, BASH_ENV or ENV.
    expect(existsSync(tripwire)).toBe(false);
    // Sanity: a shell given that PATH on the host does trip the wire.
    spawnSync('/bin/sh', ['-c', 'mkdir /nonexistent-bb/x'], { env: { PATH: hostile.PATH }, stdio: 'ignore' });
    expect(existsSync(tripwire)).toBe(true);
    rmSync(tripwire);
  });

  it('the launcher\'s working directory is visible nowhere inside the sandbox (no PWD in any readable environ)', async () => {
    const cwd = process.cwd();
    expect(cwd).not.toBe('/');
    const r = await b.exec(['/bin/sh', '-c', 'for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null; done; echo END']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('END');
    // positive control: the environ files were readable (the agent's own PATH is in there)
    expect(r.stdout).toContain('PATH=');
    expect(r.stdout).not.toContain(cwd);
  });

  it('no host process of the chain shows an agent env value in cmdline or environ while a sandbox runs', async () => {
    const running = b.exec(['/bin/sleep', '3']);
    let seen: ReturnType<typeof processesHolding> = [];
    let sawBwrap = false;
    for (let i = 0; i < 20 && !sawBwrap; i += 1) {
      await new Promise((r) => setTimeout(r, 150));
      seen = processesHolding(MARKER);
      sawBwrap = readdirSync('/proc').some((p) => {
        try {
          const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
          return /^\d+$/.test(p) && basename(argv[0] ?? '') === 'bwrap' && argv.slice(1).join(' ') === '--args 3 -- /bin/sleep 3 ';
        } catch {
          return false;
        }
      });
    }
    expect(sawBwrap, 'the sandbox chain was sampled while running').toBe(true);
    seen = processesHolding(MARKER);
    // Only the agent's own process (uid 1000, the command) holds the value, and only in its environment.
    expect(seen.filter((p) => p.where === 'cmdline')).toEqual([]);
    expect(seen.filter((p) => p.where === 'environ' && !(p.comm === 'sleep' && p.uid === '1000'))).toEqual([]);
    expect(seen.some((p) => p.comm === 'sleep')).toBe(true);
    expect((await running).code).toBe(0);
  });

  it('the agent inherits neither the options pipe (fd 3) nor the seccomp pipe (fd 4)', async () => {
    const leaked = inheritableFds();
    // The shell's descriptors, listed by another process (ls) so the listing opens none of its own.
    const r = await b.exec(['/bin/sh', '-c', 'ls -l /proc/$$/fd; true']);
    expect(r.code).toBe(0);
    const fds = [...r.stdout.matchAll(/ (\d+) -> /g)].map((m) => m[1]!);
    expect(fds).toEqual(expect.arrayContaining(['0', '1', '2']));
    for (const fd of fds.filter((f) => !['0', '1', '2'].includes(f))) {
      expect(leaked.has(fd) && fd !== '3' && fd !== '4', `fd ${fd} in the sandbox: ${r.stdout}`).toBe(true);
    }
  });
});
