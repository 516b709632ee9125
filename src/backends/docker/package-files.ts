/**
 * The files of the installed bot-bottle package the sidecar image needs: package.json, dist/ and
 * the production dependency closure from node_modules (resolved the way Node resolves them:
 * nested node_modules first, then each ancestor's). Used to stage the image's build context and
 * to key the image by content, so a rebuilt dist/ means a rebuilt image.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

function deps(pkgDir: string): string[] {
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
  } catch {
    return [];
  }
}

function resolveFrom(fromDir: string, name: string, root: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}

/** Package directories (absolute) of the production dependency closure of `root`. */
export function productionPackages(root: string): string[] {
  const seen = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    for (const name of deps(dir)) {
      const found = resolveFrom(dir, name, root);
      if (found && !seen.has(found)) {
        seen.add(found);
        queue.push(found);
      }
    }
  }
  return [...seen].sort();
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Content key of dist/ + package.json: changes whenever the compiled sidecar code does. */
export function distKey(root: string): string {
  const files: string[] = [];
  walk(join(root, 'dist'), files);
  files.sort();
  const h = createHash('sha256');
  h.update(readFileSync(join(root, 'package.json')));
  for (const f of files) {
    const st = statSync(f);
    // Path, size and mtime: enough to see a rebuild, without reading megabytes on every launch.
    h.update(`${relative(root, f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}
