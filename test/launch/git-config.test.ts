/**
 * Regression: `insteadOf` is multi-valued (one per spelling of the upstream URL). Applying the
 * pairs with plain `git config key value` kept only the last spelling, so a clone of the other
 * spelling bypassed the gate rewrite. The applier must keep every value and be re-runnable (resume).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/capabilities.js';
import { gitConfigArgv } from '../../src/launch/provision.js';

describe.skipIf(skipReason('git'))('agent git config applier', () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  });

  it('keeps every insteadOf spelling, values with spaces and quotes intact, and is idempotent', () => {
    const home = mkdtempSync(join(tmpdir(), 'bb-gitcfg-'));
    dirs.push(home);
    const pairs: Array<[string, string]> = [
      ['user.name', 'Implementer "Bot" $(id)'],
      ['url.http://git-gate:9420/widget.git.insteadOf', 'https://git.example.com/acme/widget.git'],
      ['url.http://git-gate:9420/widget.git.insteadOf', 'https://git.example.com/acme/widget'],
    ];
    const argv = gitConfigArgv(pairs);
    for (let i = 0; i < 2; i++) {
      const r = spawnSync(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH, HOME: home }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const get = (key: string) =>
      spawnSync('git', ['config', '--global', '--get-all', key], { env: { PATH: process.env.PATH, HOME: home }, encoding: 'utf8' }).stdout.trim().split('\n');
    expect(get('url.http://git-gate:9420/widget.git.insteadOf')).toEqual([
      'https://git.example.com/acme/widget.git',
      'https://git.example.com/acme/widget',
    ]);
    expect(get('user.name')).toEqual(['Implementer "Bot" $(id)']);
    expect(readFileSync(join(home, '.gitconfig'), 'utf8').match(/insteadOf/g)).toHaveLength(2);
  });
});
