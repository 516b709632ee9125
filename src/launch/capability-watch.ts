/**
 * The launcher's watch over its bottle's approved capability requests, run on each supervise
 * relay pass (docs/supervise.md, "Applying approvals";
 * docs/decisions/supervise-capability-rebuild.md). An approval whose Dockerfile this launch
 * already runs is marked applied; a newer one, when the caller relaunches and the backend builds
 * images, stops the bottle after the grace period with the state preserved
 * (`capability-approved`).
 */
import type { RunningBottle } from '../backends/backend.js';
import type { BottlePlan } from '../plan/bottle-plan.js';
import { markCapabilitiesRebuilt, unappliedCapabilityIds } from '../supervise/host/capability-state.js';
import type { SuperviseStore } from '../supervise/store/types.js';
import { CAPABILITY_GRACE_MS, readStateDockerfile } from './capability.js';
import { writePreserve } from './state-files.js';

export interface CapabilityWatch {
  /** The relay hook; absent when there is nothing to watch. */
  readonly onPass?: (store: SuperviseStore) => void;
  /** Drops a stop that has not begun (the agent ended first). */
  cancel(): void;
  /** Resolves once a stop that has begun is over. */
  settled(): Promise<void>;
  /** The proposals the bottle was stopped for; null when it was not. */
  stoppedFor(): string[] | null;
}

export function capabilityWatch(o: {
  plan: BottlePlan;
  bottle: RunningBottle;
  /** The state Dockerfile this launch's image was built from; null when it was not. */
  builtFrom: string | null;
  /** Stop and let the caller relaunch (a backend that builds images, a caller that relaunches). */
  restart: boolean;
  /** Runs before the bottle closes (the transcript snapshot). */
  beforeStop: () => Promise<void>;
  progress: (message: string) => void;
}): CapabilityWatch {
  const { plan } = o;
  const slug = plan.slug;
  let pending: string[] | null = null;
  let stopped: string[] | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopping: Promise<void> = Promise.resolve();
  const stop = async (ids: string[]): Promise<void> => {
    await o.beforeStop();
    writePreserve(plan.stateDir, 'capability-approved', 0);
    stopped = ids;
    await o.bottle.close().catch(() => undefined);
  };
  const base = {
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    settled: () => stopping,
    stoppedFor: () => stopped,
  };
  // Nothing to watch: no image is built from the state Dockerfile and no relaunch would follow.
  if (!o.restart && o.builtFrom === null) return base;
  return {
    ...base,
    onPass: (store) => {
      if (pending) return;
      // Every approval writes the state Dockerfile before it is recorded: without one there is
      // nothing to look up, and the pass (every second) costs a failed read, not an audit query.
      const dockerfile = readStateDockerfile(plan.stateDir);
      if (dockerfile === null) return;
      const ids = unappliedCapabilityIds(store, slug);
      if (ids.length === 0) return;
      if (o.builtFrom !== null && dockerfile === o.builtFrom) {
        markCapabilitiesRebuilt(store, slug, ids, { image: plan.agent.image.tag });
        o.progress(`running the image approved in ${ids.join(', ')}`);
        return;
      }
      if (!o.restart) return;
      pending = ids;
      o.progress(`capability request ${ids.join(', ')} approved: ${slug} stops in ${CAPABILITY_GRACE_MS / 1000} s and resumes on the rebuilt image`);
      // The grace period lets the tool result reach the agent before its bottle stops.
      timer = setTimeout(() => {
        timer = null;
        stopping = stop(ids);
      }, CAPABILITY_GRACE_MS);
    },
  };
}
