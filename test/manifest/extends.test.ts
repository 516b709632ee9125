import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BottleError } from '../../src/errors.js';
import { ManifestError } from '../../src/manifest/errors.js';
import { indexManifests, loadBottles, loadAgent, selectBottleNames } from '../../src/manifest/loader.js';
import { fm, manifestError, tempTree, type TempTree } from './helpers.js';

let t: TempTree;
beforeEach(() => {
  t = tempTree();
});
afterEach(() => t.cleanup());

function bottle(name: string, yaml: string): void {
  t.write(`home/bottles/${name}.md`, fm(yaml, `Bottle ${name}.\n`));
}
function load(...names: string[]) {
  return loadBottles(indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome }), names);
}
const hosts = (names: string[]) => load(...names).config.egress.routes.map((r) => r.route.host);

describe('extends and merging', () => {
  it('M38 missing parent lists available bottles with a suggestion', () => {
    bottle('a', 'extends: missing');
    bottle('missin', '');
    const e = manifestError(() => load('a'));
    expect(e.message).toContain('extends: bottle "missing" not found; did you mean "missin"? (available bottles: a, missin)');
    expect(e.message).toMatch(/bottles\/a\.md:2:\d+: /);
  });

  it('M39 self reference', () => {
    bottle('a', 'extends: a');
    expect(manifestError(() => load('a')).message).toContain('bottle "a" extends itself');
  });

  it('M40 cycle shows the chain', () => {
    bottle('a', 'extends: b');
    bottle('b', 'extends: c');
    bottle('c', 'extends: a');
    expect(manifestError(() => load('a')).message).toContain('a → b → c → a');
  });

  it('M41 extends: 5 / [] / [b, b]', () => {
    bottle('b', '');
    bottle('a', 'extends: 5');
    expect(manifestError(() => load('a')).message).toContain('extends must be a name or a list of names');
    bottle('a', 'extends: []');
    expect(manifestError(() => load('a')).message).toContain('extends must name at least one bottle');
    bottle('a', 'extends: [b, b]');
    expect(manifestError(() => load('a')).message).toContain('extends lists "b" twice');
    bottle('a', 'extends: [b, 3]');
    expect(manifestError(() => load('a')).message).toContain('extends[1] must be a name');
  });

  it('depth over 16 is an error', () => {
    for (let i = 0; i < 18; i++) bottle(`b${i}`, i < 17 ? `extends: b${i + 1}` : '');
    expect(manifestError(() => load('b0')).message).toContain('deeper than 16');
    expect(load('b2').trees[0]?.name).toBe('b2');
  });

  it('M42 child with only extends equals its parent', () => {
    bottle('p', 'env: {A: "1"}\negress:\n  log: 1\n  routes: [{host: a.com}]\ngit-gate: {user: {name: P, email: p@x}}\nagent_provider: {template: codex}');
    bottle('c', 'extends: p');
    const p = load('p').config;
    const c = load('c').config;
    expect(c).toEqual(p);
  });

  it('M43 env collision: child wins', () => {
    bottle('p', 'env: {A: parent, B: b}');
    bottle('c', 'extends: p\nenv: {A: child}');
    expect(load('c').config.env).toEqual([
      { name: 'A', kind: 'literal', value: 'child' },
      { name: 'B', kind: 'literal', value: 'b' },
    ]);
  });

  it('M44 child routes replace parent routes', () => {
    bottle('p', 'egress: {routes: [{host: r1.com}]}');
    bottle('c', 'extends: p\negress: {routes: [{host: r2.com}]}');
    expect(hosts(['c'])).toEqual(['r2.com']);
  });

  it('M45 explicit routes: [] clears', () => {
    bottle('p', 'egress: {routes: [{host: r1.com}]}');
    bottle('c', 'extends: p\negress: {routes: []}');
    expect(hosts(['c'])).toEqual([]);
  });

  it('M46 child sets only egress.log: parent routes kept', () => {
    bottle('p', 'egress: {routes: [{host: r1.com}], log: 1}');
    bottle('c', 'extends: p\negress: {log: 2}');
    const c = load('c').config;
    expect(c.egress.log).toBe(2);
    expect(c.egress.routes.map((r) => r.route.host)).toEqual(['r1.com']);
  });

  it('M47 multi-parent routes concatenate in order', () => {
    bottle('p1', 'egress: {routes: [{host: r1.com}]}');
    bottle('p2', 'egress: {routes: [{host: r2.com}]}');
    bottle('c', 'extends: [p1, p2]');
    expect(hosts(['c'])).toEqual(['r1.com', 'r2.com']);
    const tree = load('c').trees[0];
    expect(tree).toEqual({ name: 'c', parents: [{ name: 'p1', parents: [] }, { name: 'p2', parents: [] }] });
  });

  it('M48 diamond: base route appears once', () => {
    bottle('base', 'egress: {routes: [{host: r0.com}]}');
    bottle('p1', 'extends: base');
    bottle('p2', 'extends: base');
    bottle('c', 'extends: [p1, p2]');
    expect(hosts(['c'])).toEqual(['r0.com']);
    expect(Object.keys(load('c').sources).sort()).toEqual(['base', 'c', 'p1', 'p2']);
  });

  it('M49 both parents define repo web: the later entry whole', () => {
    bottle('p1', 'git-gate:\n  repos:\n    web: {url: "file:///one.git", read_only: true}\n    other: {url: "file:///o.git"}');
    bottle('p2', 'git-gate:\n  repos:\n    web: {url: "file:///two.git"}');
    bottle('c', 'extends: [p1, p2]');
    const repos = load('c').config.gitGate.repos;
    expect(repos.map((r) => [r.name, r.url, r.readOnly])).toEqual([
      ['web', 'file:///two.git', false],
      ['other', 'file:///o.git', false],
    ]);
  });

  it('child repos replace; explicit {} clears', () => {
    bottle('p', 'git-gate:\n  repos:\n    web: {url: "file:///one.git"}');
    bottle('c', 'extends: p\ngit-gate:\n  repos: {}');
    expect(load('c').config.gitGate.repos).toEqual([]);
  });

  it('M50 git user per field: child non-empty wins', () => {
    bottle('p', 'git-gate: {user: {name: A, email: a@x}}');
    bottle('c', 'extends: p\ngit-gate: {user: {name: B}}');
    const u = load('c').config.gitGate.user;
    expect([u.name, u.email]).toEqual(['B', 'a@x']);
    expect(u.sources?.name).toMatch(/bottles\/c\.md$/);
    expect(u.sources?.email).toMatch(/bottles\/p\.md$/);
  });

  it('agent_provider: replaced as a whole on overlay; last declared wins on fold with a note', () => {
    bottle('p', 'agent_provider: {template: claude, auth_token: TOK}');
    bottle('c', 'extends: p\nagent_provider: {template: codex}');
    expect(load('c').config.agentProvider).toEqual({ template: 'codex', dockerfile: null, authToken: null, forwardHostCredentials: false, settings: {} });
    bottle('q', 'agent_provider: {template: pi}');
    const s = load('p', 'q');
    expect(s.config.agentProvider.template).toBe('pi');
    expect(s.notes).toContain('agent_provider of bottle p overridden by bottle q');
  });

  it('M11b effective-table (host, port) clash names both bottles', () => {
    bottle('a', 'egress: {routes: [{host: api.github.com}]}');
    bottle('b', 'egress: {routes: [{host: api.github.com, port: 443, matches: [{methods: [GET]}]}]}');
    const e = manifestError(() => load('a', 'b'));
    expect(e.message).toContain(
      'egress route for api.github.com:443 is declared twice (bottles a, b); merge them into one route with several matches entries',
    );
    expect(e.message).toMatch(/bottles\/b\.md:\d+:\d+: /);
    // port 8443 does not overlap an unset port
    bottle('b', 'egress: {routes: [{host: api.github.com, port: 8443}]}');
    expect(hosts(['a', 'b'])).toEqual(['api.github.com', 'api.github.com']);
    // deep-equal routes merge silently
    bottle('b', 'egress: {routes: [{host: api.github.com}]}');
    expect(hosts(['a', 'b'])).toEqual(['api.github.com']);
  });

  it('M11b clash within one bottle (via extends fold)', () => {
    bottle('p1', 'egress: {routes: [{host: x.com, port: 80}]}');
    bottle('p2', 'egress: {routes: [{host: x.com, matches: [{methods: [GET]}]}]}');
    bottle('c', 'extends: [p1, p2]');
    expect(manifestError(() => load('c')).message).toContain('x.com:80 is declared twice (bottles p1, p2)');
  });
});

describe('choosing bottles', () => {
  it('M71 --bottle a --bottle b: b wins on env; order recorded', () => {
    bottle('a', 'env: {X: from-a, A: a}');
    bottle('b', 'env: {X: from-b}');
    t.write('home/agents/ag.md', fm('bottle: a'));
    const idx = indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome });
    const agent = loadAgent(idx, 'ag');
    const names = selectBottleNames(agent, ['a', 'b'], idx);
    const s = loadBottles(idx, names);
    expect(s.names).toEqual(['a', 'b']);
    expect(s.config.env.find((e) => e.name === 'X')).toEqual({ name: 'X', kind: 'literal', value: 'from-b' });
    expect(selectBottleNames(agent, [], idx)).toEqual(['a']);
  });

  it('M72 no --bottle and no bottle: → NO_BOTTLE', () => {
    t.write('home/agents/ag.md', fm('description: x'));
    const idx = indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome });
    const agent = loadAgent(idx, 'ag');
    let err: unknown;
    try {
      selectBottleNames(agent, [], idx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BottleError);
    expect((err as BottleError).code).toBe('NO_BOTTLE');
    expect((err as BottleError).message).toContain('no bottle selected for agent "ag": pass --bottle NAME or set bottle: in');
  });

  it('agent bottle list; duplicates and unknown names are errors', () => {
    bottle('a', '');
    bottle('b', '');
    t.write('home/agents/ag.md', fm('bottle: [a, b]'));
    t.write('home/agents/dup.md', fm('bottle: [a, a]'));
    const idx = indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome });
    expect(selectBottleNames(loadAgent(idx, 'ag'), [], idx)).toEqual(['a', 'b']);
    expect(() => selectBottleNames(loadAgent(idx, 'dup'), [], idx)).toThrow(ManifestError);
    expect(() => selectBottleNames(loadAgent(idx, 'ag'), ['a', 'a'], idx)).toThrow(/selected twice/);
    let err: unknown;
    try {
      selectBottleNames(loadAgent(idx, 'ag'), ['bb'], idx);
    } catch (e) {
      err = e;
    }
    expect((err as BottleError).code).toBe('BOTTLE_NOT_FOUND');
    expect((err as BottleError).message).toContain('did you mean "b"');
    expect(() => loadBottles(idx, ['nope'])).toThrow(/unknown bottle "nope"/);
  });
});

describe('merge notes', () => {
  it('multi-parent agent_provider override is noted once', () => {
    bottle('p1', 'agent_provider: {template: claude}');
    bottle('p2', 'agent_provider: {template: codex}');
    bottle('c', 'extends: [p1, p2]');
    const s = load('c');
    expect(s.config.agentProvider.template).toBe('codex');
    expect(s.notes).toEqual(['agent_provider of bottle p1 overridden by bottle p2']);
  });
});
