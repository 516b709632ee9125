/**
 * The process groups of every child the gate starts (docs/decisions/gate-scan-every-object.md):
 * each git child runs in its own group (`detached`), so killing the group also ends what git
 * itself started — `git http-backend` → `git receive-pack` → `index-pack`, the pre-receive hook,
 * ssh and remote helpers. Killing only the direct child would orphan the rest (issue 11: a
 * `git-http-backend` left spinning with parent pid 1).
 */
export class ChildGroups {
  private readonly groups = new Set<number>();

  add(pid: number | undefined): void {
    if (pid !== undefined) this.groups.add(pid);
  }

  /** Forgets a group without killing it (its leader exited and the group was already killed). */
  delete(pid: number | undefined): void {
    if (pid !== undefined) this.groups.delete(pid);
  }

  /** SIGKILLs the whole group led by `pid`; a group already gone is not an error. */
  kill(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: every member already exited
    }
  }

  /** Kills every group still known (daemon shutdown, process exit). Synchronous on purpose. */
  killAll(): void {
    for (const pid of this.groups) this.kill(pid);
    this.groups.clear();
  }

  get size(): number {
    return this.groups.size;
  }
}
