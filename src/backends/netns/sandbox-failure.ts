/**
 * Tells a failure to BUILD the sandbox (the command never ran) from a failure of the command
 * itself. Only our own wrappers print these prefixes first: the root-side stage script
 * (`bb-stage`, `bb-cgroup`, mount), setpriv and bwrap. Pure.
 */
const WRAPPER_LINE = /^(bwrap|setpriv|mount|bb-stage|bb-cgroup|Cannot open network namespace)\b.*$/m;

export function sandboxFailure(code: number, stderr: string): string | null {
  if (code === 0) return null;
  const first = stderr.trimStart().split('\n')[0] ?? '';
  const m = WRAPPER_LINE.exec(first);
  return m ? m[0].trim() : null;
}
