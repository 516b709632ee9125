/**
 * A backend this build does not implement yet: it reports itself unavailable with a reason and
 * a fix, and refuses everything else, so callers never switch on names.
 */
import { BottleError } from '../errors.js';
import type { Backend } from './backend.js';

export function unavailableBackend(name: string, reason: string, fix: string): Backend {
  const refuse = (): never => {
    throw new BottleError('BACKEND_UNAVAILABLE', `${name}: ${reason}`, { fix });
  };
  return {
    name,
    agentBinaryFromHost: null,
    available: () => Promise.resolve({ ok: false, reason, fix }),
    launch: async () => refuse(),
    listActive: async () => [],
    reloadEgress: async () => refuse(),
    cleanupPlan: async () => ({ backend: name, resources: [] }),
    cleanup: async () => undefined,
  };
}
