/** A temporary BOT_BOTTLE_HOME + HOME with manifests, loaded through the real manifest layer. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexManifests, loadAgent, loadBottles, selectBottleNames } from '../../src/manifest/loader.js';
import type { PrepareOptions } from '../../src/plan/prepare.js';

export interface TempHome {
  readonly root: string;
  readonly home: string; // BOT_BOTTLE_HOME
  readonly userHome: string; // HOME
  readonly cwd: string;
  bottle(name: string, frontMatter: string, body?: string): void;
  agent(name: string, frontMatter: string, body?: string): void;
  file(rel: string, content: string, mode?: number): string;
  options(agent: string, over?: Partial<PrepareOptions> & { bottles?: string[] }): PrepareOptions;
  cleanup(): void;
}

export function tempHome(): TempHome {
  const root = mkdtempSync(join(tmpdir(), 'bb-plan-'));
  const userHome = join(root, 'user');
  const home = join(userHome, '.bot-bottle');
  const cwd = join(root, 'work');
  for (const d of [join(home, 'bottles'), join(home, 'agents'), cwd]) mkdirSync(d, { recursive: true });
  chmodSync(home, 0o700);
  const write = (path: string, fm: string, body = '') => writeFileSync(path, `---\n${fm.trim()}\n---\n${body}\n`);
  return {
    root,
    home,
    userHome,
    cwd,
    bottle: (name, fm, body) => write(join(home, 'bottles', `${name}.md`), fm, body),
    agent: (name, fm, body) => write(join(home, 'agents', `${name}.md`), fm, body),
    file(rel, content, mode = 0o644) {
      const p = join(root, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content, { mode });
      return p;
    },
    options(agentName, over = {}) {
      const { bottles = [], ...rest } = over;
      const index = indexManifests({ home, cwd, userHome });
      const agent = loadAgent(index, agentName);
      const selected = loadBottles(index, selectBottleNames(agent, bottles, index));
      return {
        home,
        userHome,
        cwd,
        copyCwd: false,
        agent,
        selected,
        backend: 'netns',
        label: null,
        labelIsExplicit: false,
        color: 'none',
        headless: false,
        dryRun: true,
        hostEnv: { HOME: userHome, PATH: '/usr/bin' },
        ...rest,
      };
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
