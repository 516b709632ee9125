/**
 * Secrets hygiene of a full launch through the compiled CLI (docs/security-model.md §5): a planted
 * `token_ref` secret and the bottle's canary appear in no process argv, state file, log (egress at
 * level 2), CLI output, dry-run plan, `info` or `list` output; the secret reaches only the egress
 * daemon's environment; the CA private key is readable only by root and the bottle's sidecar uid (0640 root:<sidecar gid> in a 0750 directory) and is gone after teardown.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSidecarUid } from '../../src/backends/netns/sidecar-user.js';
import { skipReason } from '../helpers/capabilities.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { cleanupDryRun, curlLine, distMissing, loopbackRoute, makeHome, runDist, spawnCli, type DistResult } from './faults-cli.js';
import { httpOk, untrustedTls, type CountingServer } from './faults-upstreams.js';
import { allCmdlines, daemonPids, environOf } from './faults-proc.js';

const SECRET = `bbSECRET-${randomBytes(12).toString('hex')}`;
const TOKEN_VAR = 'BB_HYGIENE_API_TOKEN';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Every form of each marker a careless log or file could hold. */
function forms(marker: string): string[] {
  return [...new Set([marker, Buffer.from(marker).toString('base64'), Buffer.from(marker).toString('base64url'), Buffer.from(marker).toString('hex'), encodeURIComponent(marker)])];
}

/** `label: form` for every marker form found in `text`. */
function hits(label: string, text: string | Buffer, markers: readonly string[]): string[] {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  return markers.flatMap((m) => forms(m).filter((f) => buf.includes(f)).map((f) => `${label}: ${f === m ? 'raw' : 'encoded'} ${m.slice(0, 8)}…`));
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl') || distMissing())('secrets hygiene of a full launch (netns, through the CLI)', () => {
  let ok: CountingServer;
  let tlsUp: CountingServer;
  let home = '';
  let slug = '';
  afterAll(async () => {
    if (slug !== '') await runDist(['cleanup', '--yes', '--include-preserved', slug], { BOT_BOTTLE_HOME: home }, 120_000);
    await Promise.all([ok?.close(), tlsUp?.close()]);
    if (home !== '') rmSync(home, { recursive: true, force: true });
  });

  it('no secret and no canary in argv, state, logs, CLI output, dry runs, info or list; CA key readable by root and the sidecar uid only, deleted at teardown', async () => {
    [ok, tlsUp] = await Promise.all([httpOk(), untrustedTls()]);
    home = makeHome({
      bottleYaml:
        `egress:\n  log: 2\n  routes:\n` +
        loopbackRoute(tlsUp.port, `      auth: {scheme: Bearer, token_ref: ${TOKEN_VAR}}\n`) +
        loopbackRoute(ok.port),
    });
    const env = { BOT_BOTTLE_HOME: home, [TOKEN_VAR]: SECRET };
    const outputs: Array<[string, DistResult]> = [];
    const collect = async (label: string, args: string[]) => {
      const r = await runDist(args, env);
      expect(r.code, `${label}: ${r.stderr}`).toBe(0);
      outputs.push([label, r]);
      return r;
    };
    const dry = await collect('start --dry-run', ['start', 'runner', '--headless', '--backend', 'netns', '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${tlsUp.port}\\s+\\[auth:Bearer\\]`)); // the plan shows the injection…
    await collect('start --dry-run --format json', ['start', 'runner', '--headless', '--backend', 'netns', '--dry-run', '--format', 'json']);
    await collect('info', ['info', 'runner']);
    await collect('info --json', ['info', 'runner', '--json']);

    // The agent: an allowed request with the credential injected (the stand-in's certificate is not
    // trusted, so it ends in 502 upstream_tls after injection), an allowed plain one, a denied one,
    // and one carrying the canary (blocked). Then it waits, and exits 7 so the state is preserved.
    const prompt = [
      curlLine('injected', `https://127.0.0.1:${tlsUp.port}/v1/thing`),
      curlLine('allowed', `http://127.0.0.1:${ok.port}/plain`),
      curlLine('denied', 'http://denied.example/'),
      // The URL goes through stdin (printf is a shell builtin): the agent's own argv stays clean.
      `printf 'url = "http://127.0.0.1:${ok.port}/leak?c=%s"\\n' "$BOT_BOTTLE_CANARY" | ${curlLine('canary', '-K -')}`,
      'echo phase1',
      'while [ ! -e ~/go ]; do sleep 0.05; done',
      'exit 7',
    ].join('; ');
    const run = spawnCli(['start', 'runner', '--headless', '--backend', 'netns', '--prompt', prompt], env);
    const argv = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const cmd of allCmdlines().values()) argv.add(cmd);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let canary = '';
    const sidecarPids: number[] = [];
    const sidecarArgv = new Map<number, string>();
    try {
      await run.waitFor('stdout', 'phase1', 120_000);
      slug = run.slug()!;
      const state = join(home, 'state', slug);
      expect(run.stdout()).toContain('injected 502');
      expect(run.stdout()).toContain('allowed 200');
      expect(run.stdout()).toContain('denied 403');
      expect(run.stdout()).toContain('canary 403');
      expect(ok.requests.map((r) => r.line)).toEqual(['GET /plain']); // the canary request never left

      // Values live only in the environment of the daemon that uses them.
      const egress = daemonPids(slug, 'egress');
      expect(egress).toHaveLength(1);
      const egressEnv = environOf(egress[0]!);
      expect(Object.values(egressEnv)).toContain(SECRET);
      canary = egressEnv.EGRESS_TOKEN_CANARY ?? '';
      expect(canary.length).toBeGreaterThanOrEqual(16);
      for (const pid of daemonPids(slug, 'git-gate')) expect(Object.values(environOf(pid))).not.toContain(SECRET);
      const supervisor = Number(readFileSync(`/proc/${egress[0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      expect(Object.values(environOf(supervisor))).not.toContain(SECRET);
      expect(Object.values(environOf(supervisor))).not.toContain(canary);
      sidecarPids.push(supervisor, egress[0]!);
      for (const pid of sidecarPids) sidecarArgv.set(pid, allCmdlines().get(pid) ?? '');

      // The CA private key while running: readable by root and by this bottle's sidecar uid only
      // (root-owned, group = that uid's own group, read-only for it; nothing for anyone else), in a
      // directory only those two can enter (docs/decisions/netns-sidecar-uid.md).
      const key = join(state, 'egress', 'ca-key.pem');
      const keySt = statSync(key);
      const dirSt = statSync(join(state, 'egress'));
      expect(keySt.uid).toBe(0);
      expect(isSidecarUid(keySt.gid)).toBe(true);
      expect(keySt.mode & 0o777).toBe(0o640);
      expect(dirSt.uid).toBe(0);
      expect(dirSt.gid).toBe(keySt.gid);
      expect(dirSt.mode & 0o777).toBe(0o750);

      await collect('list active --json', ['list', 'active', '--json']);
      await collect('list active', ['list', 'active']);
      for (const cmd of allCmdlines().values()) argv.add(cmd);
      writeFileSync(join(state, 'home', 'go'), '');
      expect(await run.exited, run.stderr()).toBe(7);
    } finally {
      sampling = false;
      await sampler;
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }

    const state = join(home, 'state', slug);
    expect(JSON.parse(readFileSync(join(state, '.preserve'), 'utf8'))).toMatchObject({ reason: 'exit-nonzero', exitCode: 7 });
    expect(existsSync(join(state, 'egress', 'ca-key.pem'))).toBe(false);
    expect(leftovers(slug)).toEqual([]);

    // The level-2 log shows what happened, by slot name only.
    const sidecarLog = readFileSync(join(state, 'logs', 'sidecar.log'), 'utf8');
    expect(sidecarLog).toContain('"authorization":"[injected:EGRESS_TOKEN_0]"');
    expect(sidecarLog).toContain('"reason":"canary"');
    expect(sidecarLog).toContain('"level":2');

    await collect('list --json', ['list', '--json']);
    await collect('list', ['list']);
    await collect('info --json (after)', ['info', 'runner', '--json']);

    const markers = [SECRET, canary];
    const found: string[] = [];
    const files = filesUnder(home);
    expect(files.filter((f) => f.startsWith(join(state, 'logs'))).length).toBeGreaterThanOrEqual(3);
    for (const f of files) found.push(...hits(f, readFileSync(f), markers));
    for (const cmd of argv) found.push(...hits(`argv ${cmd.slice(0, 60)}`, cmd, markers));
    expect(argv.size).toBeGreaterThan(10);
    for (const pid of sidecarPids) expect(argv.has(sidecarArgv.get(pid) ?? '(none)'), `argv of sidecar ${pid} sampled`).toBe(true);
    found.push(...hits('start stdout', run.stdout(), markers), ...hits('start stderr', run.stderr(), markers));
    for (const [label, r] of outputs) found.push(...hits(`${label} stdout`, r.stdout, markers), ...hits(`${label} stderr`, r.stderr, markers));
    expect(found).toEqual([]);

    // And the preserved state goes with cleanup, leaving nothing.
    const rm = await runDist(['cleanup', '--yes', slug], { BOT_BOTTLE_HOME: home });
    expect(rm.code, rm.stderr).toBe(0);
    expect(hits('cleanup output', rm.stdout + rm.stderr, markers)).toEqual([]);
    expect(existsSync(state)).toBe(false);
    expect(await cleanupDryRun(home, [slug])).toEqual({ resources: [], removableState: [], keptPreserved: [] });
  }, 240_000);
});
