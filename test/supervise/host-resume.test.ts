/**
 * Spec case 23: resuming a slug with approved routes writes them into the new live table (the
 * launch hook in src/launch/resume-state.ts), keeping the re-read manifests' routes and auth.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { rematerializeState } from '../../src/launch/resume-state.js';
import type { PreparedLaunch } from '../../src/plan/prepare.js';
import { appendApprovedRoutes } from '../../src/supervise/host/approved-routes.js';
import { LIVE_ROUTES, testHome, type TestHome } from './store-helpers.js';

let t: TestHome;
afterEach(() => t?.cleanup());

function prepared(stateDir: string, slug: string): PreparedLaunch {
  const routesFile = { ...parseRoutesFile(LIVE_ROUTES), bottle: slug, generation: 1 };
  // Only what writeLaunchFiles reads: the rest of a launch is not under test here.
  return {
    plan: { slug, stateDir },
    routesFile,
    metadata: { slug, agentName: 'a', bottleNames: [], backend: 'netns', label: slug, color: 'none', cwd: '/', copyCwd: false, startedAt: new Date().toISOString(), headless: true, template: 'claude', version: '0.1.0' },
    gate: { configYaml: 'version: 1\nrepos: []\n', copyFiles: [], knownHosts: [], generatedKeys: [] },
    providerFiles: [],
  } as unknown as PreparedLaunch;
}

describe('resume re-applies approved routes (case 23)', () => {
  it('the approved routes are in the new live table; manifest auth is kept', async () => {
    t = testHome();
    const slug = 'alpha-1';
    const dir = t.stateDir(slug);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    appendApprovedRoutes(dir, { proposal: 'P1', at: new Date().toISOString(), routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }] }] }] });
    appendApprovedRoutes(dir, { proposal: 'P2', at: new Date().toISOString(), routes: [{ host: 'api.github.com', matches: [{ methods: ['GET', 'POST'] }] }] });
    await rematerializeState(prepared(dir, slug));
    const table = parseRoutesFile(readFileSync(join(dir, 'live-config', 'routes.yaml'), 'utf8'));
    expect(table.routes.map((r) => r.host)).toEqual(['api.anthropic.com', 'api.github.com', 'pypi.org']);
    expect(table.routes[2]).toMatchObject({ origin: 'approved', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }] }], dlp: { outbound_on_match: 'supervise' } });
    expect(table.routes[1]).toMatchObject({ auth: { scheme: 'token', token_env: 'EGRESS_TOKEN_1' }, matches: [{ methods: ['GET', 'POST'] }] });
  });
});
