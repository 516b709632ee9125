/**
 * Approve-and-remember as the agent sees it: the real supervise daemon (in process, real HTTP,
 * real spool under a temp BOT_BOTTLE_HOME), the SDK's MCP client, and the launcher's host relay
 * (startRelay) with a remembered rule in a real store. No operator answers: the rule does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { startSuperviseDaemon, type SuperviseDaemon } from '../../src/supervise/daemon.js';
import { startRelay } from '../../src/supervise/host/relay.js';
import { openStore, storePath } from '../../src/supervise/store/index.js';
import { bottleState, LIVE_ROUTES, testHome, type TestHome } from './store-helpers.js';

const JUST = 'the task needs the package index to install its test dependencies';
const SLUG = 'alpha-1';

let t: TestHome;
const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  t?.cleanup();
});

describe('remembered rule answers the agent', () => {
  it('egress-allow covered by a bottle rule returns approved (notes name the rule) and the live table has the route; a broader call still waits', async () => {
    t = testHome();
    bottleState(t, SLUG, LIVE_ROUTES);
    const pypi = { host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] };
    const store = openStore(t.home, { onNotice: () => undefined });
    store.addRememberRule({ scope: 'bottle', subject: SLUG, kind: 'egress-allow', rule: { routes: [pypi] }, sourceProposal: null, createdBy: 'operator:tester', bottle: SLUG });
    store.close();

    const dir = t.stateDir(SLUG);
    const daemon: SuperviseDaemon = await startSuperviseDaemon(
      {
        BOT_BOTTLE_SLUG: SLUG,
        SUPERVISE_LISTEN: '127.0.0.1:0',
        SUPERVISE_SPOOL_DIR: t.spool(SLUG),
        SUPERVISE_INTERNAL_SOCKET: join(dir, 'run/supervise/supervise.sock'),
        SUPERVISE_ROUTES_FILE: join(dir, 'live-config/routes.yaml'),
        EGRESS_INTROSPECT_URL: 'http://127.0.0.1:1',
      },
      () => undefined,
    );
    stops.push(() => daemon.close());
    const stopRelay = startRelay({ home: t.home, slug: SLUG, open: () => openStore(t.home, { onNotice: () => undefined }), storeExists: () => existsSync(storePath(t.home)), intervalMs: 100 });
    stops.push(stopRelay);
    const client = new Client({ name: 'remember-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${daemon.port}/mcp`)));
    stops.push(() => client.close());

    const narrower = [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/requests/' }], methods: ['GET'] }] }];
    const r = (await client.callTool({ name: 'egress-allow', arguments: { routes: narrower, justification: JUST } }, undefined, { timeout: 60_000 })) as CallToolResult;
    const s = r.structuredContent as Record<string, unknown>;
    expect(s.status).toBe('approved');
    expect(s.notes).toMatch(/remembered rule 1 \(bottle alpha-1\)/);
    const table = parseRoutesFile(readFileSync(join(dir, 'live-config/routes.yaml'), 'utf8'));
    expect(table.routes.find((x) => x.host === 'pypi.org')).toMatchObject({ origin: 'approved', matches: narrower[0]!.matches });

    // Broader (POST): not covered; nobody answers, so the call times out as rejected.
    const wide = [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['POST'] }] }];
    const w = (await client.callTool({ name: 'egress-allow', arguments: { routes: wide, justification: JUST } }, undefined, { timeout: 3_000 }).catch((e: unknown) => e)) as unknown;
    // Either the client gave up (timeout) or the call is still unanswered: it was not approved.
    expect((w as CallToolResult | undefined)?.structuredContent?.status).not.toBe('approved');
    // It was filed and never answered (the client may since have withdrawn it): no response row.
    const check = openStore(t.home, { onNotice: () => undefined });
    try {
      const filed = check.readAudit().filter((a) => a.event === 'proposal.filed').map((a) => a.proposalId!);
      expect(filed).toHaveLength(2);
      const broad = check.get(filed[0]!)!; // newest first
      expect(broad.payload).toMatchObject({ routes: wide });
      expect(broad.response).toBeNull();
    } finally {
      check.close();
    }
  }, 90_000);
});
