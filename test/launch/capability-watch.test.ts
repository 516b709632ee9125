/**
 * The launcher's capability watch (src/launch/capability-watch.ts) against a real store and a
 * stand-in bottle: a new approval stops the bottle after the grace period with the state
 * preserved as `capability-approved`; an approval of the Dockerfile this launch runs is marked
 * applied instead; a stop is dropped when the agent ends first; nothing is watched without a
 * relaunch or a state-built image. The docker end to end is test/supervise/capability-docker.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningBottle } from '../../src/backends/backend.js';
import { CAPABILITY_GRACE_MS } from '../../src/launch/capability.js';
import { capabilityWatch } from '../../src/launch/capability-watch.js';
import type { BottlePlan } from '../../src/plan/bottle-plan.js';
import { decideAndApply, relayOnce } from '../../src/supervise/host/index.js';
import { openStore } from '../../src/supervise/store/index.js';
import type { SuperviseStore } from '../../src/supervise/store/types.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome, type TestHome } from '../supervise/store-helpers.js';

let t: TestHome;
let store: SuperviseStore | null = null;
afterEach(() => {
  store?.close();
  store = null;
  t?.cleanup();
});

const DOCKERFILE = 'FROM node:20\nRUN echo approved\n';

async function approved(slug: string): Promise<{ id: string; plan: BottlePlan }> {
  t = testHome();
  bottleState(t, slug, LIVE_ROUTES);
  const id = fileProposal(t.spool(slug), slug, { kind: 'capability-block', justification: 'the build needs jq installed in the agent image', payload: { dockerfile: DOCKERFILE } });
  store = openStore(t.home, { onNotice: () => undefined });
  relayOnce(store, t.home, { slugs: [slug] });
  await decideAndApply(store, t.home, { id, decision: 'approved', operator: 'op' });
  const plan = { slug, stateDir: t.stateDir(slug), agent: { image: { tag: `bot-bottle-${slug}-agent:latest` } } } as unknown as BottlePlan;
  return { id, plan };
}

function standIn(): RunningBottle & { closed: number } {
  const b = { closed: 0, close: () => Promise.resolve(void (b.closed += 1)) };
  return b as unknown as RunningBottle & { closed: number };
}

describe('capability watch', () => {
  it('a new approval: progress at once, after the grace period the transcript hook, .preserve capability-approved, the bottle closed', async () => {
    const { id, plan } = await approved('alpha-1');
    const bottle = standIn();
    const lines: string[] = [];
    const order: string[] = [];
    const w = capabilityWatch({ plan, bottle, builtFrom: null, restart: true, beforeStop: () => Promise.resolve(void order.push(`snapshot closed=${bottle.closed}`)), progress: (m) => lines.push(m) });
    w.onPass!(store!);
    w.onPass!(store!); // a second pass while waiting changes nothing
    expect(lines).toEqual([`capability request ${id} approved: alpha-1 stops in 3 s and resumes on the rebuilt image`]);
    expect(bottle.closed).toBe(0);
    await new Promise((r) => setTimeout(r, CAPABILITY_GRACE_MS + 300));
    await w.settled();
    expect(order).toEqual(['snapshot closed=0']);
    expect(bottle.closed).toBe(1);
    expect(w.stoppedFor()).toEqual([id]);
    expect(JSON.parse(readFileSync(join(plan.stateDir, '.preserve'), 'utf8'))).toMatchObject({ reason: 'capability-approved' });
    expect(store!.get(id)?.response?.appliedAt).toBeNull();
  }, 20_000);

  it('an approval of the Dockerfile this launch was built from is marked applied, with no stop', async () => {
    const { id, plan } = await approved('alpha-1');
    const bottle = standIn();
    const w = capabilityWatch({ plan, bottle, builtFrom: DOCKERFILE, restart: true, beforeStop: () => Promise.resolve(), progress: () => undefined });
    w.onPass!(store!);
    expect(store!.get(id)?.response?.appliedAt).not.toBeNull();
    expect(store!.readAudit({ bottle: 'alpha-1', limit: 1 })[0]).toMatchObject({ event: 'capability.rebuilt', actor: 'launcher', detail: { image: 'bot-bottle-alpha-1-agent:latest' } });
    w.cancel();
    await w.settled();
    expect(w.stoppedFor()).toBeNull();
    expect(bottle.closed).toBe(0);
  });

  it('cancelled before the grace period ends (the agent ended first): no stop, nothing preserved', async () => {
    const { plan } = await approved('alpha-1');
    const bottle = standIn();
    const w = capabilityWatch({ plan, bottle, builtFrom: null, restart: true, beforeStop: () => Promise.resolve(), progress: () => undefined });
    w.onPass!(store!);
    w.cancel();
    await new Promise((r) => setTimeout(r, CAPABILITY_GRACE_MS + 300));
    await w.settled();
    expect(bottle.closed).toBe(0);
    expect(w.stoppedFor()).toBeNull();
    expect(existsSync(join(plan.stateDir, '.preserve'))).toBe(false);
  }, 20_000);

  it('no relaunch and no state-built image (netns, or a caller that does not relaunch): nothing is watched', async () => {
    const { plan } = await approved('alpha-1');
    const w = capabilityWatch({ plan, bottle: standIn(), builtFrom: null, restart: false, beforeStop: () => Promise.resolve(), progress: () => undefined });
    expect(w.onPass).toBeUndefined();
  });
});
