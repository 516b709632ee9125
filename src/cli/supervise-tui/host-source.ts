/**
 * The production wiring of the TUI: the real store and the host functions of src/supervise/host
 * (the same ones the `supervise` verbs use), so relaying, applying, diffs and edit validation have
 * one implementation each.
 */
import { stateDirFor } from '../../state/paths.js';
import {
  decideAndApply,
  editableText,
  heartbeatAgeSeconds,
  liveSlots,
  parseEditedText,
  proposalDetail,
  readLiveRoutes,
  relayOnce,
  summarize,
} from '../../supervise/host/index.js';
import type { SuperviseStore } from '../../supervise/store/types.js';
import { createStoreSource, type StoreSourceHooks } from './store-source.js';
import type { TuiSource } from './types.js';

export const HOST_HOOKS: StoreSourceHooks = {
  relay(store, home, now) {
    const r = relayOnce(store, home, { now });
    // Shown on the status line; the next refresh tries again.
    if (r.errors.length > 0) throw new Error(`spool: ${r.errors[0]}${r.errors.length > 1 ? ` (+${r.errors.length - 1} more)` : ''}`);
  },
  async decide(store, home, input) {
    const o = await decideAndApply(store, home, input);
    const r = o.response;
    const applied = o.routes ? `; routes generation ${o.routes.generation} (${o.routes.reload})` : o.dockerfile ? `; Dockerfile written (${o.dockerfile})` : '';
    return `${r.decision} ${r.proposalId}${r.reason ? ` (reason: ${r.reason})` : ''}${applied}`;
  },
  summary: (p) => summarize(p),
  detail(p, home) {
    const d = proposalDetail(home, { ...p, response: null });
    return { text: d.body, warnings: d.invalid ? [`does not validate: ${d.invalid}`, ...d.warnings] : d.warnings };
  },
  editText: (p) => editableText(p.kind, p.payload),
  parseEdit(p, text, home) {
    let slots = new Set<string>();
    try {
      slots = liveSlots(readLiveRoutes(stateDirFor(home, p.bottle)).routes);
    } catch {
      // no live table: no auth slot may be reused
    }
    return parseEditedText(p.kind, text, slots);
  },
  heartbeatAge: (home, slug, now) => heartbeatAgeSeconds(home, slug, now),
};

export function createHostSource(store: SuperviseStore, home: string, operator: string): TuiSource {
  return createStoreSource({ store, home, operator, hooks: HOST_HOOKS });
}
