/** `commit` (docs/cli.md#commands): usage and not-running errors are one line with the right exit code. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('bot-bottle commit', () => {
  const home = mkdtempSync(join(tmpdir(), 'bb-commit-'));
  const env = { BOT_BOTTLE_HOME: home, DOCKER_HOST: 'unix:///nonexistent/bot-bottle-test/docker.sock' };
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('without a slug: exit 2, one line asking for the bottle', async () => {
    const r = await runCli(['commit'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bot-bottle: error: name the bottle to commit; /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bottle that is not running: exit 1, one line', async () => {
    const r = await runCli(['commit', 'no-such-bottle'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bot-bottle: error: bottle "no-such-bottle" is not running/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
