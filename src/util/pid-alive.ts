/**
 * Whether a process with this pid exists on this host. EPERM counts as alive: the process is there,
 * owned by another user. Anything that is not a positive integer is not a pid.
 */
export function pidAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
