/** `cleanup` of state dirs (C28 state part, C29, C30). */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { surveyCleanup } from '../../src/launch/cleanup.js';

describe('cleanup: state directories', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-cleanup-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const state = (slug: string) => join(home, 'state', slug);
  function make(slug: string, opts: { preserved?: boolean; livePid?: number } = {}) {
    mkdirSync(state(slug), { recursive: true });
    writeFileSync(join(state(slug), 'metadata.json'), JSON.stringify({ schema_version: 1, identity: slug, agent_name: 'a', bottle_names: [], backend: 'netns' }));
    if (opts.preserved) writeFileSync(join(state(slug), '.preserve'), JSON.stringify({ reason: 'exit-nonzero', at: new Date().toISOString(), exitCode: 3 }));
    if (opts.livePid) writeFileSync(join(state(slug), 'session.json'), JSON.stringify({ pid: opts.livePid, startedAt: new Date().toISOString() }));
  }

  it('C28/C29/C30: stale listed and removed, preserved kept unless asked, live never touched', async () => {
    make('stale-aaaaa');
    make('kept-bbbbb', { preserved: true });
    make('live-ccccc', { livePid: process.pid });
    make('dead-ddddd', { livePid: 999_999_999 }); // a session whose owner is gone is not live
    const env = { BOT_BOTTLE_HOME: home };

    const dry = await runCli(['cleanup', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('state/stale-aaaaa');
    expect(dry.stdout).toContain('state/dead-ddddd');
    expect(dry.stdout).toMatch(/kept\s+state\/kept-bbbbb \(preserved/);
    expect(dry.stdout).not.toContain('live-ccccc');
    for (const s of ['stale-aaaaa', 'kept-bbbbb', 'live-ccccc', 'dead-ddddd']) expect(existsSync(state(s))).toBe(true);

    expect((await runCli(['cleanup'], { env })).code).toBe(2);

    // Unfiltered `cleanup --yes` would also reap other tests' netns orphans on this host, so
    // the C30 rule is checked on the library with no backend, the CLI with named slugs.
    const survey = await surveyCleanup(home, []);
    expect(survey.removableState.sort()).toEqual(['dead-ddddd', 'stale-aaaaa']);
    expect(survey.keptPreserved).toEqual(['kept-bbbbb']);
    expect((await surveyCleanup(home, [], { includePreserved: true })).removableState.sort()).toEqual(['dead-ddddd', 'kept-bbbbb', 'stale-aaaaa']);

    const yes = await runCli(['cleanup', '--yes', 'stale-aaaaa', 'dead-ddddd'], { env });
    expect(yes.code, yes.stderr).toBe(0);
    expect(existsSync(state('stale-aaaaa'))).toBe(false);
    expect(existsSync(state('dead-ddddd'))).toBe(false);
    expect(existsSync(state('kept-bbbbb'))).toBe(true);
    expect(existsSync(state('live-ccccc'))).toBe(true);

    const named = await runCli(['cleanup', '--yes', 'kept-bbbbb'], { env }); // naming a slug includes it
    expect(named.code, named.stderr).toBe(0);
    expect(existsSync(state('kept-bbbbb'))).toBe(false);
    expect(existsSync(state('live-ccccc'))).toBe(true);
    expect((await runCli(['cleanup', '--dry-run', 'live-ccccc'], { env })).stdout).toContain('nothing to clean up');
  }, 120_000);

  it('--json: bot-bottle/cleanup@1 on stdout for a dry run, a removal and nothing found; the lists stay off stdout', async () => {
    const jsonHome = mkdtempSync(join(tmpdir(), 'bb-cleanup-json-'));
    try {
      const at = (slug: string) => join(jsonHome, 'state', slug);
      mkdirSync(at('stale-jjjjj'), { recursive: true });
      mkdirSync(at('kept-kkkkk'), { recursive: true });
      writeFileSync(join(at('kept-kkkkk'), '.preserve'), JSON.stringify({ reason: 'exit-nonzero', at: new Date().toISOString(), exitCode: 3 }));
      const env = { BOT_BOTTLE_HOME: jsonHome };

      const dry = await runCli(['cleanup', '--dry-run', '--json'], { env });
      expect(dry.code, dry.stderr).toBe(0);
      const d = JSON.parse(dry.stdout) as Record<string, unknown>;
      // Other tests' netns orphans on this host may appear under resources: not asserted.
      expect(d).toMatchObject({ schema: 'bot-bottle/cleanup@1', dryRun: true, applied: false, removableState: ['stale-jjjjj'], keptPreserved: ['kept-kkkkk'], removedState: [], failed: [] });
      expect(Array.isArray(d.resources) && Array.isArray(d.skippedBackends)).toBe(true);
      expect(existsSync(at('stale-jjjjj'))).toBe(true);

      // Not interactive and no --yes: the same usage error as without --json, stdout empty.
      const refused = await runCli(['cleanup', '--json'], { env });
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.split('\n').filter(Boolean)).toHaveLength(1);

      const yes = await runCli(['cleanup', '--yes', '--json', 'stale-jjjjj'], { env });
      expect(yes.code, yes.stderr).toBe(0);
      expect(JSON.parse(yes.stdout)).toMatchObject({ dryRun: false, applied: true, removableState: ['stale-jjjjj'], removedState: ['stale-jjjjj'], failed: [] });
      expect(existsSync(at('stale-jjjjj'))).toBe(false);
      expect(existsSync(at('kept-kkkkk'))).toBe(true);

      const none = await runCli(['cleanup', '--json', 'stale-jjjjj'], { env });
      expect(none.code, none.stderr).toBe(0);
      expect(JSON.parse(none.stdout)).toMatchObject({ applied: false, resources: [], removableState: [] });
    } finally {
      rmSync(jsonHome, { recursive: true, force: true });
    }
  }, 120_000);
});
