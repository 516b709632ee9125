/**
 * The first step that writes (docs/architecture.md §4.5, step 1; docs/architecture.md §5):
 * `state/<slug>/` (0700) with metadata.json, the per-bottle CA, live-config/routes.yaml,
 * git-gate/config.yaml + creds, supervise/spool/, run/, logs/, provider/. No secret value is
 * written anywhere: slots only. If any step fails the new directory is removed again, so a failed
 * launch leaves nothing behind. Gitea deploy keys (generatedKeys) are registered by the launch,
 * after this step.
 */
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BottleError } from '../errors.js';
import { createBottleCa, writeBottleCa } from '../egress/ca.js';
import { renderRoutesFile } from '../egress/routes-file.js';
import { STATE_ENTRIES } from '../state/paths.js';
import { writeMetadata } from '../state/metadata.js';
import type { PreparedLaunch } from './prepare.js';

export interface MaterializedState {
  readonly stateDir: string;
  readonly caCertPath: string;
  readonly caKeyPath: string;
  readonly routesPath: string;
  readonly gateConfigPath: string;
  /** Paths (relative to git-gate/) where the launch must write generated gitea deploy keys. */
  readonly pendingGeneratedKeys: ReadonlyArray<{ readonly repo: string; readonly dest: string }>;
}

async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export async function materializeState(prepared: PreparedLaunch, opts: { now?: () => Date } = {}): Promise<MaterializedState> {
  const { plan } = prepared;
  const dir = plan.stateDir;
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    // Not recursive: an existing directory means the slug was taken since planning.
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BottleError('SLUG_IN_USE', `"${plan.slug}" is in use (${dir} exists); choose another label`, { data: { slug: plan.slug } });
    }
    throw err;
  }
  try {
    await chmod(dir, 0o700);
    return await writeLaunchFiles(prepared, (opts.now ?? (() => new Date()))());
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Writes every launch file into an existing state dir: used by a new launch (above) and by
 * `resume`, which keeps the agent's home, logs and spool but needs a new CA (its key was deleted
 * at teardown) and the routes/git-gate files of the re-read manifests.
 */
export async function writeLaunchFiles(prepared: PreparedLaunch, now: Date): Promise<MaterializedState> {
  const dir = prepared.plan.stateDir;
  await writeMetadata(dir, prepared.metadata);

  const ca = await createBottleCa(prepared.plan.slug, now);
  const { certPath, keyPath } = await writeBottleCa(join(dir, STATE_ENTRIES.egressDir), ca);

  const routesPath = join(dir, STATE_ENTRIES.routesFile);
  await writeAtomic(routesPath, renderRoutesFile(prepared.routesFile), 0o644);

  const gateDir = join(dir, STATE_ENTRIES.gitGateDir);
  const gateConfigPath = join(dir, STATE_ENTRIES.gitGateConfig);
  await writeAtomic(gateConfigPath, prepared.gate.configYaml, 0o644);
  for (const f of prepared.gate.copyFiles) {
    const dest = join(gateDir, f.dest);
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await copyFile(f.source, dest);
    await chmod(dest, 0o600);
  }
  for (const k of prepared.gate.knownHosts) await writeAtomic(join(gateDir, k.dest), k.content, 0o600);

  for (const sub of [STATE_ENTRIES.superviseSpool, STATE_ENTRIES.runDir, STATE_ENTRIES.logsDir]) {
    await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  }
  // Host copies of the rendered guest files (no secrets: validated at planning time).
  for (const f of prepared.providerFiles) {
    await writeAtomic(join(dir, STATE_ENTRIES.providerDir, f.path.replace(/^\/home\/node\//, '')), f.content, 0o600);
  }
  return { stateDir: dir, caCertPath: certPath, caKeyPath: keyPath, routesPath, gateConfigPath, pendingGeneratedKeys: prepared.gate.generatedKeys };
}
