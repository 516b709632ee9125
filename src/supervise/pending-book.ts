/**
 * The daemon's pending proposals and their limits (docs/architecture.md §7a): at most
 * `maxAgent` pending agent proposals per bottle, and an identical pending payload of the same kind
 * joins the existing proposal instead of filing a second one. Pure bookkeeping; the daemon does
 * the I/O.
 */
import { canonicalJson, KIND_ORIGIN, type Kind } from './proposal-kinds.js';

export const MAX_PENDING_AGENT = 3;
export const TOO_MANY_PENDING = `too many pending proposals (at most ${MAX_PENDING_AGENT}); wait for the operator to answer one`;

export interface PendingEntry {
  id: string;
  kind: Kind;
  key: string;
}

export type Admission = { kind: 'new' } | { kind: 'join'; id: string } | { kind: 'refused'; message: string };

export class PendingBook {
  private readonly byId = new Map<string, PendingEntry>();

  constructor(private readonly maxAgent = MAX_PENDING_AGENT) {}

  static key(kind: Kind, payload: unknown): string {
    return `${kind}\n${canonicalJson(payload)}`;
  }

  /** Whether a proposal of `kind` with `payload` joins one, is new, or is refused. */
  admit(kind: Kind, payload: unknown): Admission {
    const key = PendingBook.key(kind, payload);
    for (const e of this.byId.values()) if (e.key === key) return { kind: 'join', id: e.id };
    if (KIND_ORIGIN[kind] === 'agent' && this.agentCount() >= this.maxAgent) return { kind: 'refused', message: TOO_MANY_PENDING };
    return { kind: 'new' };
  }

  add(id: string, kind: Kind, payload: unknown): void {
    this.byId.set(id, { id, kind, key: PendingBook.key(kind, payload) });
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  remove(id: string): void {
    this.byId.delete(id);
  }

  agentCount(): number {
    let n = 0;
    for (const e of this.byId.values()) if (KIND_ORIGIN[e.kind] === 'agent') n++;
    return n;
  }
}
