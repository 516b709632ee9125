/**
 * The whole approval chain on a real netns bottle, with nothing written by hand in between
 * (supervise cases 4 and 6 end to end): the agent's SDK client calls `egress-allow` from inside
 * the bottle and blocks; the operator answers with the real CLI (`supervise approve`, then
 * `supervise modify` with a scripted $EDITOR); the CLI imports the proposal from the spool,
 * rewrites the live routes and signals egress; the tool returns the decision with the applied
 * routes and generation; and the agent then reaches the new host — only where the decision allows.
 */
import { chmodSync, chownSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { provision } from '../../src/launch/provision.js';
import { GUEST_CA_BUNDLE, GUEST_CA_CERT, GUEST_UID } from '../../src/plan/bottle-plan.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { makePlan, tempHome } from '../backends/helpers/plan.js';
import { skipReason } from '../helpers/capabilities.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startTlsUpstream, type TlsUpstream } from '../helpers/tls-upstream.js';
import { routesFor, writeNetnsMetadata, writeRealState } from '../launch/real-state.js';

const API = 'api.rt.bot-bottle.test';
const PKG = 'pkg.rt.bot-bottle.test';
const SECRET = 'marker-rt-secret-7f3e9a1c';

/** The in-bottle agent: one `egress-allow` call with the routes given as JSON, its result on stdout. */
const CLIENT = `
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const [url, routes] = process.argv.slice(2);
const c = new Client({ name: 'in-bottle-agent', version: '1' });
await c.connect(new StreamableHTTPClientTransport(new URL(url)));
const r = await c.callTool({ name: 'egress-allow', arguments: { routes: JSON.parse(routes), justification: 'the task installs its test dependencies from the package index' } }, undefined, { timeout: 120000 });
console.log(JSON.stringify({ isError: r.isError ?? false, result: r.structuredContent ?? r.content }));
await c.close();
`;

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('approval round trip: agent MCP call → operator CLI → egress (netns)', () => {
  const home = tempHome();
  const env = { BOT_BOTTLE_HOME: home };
  let upstream: TlsUpstream | undefined;
  afterAll(async () => {
    await upstream?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('approve: the tool returns approved with the routes and generation 2, egress serves the new host on that path only; modify: the tool returns modified with the edit, which egress enforces', async () => {
    upstream = await startTlsUpstream({
      names: [API, PKG],
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${req.url}`);
      },
    });
    const slug = `rt-${Math.random().toString(36).slice(2, 7)}`;
    const upstreamCa = join(home, 'upstream-ca.pem');
    writeFileSync(upstreamCa, upstream.ca.certPem);
    const plan = makePlan(home, slug, {
      daemons: ['egress', 'supervise'],
      agentEnv: { CURL_CA_BUNDLE: GUEST_CA_BUNDLE, SSL_CERT_FILE: GUEST_CA_BUNDLE, NODE_EXTRA_CA_CERTS: GUEST_CA_CERT },
      sidecarEnv: { EGRESS_RESOLVE: `${API}=127.0.0.1,${PKG}=127.0.0.1`, EGRESS_UPSTREAM_CA_FILE: upstreamCa },
    });
    await writeRealState(plan, routesFor(slug, API, upstream.port));
    writeNetnsMetadata(plan);
    const b = (await createNetnsBackend().launch(plan, { EGRESS_TOKEN_0: SECRET }, { onProgress: () => undefined })) as NetnsBottle;
    const outbox = join(plan.stateDir, 'supervise', 'spool', 'outbox');
    const seen = new Set<string>();
    /** The id of the next proposal the daemon files (as the operator would see it arrive). */
    const nextProposal = async (): Promise<string> => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const fresh = readdirSync(outbox).filter((n) => /^[0-9A-Z]{26}\.json$/.test(n) && !seen.has(n));
        if (fresh[0]) {
          seen.add(fresh[0]);
          return fresh[0].replace(/\.json$/, '');
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no proposal was filed within 30 s');
    };
    const status = async (path: string) => (await b.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', `https://${PKG}:${upstream!.port}${path}`])).stdout;
    try {
      await provision(plan, b, () => undefined, () => undefined);
      const script = join(plan.stateDir, 'home', 'agent-mcp.mjs');
      await build({ stdin: { contents: CLIENT, resolveDir: REPO_ROOT, loader: 'js' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, logLevel: 'silent' });
      chownSync(script, GUEST_UID, GUEST_UID);
      chmodSync(script, 0o644);
      const ask = (routes: unknown) => b.exec(['node', '/home/node/agent-mcp.mjs', 'http://supervise:9100/mcp', JSON.stringify(routes)]);
      expect(await status('/pkg/x')).not.toBe('200');

      // Approve: the CLI imports the proposal, applies it, signals egress and answers the tool.
      const asked = [{ host: PKG, port: upstream.port, allow_private_cidrs: ['127.0.0.0/8'], matches: [{ paths: [{ type: 'prefix', value: '/pkg/' }], methods: ['GET'] }] }];
      const call = ask(asked);
      const id = await nextProposal();
      const approve = await runCli(['supervise', 'approve', id, '--notes', 'for the test suite'], { env, timeoutMs: 60_000 });
      expect(approve.code, approve.stderr).toBe(0);
      expect(approve.stdout).toMatch(new RegExp(`routes generation 2: .*${PKG.replace(/\./g, '\\.')}`));
      const answered = await call;
      expect(answered.stderr).toBe('');
      const doc = JSON.parse(answered.stdout) as { isError: boolean; result: Record<string, unknown> };
      expect(doc.isError).toBe(false);
      expect(doc.result).toMatchObject({ status: 'approved', proposal_id: id, generation: 2, notes: 'for the test suite', routes: asked });
      // The tool answered after egress reported the new generation: no retry needed.
      expect(await status('/pkg/x')).toBe('200');
      expect(await status('/other')).not.toBe('200');

      // Modify: the operator narrows the path in $EDITOR; the tool returns the edit, egress enforces it.
      const editor = join(home, 'narrow.sh');
      writeFileSync(editor, `#!/bin/sh\nsed -i 's#/wide/#/wide/only/#' "$1"\n`, { mode: 0o755 });
      const wide = [{ host: PKG, port: upstream.port, allow_private_cidrs: ['127.0.0.0/8'], matches: [{ paths: [{ type: 'prefix', value: '/wide/' }], methods: ['GET'] }] }];
      const call2 = ask(wide);
      const id2 = await nextProposal();
      const modify = await runCli(['supervise', 'modify', id2, '--notes', 'only that directory'], { env: { ...env, EDITOR: editor, VISUAL: '' }, timeoutMs: 60_000 });
      expect(modify.code, modify.stderr).toBe(0);
      const doc2 = JSON.parse((await call2).stdout) as { isError: boolean; result: { status: string; generation: number; routes: Array<{ matches: unknown }> } };
      expect(doc2.result).toMatchObject({ status: 'modified', proposal_id: id2, generation: 3, notes: 'only that directory' });
      expect(doc2.result.routes[0]?.matches).toEqual([{ paths: [{ type: 'prefix', value: '/wide/only/' }], methods: ['GET'] }]);
      expect(await status('/wide/only/a')).toBe('200');
      expect(await status('/wide/other')).not.toBe('200');
      // The merge rule (docs/supervise.md): a proposed route for an existing (host, port) replaces
      // it, so the first approval's path is gone — an agent proposes the superset it needs.
      expect(await status('/pkg/y')).toBe('403');
      for (const out of [approve.stdout, approve.stderr, modify.stdout, modify.stderr, answered.stdout]) expect(out).not.toContain(SECRET);
    } finally {
      await b.close();
    }
    expect(leftovers(slug)).toEqual([]);
  }, 180_000);
});
