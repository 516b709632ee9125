/** Where the bundled agent Dockerfiles live (assets/docker/ in the package), and path display. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// src/providers/ under tsx, dist/src/providers/ when compiled: take the first ancestor with our
// package.json rather than hard-coding the depth.
function packageRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return fileURLToPath(new URL('../../', import.meta.url));
}

export const BUNDLED_DOCKER_DIR = join(packageRoot(), 'assets', 'docker');

export function bundledDockerfile(template: string): string {
  return join(BUNDLED_DOCKER_DIR, `Dockerfile.${template}`);
}

/** `/home/ada/x` → `~/x` for messages. */
export function tildePath(path: string, home: string): string {
  if (home && (path === home || path.startsWith(`${home}/`))) return `~${path.slice(home.length)}`;
  return path;
}
