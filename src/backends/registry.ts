/**
 * Backend names → lazy factories: a backend's module loads only when it is asked for,
 * so platform code never loads where it cannot run. Order = default-selection preference
 * (docs/architecture.md §4.1, step 4).
 */
import { usageError } from '../errors.js';
import type { Backend } from './backend.js';
import { unavailableBackend } from './unavailable.js';

type Factory = () => Promise<Backend>;

const NOT_YET = 'not implemented in this version of bot-bottle';

const FACTORIES: ReadonlyArray<readonly [string, Factory]> = [
  ['macos-container', async () => unavailableBackend('macos-container', NOT_YET, 'use --backend netns (Linux, root)')],
  ['docker', async () => (await import('./docker/index.js')).createDockerBackend()],
  ['netns', async () => (await import('./netns/index.js')).createNetnsBackend()],
  ['smolmachines', async () => unavailableBackend('smolmachines', NOT_YET, 'use --backend netns (Linux, root)')],
];

export const BACKEND_NAMES: readonly string[] = FACTORIES.map(([n]) => n);

const cache = new Map<string, Promise<Backend>>();

export function getBackend(name: string): Promise<Backend> {
  const f = FACTORIES.find(([n]) => n === name)?.[1];
  if (!f) throw usageError(`unknown backend "${name}"`, `choose one of: ${BACKEND_NAMES.join(', ')}`);
  let p = cache.get(name);
  if (!p) {
    p = f();
    cache.set(name, p);
  }
  return p;
}

export async function allBackends(): Promise<Backend[]> {
  return Promise.all(BACKEND_NAMES.map((n) => getBackend(n)));
}

/** First available backend in preference order, or null. */
export async function defaultBackend(): Promise<Backend | null> {
  for (const name of BACKEND_NAMES) {
    const b = await getBackend(name);
    if ((await b.available()).ok) return b;
  }
  return null;
}
