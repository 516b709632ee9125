/**
 * The daemon as a process (docs/architecture.md §7): env-driven startup, exit 78 on bad config /
 * missing credential file / unset token slot, JSON-line logs, audit file, SIGTERM. Run both through
 * src/gate/main.ts and through the real CLI (`bot-bottle sidecar git-gate`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderGateConfig } from '../../src/gate/render.js';
import { skipReason } from '../helpers/capabilities.js';
import { CLI_MAIN, REPO_ROOT } from '../helpers/cli.js';
import { fileRepo } from './helpers/gate-harness.js';
import { makeAgent, makeTmp, makeUpstream, refsOf, type Tmp } from './helpers/git-env.js';

const MAIN = join(REPO_ROOT, 'src/gate/main.ts');
const SECRET = 'glpat-DaemonMarker0123456789';

interface Proc {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number>;
}

function run(entry: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', ...entry], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
  return { child, stderr: () => err, exited };
}

async function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skipReason('git', 'git-http-backend'))('git gate daemon process', { timeout: 180_000 }, () => {
  let tmp: Tmp;
  const procs: Proc[] = [];
  beforeEach(() => {
    tmp = makeTmp();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.pid !== undefined) {
        process.kill(p.child.pid, 'SIGKILL');
        await p.exited;
      }
    }
    tmp.cleanup();
  });

  function writeConfig(yaml: string): string {
    const dir = tmp.path('state/git-gate');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), yaml);
    return join(dir, 'config.yaml');
  }

  it('exit 78 on an invalid config, naming file and key', async () => {
    const cfg = writeConfig('version: 1\nrepos: [{name: "bad/name", url: "file:///x"}]\n');
    const p = run([MAIN], { GIT_GATE_CONFIG: cfg, GIT_GATE_ROOT: tmp.path('root'), GIT_GATE_LISTEN: '127.0.0.1:0' });
    procs.push(p);
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain(`${cfg}: repos.0.name: must match`);
  });

  it('exit 78 on an unset token slot (names the slot) and on a missing key file', async () => {
    const https = renderGateConfig([
      { ...fileRepo('docs', '/x'), url: 'https://git.example.com/acme/docs.git', kind: 'https', host: 'git.example.com', port: 443, tokenRef: 'DOCS_TOKEN' },
    ]);
    const cfg = writeConfig(https.configYaml);
    const p = run([MAIN], { GIT_GATE_CONFIG: cfg, GIT_GATE_ROOT: tmp.path('root'), GIT_GATE_LISTEN: '127.0.0.1:0' });
    procs.push(p);
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain("GIT_GATE_TOKEN_0 (token for repo 'docs') is not set");

    const ssh = writeConfig(
      'version: 1\nrepos: [{name: w, url: "ssh://git@h.example:22/a/w.git", ssh: {key_file: creds/w/id_ed25519, known_hosts_file: creds/w/known_hosts, host_key_type: ssh-ed25519}}]\n',
    );
    const q = run([MAIN], { GIT_GATE_CONFIG: ssh, GIT_GATE_ROOT: tmp.path('root'), GIT_GATE_LISTEN: '127.0.0.1:0' });
    procs.push(q);
    expect(await q.exited).toBe(78);
    expect(q.stderr()).toContain('repos.w.ssh.key_file');
    expect(q.stderr()).toContain('is missing or unreadable');
  });

  for (const [label, entry] of [
    ['src/gate/main.ts', [MAIN]],
    ['bot-bottle sidecar git-gate', [CLI_MAIN, 'sidecar', 'git-gate']],
  ] as const) {
    it(`${label}: boots from env, serves a clone, logs JSON lines and audits; token never in logs; SIGTERM exits 0`, async () => {
      const up = makeUpstream(tmp, 'widget');
      const cfg = writeConfig(renderGateConfig([fileRepo('widget', up)]).configYaml);
      const audit = tmp.path('logs/git-gate-audit.jsonl');
      const p = run([...entry], {
        GIT_GATE_CONFIG: cfg,
        GIT_GATE_ROOT: tmp.path('root'),
        GIT_GATE_LISTEN: '127.0.0.1:0',
        GIT_GATE_AUDIT_PATH: audit,
        GIT_GATE_TOKEN_7: SECRET, // an unused slot: still a known secret, never logged
        SUPERVISE_INTERNAL_SOCKET: tmp.path('nope.sock'),
      });
      procs.push(p);
      await waitFor(() => p.stderr().includes('"gitgate_boot"') || p.child.exitCode !== null, 30_000);
      const boot = JSON.parse(p.stderr().split('\n').find((l) => l.includes('"gitgate_boot"')) ?? '{}') as { listen: string; repos: string[] };
      expect(boot.repos).toEqual(['widget']);
      const agent = makeAgent(tmp, [[`url.http://${boot.listen}/widget.git.insteadOf`, `file://${up}`]]);
      const c = await agent.git(['clone', `file://${up}`, 'w']);
      expect(c.code, c.stderr).toBe(0);
      expect(await agent.ok(['rev-parse', 'HEAD'], { cwd: `${agent.home}/w` })).toBe(refsOf(up)['refs/heads/main']);
      process.kill(p.child.pid as number, 'SIGTERM');
      expect(await p.exited).toBe(0);
      const lines = p.stderr().trim().split('\n');
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(p.stderr()).toContain('"gitgate_refresh"');
      expect(p.stderr()).not.toContain(SECRET);
      const auditText = readFileSync(audit, 'utf8');
      expect(auditText).toContain('"gitgate_refresh"');
      expect(auditText).not.toContain(SECRET);
    });
  }
});
