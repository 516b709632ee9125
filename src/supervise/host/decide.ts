/**
 * The operator's decision, end to end (docs/supervise.md): check it would be accepted, apply
 * it, and only then record it (apply-before-record); a failed apply leaves the proposal pending,
 * writes `apply.failed` and is reported (exit 1). Used by the CLI verbs and the TUI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';
import { STATE_ENTRIES, stateDirFor } from '../../state/paths.js';
import { decisionProblem } from '../store/store.js';
import { decisionActor, type DecideInput, type ResponseRecord, type SuperviseStore } from '../store/types.js';
import { joinNotes } from '../tool-results.js';
import { applyCapabilityChange, applyRouteChange, capabilityRebuildNote, type BackendLookup, type RouteApplyResult } from './apply.js';
import { withRoutesLock } from './routes-lock.js';

export interface DecisionOutcome {
  readonly response: ResponseRecord;
  readonly routes?: RouteApplyResult;
  readonly dockerfile?: string;
  /** capability-block: when the new image takes effect (apply.ts capabilityRebuildNote). */
  readonly rebuild?: string;
}

export class ApplyFailedError extends BottleError {
  constructor(id: string, cause: unknown) {
    super('LAUNCH_FAILED', `applying proposal ${id} failed: ${cause instanceof Error ? cause.message : String(cause)}; it is still pending`, {
      fix: 'fix the cause and approve again, or reject it',
    });
  }
}

function checkDecidable(store: SuperviseStore, input: DecideInput, now: Date): void {
  const p = store.get(input.id);
  const problem = decisionProblem(p, p?.response != null, input, now);
  if (problem) throw problem;
}

function failApply(store: SuperviseStore, bottle: string, input: DecideInput, err: unknown): never {
  store.audit({
    bottle,
    proposalId: input.id,
    actor: decisionActor(input),
    event: 'apply.failed',
    detail: { decision: input.decision, error: err instanceof Error ? err.message : String(err) },
  });
  throw new ApplyFailedError(input.id, err);
}

export async function decideAndApply(
  store: SuperviseStore,
  home: string,
  input: DecideInput,
  opts: { backendOf?: BackendLookup } = {},
): Promise<DecisionOutcome> {
  const now = () => input.now ?? new Date();
  checkDecidable(store, input, now());
  const p = store.get(input.id)!;
  const stateDir = stateDirFor(home, p.bottle);
  const payload = input.decision === 'modified' ? input.modifiedPayload : p.payload;
  let outcome: DecisionOutcome;
  if (input.decision !== 'rejected' && p.kind === 'egress-allow') {
    const liveDir = join(stateDir, STATE_ENTRIES.liveConfigDir);
    if (!existsSync(liveDir)) failApply(store, p.bottle, input, new Error(`no live routes for ${p.bottle} (${liveDir} is missing)`));
    outcome = await withRoutesLock(liveDir, async () => {
      // Re-checked under the lock: a racing approver that got here first has recorded by now.
      checkDecidable(store, input, now());
      let routes: RouteApplyResult;
      try {
        routes = await applyRouteChange({ stateDir, slug: p.bottle, proposalId: p.id, payload, now: now(), ...(opts.backendOf ? { backendOf: opts.backendOf } : {}) });
      } catch (err) {
        failApply(store, p.bottle, input, err);
      }
      store.audit({
        bottle: p.bottle,
        proposalId: p.id,
        actor: decisionActor(input),
        event: 'apply.succeeded',
        detail: { kind: p.kind, generation: routes.generation, hosts: routes.routes.map((r) => r.host), reload: routes.reload },
      });
      return { response: store.decide({ ...input, markApplied: true }), routes };
    }).catch((err: unknown) => {
      // The lock itself could not be taken (e.g. live-config/ unwritable): an apply failure too.
      if (err instanceof BottleError) throw err;
      return failApply(store, p.bottle, input, err);
    });
  } else if (input.decision !== 'rejected' && p.kind === 'capability-block') {
    let dockerfile: string;
    try {
      dockerfile = applyCapabilityChange({ stateDir, payload }).path;
    } catch (err) {
      failApply(store, p.bottle, input, err);
    }
    const rebuild = await capabilityRebuildNote(stateDir, p.bottle);
    store.audit({
      bottle: p.bottle,
      proposalId: p.id,
      actor: decisionActor(input),
      event: 'apply.succeeded',
      detail: { kind: p.kind, dockerfile: 'written', rebuild },
    });
    // The agent's tool result carries when the image takes effect, as the host knows it (the
    // sidecar cannot tell a live launcher on a building backend from a netns bottle).
    outcome = { response: store.decide({ ...input, notes: joinNotes(input.notes ?? '', `The approved image is ${rebuild}.`) }), dockerfile, rebuild };
  } else {
    outcome = { response: store.decide(input) };
  }
  // Deliver now when the spool is there; the relay loops retry otherwise.
  const spool = join(stateDir, STATE_ENTRIES.superviseSpool);
  if (existsSync(spool)) {
    try {
      store.exportResponses(p.bottle, spool);
    } catch {
      // delivered by the next relay pass
    }
  }
  return outcome;
}
