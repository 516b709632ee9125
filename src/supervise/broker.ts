/**
 * The daemon's proposals from filing to outcome (docs/architecture.md §7a): files a proposal to
 * the spool outbox, lets callers wait on it, settles it from the inbox decision, on expiry, or —
 * for agent proposals — when every waiting MCP call went away (`withdrawn`). A settled proposal is
 * remembered for a while so a sidecar's decision long-poll can still read it.
 */
import { randomBytes } from 'node:crypto';
import { PendingBook } from './pending-book.js';
import type { Kind, Origin } from './proposal-kinds.js';
import type { InboxRecord } from './spool-format.js';
import type { SpoolWriter } from './spool.js';
import { ulid } from './ulid.js';

export type OutcomeState = 'approved' | 'modified' | 'rejected' | 'expired' | 'withdrawn';

export interface Outcome {
  state: OutcomeState;
  notes: string;
  reason: string | null;
  modifiedPayload: Record<string, unknown> | null;
  appliedGeneration: number | null;
}

export interface FileRequest {
  kind: Kind;
  origin: Origin;
  payload: Record<string, unknown>;
  justification: string | null;
  timeoutSeconds: number;
}

export type FileResult = { ok: true; id: string; joined: boolean } | { ok: false; message: string };

interface Entry {
  id: string;
  kind: Kind;
  origin: Origin;
  payload: Record<string, unknown>;
  timeoutSeconds: number;
  waiters: number;
  outcome: Outcome | null;
  listeners: Set<(o: Outcome) => void>;
  timer: NodeJS.Timeout | null;
}

/** How long a settled proposal stays readable by `GET …/decision`. */
const SETTLED_KEEP_MS = 10 * 60_000;

export interface BrokerOptions {
  spool: SpoolWriter;
  bottle: string;
  log: (line: string) => void;
  now?: () => number;
}

export class Broker {
  private readonly book = new PendingBook();
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly opts: BrokerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Files a proposal (or joins an identical pending one). */
  async file(req: FileRequest): Promise<FileResult> {
    const adm = this.book.admit(req.kind, req.payload);
    if (adm.kind === 'refused') return { ok: false, message: adm.message };
    if (adm.kind === 'join') return { ok: true, id: adm.id, joined: true };
    const created = this.now();
    const id = ulid(created, (n) => randomBytes(n));
    const expires = created + req.timeoutSeconds * 1000;
    // Booked before the write, so concurrent calls see it (limits, joins) while it is written.
    this.book.add(id, req.kind, req.payload);
    const entry: Entry = {
      id, kind: req.kind, origin: req.origin, payload: req.payload, timeoutSeconds: req.timeoutSeconds,
      waiters: 0, outcome: null, listeners: new Set(), timer: null,
    };
    this.entries.set(id, entry);
    try {
      await this.opts.spool.writeOutbox({
        v: 1, id, bottle: this.opts.bottle, kind: req.kind, origin: req.origin, justification: req.justification,
        payload: req.payload, created_at: new Date(created).toISOString(), expires_at: new Date(expires).toISOString(),
      });
    } catch (err) {
      this.book.remove(id);
      this.entries.delete(id);
      this.opts.log(`cannot write proposal ${id} to the spool: ${(err as Error).message}`);
      return { ok: false, message: 'supervise cannot file the proposal (spool not writable); tell the operator' };
    }
    entry.timer = setTimeout(() => void this.close(entry, 'expired'), Math.max(0, expires - this.now()));
    entry.timer.unref();
    this.opts.log(`proposal ${id} filed: ${req.kind} from ${req.origin}`);
    return { ok: true, id, joined: false };
  }

  /** The outcome if settled, 'pending' while open, null for an id this daemon does not know. */
  peek(id: string): Outcome | 'pending' | null {
    const e = this.entries.get(id);
    if (!e) return null;
    return e.outcome ?? 'pending';
  }

  timeoutOf(id: string): number | null {
    return this.entries.get(id)?.timeoutSeconds ?? null;
  }

  payloadOf(id: string): Record<string, unknown> | null {
    return this.entries.get(id)?.payload ?? null;
  }

  /**
   * Waits for the outcome. For an agent proposal, `signal` is the MCP call: when every caller
   * waiting on the proposal has gone, it is withdrawn.
   */
  wait(id: string, signal?: AbortSignal): Promise<Outcome> {
    const e = this.entries.get(id);
    if (!e) return Promise.reject(new Error(`unknown proposal ${id}`));
    if (e.outcome) return Promise.resolve(e.outcome);
    return new Promise((resolve) => {
      e.waiters++;
      const done = (o: Outcome) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(o);
      };
      const onAbort = () => {
        e.listeners.delete(done);
        e.waiters--;
        if (e.waiters === 0 && e.outcome === null && e.origin === 'agent') void this.close(e, 'withdrawn');
        resolve(e.outcome ?? withdrawnOutcome());
      };
      e.listeners.add(done);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Waits up to `ms` for the outcome; 'pending' when it did not come. */
  async waitFor(id: string, ms: number): Promise<Outcome | 'pending' | null> {
    const now = this.peek(id);
    if (now !== 'pending') return now;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), ms);
    try {
      const e = this.entries.get(id)!;
      const o = await new Promise<Outcome | 'pending'>((resolve) => {
        const done = (out: Outcome) => resolve(out);
        e.listeners.add(done);
        ac.signal.addEventListener('abort', () => {
          e.listeners.delete(done);
          resolve('pending');
        }, { once: true });
      });
      return o;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A decision from the inbox. Late ones (expired, withdrawn, unknown) never apply. */
  deliver(rec: InboxRecord): void {
    const e = this.entries.get(rec.id);
    if (!e) {
      this.opts.log(`decision for unknown proposal ${rec.id} ignored`);
      return;
    }
    if (e.outcome) {
      this.opts.log(`decision for ${rec.id} arrived after it was ${e.outcome.state}; ignored`);
      return;
    }
    this.settle(e, {
      state: rec.decision, notes: rec.notes, reason: rec.reason, modifiedPayload: rec.modified_payload,
      appliedGeneration: rec.applied.generation ?? null,
    });
  }

  pendingCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.outcome) n++;
    return n;
  }

  /**
   * Expiry or withdrawal. The outcome is fixed at once (a decision arriving meanwhile is late), but
   * callers hear it only after the close event is in the outbox, so the host has it by the time
   * the agent reads "rejected".
   */
  private async close(e: Entry, state: 'expired' | 'withdrawn'): Promise<void> {
    if (e.outcome) return;
    const o: Outcome = { state, notes: '', reason: null, modifiedPayload: null, appliedGeneration: null };
    this.mark(e, o);
    try {
      await this.opts.spool.writeClosed({ id: e.id, state, at: new Date(this.now()).toISOString() });
    } catch (err) {
      this.opts.log(`cannot write the ${state} event of ${e.id}: ${(err as Error).message}`);
    }
    this.notify(e, o);
  }

  private settle(e: Entry, o: Outcome): void {
    this.mark(e, o);
    this.notify(e, o);
  }

  private mark(e: Entry, o: Outcome): void {
    e.outcome = o;
    if (e.timer) clearTimeout(e.timer);
    this.book.remove(e.id);
    this.opts.log(`proposal ${e.id} ${o.state}`);
  }

  private notify(e: Entry, o: Outcome): void {
    for (const l of [...e.listeners]) l(o);
    e.listeners.clear();
    const forget = setTimeout(() => this.entries.delete(e.id), SETTLED_KEEP_MS);
    forget.unref();
  }

  /** Stops the timers (daemon shutdown). */
  stop(): void {
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }
}

function withdrawnOutcome(): Outcome {
  return { state: 'withdrawn', notes: '', reason: null, modifiedPayload: null, appliedGeneration: null };
}
