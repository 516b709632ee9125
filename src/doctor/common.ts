/**
 * Backend-independent checks of `doctor` (docs/cli.md, scope `common`): Node, the home
 * directory, manifests, repo bottles, the database, the gitea-key tool and the host variables bottles reference.
 * Variable values are only tested for presence, never copied into a message.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../backends/platform.js';
import { BottleError } from '../errors.js';
import { displayPath, resolveHome, shellPath, userHome } from '../manifest/home.js';
import { indexManifests } from '../manifest/loader.js';
import { fail, ok, skip, warn, type Check } from './check.js';
import { databaseCheck } from './database.js';
import { manifestChecks, type ManifestFacts } from './manifests.js';

export const MIN_NODE_MAJOR = 20;

export interface CommonInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Effective uid of this process (undefined off POSIX). */
  readonly uid: number | undefined;
  readonly nodeVersion: string;
}

type Env = CommonInput['env'];


export function nodeCheck(version: string): Check {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  return major >= MIN_NODE_MAJOR
    ? ok('common', 'node', `Node ${version} (needs ≥ ${MIN_NODE_MAJOR})`)
    : fail('common', 'node', `Node ${version} is too old (needs ≥ ${MIN_NODE_MAJOR})`, `install Node ${MIN_NODE_MAJOR} or later`);
}

/**
 * `<home>` exists, is a directory owned by the user and not writable by group or others: anyone
 * who can write there can add a bottle that routes credentials elsewhere. Run as root through
 * sudo, the invoking user's own home is accepted (SUDO_UID).
 */
export function homeCheck(home: string, env: Env, uid: number | undefined): Check {
  const uh = userHome(env);
  const shown = displayPath(home, uh);
  const arg = shellPath(home, uh);
  let st;
  try {
    st = lstatSync(home);
  } catch {
    return fail('common', 'home', `${shown} does not exist`, 'run "bot-bottle init"');
  }
  if (!st.isDirectory()) return fail('common', 'home', `${shown} is not a directory`, 'point BOT_BOTTLE_HOME at a directory, or run "bot-bottle init"');
  const sudoUid = env.SUDO_UID !== undefined && /^\d+$/.test(env.SUDO_UID) ? Number(env.SUDO_UID) : null;
  if (uid !== undefined && st.uid !== uid && !(uid === 0 && st.uid === sudoUid)) {
    return fail('common', 'home', `${shown} is owned by uid ${st.uid}, not by you (uid ${uid})`, `chown -R ${uid} ${arg}`);
  }
  const mode = st.mode & 0o777;
  const octal = `0${mode.toString(8).padStart(3, '0')}`;
  if ((mode & 0o022) !== 0) return fail('common', 'home', `${shown} is writable by group or others (mode ${octal})`, `chmod 700 ${arg}`);
  return ok('common', 'home', `${shown} (mode ${octal}, owned by uid ${st.uid})`);
}

function repoBottlesCheck(cwd: string, home: string, uh: string): Check {
  const repoDir = join(cwd, '.bot-bottle');
  const dir = join(repoDir, 'bottles');
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  if (!existsSync(dir) || real(repoDir) === real(home)) return ok('common', 'repo-bottles', 'no ./.bot-bottle/bottles (bottles come from the home directory only)');
  return warn(
    'common',
    'repo-bottles',
    `${displayPath(dir, uh)} exists and is ignored: bottles are only read from ${displayPath(home, uh)}`,
    `move the bottles you trust to ${displayPath(join(home, 'bottles'), uh)} and delete ${displayPath(dir, uh)}`,
  );
}

function sshKeygenCheck(facts: ManifestFacts, env: Env): Check {
  if (facts.giteaKeyBottles.length === 0) return skip('common', 'ssh-keygen', 'ssh-keygen: no bottle uses gitea keys');
  const users = facts.giteaKeyBottles.join(', ');
  return findExecutable('ssh-keygen', env.PATH ?? '') !== null
    ? ok('common', 'ssh-keygen', `ssh-keygen present (gitea keys in ${users})`)
    : fail('common', 'ssh-keygen', `ssh-keygen is missing; bottle(s) ${users} use gitea deploy keys`, 'apt-get install openssh-client');
}

/** One line per referenced host variable: set or not, by name only. */
export function variableChecks(facts: ManifestFacts, env: Env): Check[] {
  if (facts.variables.size === 0) return [ok('common', 'host-variables', 'no bottle references a host variable')];
  return [...facts.variables.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, v]) => {
      const value = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
      const set = v.credential ? value !== undefined && value !== '' : value !== undefined;
      const what = `${v.credential ? 'credential' : 'env variable'} used by ${[...v.bottles].sort().join(', ')}`;
      return set
        ? ok('common', `host-variable.${name}`, `${name} is set (${what})`)
        : warn('common', `host-variable.${name}`, `${name} is not set (${what})`, `export ${name} on the host before starting these bottles`);
    });
}

export interface CommonResult {
  readonly checks: Check[];
  /** Null when the manifests could not be read at all. */
  readonly facts: ManifestFacts | null;
}

export function commonChecks(input: CommonInput): CommonResult {
  const checks: Check[] = [nodeCheck(input.nodeVersion)];
  let home: string;
  try {
    home = resolveHome(input.env);
  } catch (e) {
    if (!(e instanceof BottleError)) throw e;
    checks.push(fail('common', 'home', e.message, e.fix ?? 'set BOT_BOTTLE_HOME to an absolute directory'));
    return { checks, facts: null };
  }
  const uh = userHome(input.env);
  checks.push(homeCheck(home, input.env, input.uid));
  let facts: ManifestFacts | null = null;
  try {
    const index = indexManifests({ home, cwd: input.cwd, userHome: uh });
    const repoBottles = displayPath(join(input.cwd, '.bot-bottle', 'bottles'), uh);
    const m = manifestChecks(index);
    checks.push(...m.checks);
    // The repo-bottles warning has its own line below; the index's other warnings (badly named
    // files that were skipped, shadowed repo agents, legacy configs) are shown as they are.
    index.warnings
      .filter((w) => !w.startsWith(`ignoring ${repoBottles}:`))
      .forEach((w, i) => checks.push(warn('common', `manifest.warning.${i + 1}`, w)));
    facts = m.facts;
  } catch (e) {
    if (!(e instanceof BottleError)) throw e;
    checks.push(fail('common', 'manifests', e.message, e.fix ?? 'check the permissions of the home directory'));
  }
  checks.push(repoBottlesCheck(input.cwd, home, uh));
  checks.push(databaseCheck(home, uh));
  if (facts !== null) {
    checks.push(sshKeygenCheck(facts, input.env));
    checks.push(...variableChecks(facts, input.env));
  }
  return { checks, facts };
}
