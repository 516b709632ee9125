/** The one module that reads process.platform (platform code stays behind its name). */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const isLinux = (): boolean => process.platform === 'linux';
export const isMacos = (): boolean => process.platform === 'darwin';
export const isRoot = (): boolean => process.getuid?.() === 0;

/** Absolute path of an executable on PATH (plus the sbin dirs root tools live in), or null. Cheap: no spawn. */
export function findExecutable(name: string, pathVar = process.env.PATH ?? ''): string | null {
  const dirs = [...pathVar.split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
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
