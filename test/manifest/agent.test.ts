import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../../src/errors.js';
import { indexManifests, loadAgent, loadBottles, resolveIdentity } from '../../src/manifest/loader.js';
import { checkDockerfile, checkStaticKeys, checkTemplateAvailable, resolveSkillDirs } from '../../src/manifest/launch-checks.js';
import { agentError, expectMsg, fm, parseAgentYaml, tempTree, type TempTree } from './helpers.js';

describe('agent front-matter', () => {
  it('M51 agent user overlays bottle user with provenance', () => {
    let t: TempTree | undefined;
    try {
      t = tempTree();
      t.write('home/bottles/b.md', fm('git-gate: {user: {name: A, email: a@x}}'));
      t.write('home/agents/ag.md', fm('bottle: b\ngit-gate: {user: {name: Bot}}'));
      const idx = indexManifests({ home: t.home, cwd: t.cwd, userHome: t.userHome });
      const agent = loadAgent(idx, 'ag');
      const id = resolveIdentity(agent, loadBottles(idx, ['b']).config);
      expect(id.name).toEqual({ value: 'Bot', from: 'agent', file: join(t.home, 'agents', 'ag.md') });
      expect(id.email).toEqual({ value: 'a@x', from: 'bottle', file: join(t.home, 'bottles', 'b.md') });
    } finally {
      t?.cleanup();
    }
  });

  it('M52 agent with git-gate.repos', () => {
    expectMsg(agentError('git-gate:\n  repos:\n    w: {url: "file:///x"}'), 'git-gate.repos can only be declared in a bottle');
  });

  it('M53 agent with egress (and the other bottle-only keys)', () => {
    expectMsg(agentError('egress: {routes: []}'), '"egress" is a bottle key; agents cannot declare it (bottles live only in ~/.bot-bottle/bottles/)');
    for (const k of ['env', 'extends', 'agent_provider']) expectMsg(agentError(`${k}: {}`), `"${k}" is a bottle key`);
  });

  it('M54 Claude Code sub-agent keys are accepted and ignored', () => {
    const a = parseAgentYaml('name: other\ndescription: Does things\nmodel: sonnet\ncolor: blue\nmemory: project\ntools: [Read, Write]\nbottle: b', '\n  You are X.  \n');
    expect(a).toEqual({
      name: 'a', origin: 'home', file: '/h/agents/a.md', description: 'Does things', prompt: 'You are X.', skills: [], bottles: ['b'], gitUser: {},
    });
  });

  it('M55 skills must be kebab-case and unique', () => {
    expectMsg(agentError('skills: [Bad_Name]'), 'skill "Bad_Name" must be kebab-case');
    expectMsg(agentError('skills: [a, a]'), 'listed twice');
    expect(parseAgentYaml('skills: [run-tests, lint]').skills).toEqual(['run-tests', 'lint']);
  });

  it('unknown agent key suggests', () => {
    expectMsg(agentError('bottel: x'), 'did you mean "bottle"?', 'allowed keys: bottle, skills, git-gate');
  });

  it('empty body = no prompt', () => {
    expect(parseAgentYaml('bottle: b', '\n\n').prompt).toBe('');
  });

  describe('launch-time checks', () => {
    let t: TempTree;
    beforeEach(() => {
      t = tempTree();
    });
    afterEach(() => t.cleanup());

    it('M56 missing skill directory names the skill and path', () => {
      const a = parseAgentYaml('skills: [run-tests, lint]');
      mkdirSync(join(t.userHome, '.claude', 'skills', 'run-tests'), { recursive: true });
      let err: unknown;
      try {
        resolveSkillDirs(a, t.userHome);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BottleError);
      expect((err as BottleError).oneLine()).toBe('skill "lint" not found at ~/.claude/skills/lint; create it, then re-run');
      mkdirSync(join(t.userHome, '.claude', 'skills', 'lint'), { recursive: true });
      expect(resolveSkillDirs(a, t.userHome).map((s) => s.name)).toEqual(['run-tests', 'lint']);
    });

    it('M61 plugin template without <home>/contrib/<name>/ names the directory', () => {
      expect(() => checkTemplateAvailable('mytool', t.home, t.userHome)).toThrow(join(t.home, 'contrib', 'mytool'));
      expect(() => checkTemplateAvailable('claude', t.home, t.userHome)).not.toThrow();
      mkdirSync(join(t.home, 'contrib', 'mytool'), { recursive: true });
      expect(() => checkTemplateAvailable('mytool', t.home, t.userHome)).not.toThrow();
    });
  });
});

describe('launch-time file checks', () => {
  let t: TempTree;
  beforeEach(() => {
    t = tempTree();
  });
  afterEach(() => t.cleanup());

  it('dockerfile must be an existing regular file; static keys must be readable', () => {
    const df = t.write('home/bottles/Dockerfile.custom', 'FROM scratch\n');
    expect(() => checkDockerfile(df, t.userHome)).not.toThrow();
    expect(() => checkDockerfile(null, t.userHome)).not.toThrow();
    expect(() => checkDockerfile(join(t.home, 'nope'), t.userHome)).toThrow(/agent_provider\.dockerfile .*nope is not a readable regular file/);
    expect(() => checkDockerfile(t.home, t.userHome)).toThrow(/not a readable regular file/);
    const key = t.write('user/.ssh/deploy', 'k');
    const repo = { name: 'w', url: 'ssh://h:22/a', kind: 'ssh' as const, host: 'h', port: 22, hostKeys: [], readOnly: false, protectedRefs: [], allowForcePush: false, allowDelete: false };
    expect(() => checkStaticKeys([{ ...repo, key: { provider: 'static', path: key } }], t.userHome)).not.toThrow();
    expect(() => checkStaticKeys([{ ...repo, key: { provider: 'static', path: join(t.userHome, '.ssh', 'missing') } }], t.userHome)).toThrow(
      'git-gate.repos.w.key.path ~/.ssh/missing is not a readable file',
    );
  });
});
