/**
 * Slot assignment (docs/architecture.md §4.3, step 4): one slot per distinct reference, in order of
 * first appearance; references sharing a name share the slot. Pure.
 */
export type SlotPrefix = 'EGRESS_TOKEN_' | 'GIT_GATE_TOKEN_';

export interface SlotAssignment {
  /** slot → reference (host variable or synthetic reference); insertion order = slot order. */
  readonly tokenEnvMap: Readonly<Record<string, string>>;
  /** reference → slot. */
  readonly slotOf: ReadonlyMap<string, string>;
}

export function assignSlots(refs: Iterable<string | undefined>, prefix: SlotPrefix): SlotAssignment {
  const tokenEnvMap: Record<string, string> = {};
  const slotOf = new Map<string, string>();
  for (const ref of refs) {
    if (ref === undefined || slotOf.has(ref)) continue;
    const slot = `${prefix}${slotOf.size}`;
    slotOf.set(ref, slot);
    tokenEnvMap[slot] = ref;
  }
  return { tokenEnvMap, slotOf };
}
