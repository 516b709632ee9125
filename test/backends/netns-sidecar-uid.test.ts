/**
 * The sidecars of a real netns bottle run as the bottle's own unprivileged uid
 * (docs/decisions/netns-sidecar-uid.md), against the real kernel and the real sidecar bundle:
 * every process of the sidecar tree has that uid/gid, no capability and no_new_privs; it can
 * write nothing in the state dir but its own entries and read no 0600 file it does not need;
 * the real egress still injects the credential upstream; teardown kills every process of the uid
 * (an orphan in its own session included) and `cleanup` finds and ends those of a uid no live
 * bottle holds.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { readRecords } from '../../src/backends/netns/records.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { sidecarUidProcesses } from '../../src/backends/netns/sidecar-procs.js';
import { SIDECAR_MOUNT } from '../../src/backends/netns/sidecar-staging.js';
import { SIDECAR_UID_BASE, SIDECAR_UID_COUNT, passwdUids } from '../../src/backends/netns/sidecar-user.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE } from '../../src/plan/bottle-plan.js';
import { netnsChecks } from '../../src/doctor/netns.js';
import { makePlan, tempHome } from './helpers/plan.js';
import { routesFor, writeRealState } from '../launch/real-state.js';

const SECRET = 'marker-uid-secret-5e4d3c2b';
const CANARY = 'marker-uid-canary-0a9b8c7d';
const API = 'api.bot-bottle.test';
const SETPRIV = '/usr/bin/setpriv';
const MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return out;
}
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    // none
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return false;
  }
}
/** A `sleep` as `uid` in a session of its own (setsid): no process group ties it to anything. */
function orphanAs(uid: number): number {
  const c = spawn(SETPRIV, [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'setsid', '-f', 'sleep', '300'], { stdio: 'ignore' });
  c.unref();
  for (let i = 0; i < 100; i += 1) {
    const r = spawnSync('pgrep', ['-u', String(uid), '-x', 'sleep'], { encoding: 'utf8' });
    const pid = r.stdout.split('\n').filter(Boolean).map(Number)[0];
    if (pid) return pid;
    spawnSync('sleep', ['0.05']);
  }
  throw new Error(`no sleep as ${uid}`);
}

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('netns sidecars as the bottle uid', () => {
  const home = tempHome();
  let upstream: TlsUpstream | undefined;
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('doctor checks what the uid drop needs', async () => {
    const checks = await netnsChecks();
    const c = checks.find((x) => x.id === 'netns.sidecar-uid');
    expect(c?.status, JSON.stringify(c)).toBe('ok');
    expect(checks.find((x) => x.id === 'netns.tool.unshare')?.status).toBe('ok');
  });

  it('every sidecar process runs as the bottle uid without privileges; it writes only its own state; egress still injects; teardown kills its orphans', async () => {
    upstream = await startTlsUpstream({
      names: [API],
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sawToken: req.headers.authorization === `Bearer ${SECRET}` }));
      },
    });
    const slug = `su-${Math.random().toString(36).slice(2, 7)}`;
    const upstreamCa = join(home, 'upstream-ca.pem');
    writeFileSync(upstreamCa, upstream.ca.certPem, { mode: 0o600 }); // unreadable to the uid: staged as a copy
    const plan = makePlan(home, slug, {
      daemons: ['egress', 'git-gate', 'supervise'],
      agentEnv: { CURL_CA_BUNDLE: GUEST_CA_BUNDLE },
      sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
    });
    await writeRealState(plan, routesFor(slug, API, upstream.port));
    // root-only files of the kind a state dir holds (metadata, session, a gate key)
    writeFileSync(join(plan.stateDir, 'metadata.json'), '{}', { mode: 0o600 });
    writeFileSync(join(plan.stateDir, 'session.json'), '{}', { mode: 0o600 });
    writeFileSync(join(plan.stateDir, 'git-gate', 'deploy-key'), 'not a real key\n', { mode: 0o600 });
    const backend = createNetnsBackend();
    const b = (await backend.launch(plan, { EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: CANARY }, { onProgress: () => undefined })) as NetnsBottle;
    let orphan = 0;
    let uid = 0;
    try {
      await provision(plan, b, () => undefined, () => undefined);
      const rec = readRecords().find((r) => r.slug === slug)!;
      uid = rec.sidecarUid!;
      expect(uid).toBeGreaterThanOrEqual(SIDECAR_UID_BASE);
      expect(uid).toBeLessThan(SIDECAR_UID_BASE + SIDECAR_UID_COUNT);
      expect(passwdUids(readFileSync('/etc/passwd', 'utf8'))).not.toContain(uid);

      // The whole tree: supervisor, egress, git-gate, supervise (and anything they started).
      const tree = [rec.sidecarPid!, ...descendants(rec.sidecarPid!)];
      expect(tree.length).toBeGreaterThanOrEqual(4);
      for (const pid of tree) {
        const s = status(pid);
        expect(s.Uid, `pid ${pid}`).toBe(`${uid}\t${uid}\t${uid}\t${uid}`);
        expect(s.Gid, `pid ${pid}`).toBe(`${uid}\t${uid}\t${uid}\t${uid}`);
        expect(s.Groups ?? '', `pid ${pid}`).toBe('');
        expect(s.CapEff, `pid ${pid}`).toBe('0000000000000000');
        expect(s.CapPrm, `pid ${pid}`).toBe('0000000000000000');
        expect(s.CapBnd, `pid ${pid}`).toBe('0000000000000000');
        expect(s.NoNewPrivs, `pid ${pid}`).toBe('1');
      }
      const env = Object.fromEntries(readFileSync(`/proc/${rec.sidecarPid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      expect(env.HOME).toBe(`${SIDECAR_MOUNT}/home`);
      const allowed = ['BOT_BOTTLE_SLUG', 'EGRESS_RESOLVE', 'EGRESS_UPSTREAM_CA_FILE', 'HOME', 'LANG', 'PATH', 'TZ', 'PWD'];
      expect(readlinkSync(`/proc/${rec.sidecarPid}/cwd`)).toBe(`${SIDECAR_MOUNT}/home`);
      expect(env.PWD ?? `${SIDECAR_MOUNT}/home`).toBe(`${SIDECAR_MOUNT}/home`);
      expect(Object.keys(env).filter((k) => !allowed.includes(k))).toEqual([]);
      expect(env.EGRESS_UPSTREAM_CA_FILE).toBe(`${SIDECAR_MOUNT}/files/0`);

      // The state dir as the uid sees it (its own mount namespace), walked as the uid.
      const asUid = (script: string) =>
        execFileSync('nsenter', [`--mount=/proc/${rec.sidecarPid}/ns/mnt`, '--', SETPRIV, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'sh', '-c', script], { encoding: 'utf8' });
      const st = `${SIDECAR_MOUNT}/state`;
      const writable = asUid(`cd ${st} && find . -writable 2>/dev/null | sort`).split('\n').filter(Boolean);
      const own = /^\.\/(git-gate\/(repos|run|hooks)(\/.*)?|supervise\/spool(\/.*)?|run\/supervise(\/.*)?|logs\/(egress-audit\.jsonl(\.1)?|git-gate-audit\.jsonl))$/;
      expect(writable.filter((p) => !own.test(p))).toEqual([]);
      expect(writable).toEqual(expect.arrayContaining([
        './logs/egress-audit.jsonl', './logs/git-gate-audit.jsonl', './git-gate/repos', './git-gate/run/hook.sock',
        './supervise/spool', './supervise/spool/heartbeat', './run/supervise/supervise.sock',
      ]));
      // the same judgement per entry through test -w, for the root-owned ones
      for (const p of ['.', 'logs', 'logs/sidecar.log', 'egress', 'egress/ca-key.pem', 'live-config/routes.yaml', 'git-gate', 'git-gate/config.yaml', 'run', 'run/guest-etc', 'supervise', 'home', 'metadata.json']) {
        expect(asUid(`cd ${st} && if test -w '${p}'; then echo w; else echo -; fi`).trim(), p).toBe('-');
      }
      // reads: what the daemons need, nothing else
      expect(asUid(`cat ${st}/egress/ca-key.pem | head -c 10`)).toBe('-----BEGIN');
      expect(asUid(`cat ${st}/git-gate/deploy-key`)).toBe('not a real key\n');
      for (const p of ['metadata.json', 'session.json', 'logs/sidecar.log']) {
        expect(asUid(`cat ${st}/${p} >/dev/null 2>&1 && echo r || echo -`).trim(), p).toBe('-');
      }
      expect(asUid(`ls ${st}/home >/dev/null 2>&1 && echo r || echo -`).trim()).toBe('-');
      // on the host the state dir is still root's (group = the uid, never writable by it)
      const top = execFileSync('stat', ['-c', '%u %g %a', plan.stateDir], { encoding: 'utf8' }).trim();
      expect(top).toBe(`0 ${uid} 750`);

      // The real egress, as the uid, still reaches the upstream and injects.
      const ok = await b.exec(['curl', '-sS', '--max-time', '20', `https://${API}:${upstream.port}/whoami`]);
      expect(ok.stderr).toBe('');
      expect(JSON.parse(ok.stdout)).toEqual({ sawToken: true });

      // A process of the uid that left every group and session is still the bottle's.
      orphan = orphanAs(uid);
      expect(alive(orphan)).toBe(true);
    } finally {
      await b.close();
    }
    expect(alive(orphan)).toBe(false);
    expect(sidecarUidProcesses(uid), execFileSync('ps', ['-eo', 'pid,ppid,uid,stat,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(String(uid))).join('\n')).toEqual([]); // nothing of the uid is left
  }, 120_000);

  it('cleanup lists a process of a sidecar uid no live bottle holds (dry run) and kills it', async () => {
    const held = new Set(readRecords().map((r) => r.sidecarUid));
    let uid = SIDECAR_UID_BASE + SIDECAR_UID_COUNT - 1 - Math.floor(Math.random() * 1000);
    while (held.has(uid) || spawnSync('pgrep', ['-u', String(uid)]).status === 0) uid -= 1;
    const pid = orphanAs(uid);
    try {
      const dry = spawnSync(process.execPath, [MAIN, 'cleanup', '--dry-run'], { encoding: 'utf8', env: { ...process.env, BOT_BOTTLE_HOME: home } });
      expect(dry.stdout).toMatch(new RegExp(`resource\\s+netns\\s+process\\s+${pid}\\b`));
      expect(alive(pid)).toBe(true); // a dry run removes nothing
      const backend = createNetnsBackend();
      const plan = await backend.cleanupPlan(new Set());
      const mine = plan.resources.filter((r) => r.kind === 'process' && r.name === String(pid));
      expect(mine).toHaveLength(1);
      await backend.cleanup({ backend: 'netns', resources: mine });
      for (let i = 0; i < 40 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 60_000);
});
