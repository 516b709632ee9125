/**
 * Backend names → lazy factories: a backend's module loads only when it is asked for,
 * so platform code never loads where it cannot run. BACKEND_NAMES is the listing order (help,
 * doctor); DEFAULT_CANDIDATES is the default-selection preference (docs/architecture.md §4.1,
 * step 4): smolmachines is never picked by default, only by name
 * (docs/decisions/vm-backends-default-selection.md).
 */
import { usageError } from '../errors.js';
import type { Backend } from './backend.js';

type Factory = () => Promise<Backend>;

const FACTORIES: ReadonlyArray<readonly [string, Factory]> = [
  ['macos-container', async () => (await import('./macos-container/index.js')).createMacosContainerBackend()],
  ['docker', async () => (await import('./docker/index.js')).createDockerBackend()],
  ['netns', async () => (await import('./netns/index.js')).createNetnsBackend()],
  ['smolmachines', async () => (await import('./smolmachines/index.js')).createSmolmachinesBackend()],
];

export const BACKEND_NAMES: readonly string[] = FACTORIES.map(([n]) => n);

/** The first available of these is the default when neither --backend nor BOT_BOTTLE_BACKEND names one. */
export const DEFAULT_CANDIDATES: readonly string[] = ['macos-container', 'docker', 'netns'];

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
  for (const name of DEFAULT_CANDIDATES) {
    const b = await getBackend(name);
    if ((await b.available()).ok) return b;
  }
  return null;
}
