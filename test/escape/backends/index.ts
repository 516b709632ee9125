/**
 * Escape-suite adapters by backend name (docs/escape-suite.md). A backend without an adapter is a
 * skip with a printed reason, never a silent pass.
 */
import type { EscapeAdapter } from '../types.js';
import { createDockerEscapeAdapter } from './docker.js';
import { createMacosContainerEscapeAdapter } from './macos-container.js';
import { createNetnsEscapeAdapter } from './netns.js';
import { createSmolmachinesEscapeAdapter } from './smolmachines.js';

const ADAPTERS: Readonly<Record<string, () => EscapeAdapter>> = {
  netns: createNetnsEscapeAdapter,
  docker: createDockerEscapeAdapter,
  smolmachines: createSmolmachinesEscapeAdapter,
  'macos-container': createMacosContainerEscapeAdapter,
};

export type AdapterChoice = { adapter: EscapeAdapter } | { skip: string };

export function adapterFor(backend: string): AdapterChoice {
  const make = ADAPTERS[backend];
  if (!make) return { skip: `backend ${backend} is not available in this version` };
  const adapter = make();
  const reason = adapter.unavailable();
  return reason ? { skip: reason } : { adapter };
}
