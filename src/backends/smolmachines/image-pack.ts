/**
 * The agent's VM image: the provider image (`bot-bottle-<provider>:latest`) from Docker's image
 * store, packed once with `smolvm pack create` and cached under
 * `~/.cache/bot-bottle/smolmachines/<image id>/` (docs/decisions/smolmachines-sidecars.md). A new
 * image id (a rebuilt image) packs again; the same id never does. The pack is built in a
 * temporary directory and renamed into place, so two launches packing at once never see half a
 * pack.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';
import { firstLine, type CommandRunner } from '../command-runner.js';
import { dockerImageIdArgv, dockerSaveArgv, packCreateArgv } from './argv.js';

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  return join(base, 'bot-bottle', 'smolmachines');
}

/** `sha256:abc…` → `abc…` (hex only, so it is safe as a directory name). */
export function imageKey(id: string): string | null {
  const m = /^(?:sha256:)?([0-9a-f]{12,64})$/.exec(id.trim());
  return m ? m[1]! : null;
}

export async function ensurePack(run: CommandRunner, tag: string, cacheRoot: string, onProgress: (s: string) => void): Promise<string> {
  const inspect = dockerImageIdArgv(tag);
  const r = await run(inspect.command, inspect.args, { timeoutMs: 30_000 });
  if (r.code === 127) {
    throw new BottleError('BACKEND_UNAVAILABLE', `smolmachines packs the agent image from Docker's image store, and docker is not installed`, {
      fix: `install Docker (Docker Desktop, OrbStack or colima) and build ${tag}`,
    });
  }
  const key = r.code === 0 ? imageKey(r.stdout) : null;
  if (key === null) {
    throw new BottleError('LAUNCH_FAILED', `agent image ${tag} not found in Docker's image store${r.code === 0 ? '' : `: ${firstLine(r)}`}`, {
      fix: `build it first (docker build -t ${tag} …); this version does not build agent images itself`,
    });
  }
  const dir = join(cacheRoot, key);
  const pack = join(dir, 'agent.smolmachine');
  if (existsSync(pack)) return pack;
  onProgress(`packing ${tag} for smolvm (once per image)`);
  mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const archive = join(tmp, 'image.tar');
    const save = dockerSaveArgv(tag, archive);
    const s = await run(save.command, save.args);
    if (s.code !== 0) throw new BottleError('LAUNCH_FAILED', `docker save ${tag} failed: ${firstLine(s)}`, { fix: 'check "docker image ls"' });
    const create = packCreateArgv(archive, join(tmp, 'agent'));
    const p = await run(create.command, create.args);
    if (p.code !== 0) throw new BottleError('LAUNCH_FAILED', `smolvm pack create failed for ${tag}: ${firstLine(p)}`, { fix: 'run "bot-bottle doctor --backend smolmachines"' });
    rmSync(archive, { force: true });
    try {
      renameSync(tmp, dir);
    } catch {
      // Another launch finished the same pack first: theirs is as good as ours.
      if (!existsSync(pack)) throw new BottleError('LAUNCH_FAILED', `could not store the pack in ${dir}`, { fix: `remove ${dir} and retry` });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return pack;
}
