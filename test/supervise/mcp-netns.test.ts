/**
 * The supervise daemon from inside a real netns bottle (docs/architecture.md §9): the sidecar runs
 * it as the bottle's unprivileged sidecar uid, the firewall opens exactly the ports of the three
 * daemons (a full TCP scan of the host end from inside the bottle finds 9099, 9100 and 9420 and
 * nothing else), and the SDK's MCP client — bundled into one file, run by the bottle's node —
 * lists the tools at `http://supervise:9100/mcp` and files a proposal the host answers through
 * the spool.
 */
import { chmodSync, chownSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { PORT_SET } from '../../src/backends/netns/firewall.js';
import { namesFor } from '../../src/backends/netns/names.js';
import type { NetnsBottle } from '../../src/backends/netns/running.js';
import { GUEST_UID } from '../../src/plan/bottle-plan.js';
import { writeInboxFile } from '../../src/supervise/store/spool.js';
import { skipReason } from '../helpers/capabilities.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { makePlan, tempHome } from '../backends/helpers/plan.js';
import { routesFor, writeRealState } from '../launch/real-state.js';

const SECRET = `marker-sv-netns-${randomBytes(6).toString('hex')}`;
const JUST = 'the task needs the package index to install its test dependencies';

/** The in-bottle client: `list` → initialize, tools/list, list-egress-routes; `propose` → egress-allow. */
const CLIENT = `
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const [url, mode] = process.argv.slice(2);
const c = new Client({ name: 'in-bottle', version: '1' });
await c.connect(new StreamableHTTPClientTransport(new URL(url)));
if (mode === 'list') {
  const { tools } = await c.listTools();
  const routes = await c.callTool({ name: 'list-egress-routes', arguments: {} });
  console.log(JSON.stringify({ server: c.getServerVersion(), tools: tools.map((t) => ({ name: t.name, input: t.inputSchema.type, output: t.outputSchema?.type ?? null })), routes: routes.structuredContent }));
} else {
  const r = await c.callTool({ name: 'egress-allow', arguments: { routes: [{ host: 'pypi.org' }], justification: ${JSON.stringify(JUST)} } }, undefined, { timeout: 120000 });
  console.log(JSON.stringify(r.structuredContent));
}
await c.close();
`;

/** Every TCP port of the host end, 1–65535, from inside the bottle: the ones that accept. */
const SCAN = `
const net = require('net');
const host = process.argv[1];
const open = [];
let next = 1, active = 0;
const done = () => { if (next > 65535 && active === 0) { console.log(JSON.stringify(open.sort((a, b) => a - b))); } };
function one() {
  if (next > 65535) return done();
  const port = next++;
  active++;
  const s = net.connect({ host, port });
  const end = (ok) => { if (ok) open.push(port); s.destroy(); active--; one(); };
  s.setTimeout(300, () => end(false));
  s.once('connect', () => end(true));
  s.once('error', () => end(false));
}
for (let i = 0; i < 800; i++) one();
`;

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'netns'))('supervise from inside a real netns bottle', () => {
  const home = tempHome();
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('cases 1 and 25: only 9099, 9100, 9420 open; the SDK client lists the tools and a proposal round-trips through the spool', async () => {
    const slug = `sv-${Math.random().toString(36).slice(2, 7)}`;
    const plan = makePlan(home, slug, { daemons: ['egress', 'git-gate', 'supervise'] });
    await writeRealState(plan, routesFor(slug, 'api.bot-bottle.test', 443));
    const b = (await createNetnsBackend().launch(plan, { EGRESS_TOKEN_0: SECRET, EGRESS_TOKEN_CANARY: 'marker-sv-c' }, { onProgress: () => undefined })) as NetnsBottle;
    try {
      const set = execFileSync('nft', ['list', 'set', 'inet', namesFor(slug).table, PORT_SET], { encoding: 'utf8' });
      expect(set).toMatch(/elements = \{ 9099, 9100, 9420 \}/);

      // Case 25: a full scan from the agent's network.
      const scan = await b.exec(['node', '-e', SCAN, b.hostAddr]);
      expect(scan.stderr).toBe('');
      expect(JSON.parse(scan.stdout)).toEqual([9099, 9100, 9420]);

      // The daemon runs as the sidecar uid, not root, and owns its spool and socket directory.
      const spool = join(plan.stateDir, 'supervise/spool');
      const sidecarUid = statSync(spool).uid;
      expect(sidecarUid).not.toBe(0);
      expect(statSync(join(plan.stateDir, 'run/supervise/supervise.sock')).uid).toBe(sidecarUid);
      expect(statSync(join(plan.stateDir, 'run/supervise/supervise.sock')).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(join(spool, 'heartbeat'), 'utf8'))).toMatchObject({ version: expect.any(String) });

      // Case 1 from inside: the SDK client, bundled into one file in the agent's home.
      const script = join(plan.stateDir, 'home', 'mcp-client.mjs');
      await build({ stdin: { contents: CLIENT, resolveDir: REPO_ROOT, loader: 'js' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, logLevel: 'silent' });
      chownSync(script, GUEST_UID, GUEST_UID);
      chmodSync(script, 0o644);
      const listed = await b.exec(['node', '/home/node/mcp-client.mjs', 'http://supervise:9100/mcp', 'list']);
      expect(listed.stderr).toBe('');
      const doc = JSON.parse(listed.stdout) as { server: { name: string }; tools: Array<{ name: string; input: string; output: string | null }>; routes: { source: string; routes: Array<{ host: string }> } };
      expect(doc.server.name).toBe('bot-bottle-supervise');
      expect(doc.tools.map((t) => t.name).sort()).toEqual(['capability-block', 'egress-allow', 'list-egress-routes']);
      for (const t of doc.tools) expect([t.input, t.output]).toEqual(['object', 'object']);
      // Egress is up for the daemon (its introspection URL is the host end): the live view.
      expect(doc.routes.source).toBe('egress');
      expect(doc.routes.routes.map((r) => r.host)).toEqual(['api.bot-bottle.test']);
      expect(listed.stdout).not.toContain(SECRET);

      // A proposal from inside: it lands in the outbox; the host (root) answers through the inbox,
      // which the daemon (another uid) must be able to read.
      const proposing = b.exec(['node', '/home/node/mcp-client.mjs', 'http://supervise:9100/mcp', 'propose']);
      const outbox = join(spool, 'outbox');
      const until = Date.now() + 30_000;
      let files: string[] = [];
      while (Date.now() < until && (files = readdirSync(outbox).filter((n) => /^[0-9A-Z]{26}\.json$/.test(n))).length === 0) await new Promise((r) => setTimeout(r, 100));
      expect(files).toHaveLength(1);
      const id = files[0]!.replace(/\.json$/, '');
      writeInboxFile(spool, { v: 1, id, decision: 'rejected', notes: 'not for this task', reason: 'not for this task', modified_payload: null, applied: {} });
      const answered = await proposing;
      expect(answered.stderr).toBe('');
      expect(JSON.parse(answered.stdout)).toEqual({ status: 'rejected', notes: 'not for this task', proposal_id: id });
    } finally {
      await b.close();
    }
    expect(leftovers(slug)).toEqual([]);
  }, 180_000);
});
