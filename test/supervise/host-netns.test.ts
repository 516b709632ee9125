/**
 * Spec case 4 through a real netns bottle with the real egress daemon: an `egress-allow` filed in
 * the spool, approved by the host, rewrites the live routes (generation + 1), signals egress
 * through the backend, `/healthz` shows the new generation and the agent reaches the new host.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT } from '../../src/plan/bottle-plan.js';
import { decideAndApply, relayOnce } from '../../src/supervise/host/index.js';
import { openStore } from '../../src/supervise/store/index.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { makePlan, tempHome } from '../backends/helpers/plan.js';
import { skipReason } from '../helpers/capabilities.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';
import { routesFor, writeNetnsMetadata, writeRealState } from '../launch/real-state.js';
import { fileProposal } from './store-helpers.js';

const API = 'api.bot-bottle.test';
const PKG = 'pkg.bot-bottle.test';

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('approve through a real netns bottle (case 4)', () => {
  const home = tempHome();
  let upstream: TlsUpstream;
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('approve → routes generation + 1, SIGHUP reload, /healthz shows it, the new host is reachable', async () => {
    upstream = await startTlsUpstream({
      names: [API, PKG],
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${req.url}`);
      },
    });
    const slug = `sa-${Math.random().toString(36).slice(2, 7)}`;
    const upstreamCa = join(home, 'upstream-ca.pem');
    writeFileSync(upstreamCa, upstream.ca.certPem);
    const plan = makePlan(home, slug, {
      daemons: ['egress'],
      agentEnv: { CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE, NODE_EXTRA_CA_CERTS: GUEST_CA_CERT },
      sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1,${PKG}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
    });
    await writeRealState(plan, routesFor(slug, API, upstream.port));
    writeNetnsMetadata(plan);
    const backend = createNetnsBackend();
    const b = (await backend.launch(plan, { EGRESS_TOKEN_0: 'marker-sup-secret-0a1b2c3d' }, { onProgress: () => undefined })) as NetnsBottle;
    const store = openStore(home, { onNotice: () => undefined });
    try {
      await provision(plan, b, () => undefined, () => undefined);
      const healthz = async () => JSON.parse((await b.exec(['curl', '-sS', '--noproxy', '*', '--max-time', '10', 'http://egress:9099/healthz'])).stdout) as { generation: number };
      const fetchPkg = async () => (await b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', `https://${PKG}:${upstream.port}/pkg/x`])).stdout;
      expect((await healthz()).generation).toBe(1);
      expect(await fetchPkg()).not.toBe('200');

      const spool = join(plan.stateDir, 'supervise', 'spool');
      const id = fileProposal(spool, slug, {
        payload: { routes: [{ host: PKG, port: upstream.port, allow_private_cidrs: ['127.0.0.0/8'], matches: [{ paths: [{ type: 'prefix', value: '/pkg/' }], methods: ['GET'] }] }] },
      });
      relayOnce(store, home, { slugs: [slug] });
      const out = await decideAndApply(store, home, { id, decision: 'approved', operator: 'test' });
      expect(out.routes).toMatchObject({ generation: 2, reload: 'signalled' });
      let gen = 0;
      for (let i = 0; i < 100 && gen < 2; i++) {
        gen = (await healthz()).generation;
        if (gen < 2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(gen).toBe(2);
      expect(await fetchPkg()).toBe('200');
      // Outside the approved path: still denied.
      expect((await b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', `https://${PKG}:${upstream.port}/other`])).stdout).not.toBe('200');
    } finally {
      store.close();
      await b.close();
    }
    expect(leftovers(slug)).toEqual([]);
  }, 120_000);
});
