/**
 * Where an approved `capability-block` stands (docs/supervise.md, "Applying approvals"): the
 * deciding process wrote `state/<slug>/Dockerfile` and recorded the response with `applied_at`
 * unset; the bottle's launcher rebuilds and resumes on it, then sets `applied_at` and writes
 * `capability.rebuilt` (or `apply.failed` when the rebuild did not come up).
 *
 * Found through the audit log (every recorded capability approval has an `apply.succeeded` row
 * of kind `capability-block`), so no store query or migration is added for it
 * (docs/decisions/supervise-capability-rebuild.md).
 */
import type { SuperviseStore } from '../store/types.js';

/** How far back the audit log is read for approvals; a bottle's audit rows are few per proposal. */
const AUDIT_WINDOW = 1000;

/** Approved (or modified) capability responses of `slug` whose rebuild has not happened yet, oldest first. */
export function unappliedCapabilityIds(store: SuperviseStore, slug: string): string[] {
  const ids = new Set<string>();
  for (const row of store.readAudit({ bottle: slug, limit: AUDIT_WINDOW })) {
    if (row.event === 'apply.succeeded' && row.detail.kind === 'capability-block' && row.proposalId !== null) ids.add(row.proposalId);
  }
  return [...ids]
    .filter((id) => {
      const r = store.get(id)?.response;
      return r != null && r.decision !== 'rejected' && r.appliedAt === null;
    })
    .sort();
}

/** The bottle runs the image built from the approved Dockerfile: `applied_at` + `capability.rebuilt`. */
export function markCapabilitiesRebuilt(store: SuperviseStore, slug: string, ids: readonly string[], detail: Record<string, unknown>, now: Date = new Date()): void {
  for (const id of ids) {
    store.markApplied(id, now);
    store.audit({ bottle: slug, proposalId: id, actor: 'launcher', event: 'capability.rebuilt', detail: { kind: 'capability-block', ...detail }, now });
  }
}

/** The rebuild or the resume after it failed: `applied_at` stays unset, the state stays preserved. */
export function auditCapabilityRebuildFailed(store: SuperviseStore, slug: string, ids: readonly string[], error: string, now: Date = new Date()): void {
  for (const id of ids) {
    store.audit({ bottle: slug, proposalId: id, actor: 'launcher', event: 'apply.failed', detail: { kind: 'capability-block', stage: 'rebuild', error }, now });
  }
}
