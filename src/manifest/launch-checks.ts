/**
 * Checks that manifests defer to launch time (manifest spec §3.2, §8): skill directories and
 * plugin directories exist. Listing never runs these.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import type { Agent } from './types.js';
import { BUILTIN_TEMPLATES } from './bottle-schema.js';
import { displayPath } from './home.js';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Host skill directories `<HOME>/.claude/skills/<name>/`, in the agent's order. */
export function resolveSkillDirs(agent: Agent, userHome: string): Array<{ name: string; hostPath: string }> {
  return agent.skills.map((name) => {
    const hostPath = join(userHome, '.claude', 'skills', name);
    if (!isDir(hostPath)) {
      throw new BottleError('CONFIG_INVALID', `skill "${name}" not found at ${displayPath(hostPath, userHome)}`, {
        fix: 'create it, then re-run',
        data: { skill: name, agent: agent.name },
      });
    }
    return { name, hostPath };
  });
}

/** A plugin template must have `<home>/contrib/<name>/`; built-ins always exist. */
export function checkTemplateAvailable(template: string, home: string, userHome: string): void {
  if ((BUILTIN_TEMPLATES as readonly string[]).includes(template)) return;
  const dir = join(home, 'contrib', template);
  if (!isDir(dir)) {
    throw new BottleError('PROVIDER_CONFIG', `agent_provider.template "${template}" is not a built-in (claude, codex, pi) and ${displayPath(dir, userHome)} does not exist`, {
      fix: `install the plugin into ${displayPath(dir, userHome)} or choose a built-in template`,
      data: { template },
    });
  }
}
