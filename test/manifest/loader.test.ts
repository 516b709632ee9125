import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BottleError } from '../../src/errors.js';
import { ManifestError } from '../../src/manifest/errors.js';
import { resolveHome } from '../../src/manifest/home.js';
import { indexManifests, loadAgent, loadBottles, summarizeAgent, summarizeBottle } from '../../src/manifest/loader.js';
import { fm, tempTree, type TempTree } from './helpers.js';

let t: TempTree;
beforeEach(() => {
  t = tempTree();
});
afterEach(() => t.cleanup());
const index = () => indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome });

describe('files, trust boundary and lazy loading', () => {
  it('BOT_BOTTLE_HOME relocates the home and must be absolute', () => {
    expect(resolveHome({ BOT_BOTTLE_HOME: '/srv/bb', HOME: '/home/u' })).toBe('/srv/bb');
    expect(resolveHome({ HOME: '/home/u' })).toBe('/home/u/.bot-bottle');
    expect(() => resolveHome({ BOT_BOTTLE_HOME: 'rel/dir' })).toThrow('BOT_BOTTLE_HOME must be an absolute path');
  });

  it('M66 a broken unrelated bottle does not affect loading a valid one', () => {
    t.write('home/bottles/good.md', fm('env: {A: x}'));
    t.write('home/bottles/broken.md', fm('egres: {}'));
    t.write('home/agents/ag.md', fm('bottle: good'));
    const idx = index();
    const s = loadBottles(idx, [...loadAgent(idx, 'ag').bottles]);
    expect(s.names).toEqual(['good']);
    expect(summarizeBottle(idx, 'broken').broken).toContain('unknown key "egres"');
  });

  it('M67 a broken agent is listed as broken; loading it throws', () => {
    t.write('home/agents/bad.md', fm('egress: {}'));
    t.write('home/agents/good.md', fm('description: fine'));
    const idx = index();
    expect([...idx.agents.keys()]).toEqual(['bad', 'good']);
    expect(summarizeAgent(idx, 'bad').broken).toMatch(/agents\/bad\.md:2:1: "egress" is a bottle key/);
    expect(summarizeAgent(idx, 'good').agent?.description).toBe('fine');
    expect(() => loadAgent(idx, 'bad')).toThrow(ManifestError);
  });

  it('M68 <cwd>/.bot-bottle/bottles is ignored with a warning', () => {
    t.write('cwd/.bot-bottle/bottles/x.md', fm('egress: {routes: [{host: evil.example}]}'));
    t.write('cwd/.bot-bottle/contrib/p/provider.ts', 'export default {}');
    const idx = index();
    expect(idx.bottles.has('x')).toBe(false);
    expect(idx.warnings.some((w) => w.startsWith('ignoring ') && w.includes('.bot-bottle/bottles: bottles and plugins are only read from'))).toBe(true);
    expect(idx.warnings.some((w) => w.includes('.bot-bottle/contrib'))).toBe(true);
    expect(() => loadBottles(idx, ['x'])).toThrow(/unknown bottle "x"/);
  });

  it('repo agents are indexed with origin repo', () => {
    t.write('cwd/.bot-bottle/agents/impl.md', fm('bottle: b', 'Prompt'));
    const idx = index();
    expect(idx.agents.get('impl')?.origin).toBe('repo');
    expect(loadAgent(idx, 'impl').prompt).toBe('Prompt');
  });

  it('M69 repo agent symlink pointing outside the repository is broken', () => {
    const secret = t.write('user/.ssh/id_ed25519', '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n');
    mkdirSync(join(t.cwd, '.bot-bottle', 'agents'), { recursive: true });
    symlinkSync(secret, join(t.cwd, '.bot-bottle', 'agents', 'evil.md'));
    const idx = index();
    const s = summarizeAgent(idx, 'evil');
    expect(s.broken).toContain('it points outside the repository');
    expect(s.broken).not.toContain('BEGIN');
    expect(() => loadAgent(idx, 'evil')).toThrow(/refusing repo agent/);
  });

  it('M69 repo agents dir that is itself a symlink outside is refused', () => {
    t.write('user/elsewhere/x.md', fm('description: y'));
    mkdirSync(join(t.cwd, '.bot-bottle'), { recursive: true });
    symlinkSync(join(t.userHome, 'elsewhere'), join(t.cwd, '.bot-bottle', 'agents'));
    expect(summarizeAgent(index(), 'x').broken).toContain('points outside');
  });

  it('M70 same agent name in home and cwd: home wins, warning', () => {
    t.write('home/agents/impl.md', fm('description: home'));
    t.write('cwd/.bot-bottle/agents/impl.md', fm('description: repo'));
    const idx = index();
    expect(loadAgent(idx, 'impl').description).toBe('home');
    expect(loadAgent(idx, 'impl').origin).toBe('home');
    expect(idx.warnings.filter((w) => w.includes('shadowed'))).toHaveLength(1);
  });

  it('M73 badly named file skipped with a warning; non-md, dotfiles, dirs ignored silently', () => {
    t.write('home/agents/My_Agent.md', fm(''));
    t.write('home/agents/notes.txt', 'x');
    t.write('home/agents/.hidden.md', 'x');
    mkdirSync(join(t.home, 'agents', 'sub.md'));
    t.write('home/agents/ok.md', fm(''));
    const idx = index();
    expect([...idx.agents.keys()]).toEqual(['ok']);
    expect(idx.warnings).toHaveLength(1);
    expect(idx.warnings[0]).toContain('My_Agent.md');
    expect(idx.warnings[0]).toContain('^[a-z][a-z0-9-]{0,62}$');
  });

  it('M74 a 300 KiB manifest is broken (size)', () => {
    t.write('home/agents/big.md', fm('description: big', 'x'.repeat(300 * 1024)));
    const s = summarizeAgent(index(), 'big');
    expect(s.broken).toContain('larger than 256 KiB');
  });

  it('invalid UTF-8 is broken', () => {
    mkdirSync(join(t.home, 'agents'), { recursive: true });
    writeFileSync(join(t.home, 'agents', 'bin.md'), Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xff, 0x0a]));
    expect(summarizeAgent(index(), 'bin').broken).toContain('not valid UTF-8');
  });

  it('unknown agent suggests a name', () => {
    t.write('home/agents/implementer.md', fm(''));
    let err: unknown;
    try {
      loadAgent(index(), 'implementr');
    } catch (e) {
      err = e;
    }
    expect((err as BottleError).code).toBe('AGENT_NOT_FOUND');
    expect((err as BottleError).message).toBe('unknown agent "implementr"; did you mean "implementer"?');
  });

  it('a missing home is an empty index, not an error', () => {
    const idx = indexManifests({ home: join(t.root, 'nope'), cwd: t.cwd, userHome: t.userHome });
    expect(idx.agents.size + idx.bottles.size).toBe(0);
  });

  it('legacy bot-bottle.json without .bot-bottle/: warning in the index, error when loading', () => {
    t.write('cwd/bot-bottle.json', '{}');
    t.write('home/agents/a.md', fm(''));
    const idx = index();
    expect(idx.legacyConfig).toMatch(/bot-bottle\.json$/);
    expect(() => loadAgent(idx, 'a')).toThrow(/legacy config files are no longer read/);
  });

  it('cwd = user home with home = ~/.bot-bottle: no repo warnings, no double listing', () => {
    t.write('user/.bot-bottle/agents/a.md', fm(''));
    t.write('user/.bot-bottle/bottles/b.md', fm(''));
    const idx = indexManifests({ home: join(t.userHome, '.bot-bottle'), cwd: t.userHome, userHome: t.userHome });
    expect(idx.warnings).toEqual([]);
    expect(idx.agents.get('a')?.origin).toBe('home');
  });

  it('error messages show ~ for the user home', () => {
    t.write('user/.bot-bottle/bottles/dev.md', fm('env: {}\negress: {}\ngit: {}'));
    const idx = indexManifests({ home: join(t.userHome, '.bot-bottle'), cwd: t.cwd, userHome: t.userHome });
    expect(() => loadBottles(idx, ['dev'])).toThrow('~/.bot-bottle/bottles/dev.md:4:1: "git" was renamed to "git-gate" (user, repos); move the block and rename remotes to repos');
  });
});
