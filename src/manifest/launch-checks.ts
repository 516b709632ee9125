/**
 * Checks that manifests defer to launch time (docs/configuration.md): skill directories,
 * plugin directories, Dockerfiles and static key files exist. Listing never runs these.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../errors.js';
import type { Agent, GitGateRepo } from './types.js';
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

function isReadableFile(p: string): boolean {
  try {
    const st = statSync(p);
    if (!st.isFile()) return false;
    accessSync(p, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `agent_provider.dockerfile`, when set, must be an existing regular file at launch
 * (docs/configuration.md §3.2).
 */
export function checkDockerfile(dockerfile: string | null, userHome: string): void {
  if (dockerfile === null) return;
  if (!isReadableFile(dockerfile)) {
    throw new BottleError('PROVIDER_CONFIG', `agent_provider.dockerfile ${displayPath(dockerfile, userHome)} is not a readable regular file`, {
      fix: 'fix the path (relative paths resolve against the bottle file\'s directory) or remove the key for the provider default',
    });
  }
}

/**
 * Static git-gate keys must exist and be readable at launch (docs/configuration.md §3.5); the
 * passphrase check is the gate's.
 */
export function checkStaticKeys(repos: readonly GitGateRepo[], userHome: string): void {
  for (const r of repos) {
    if (r.key?.provider !== 'static') continue;
    if (!isReadableFile(r.key.path)) {
      throw new BottleError('CONFIG_INVALID', `git-gate.repos.${r.name}.key.path ${displayPath(r.key.path, userHome)} is not a readable file`, {
        fix: 'create the deploy key (ssh-keygen -t ed25519 -N "" -f <path>) or fix the path',
        data: { repo: r.name },
      });
    }
  }
}
