/**
 * Which slugs of a home have a live owner (`session.json` with a running pid;
 * docs/architecture.md §5).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../util/pid-alive.js';


export interface StateDirInfo {
  slug: string;
  dir: string;
  live: boolean;
  preserved: boolean;
}

export function scanStateDirs(home: string): StateDirInfo[] {
  const root = join(home, 'state');
  let slugs: string[];
  try {
    slugs = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
  return slugs.map((slug) => {
    const dir = join(root, slug);
    let live = false;
    try {
      live = pidAlive((JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as { pid?: unknown }).pid);
    } catch {
      // no session: not live
    }
    let preserved = false;
    try {
      readFileSync(join(dir, '.preserve'));
      preserved = true;
    } catch {
      // not preserved
    }
    return { slug, dir, live, preserved };
  });
}
