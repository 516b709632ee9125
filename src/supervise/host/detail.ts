/**
 * Everything `show` (and the TUI's detail view) prints for one proposal: the kind's diff against
 * the bottle's current state, and the warnings. Reads the live routes / bottle Dockerfile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_ENTRIES, stateDirFor } from '../../state/paths.js';
import type { ProposalWithResponse } from '../store/types.js';
import { readLiveRoutes } from './apply.js';
import { dockerfileView, routeChangeView, sidecarDetail, summarize } from './proposal-view.js';

export interface ProposalDetail {
  readonly summary: string;
  /** Unified diff (routes, Dockerfile) or the sidecar kinds' description. */
  readonly body: string;
  readonly warnings: string[];
  /** Set when the payload does not validate (it cannot be approved as is). */
  readonly invalid: string | null;
}

export function proposalDetail(home: string, p: ProposalWithResponse): ProposalDetail {
  const stateDir = stateDirFor(home, p.bottle);
  const summary = summarize(p);
  try {
    if (p.kind === 'egress-allow') {
      let live = null;
      try {
        live = readLiveRoutes(stateDir);
      } catch {
        // no live table (bottle state gone): diff against an empty table
      }
      const v = routeChangeView(live, p.payload);
      return { summary, body: v.diff, warnings: live ? v.warnings : [...v.warnings, 'the live routes file is missing or unreadable'], invalid: null };
    }
    if (p.kind === 'capability-block') {
      let current: string | null = null;
      try {
        current = readFileSync(join(stateDir, STATE_ENTRIES.dockerfile), 'utf8');
      } catch {
        current = null;
      }
      const v = dockerfileView(current, p.payload);
      return { summary, body: v.diff, warnings: v.warnings, invalid: null };
    }
    return { summary, body: sidecarDetail(p), warnings: [], invalid: null };
  } catch (err) {
    return { summary, body: `${JSON.stringify(p.payload, null, 2)}\n`, warnings: [], invalid: err instanceof Error ? err.message : String(err) };
  }
}
