/**
 * The production wiring of the TUI: the real store and the host functions of src/supervise/host
 * (the same ones the `supervise` verbs use), so relaying, applying, diffs and edit validation have
 * one implementation each.
 */
import { stateDirFor } from '../../state/paths.js';
import {
  approveAndRemember,
  decideAndApply,
  decideRemembered,
  editableText,
  heartbeatAgeSeconds,
  liveSlots,
  parseEditedText,
  proposalDetail,
  readLiveRoutes,
  relayOnce,
  summarize,
  type DecisionOutcome,
  type RememberOutcome,
} from '../../supervise/host/index.js';
import type { SuperviseStore } from '../../supervise/store/types.js';
import { createStoreSource, type StoreSourceHooks } from './store-source.js';
import type { TuiSource } from './types.js';

export const HOST_HOOKS: StoreSourceHooks = {
  async relay(store, home, now) {
    const r = relayOnce(store, home, { now });
    // New arrivals a remembered rule covers are approved before the list is read (a failed
    // apply leaves them pending here and is audited as apply.failed).
    const auto = r.imported.length > 0 ? await decideRemembered(store, home, r.imported) : { errors: [] as string[] };
    const errors = [...r.errors, ...auto.errors];
    // Shown on the status line; the next refresh tries again.
    if (errors.length > 0) throw new Error(`spool: ${errors[0]}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`);
  },
  async decide(store, home, input, remember) {
    const o: DecisionOutcome & { remembered?: RememberOutcome } = remember ? await approveAndRemember(store, home, input, remember) : await decideAndApply(store, home, input);
    const r = o.response;
    const applied = o.routes ? `; routes generation ${o.routes.generation} (${o.routes.reload})` : o.dockerfile ? `; Dockerfile written (${o.dockerfile})` : '';
    const m = o.remembered;
    const kept = m?.rule ? `; remembered as rule ${m.rule.id} (${m.scope})` : m?.file ? `; added to ${m.file}` : '';
    return `${r.decision} ${r.proposalId}${r.reason ? ` (reason: ${r.reason})` : ''}${applied}${kept}`;
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
