/**
 * `supervise approve --remember`, `remembered` and `forget` through the real CLI
 * (docs/decisions/supervise-remember.md): temp BOT_BOTTLE_HOME, stopped bottles' state dirs,
 * proposals filed into the spool as the daemon files them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexManifests, loadBottles } from '../../src/manifest/loader.js';
import { openStore } from '../../src/supervise/store/index.js';
import { runCli } from '../helpers/cli.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome, type TestHome } from '../supervise/store-helpers.js';

let t: TestHome;
afterEach(() => t?.cleanup());

const cli = (args: string[]) => runCli(['supervise', ...args], { env: { BOT_BOTTLE_HOME: t.home }, timeoutMs: 60_000 });
const state = (id: string) => {
  const s = openStore(t.home, { onNotice: () => undefined });
  try {
    return s.get(id);
  } finally {
    s.close();
  }
};
const payload = { routes: [{ host: 'pypi.org', matches: [{ paths: [{ type: 'prefix', value: '/simple/' }], methods: ['GET'] }] }] };

const DEV_BOTTLE = `---
# the development bottle: keep this comment
egress:
  # routes the agent needs
  routes:
    - host: api.github.com # GitHub API
      matches:
        - paths: [{type: prefix, value: /repos/acme/}]
  log: 1
---
Notes for people, below the front matter.
`;

describe('approve --remember bottle, remembered, forget', () => {
  it('remembers, lists, auto-approves the next identical request, and forget stops it', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const first = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const a = await cli(['approve', first, '--remember', 'bottle', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ schema: 'bot-bottle/decision@1', decision: 'approved', remembered: { scope: 'bottle', rule: 1 } });

    const list = await cli(['remembered', '--json']);
    const doc = JSON.parse(list.stdout) as { schema: string; rules: Array<Record<string, unknown>> };
    expect(doc.schema).toBe('bot-bottle/remembered@1');
    expect(doc.rules).toMatchObject([{ id: 1, scope: 'bottle', subject: 'alpha-1', kind: 'egress-allow', summary: 'pypi.org', sourceProposal: first }]);
    expect((await cli(['remembered'])).stdout).toMatch(/^1 {2}bottle alpha-1 {2}egress-allow {2}pypi\.org/);

    // Any supervise verb relays first: the identical request is decided before it is listed.
    const second = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const once = await cli(['--once']);
    expect(once.stdout).toBe('No pending proposals.\n');
    expect(state(second)?.response).toMatchObject({ decision: 'approved', operator: 'remembered:bottle' });
    const audit = await cli(['audit', '--json']);
    expect(audit.stdout).toContain('"event":"decision.remembered"');

    const f = await cli(['forget', '1', '--json']);
    expect(f.code).toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ schema: 'bot-bottle/forgotten@1', id: 1, scope: 'bottle' });
    const third = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const pending = JSON.parse((await cli(['--json'])).stdout) as { pending: Array<{ id: string }> };
    expect(pending.pending.map((p) => p.id)).toEqual([third]);
  }, 120_000);

  it('bad input: an unknown scope is exit 2, forget of an unknown or malformed id exit 1 / 2, capability-block exit 1', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const bad = await cli(['approve', id, '--remember', 'everywhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^bot-bottle: error: --remember must be one of bottle, agent, file, got "everywhere"/);
    // Refused before the store is opened: nothing decided (the proposal is imported by the next verb).
    expect(state(id)?.response ?? null).toBeNull();
    expect((await cli(['forget', '7'])).stderr).toMatch(/no remembered rule 7/);
    expect((await cli(['forget', '7'])).code).toBe(1);
    expect((await cli(['forget', 'x1'])).code).toBe(2);
    const cap = fileProposal(t.spool('alpha-1'), 'alpha-1', { kind: 'capability-block', payload: { dockerfile: 'FROM node:22\n' } });
    const c = await cli(['approve', cap, '--remember', 'agent']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/never remembered/);
    expect(state(cap)?.state).toBe('pending');
  }, 120_000);
});

describe('approve --remember file', () => {
  it('appends the routes to the bottle file, comments and body kept, and the file still loads', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    mkdirSync(join(t.home, 'bottles'), { recursive: true });
    const file = join(t.home, 'bottles', 'dev.md');
    writeFileSync(file, DEV_BOTTLE);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const r = await cli(['approve', id, '--remember', 'file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`added to ${file}`);
    const text = readFileSync(file, 'utf8');
    for (const kept of ['# the development bottle: keep this comment', '# routes the agent needs', '    - host: api.github.com # GitHub API', '        - paths: [{type: prefix, value: /repos/acme/}]', 'Notes for people, below the front matter.']) expect(text).toContain(kept);
    expect(text.indexOf('api.github.com')).toBeLessThan(text.indexOf('pypi.org'));
    expect(text.indexOf('pypi.org')).toBeLessThan(text.indexOf('  log: 1'));
    const loaded = loadBottles(indexManifests({ home: t.home, cwd: '/' }), ['dev']);
    expect(loaded.config.egress.routes.map((x) => x.route.host)).toEqual(['api.github.com', 'pypi.org']);
    // The loader's own spelling of the same prefix (trailing slash dropped; the matcher ignores it).
    expect(loaded.config.egress.routes[1]!.route.matches).toEqual([{ paths: [{ type: 'prefix', value: '/simple' }], methods: ['GET'] }]);
    expect(state(id)?.response?.decision).toBe('approved');
  }, 120_000);

  it('refused, file unchanged and the proposal still pending: the bottle inherits its routes; several bottle files', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    mkdirSync(join(t.home, 'bottles'), { recursive: true });
    writeFileSync(join(t.home, 'bottles', 'base.md'), '---\negress:\n  routes:\n    - host: pypi.org\n---\n');
    const file = join(t.home, 'bottles', 'dev.md');
    const child = '---\n# inherits its routes\nextends: base\n---\n';
    writeFileSync(file, child);
    const id = fileProposal(t.spool('alpha-1'), 'alpha-1', { payload });
    const r = await cli(['approve', id, '--remember', 'file']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bot-bottle: error: bottle "dev" inherits its routes from base; adding routes to it would replace them, so which file to change is ambiguous/);
    expect(readFileSync(file, 'utf8')).toBe(child);
    expect(state(id)?.state).toBe('pending');

    const metaPath = join(t.stateDir('alpha-1'), 'metadata.json');
    writeFileSync(metaPath, readFileSync(metaPath, 'utf8').replace('"bottle_names":["dev"]', '"bottle_names":["dev","base"]'));
    const two = await cli(['approve', id, '--remember', 'file']);
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/launched from 2 bottle files \(dev, base\); which one to write is ambiguous/);
    expect(state(id)?.state).toBe('pending');
  }, 120_000);
});
