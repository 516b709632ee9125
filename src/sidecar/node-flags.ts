/**
 * The V8 heap settings the supervisor gives the egress child through NODE_OPTIONS
 * (docs/decisions/egress-memory.md). Pure: computed from the child's own env, so a test or a
 * backend can see them without starting anything.
 */
import { defaultBufferBudget } from '../egress/relay-context.js';

const MiB = 1024 * 1024;

/**
 * Young-generation semi-space cap, MiB. V8's default (16 on 64-bit) lets the young generation
 * reach 48 MiB under load, garbage that stays resident; 4 costs no measurable CPU per request,
 * 1 saves a few MiB more for more scavenges (the trade-off is in the decision file).
 */
export const EGRESS_SEMI_SPACE_MB = 4;

/** Live heap besides bodies: code, route table, DLP tables, logger (≈ 12 MiB measured), with room. */
const BASE_OLD_SPACE_MB = 96;
/** JS objects of one open connection or tunnel (≈ 12 KB measured), with room. */
const PER_CONNECTION_BYTES = 32 * 1024;
/**
 * A buffered body becomes a string plus derived DLP views on the heap. Measured with two
 * concurrent 32 MiB bodies: at 3× (296 MiB) GC near the cap made them ~4× slower and the next
 * pair failed; at 4× (360 MiB) they passed at the uncapped speed (decision file).
 */
const BODY_HEAP_FACTOR = 4;

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Old-generation cap, MiB: sized to what egress may legitimately hold (its connection cap and its
 * buffer budget, with their documented defaults), so a runaway heap ends in a V8 out-of-memory
 * exit the supervisor reports instead of growing into the sidecar cgroup's memory limit. Values
 * egress would refuse at startup fall back to the defaults here; egress then names the variable.
 */
export function egressOldSpaceMb(env: Readonly<Record<string, string | undefined>>): number {
  const maxBody = positiveInt(env.EGRESS_DLP_MAX_BODY_BYTES) ?? 32 * MiB;
  const budget = positiveInt(env.EGRESS_BUFFER_BUDGET_BYTES) ?? defaultBufferBudget(maxBody);
  const conns = positiveInt(env.EGRESS_MAX_CLIENT_CONNECTIONS) ?? 256;
  return BASE_OLD_SPACE_MB + Math.ceil((conns * PER_CONNECTION_BYTES) / MiB) + Math.ceil((BODY_HEAP_FACTOR * budget) / MiB);
}

/** NODE_OPTIONS of the egress child (only flags Node accepts in NODE_OPTIONS). */
export function egressNodeFlags(env: Readonly<Record<string, string | undefined>>): string {
  return `--max-semi-space-size=${EGRESS_SEMI_SPACE_MB} --max-old-space-size=${egressOldSpaceMb(env)}`;
}
