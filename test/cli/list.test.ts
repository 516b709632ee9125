import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliEnv, fm, snapshot, type CliEnv } from './cli-fixtures.js';
import { renderListText, type ListDocument } from '../../src/cli/commands/list.js';

let e: CliEnv;
beforeEach(() => {
  e = cliEnv();
});
afterEach(() => e.cleanup());

describe('bot-bottle list', () => {
  it('C26 broken agent: exit 0, marked broken; --json has the broken text; nothing written', async () => {
    e.write('bbhome/agents/good.md', fm('description: Does good things\nbottle: base', 'Prompt.'));
    e.write('bbhome/agents/bad.md', fm('description: x\negress: {routes: []}'));
    e.write('bbhome/bottles/base.md', fm('egress: {log: 1}'));
    e.write('bbhome/bottles/child.md', fm('extends: base'));
    e.write('bbhome/bottles/broken.md', fm('egres: {}'));
    e.write('cwd/.bot-bottle/agents/repo-agent.md', fm('description: from the repo'));
    const before = snapshot(e.root);

    const text = await runCli(['list'], { env: e.env, cwd: e.cwd });
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    const badLine = text.stdout.split('\n').find((l) => l.trimStart().startsWith('bad '));
    expect(badLine).toMatch(/! 3:1: "egress" is a bottle key/);
    expect(text.stdout).toMatch(/good\s+home\s+base\s+Does good things/);
    expect(text.stdout).toMatch(/repo-agent\s+repo\s+-\s+from the repo/);
    expect(text.stdout).toMatch(/child\s+base/);
    expect(text.stdout).toMatch(/broken\s+-\s+! 2:1: unknown key "egres"/);

    const json = await runCli(['list', '--json'], { env: e.env, cwd: e.cwd });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as ListDocument;
    expect(doc.schema).toBe('bot-bottle/list@1');
    const bad = doc.agents.find((a) => a.name === 'bad');
    expect(bad?.broken).toMatch(/agents\/bad\.md:3:1: "egress" is a bottle key; agents cannot declare it/);
    expect(doc.agents.find((a) => a.name === 'good')).toEqual({
      name: 'good', origin: 'home', source: join(e.home, 'agents', 'good.md'), description: 'Does good things', bottle: ['base'], broken: null,
    });
    expect(doc.agents.find((a) => a.name === 'repo-agent')?.origin).toBe('repo');
    expect(doc.bottles.map((b) => [b.name, b.extends, b.broken === null])).toEqual([
      ['base', [], true],
      ['broken', [], false],
      ['child', ['base'], true],
    ]);
    expect(doc.resumable).toEqual([]);
    expect(snapshot(e.root)).toEqual(before);
  });

  it('M68 repo bottles: warning on stderr, bottle not listed; M73 bad names warned', async () => {
    e.write('cwd/.bot-bottle/bottles/x.md', fm('egress: {routes: [{host: evil.example}]}'));
    e.write('bbhome/agents/Bad_Name.md', fm(''));
    const r = await runCli(['list', '--json'], { env: e.env, cwd: e.cwd });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as ListDocument;
    expect(doc.bottles).toEqual([]);
    expect(doc.agents).toEqual([]);
    expect(r.stderr).toContain('bot-bottle: warning: ignoring ');
    expect(r.stderr).toContain('.bot-bottle/bottles: bottles and plugins are only read from');
    expect(r.stderr).toContain('Bad_Name.md');
  });

  it('resumable: preserved state dirs (metadata.json + .preserve), Python-era metadata tolerated', async () => {
    const s1 = join(e.home, 'state', 'impl-k3x9q');
    mkdirSync(s1, { recursive: true });
    writeFileSync(join(s1, 'metadata.json'), JSON.stringify({ identity: 'impl-k3x9q', agent_name: 'impl', backend: 'netns', started_at: '2026-01-01T00:00:00Z' }));
    writeFileSync(join(s1, '.preserve'), JSON.stringify({ reason: 'exit-nonzero', at: '2026-01-02T00:00:00Z', exitCode: 3 }));
    const s2 = join(e.home, 'state', 'old-one');
    mkdirSync(s2, { recursive: true });
    writeFileSync(join(s2, 'metadata.json'), JSON.stringify({ agent_name: 'legacy' }));
    writeFileSync(join(s2, '.preserve'), '');
    const s3 = join(e.home, 'state', 'running');
    mkdirSync(s3, { recursive: true });
    writeFileSync(join(s3, 'metadata.json'), '{}'); // no .preserve: not resumable
    const r = await runCli(['list', '--json'], { env: e.env, cwd: e.cwd });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as ListDocument).resumable).toEqual([
      { slug: 'impl-k3x9q', agent: 'impl', backend: 'netns', reason: 'exit-nonzero', preservedAt: '2026-01-02T00:00:00Z' },
      { slug: 'old-one', agent: 'legacy', backend: 'docker', reason: 'unknown', preservedAt: null },
    ]);
  });

  it('text rendering of resumable rows and an empty home', () => {
    const doc: ListDocument = {
      schema: 'bot-bottle/list@1',
      agents: [],
      bottles: [],
      resumable: [{ slug: 'impl-k3x9q', agent: 'impl', backend: 'docker', reason: 'exit-nonzero', preservedAt: '2026-01-01T00:00:00Z' }],
      warnings: [],
    };
    const text = renderListText(doc, Date.parse('2026-01-01T03:00:00Z'));
    expect(text).toContain('run "bot-bottle init"');
    expect(text).toMatch(/impl-k3x9q\s+impl\s+docker\s+exit-nonzero\s+3h/);
  });

  it('<home> that is not a directory: exit 1', async () => {
    const file = e.write('notadir', 'x');
    const r = await runCli(['list'], { env: { ...e.env, BOT_BOTTLE_HOME: file }, cwd: e.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bot-bottle: error: .*notadir is not a directory; /);
  });
});
