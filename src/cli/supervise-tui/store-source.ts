/**
 * The TuiSource over the real store (src/supervise/store). The decision, relay and view logic
 * lives in src/supervise/host and is passed in as hooks, so the TUI has one implementation of
 * each (the CLI verbs use the same functions) and this module only maps shapes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDirFor, STATE_ENTRIES } from '../../state/paths.js';
import type { DecideInput, Proposal, SuperviseStore } from '../../supervise/store/types.js';
import type { TuiDetail, TuiProposal, TuiSource } from './types.js';

export interface StoreSourceHooks {
  /** Import every bottle's spool, expire, deliver (src/supervise/host relayOnce), remembered approvals. */
  relay(store: SuperviseStore, home: string, now: Date): void | Promise<void>;
  /**
   * Apply then record (src/supervise/host decideAndApply, or approveAndRemember with `remember`);
   * resolves with a one-line outcome.
   */
  decide(store: SuperviseStore, home: string, input: DecideInput, remember?: 'bottle' | 'agent' | 'file'): Promise<string>;
  /** One-line summary (src/supervise/host summarize). */
  summary(p: Proposal): string;
  /** Diff/description and warnings (routeChangeView, dockerfileView, sidecarDetail). */
  detail(p: Proposal, home: string): TuiDetail;
  /** The text the operator edits (editableText). */
  editText(p: Proposal): string;
  /** Edited text → payload with the same validators as the daemon; throws listing the problems. */
  parseEdit(p: Proposal, text: string, home: string): unknown;
  /** Seconds since the bottle's supervise heartbeat, null if none (heartbeatAgeSeconds). */
  heartbeatAge(home: string, slug: string, now: Date): number | null;
}

export function createStoreSource(o: { store: SuperviseStore; home: string; operator: string; hooks: StoreSourceHooks }): TuiSource {
  const { store, home, hooks } = o;
  const byId = new Map<string, Proposal>();
  const colours = new Map<string, string | undefined>();
  const proposal = (p: TuiProposal): Proposal => byId.get(p.id) ?? (p as Proposal);
  return {
    tick: (now) => hooks.relay(store, home, now),
    listPending: () => {
      const list = store.listPending();
      byId.clear();
      for (const p of list) byId.set(p.id, p);
      return list;
    },
    heartbeatAge: (slug, now) => hooks.heartbeatAge(home, slug, now),
    labelColor: (slug) => {
      if (!colours.has(slug)) {
        let colour: string | undefined;
        try {
          const m = JSON.parse(readFileSync(join(stateDirFor(home, slug), STATE_ENTRIES.metadata), 'utf8')) as { color?: unknown };
          colour = typeof m.color === 'string' ? m.color : undefined;
        } catch {
          colour = undefined; // no metadata (yet): no colour
        }
        colours.set(slug, colour);
      }
      return colours.get(slug);
    },
    summary: (p) => hooks.summary(proposal(p)),
    detail: (p) => hooks.detail(proposal(p), home),
    editText: (p) => hooks.editText(proposal(p)),
    parseEdit: (p, text) => hooks.parseEdit(proposal(p), text, home),
    decide: (d) =>
      hooks.decide(
        store,
        home,
        {
          id: d.id,
          decision: d.decision,
          operator: o.operator,
          ...(d.reason !== undefined ? { reason: d.reason } : {}),
          ...(d.notes !== undefined ? { notes: d.notes } : {}),
          ...(d.modifiedPayload !== undefined ? { modifiedPayload: d.modifiedPayload } : {}),
        },
        d.remember,
      ),
  };
}
