/**
 * Tells a failure to BUILD the sandbox (the command never ran) from a failure of the command
 * itself. Only our own wrappers print these prefixes first: the root-side stage script
 * (`bb-stage`, `bb-cgroup`, mount), setpriv and bwrap. Pure.
 */
const WRAPPER_LINE = /^(bwrap|setpriv|mount|bb-stage|bb-cgroup|Cannot open network namespace)\b.*$/m;

/**
 * bwrap's own words when the seccomp filter (fd 4) or its options (fd 3) cannot be read or
 * loaded (bubblewrap 0.8: "Can't read seccomp data", "Invalid seccomp data, must be multiple of
 * 8", "prctl(PR_SET_SECCOMP): …", "Unable to set up system call filtering as requested: …").
 */
const SECCOMP_LINE = /seccomp|PR_SET_SECCOMP|system call filtering/i;
const ARGS_LINE = /--args data/;

export function sandboxFailure(code: number, stderr: string): string | null {
  if (code === 0) return null;
  const first = stderr.trimStart().split('\n')[0] ?? '';
  const m = WRAPPER_LINE.exec(first);
  if (!m) return null;
  const line = m[0].trim();
  if (line.startsWith('bwrap') && SECCOMP_LINE.test(line)) return `the sandbox's seccomp filter could not be loaded (${line}); the command did not run`;
  if (line.startsWith('bwrap') && ARGS_LINE.test(line)) return `the sandbox's options could not be passed to bwrap (${line}); the command did not run`;
  return line;
}
