/**
 * Test and demo only (docs/decisions/docker-loopback-upstreams.md): `demo` and the tests run their
 * stand-in upstreams on a host loopback address (127.x.y.z:443) and tell the sidecars, through the
 * test-only settings EGRESS_RESOLVE / GIT_GATE_RESOLVE and *_UPSTREAM_CA_FILE (never reachable from
 * a manifest), to resolve upstream names there and trust the stand-ins' CA. A sidecar container has
 * its own loopback, so for each such address this module relays:
 *   sidecar netns 127.x.y.z:443 (a helper container sharing the sidecar's network namespace)
 *     → host, egress-bridge gateway:<ephemeral port> (a listener in the launcher)
 *     → host 127.x.y.z:443 (the stand-in).
 * The addresses egress resolves and checks stay exactly what the test configured. CA files are
 * bind-mounted read-only and their variables rewritten to the container path. Nothing happens
 * when the plan has no such settings (every real launch).
 */
import net from 'node:net';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BottleError } from '../../errors.js';
import type { Docker } from './engine.js';

const RESOLVE_VARS = ['EGRESS_RESOLVE', 'GIT_GATE_RESOLVE'] as const;
const CA_VARS = ['EGRESS_UPSTREAM_CA_FILE', 'GIT_GATE_UPSTREAM_CA_FILE'] as const;
const UPSTREAM_PORT = 443;
const CA_GUEST_DIR = '/run/bb-upstream-ca';

// Runs in the helper container: listen on each loopback address, forward to the host relay.
const RELAY_JS =
  "const net=require('net');const a=process.argv.slice(1);let n=0;" +
  'for(let i=0;i<a.length;i+=3){const [la,ta,tp]=a.slice(i,i+3);' +
  'net.createServer((c)=>{const u=net.connect(Number(tp),ta);c.pipe(u).pipe(c);c.on(\'error\',()=>u.destroy());u.on(\'error\',()=>c.destroy());})' +
  `.listen(${UPSTREAM_PORT},la,()=>{if(++n===a.length/3)console.log('relay ready');});}`;

export interface RelaySet {
  /** Sidecar env overrides (CA file variables rewritten to container paths). */
  env: Record<string, string>;
  mounts: Array<{ host: string; guest: string; readOnly: boolean }>;
  /** Starts the in-sidecar listeners once the sidecar container runs. */
  attach(sidecarContainer: string, image: string, labels: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Loopback addresses named by the RESOLVE settings (`host=ip,host=ip`). Pure. */
export function loopbackTargets(env: Readonly<Record<string, string>>): string[] {
  const out = new Set<string>();
  for (const v of RESOLVE_VARS) {
    for (const entry of (env[v] ?? '').split(',')) {
      const ip = entry.split('=')[1]?.trim() ?? '';
      if (/^127\.\d+\.\d+\.\d+$/.test(ip)) out.add(ip);
    }
  }
  return [...out].sort();
}

export async function loopbackRelays(env: Readonly<Record<string, string>>, docker: Docker, egressNetwork: string, caDir: string): Promise<RelaySet> {
  const overrides: Record<string, string> = {};
  const mounts: RelaySet['mounts'] = [];
  // The CA files are copied (world-readable: certificates only) into one directory of the bottle's
  // state, mounted read-only: the sidecar uid need not be able to read where the test keeps them.
  CA_VARS.forEach((v, i) => {
    const file = env[v];
    if (!file) return;
    mkdirSync(caDir, { recursive: true, mode: 0o755 });
    chmodSync(caDir, 0o755);
    const name = `${i}-${basename(file)}`;
    copyFileSync(file, join(caDir, name));
    chmodSync(join(caDir, name), 0o644);
    overrides[v] = `${CA_GUEST_DIR}/${name}`;
  });
  if (Object.keys(overrides).length > 0) mounts.push({ host: caDir, guest: CA_GUEST_DIR, readOnly: true });
  const targets = loopbackTargets(env);
  const servers: net.Server[] = [];
  let helper: string | null = null;
  const close = async () => {
    if (helper) await docker.run(['rm', '-f', helper]);
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  if (targets.length === 0) return { env: overrides, mounts, attach: async () => undefined, close };

  const gw = (await docker.run(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Gateway}} {{end}}', egressNetwork])).stdout.trim().split(/\s+/)[0] ?? '';
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(gw)) throw new BottleError('LAUNCH_FAILED', `docker: no gateway address on ${egressNetwork} for the stand-in relay`);
  const hops: string[] = [];
  for (const t of targets) {
    const server = net.createServer((c) => {
      const u = net.connect(UPSTREAM_PORT, t);
      c.pipe(u).pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, gw, () => resolve());
    });
    servers.push(server);
    hops.push(t, gw, String((server.address() as net.AddressInfo).port));
  }
  return {
    env: overrides,
    mounts,
    close,
    async attach(sidecarContainer: string, image: string, labels: readonly string[]) {
      helper = `${sidecarContainer}-relay`;
      const r = await docker.run([
        'run', '-d', '--name', helper, ...labels,
        '--network', `container:${sidecarContainer}`, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
        '--entrypoint', 'node', image, '-e', RELAY_JS, ...hops,
      ]);
      if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `docker: starting the stand-in relay failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
      for (let i = 0; i < 50; i += 1) {
        if ((await docker.run(['logs', helper])).stdout.includes('relay ready')) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new BottleError('LAUNCH_FAILED', 'docker: the stand-in relay did not start');
    },
  };
}
