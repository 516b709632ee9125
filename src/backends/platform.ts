/** The one module that reads process.platform (platform code stays behind its name). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const isLinux = (): boolean => process.platform === 'linux';
export const isMacos = (): boolean => process.platform === 'darwin';
/** The OS name as Node reports it (`darwin`, `linux`, …), for messages and host probes. */
export const platformName = (): string => process.platform;
export const isRoot = (): boolean => process.getuid?.() === 0;

/** Where a distribution installs the tools root-side helpers run (docs/decisions/netns-clean-env.md). */
export const SYSTEM_TOOL_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/**
 * Absolute path of an executable on PATH (plus the sbin dirs root tools live in), or null. Cheap: no
 * spawn. Relative PATH entries ("", ".", "bin") are skipped: they would name a file in whatever
 * directory the command runs from.
 */
export function findExecutable(name: string, pathVar = process.env.PATH ?? ''): string | null {
  return firstExecutable(name, [...pathVar.split(delimiter), ...SYSTEM_TOOL_DIRS]);
}

/**
 * A tool bot-bottle runs as root (ip, nft, bwrap, …): looked up only in the system directories,
 * never on the invoking user's PATH (`sudo -E` keeps it, and a user-writable directory on it would
 * hand root to whoever can write there).
 */
export function findSystemTool(name: string): string | null {
  return firstExecutable(name, SYSTEM_TOOL_DIRS);
}

function firstExecutable(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}
