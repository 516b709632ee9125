/**
 * Spec case 23 through the real CLI on netns: a bottle started with `bot-bottle start`, an
 * `egress-allow` approved with `bot-bottle supervise approve` after the bottle was torn down, then
 * `bot-bottle resume <slug>` — the running egress of the resumed bottle serves the approved route
 * (its `/allowlist`, asked from inside the bottle), a request on the approved path passes its policy
 * while another path is denied, and the new live table holds it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRoutesFile } from '../../src/egress/routes-file.js';
import { leftovers } from '../backends/helpers/leftovers.js';
import { skipReason } from '../helpers/capabilities.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../launch/faults-cli.js';
import { fileProposal } from './store-helpers.js';

const APPROVED_HOST = 'pkg.case23.bot-bottle.test';

describe.skipIf(skipReason('root', 'bwrap', 'nft', 'ip', 'curl'))('resume re-applies approved routes through the CLI (case 23, netns)', () => {
  const home = makeHome();
  const env = { BOT_BOTTLE_HOME: home };
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('start → torn down → supervise approve → bot-bottle resume: the approved route is in the new live table', async () => {
    const first = await runCli(['start', 'runner', '--headless', '--backend', 'netns', '--prompt', 'exit 3'], { env, timeoutMs: 150_000 });
    expect(first.code, first.stderr).toBe(3);
    const slug = /^bot-bottle: started (runner-[0-9a-z]{5})$/m.exec(first.stderr)?.[1];
    expect(slug, first.stderr).toBeDefined();
    const state = join(home, 'state', slug!);
    expect(leftovers(slug!)).toEqual([]);

    // The agent's request, as the daemon files it; the operator approves it with the bottle down.
    const id = fileProposal(join(state, 'supervise', 'spool'), slug!, {
      payload: { routes: [{ host: APPROVED_HOST, matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }] },
    });
    const approve = await runCli(['supervise', 'approve', id], { env, timeoutMs: 60_000 });
    expect(approve.code, approve.stderr).toBe(0);
    expect(readFileSync(join(state, 'approved-routes.yaml'), 'utf8')).toContain(APPROVED_HOST);

    // The resumed bottle's egress is asked from inside: it serves the table it loaded at start.
    // Then requests through it: the approved path passes policy (the host does not exist, so the
    // upstream step fails), a path outside the approval is denied by policy.
    const probe = (path: string) => `curl -s -o /dev/null --max-time 20 https://${APPROVED_HOST}${path}`;
    const resumed = await runCli(['resume', slug!, '--headless', '--prompt', `curl -sS --noproxy '*' --max-time 20 http://egress:9099/allowlist; ${probe('/simple/pkg/')}; ${probe('/private/')}; exit 4`], { env, timeoutMs: 150_000 });
    expect(resumed.code, resumed.stderr).toBe(4);
    const allowlist = JSON.parse(resumed.stdout) as { routes: Array<{ host: string; matches?: unknown }> };
    expect(allowlist.routes.map((r) => r.host)).toContain(APPROVED_HOST);
    expect(allowlist.routes.find((r) => r.host === APPROVED_HOST)).toMatchObject({ matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] });
    const table = parseRoutesFile(readFileSync(join(state, 'live-config', 'routes.yaml'), 'utf8'));
    expect(table.routes.find((r) => r.host === APPROVED_HOST)).toMatchObject({ origin: 'approved' });
    const log = await runCli(['log', slug!, '--json'], { env });
    expect(log.code, log.stderr).toBe(0);
    const rows = log.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.host === APPROVED_HOST);
    // The approved path matched the approved route (then failed upstream: the host does not exist);
    // the other path was denied by policy.
    expect(rows).toContainEqual(expect.objectContaining({ path: '/simple/pkg/', rule: `${APPROVED_HOST}#0`, decision: 'error', reason: 'upstream_unreachable' }));
    expect(rows).toContainEqual(expect.objectContaining({ path: '/private/', decision: 'deny', reason: 'no_match', status: 403 }));
    expect(leftovers(slug!)).toEqual([]);
    await runCli(['cleanup', '--yes', '--include-preserved', slug!], { env, timeoutMs: 60_000 });
  }, 360_000);
});
