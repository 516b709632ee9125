/**
 * The host side of an approved capability (docs/supervise.md, "Applying approvals") against a
 * real store: which approvals are unapplied, marking one rebuilt, auditing a failed rebuild, and
 * what the operator is told about when the image takes effect on each kind of backend.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capabilityRebuildNote } from '../../src/supervise/host/apply.js';
import { auditCapabilityRebuildFailed, markCapabilitiesRebuilt, unappliedCapabilityIds } from '../../src/supervise/host/capability-state.js';
import { decideAndApply, relayOnce } from '../../src/supervise/host/index.js';
import { openStore } from '../../src/supervise/store/index.js';
import type { SuperviseStore } from '../../src/supervise/store/types.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome, type TestHome } from './store-helpers.js';

let t: TestHome;
let store: SuperviseStore | null = null;
afterEach(() => {
  store?.close();
  store = null;
  t?.cleanup();
});

const capability = (dockerfile: string) => ({ kind: 'capability-block', justification: 'the build needs jq installed in the agent image', payload: { dockerfile } });

describe('capability approvals on the host', () => {
  it('approved and modified ones are unapplied until marked rebuilt; rejected and other kinds never are', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const spool = t.spool('alpha-1');
    const a = fileProposal(spool, 'alpha-1', capability('FROM node:20\nRUN echo a\n'));
    const b = fileProposal(spool, 'alpha-1', capability('FROM node:20\nRUN echo b\n'));
    const c = fileProposal(spool, 'alpha-1', capability('FROM node:20\nRUN echo c\n'));
    const routes = fileProposal(spool, 'alpha-1');
    store = openStore(t.home, { onNotice: () => undefined });
    relayOnce(store, t.home, { slugs: ['alpha-1'] });
    expect(unappliedCapabilityIds(store, 'alpha-1')).toEqual([]);
    await decideAndApply(store, t.home, { id: a, decision: 'approved', operator: 'op' });
    await decideAndApply(store, t.home, { id: b, decision: 'modified', modifiedPayload: { dockerfile: 'FROM node:20\nRUN echo bb\n' }, operator: 'op' });
    await decideAndApply(store, t.home, { id: c, decision: 'rejected', reason: 'no', notes: 'no', operator: 'op' });
    await decideAndApply(store, t.home, { id: routes, decision: 'approved', operator: 'op' });
    expect(unappliedCapabilityIds(store, 'alpha-1')).toEqual([a, b].sort());
    expect(unappliedCapabilityIds(store, 'beta-2')).toEqual([]);

    auditCapabilityRebuildFailed(store, 'alpha-1', [a], 'building image x failed');
    expect(unappliedCapabilityIds(store, 'alpha-1')).toEqual([a, b].sort());
    expect(store.readAudit({ bottle: 'alpha-1', limit: 1 })[0]).toMatchObject({ proposalId: a, actor: 'launcher', event: 'apply.failed', detail: { kind: 'capability-block', stage: 'rebuild' } });

    markCapabilitiesRebuilt(store, 'alpha-1', [a, b], { image: 'bot-bottle-alpha-1-agent:latest' });
    expect(unappliedCapabilityIds(store, 'alpha-1')).toEqual([]);
    expect(store.get(a)?.response?.appliedAt).not.toBeNull();
    expect(store.readAudit({ bottle: 'alpha-1' }).filter((r) => r.event === 'capability.rebuilt').map((r) => r.proposalId).sort()).toEqual([a, b].sort());
  });

  it('says when the image takes effect: netns never builds it; docker now with a live launcher, else at the next resume', async () => {
    t = testHome();
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const dir = t.stateDir('alpha-1');
    const builds = (yes: boolean) => () => Promise.resolve({ buildsCustomImages: yes });
    expect(await capabilityRebuildNote(dir, 'alpha-1', builds(false))).toBe('recorded but not built: the netns backend cannot build images, and refuses to resume this slug until Dockerfile is removed from its state');
    expect(await capabilityRebuildNote(dir, 'alpha-1', builds(true))).toBe('built at the next resume of this slug');
    writeFileSync(join(dir, 'session.json'), JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
    expect(await capabilityRebuildNote(dir, 'alpha-1', builds(true))).toMatch(/^built by the running launcher, which stops the bottle, rebuilds its image and resumes it/);
    expect(await capabilityRebuildNote(join(t.home, 'state', 'nope'), 'nope', builds(true))).toBe('built at the next resume of this slug');
  });
});
