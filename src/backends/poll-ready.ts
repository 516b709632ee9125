/**
 * Readiness by polling with exponential backoff (smolmachines: `machine exec … true` until the
 * guest agent answers). Pure apart from the injected probe and sleep, so tests drive it without
 * real time.
 */
export interface PollOptions {
  /** Total budget; the probe is not started again after it. */
  readonly timeoutMs: number;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

export type PollResult = { ok: true; attempts: number } | { ok: false; attempts: number; aborted: boolean };

/** The delays between attempts: first, doubled each time, capped. */
export function backoffDelays(count: number, firstMs = 100, maxMs = 2000): number[] {
  const out: number[] = [];
  let d = firstMs;
  for (let i = 0; i < count; i += 1) {
    out.push(d);
    d = Math.min(d * 2, maxMs);
  }
  return out;
}

export async function pollUntil(probe: () => Promise<boolean>, opts: PollOptions): Promise<PollResult> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.timeoutMs;
  let delay = opts.firstDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2000;
  let attempts = 0;
  for (;;) {
    if (opts.signal?.aborted) return { ok: false, attempts, aborted: true };
    attempts += 1;
    if (await probe()) return { ok: true, attempts };
    if (now() + delay > deadline) return { ok: false, attempts, aborted: false };
    await sleep(delay);
    delay = Math.min(delay * 2, max);
  }
}
