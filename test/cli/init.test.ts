import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliEnv, snapshot, type CliEnv } from './cli-fixtures.js';
import { indexManifests, loadAgent, loadBottles, selectBottleNames } from '../../src/manifest/loader.js';
import { initHome } from '../../src/cli/commands/init.js';
import { INIT_PROVIDERS } from '../../src/cli/commands/init-templates.js';
import { parsePiSettings } from '../../src/providers/pi/settings.js';

let e: CliEnv;
beforeEach(() => {
  e = cliEnv();
});
afterEach(() => e.cleanup());

function validate(home: string, userHome: string) {
  const idx = indexManifests({ home, cwd: userHome, userHome });
  const agent = loadAgent(idx, 'assistant');
  return loadBottles(idx, selectBottleNames(agent, [], idx));
}

describe('bot-bottle init', () => {
  it('C35 creates the layout; a second run creates nothing, prints skipped, exit 0; files validate', async () => {
    const home = join(e.root, 'fresh', 'bb');
    const env = { ...e.env, BOT_BOTTLE_HOME: home };
    const first = await runCli(['init'], { env, cwd: e.cwd });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created ${join(home, 'bottles', 'claude.md')}`);
    expect(first.stdout).toContain(`created ${join(home, 'agents', 'assistant.md')}`);
    expect(first.stdout).toContain('claude setup-token');
    expect(first.stdout).toContain('export BOT_BOTTLE_CLAUDE_OAUTH_TOKEN=');
    expect(first.stdout).toContain('bot-bottle doctor');
    expect(first.stdout).toContain('bot-bottle start assistant');
    for (const d of ['bottles', 'agents', 'contrib', 'state']) expect(statSync(join(home, d)).isDirectory()).toBe(true);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'state')).mode & 0o777).toBe(0o700);
    const s = validate(home, e.userHome);
    expect(s.config.agentProvider).toMatchObject({ template: 'claude', authToken: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN' });

    const before = snapshot(home);
    const second = await runCli(['init'], { env, cwd: e.cwd });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('created ');
    expect(second.stdout).toContain(`skipped ${join(home, 'bottles', 'claude.md')} (exists)`);
    expect(second.stdout).toContain(`skipped ${join(home, 'agents', 'assistant.md')} (exists)`);
    expect(snapshot(home)).toEqual(before);
  });

  it('--json: a bot-bottle/init@1 document on stdout (absolute paths), nothing else; second run all skipped', async () => {
    const home = join(e.root, 'json', 'bb');
    const env = { ...e.env, BOT_BOTTLE_HOME: home };
    const first = await runCli(['init', '--provider', 'codex', '--json'], { env, cwd: e.cwd });
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const doc = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(doc).toEqual({
      schema: 'bot-bottle/init@1',
      home,
      provider: 'codex',
      created: [home, ...['bottles', 'agents', 'contrib', 'state'].map((d) => join(home, d)), join(home, 'bottles', 'codex.md'), join(home, 'agents', 'assistant.md')],
      skipped: [],
    });
    const second = await runCli(['init', '--provider', 'codex', '--json'], { env, cwd: e.cwd });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ created: [], skipped: [join(home, 'bottles', 'codex.md'), join(home, 'agents', 'assistant.md')] });
  });

  it('never overwrites an existing file', () => {
    initHome(e.home, 'claude');
    writeFileSync(join(e.home, 'agents', 'assistant.md'), 'mine\n');
    const r = initHome(e.home, 'claude');
    expect(r.created).toEqual([]);
    expect(r.skipped).toHaveLength(2);
    expect(readFileSync(join(e.home, 'agents', 'assistant.md'), 'utf8')).toBe('mine\n');
  });

  it('every provider template validates (manifest schema, and pi settings with the pi provider)', () => {
    for (const p of INIT_PROVIDERS) {
      const home = join(e.root, `h-${p}`);
      initHome(home, p);
      const s = validate(home, e.userHome);
      expect(s.config.agentProvider.template).toBe(p);
      if (p === 'codex') expect(s.config.agentProvider.forwardHostCredentials).toBe(true);
      if (p === 'pi') expect(() => parsePiSettings(s.config.agentProvider.settings)).not.toThrow();
    }
  });

  it('--provider codex via the CLI; unknown provider → exit 2 and nothing created', async () => {
    const home = join(e.root, 'cx');
    const bad = await runCli(['init', '--provider', 'gemini'], { env: { ...e.env, BOT_BOTTLE_HOME: home }, cwd: e.cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(home)).toBe(false);
    const ok = await runCli(['init', '--provider', 'codex'], { env: { ...e.env, BOT_BOTTLE_HOME: home }, cwd: e.cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('codex login --device-auth');
    expect(existsSync(join(home, 'bottles', 'codex.md'))).toBe(true);
  });
});
