/**
 * Acceptance on netns with the REAL sidecar bundle (`bot-bottle sidecar` → egress + git-gate):
 * the agent reaches an allowed stand-in upstream through egress with the credential injected and
 * never sees it; C45 with real daemons; no secret in argv or state files.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { readRecords } from '../../src/backends/netns/records.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT } from '../../src/plan/bottle-plan.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { makePlan, tempHome } from '../backends/helpers/plan.js';
import { routesFor, writeRealState } from './real-state.js';

const SECRET = 'marker-real-secret-9c8b7a6d5e';
const GATE_SECRET = 'marker-gate-secret-1a2b3c4d';
const CANARY = 'marker-canary-real-0011223344';
const API = 'api.bot-bottle.test';

function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return out;
}
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
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

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('netns bottle with the real sidecar bundle', () => {
  const home = tempHome();
  let upstream: TlsUpstream;
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('allowed request is injected upstream; agent never holds the secret; C45 with real daemons', async () => {
    upstream = await startTlsUpstream({
      names: [API],
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sawToken: req.headers.authorization === `Bearer ${SECRET}` }));
      },
    });
    const slug = `rs-${Math.random().toString(36).slice(2, 7)}`;
    const upstreamCa = join(home, 'upstream-ca.pem');
    writeFileSync(upstreamCa, upstream.ca.certPem);
    const plan = makePlan(home, slug, {
      daemons: ['egress', 'git-gate'],
      agentEnv: { BOT_BOTTLE_CANARY: CANARY, CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE, NODE_EXTRA_CA_CERTS: GUEST_CA_CERT },
      sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
    });
    await writeRealState(plan, routesFor(slug, API, upstream.port));
    const backend = createNetnsBackend();
    const b = (await backend.launch(plan, { EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: CANARY, GIT_GATE_TOKEN_0: GATE_SECRET, GIT_GATE_CANARY: CANARY }, { onProgress: () => undefined })) as NetnsBottle;
    try {
      await provision(plan, b, () => undefined, () => undefined);

      // C45 against the real processes: supervisor → egress, git-gate.
      const rec = readRecords().find((r) => r.slug === slug)!;
      // (under tsx the supervisor also has an esbuild service child)
      const kids = childrenOf(rec.sidecarPid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('\0sidecar\0'));
      expect(kids.length).toBe(2);
      const envs = kids.map((pid) => ({ pid, env: environOf(pid), argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8') }));
      const egress = envs.find((e) => e.argv.includes('sidecar\0egress'))!;
      const gate = envs.find((e) => e.argv.includes('sidecar\0git-gate'))!;
      expect(egress.env.EGRESS_TOKEN_0).toBe(SECRET);
      expect(egress.env.GIT_GATE_TOKEN_0).toBeUndefined();
      expect(gate.env.GIT_GATE_TOKEN_0).toBe(GATE_SECRET);
      expect(gate.env.EGRESS_TOKEN_0).toBeUndefined();
      expect(environOf(rec.sidecarPid!).EGRESS_TOKEN_0).toBeUndefined(); // stdin only
      for (const pid of [rec.sidecarPid!, ...kids]) {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        for (const v of [SECRET, GATE_SECRET, CANARY]) expect(argv).not.toContain(v);
      }

      // The agent: allowed + injected, blocked host, direct (proxy-less) access fails.
      const ok = await b.exec(['curl', '-sS', '--max-time', '20', `https://${API}:${upstream.port}/whoami`]);
      expect(ok.stderr).toBe('');
      expect(JSON.parse(ok.stdout)).toEqual({ sawToken: true });
      expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
      // A denied CONNECT is answered 403 by the proxy itself (curl: %{http_connect}).
      const blocked = await b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{http_connect}', '--max-time', '20', 'https://blocked.bot-bottle.test/']);
      expect(blocked.stdout).toMatch(/\b403\b/);
      const direct = await b.exec(['/bin/sh', '-c', `curl -s --noproxy '*' --max-time 3 https://${API}:${upstream.port}/ ; echo "rc=$?"`]);
      expect(direct.stdout).toMatch(/rc=(6|7|28)/);
      const env = await b.exec(['/bin/sh', '-c', 'printenv; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"']);
      expect(env.stdout).not.toContain(SECRET);
      expect(env.stdout).not.toContain(GATE_SECRET);
      // reloadEgress = SIGHUP to the supervisor, forwarded to egress: everything keeps serving.
      await backend.reloadEgress(slug);
      await new Promise((r) => setTimeout(r, 500));
      const again = await b.exec(['curl', '-sS', '--max-time', '20', `https://${API}:${upstream.port}/whoami`]);
      expect(JSON.parse(again.stdout)).toEqual({ sawToken: true });
      expect((await backend.listActive()).find((x) => x.slug === slug)?.sidecars).toEqual(['egress', 'git-gate']);
      // git-gate answers on the host end by name
      const gateRes = await b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', 'http://git-gate:9420/']);
      expect(gateRes.stdout).toMatch(/^\d{3}$/);
      expect(gateRes.stdout).not.toBe('000');
    } finally {
      await b.close();
    }
    expect(leftovers(slug)).toEqual([]);
    for (const f of filesUnder(plan.stateDir)) {
      const text = readFileSync(f, 'latin1');
      for (const v of [SECRET, GATE_SECRET]) expect(text, f).not.toContain(v);
    }
  }, 120_000);

  it('8 bottles in parallel with the real egress: each gets its own /30, its own credential injected, and all go away', async () => {
    const tokens = Array.from({ length: 8 }, (_, i) => `marker-parallel-${i}-${Math.random().toString(36).slice(2, 10)}`);
    const par = await startTlsUpstream({
      names: [API],
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ auth: req.headers.authorization ?? null }));
      },
    });
    const upstreamCa = join(home, 'parallel-upstream-ca.pem');
    writeFileSync(upstreamCa, par.ca.certPem);
    const backend = createNetnsBackend();
    const bottles: NetnsBottle[] = [];
    try {
      const launched = await Promise.all(
        tokens.map(async (token, i) => {
          const slug = `rp${i}-${Math.random().toString(36).slice(2, 7)}`;
          const plan = makePlan(home, slug, {
            daemons: ['egress'],
            agentEnv: { CURL_CA_BUNDLE: GUEST_CA_BUNDLE },
            sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
          });
          await writeRealState(plan, routesFor(slug, API, par.port));
          const b = (await backend.launch(plan, { EGRESS_TOKEN_0: token, EGRESS_TOKEN_CANARY: CANARY }, { onProgress: () => undefined })) as NetnsBottle;
          bottles.push(b);
          await provision(plan, b, () => undefined, () => undefined);
          return { b, plan, token };
        }),
      );
      expect(new Set(launched.map((x) => x.b.hostAddr)).size).toBe(8);
      const answers = await Promise.all(launched.map((x) => x.b.exec(['curl', '-sS', '--max-time', '60', `https://${API}:${par.port}/whoami`])));
      answers.forEach((a, i) => {
        expect(a.stderr).toBe('');
        // Each bottle's egress injects its own slot value, never another bottle's.
        expect(JSON.parse(a.stdout)).toEqual({ auth: `Bearer ${tokens[i]}` });
      });
    } finally {
      await Promise.all(bottles.map((b) => b.close()));
      await par.close();
    }
    for (const b of bottles) expect(leftovers(b.slug)).toEqual([]);
  }, 300_000);
});
