/**
 * The host side of the spool (docs/supervise.md, "Spool"): import every outbox, expire due
 * proposals, deliver answered ones. Run once by each `supervise` verb, every second by the
 * launcher (its own bottle) and by the TUI (every bottle under `state/`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_ENTRIES, stateDirFor, stateRoot } from '../../state/paths.js';
import type { SuperviseStore } from '../store/types.js';
import { decideRemembered } from './remember.js';

export interface RelayResult {
  readonly imported: string[];
  readonly delivered: string[];
  readonly expired: string[];
  readonly errors: string[];
}

/** Slugs under `<home>/state/` that have a spool directory. */
export function spoolSlugs(home: string): string[] {
  let names: string[];
  try {
    names = readdirSync(stateRoot(home));
  } catch {
    return [];
  }
  return names.filter((n) => existsSync(join(stateDirFor(home, n), STATE_ENTRIES.superviseSpool))).sort();
}

export function relayOnce(store: SuperviseStore, home: string, opts: { slugs?: readonly string[]; now?: Date } = {}): RelayResult {
  const now = opts.now ?? new Date();
  const out = { imported: [] as string[], delivered: [] as string[], expired: [] as string[], errors: [] as string[] };
  const slugs = opts.slugs ?? spoolSlugs(home);
  const spools = slugs.map((slug) => join(stateDirFor(home, slug), STATE_ENTRIES.superviseSpool)).filter((d) => existsSync(d));
  try {
    const r = store.importSpools(spools, { now });
    out.imported.push(...r.imported);
    out.errors.push(...r.errors);
  } catch (err) {
    out.errors.push(err instanceof Error ? err.message : String(err));
  }
  out.expired.push(...store.expireDue(now));
  for (const slug of slugs) {
    const spool = join(stateDirFor(home, slug), STATE_ENTRIES.superviseSpool);
    if (!existsSync(spool)) continue;
    try {
      out.delivered.push(...store.exportResponses(slug, spool, { now }));
    } catch (err) {
      out.errors.push(`${slug}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/**
 * relayOnce, then the newly imported proposals a remembered rule covers are approved through the
 * normal apply path (docs/decisions/supervise-remember.md). Only new arrivals: a proposal whose
 * auto-apply failed stays with the operator instead of being retried every second.
 */
export async function relayAndRemember(store: SuperviseStore, home: string, opts: { slugs?: readonly string[]; now?: Date } = {}): Promise<RelayResult & { remembered: string[] }> {
  const r = relayOnce(store, home, opts);
  if (r.imported.length === 0) return { ...r, remembered: [] };
  const auto = await decideRemembered(store, home, r.imported);
  return { ...r, remembered: auto.decided.map((d) => d.id), errors: [...r.errors, ...auto.errors] };
}

/** Seconds since the daemon's last heartbeat; null when it never wrote one. */
export function heartbeatAgeSeconds(home: string, slug: string, now: Date = new Date()): number | null {
  try {
    const hb = JSON.parse(readFileSync(join(stateDirFor(home, slug), STATE_ENTRIES.superviseSpool, 'heartbeat'), 'utf8')) as { at?: unknown };
    const at = typeof hb.at === 'string' ? Date.parse(hb.at) : NaN;
    return Number.isNaN(at) ? null : Math.max(0, (now.getTime() - at) / 1000);
  } catch {
    return null;
  }
}

function hasEntries(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n.endsWith('.json'));
  } catch {
    return false;
  }
}

/** A daemon silent for longer than this is shown offline. */
export const HEARTBEAT_OFFLINE_SECONDS = 15;

/**
 * The launcher's relay for its own bottle: every second until stopped. Opens the store lazily
 * and never throws into the launch (a broken store is reported once through `onError`).
 */
export function startRelay(o: {
  home: string;
  slug: string;
  open: () => SuperviseStore;
  storeExists: () => boolean;
  intervalMs?: number;
  onError?: (line: string) => void;
  /** After each pass, with the open store (the launcher watches its capability approvals here). */
  onPass?: (store: SuperviseStore) => void;
}): () => void {
  let store: SuperviseStore | null = null;
  let reported = false;
  // Remembered approvals run async (their apply signals egress); one pass at a time, and the
  // store is closed only after the last one settled.
  let inflight: Promise<unknown> | null = null;
  let stopped = false;
  const outbox = join(stateDirFor(o.home, o.slug), STATE_ENTRIES.superviseSpool, 'outbox');
  const tick = (): void => {
    try {
      // No store yet and nothing filed: nothing to do, and no database is created for nothing.
      if (!store && !o.storeExists() && !hasEntries(outbox)) return;
      if (inflight) return;
      store ??= o.open();
      const open = store;
      inflight = relayAndRemember(open, o.home, { slugs: [o.slug] })
        .then(() => {
          if (!stopped) o.onPass?.(open);
        })
        .catch((err: unknown) => {
          if (!reported) o.onError?.(`supervise relay: ${err instanceof Error ? err.message : String(err)}`);
          reported = true;
        })
        .finally(() => {
          inflight = null;
          if (stopped) closeStore();
        });
    } catch (err) {
      if (!reported) o.onError?.(`supervise relay: ${err instanceof Error ? err.message : String(err)}`);
      reported = true;
    }
  };
  const closeStore = (): void => {
    store?.close();
    store = null;
  };
  // The first pass at once: what was decided while no launcher ran is seen before a short agent ends.
  tick();
  const timer = setInterval(tick, o.intervalMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopped = true;
    if (!inflight) closeStore();
  };
}
