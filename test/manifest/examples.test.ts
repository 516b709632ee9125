import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { indexManifests, loadAgent, loadBottles, resolveIdentity, selectBottleNames } from '../../src/manifest/loader.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { formatBottleSelection, formatIdentity } from '../../src/cli/format-bottle.js';

const HOME = join(REPO_ROOT, 'examples');
const idx = () => indexManifests({ home: HOME, cwd: REPO_ROOT, userHome: '/nonexistent-home' });

describe('shipped examples/ (issue deliverable 6)', () => {
  const bottles = readdirSync(join(HOME, 'bottles')).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3));
  const agents = readdirSync(join(HOME, 'agents')).filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3));

  it('index has every file and no warnings', () => {
    const i = idx();
    expect([...i.bottles.keys()].sort()).toEqual([...bottles].sort());
    expect([...i.agents.keys()].sort()).toEqual([...agents].sort());
    expect(i.warnings).toEqual([]);
  });

  for (const b of bottles) {
    it(`bottle ${b} parses and resolves its extends chain`, () => {
      expect(() => loadBottles(idx(), [b])).not.toThrow();
    });
  }
  for (const a of agents) {
    it(`agent ${a} parses and its default bottles load`, () => {
      const i = idx();
      const agent = loadAgent(i, a);
      const s = loadBottles(i, selectBottleNames(agent, [], i));
      expect(s.names.length).toBeGreaterThan(0);
    });
  }

  it('covers extends (single and multi-parent), auth routes with matches, and git-gate repos', () => {
    const i = idx();
    const full = loadBottles(i, ['full']);
    expect(formatBottleSelection(full.trees)).toBe('full ← [gitea-dev ← claude, github-read]');
    expect(full.config.egress.routes.some((r) => r.route.auth && r.route.matches)).toBe(true);
    expect(full.config.gitGate.repos.map((r) => r.name)).toEqual(['webapp', 'docs']);
  });

  it('implementer: identity from agent and bottle (shipped example)', () => {
    const i = idx();
    const agent = loadAgent(i, 'implementer');
    const s = loadBottles(i, selectBottleNames(agent, [], i));
    expect(formatIdentity(resolveIdentity(agent, s.config))).toBe('Implementer Bot (agent) <review-bot@example.com> (bottle)');
  });
});
