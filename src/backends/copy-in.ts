/**
 * copyIn for the CLI-driven backends (smolmachines, macos-container): a tar made on the host into
 * a private temp file, unpacked INSIDE the guest as the agent user through the backend's exec
 * (stdin = the tar), so nothing the agent planted in its home can redirect a root-side write.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { BottleError } from '../errors.js';
import { GUEST_HOME } from '../plan/bottle-plan.js';
import { firstLine, type Argv, type CommandRunner } from './command-runner.js';

/** $1 target dir, $2 the name in the tar, $3 the name it must have. */
export const COPY_IN_SCRIPT = 'mkdir -p "$1" && tar -xf - -C "$1" --no-same-owner && if [ "$2" != "$3" ]; then rm -rf "$1/$3" && mv "$1/$2" "$1/$3"; fi';

/** Resolves with the guest command's exit code (0); throws a one-line error otherwise. */
export async function copyInViaExec(run: CommandRunner, hostPath: string, guestPath: string, guestExec: (argv: readonly string[]) => Argv): Promise<number> {
  const norm = posix.normalize(guestPath);
  if (!norm.startsWith(`${GUEST_HOME}/`)) throw new BottleError('INTERNAL', `copyIn target must be under ${GUEST_HOME} (got ${guestPath})`);
  const tmp = mkdtempSync(join(tmpdir(), 'bb-copy-in-'));
  try {
    const tarFile = join(tmp, 'in.tar');
    const name = basename(hostPath);
    // Plain `tar -cf` (BSD and GNU tar agree on it); the rename to the target name happens in the
    // guest, after extraction.
    const t = await run('tar', ['-C', dirname(hostPath), '-cf', tarFile, name], { env: { PATH: '/usr/bin:/bin' } });
    if (t.code !== 0) throw new BottleError('LAUNCH_FAILED', `packing ${hostPath} for the bottle failed: ${firstLine(t)}`);
    const a = guestExec(['/bin/sh', '-c', COPY_IN_SCRIPT, 'copy-in', posix.dirname(norm), name, posix.basename(norm)]);
    const r = await run(a.command, a.args, { input: readFileSync(tarFile) });
    if (r.code !== 0) throw new BottleError('LAUNCH_FAILED', `copying ${hostPath} into the bottle at ${guestPath} failed: ${firstLine(r)}`);
    return r.code;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
