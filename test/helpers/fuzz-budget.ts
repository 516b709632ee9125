/**
 * Time budget, run bound, seed and hang detection for the fuzzers (docs/decisions/fuzzing-budget.md).
 *
 * - `FUZZ_SECONDS`: seconds per fuzzer; default 30 when `CI=true`, else 3 (a local `npm test` stays fast).
 * - `FUZZ_MAX_RUNS`: upper bound on runs per fuzzer (the time limit usually ends a run first).
 * - `FUZZ_SEED` (and optionally `FUZZ_PATH`): replay a failure; fast-check prints both on failure.
 *
 * Hangs: every input goes through `bounded()`, which fails the property when one call takes longer
 * than `FUZZ_INPUT_MS` (default 2000 ms, generous on a shared machine). A call that never returns
 * cannot be interrupted from its own thread, so a watchdog thread (plain JS, no TypeScript) prints
 * the stuck input with the seed and kills the test process after `FUZZ_HANG_MS` (default 20 s):
 * the run fails loudly with the input instead of idling until the test timeout.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type fc from 'fast-check';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
}

export interface FuzzBudget {
  /** Time budget of one fuzzer, in ms. */
  readonly ms: number;
  /** Upper bound on runs (the time limit usually ends the run first). */
  readonly maxRuns: number;
  readonly seed: number;
  /** Per-input bound (ms) checked after each call. */
  readonly inputMs: number;
  /** Vitest timeout for one fuzzer: budget + room for setup, shrinking and the final checks. */
  readonly testTimeoutMs: number;
  /** fast-check parameters: time-limited, run-bounded, seeded. */
  params<T>(extra?: Partial<fc.Parameters<T>>): fc.Parameters<T>;
}

/** The budget of one fuzzer; `defaultMaxRuns` is per fuzzer (a live socket fuzzer runs far fewer). */
export function fuzzBudget(defaultMaxRuns = 1_000_000): FuzzBudget {
  const seconds = envNumber('FUZZ_SECONDS', process.env.CI === 'true' ? 30 : 3);
  const ms = Math.round(seconds * 1000);
  const maxRuns = Math.floor(envNumber('FUZZ_MAX_RUNS', defaultMaxRuns));
  const seedEnv = process.env.FUZZ_SEED;
  const seed = seedEnv !== undefined && seedEnv !== '' ? Number(seedEnv) : (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer (got "${seedEnv}")`);
  const path = process.env.FUZZ_PATH;
  const inputMs = envNumber('FUZZ_INPUT_MS', 2000);
  currentSeed = seed;
  return {
    ms,
    maxRuns,
    seed,
    inputMs,
    testTimeoutMs: ms + 120_000,
    params<T>(extra: Partial<fc.Parameters<T>> = {}): fc.Parameters<T> {
      return {
        seed,
        ...(path ? { path } : {}),
        numRuns: maxRuns,
        interruptAfterTimeLimit: ms,
        markInterruptAsFailure: false,
        ...extra,
      };
    },
  };
}

// ---------- per-input bound and watchdog ----------

const DESC_BYTES = 4096;
let currentSeed = 0;
let shared: { state: Int32Array; start: Float64Array; desc: Uint8Array; len: Int32Array } | null = null;

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Int32Array(workerData.sab, 0, 2);
const len = new Int32Array(workerData.sab, 8, 1);
const start = new Float64Array(workerData.sab, 16, 1);
const desc = new Uint8Array(workerData.sab, 24, ${DESC_BYTES});
const hangMs = workerData.hangMs;
setInterval(() => {
  if (Atomics.load(state, 0) !== 1) return;
  if (Date.now() - start[0] < hangMs) return;
  const text = Buffer.from(desc.slice(0, Atomics.load(len, 0))).toString('utf8');
  writeSync(2, '\\nFUZZ HANG: one input ran longer than ' + hangMs + ' ms (seed ' + Atomics.load(state, 1) + '); killing the test process.\\ninput: ' + text + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 250);
`;

function watchdog(): NonNullable<typeof shared> {
  if (shared) return shared;
  const sab = new SharedArrayBuffer(24 + DESC_BYTES);
  shared = { state: new Int32Array(sab, 0, 2), len: new Int32Array(sab, 8, 1), start: new Float64Array(sab, 16, 1), desc: new Uint8Array(sab, 24, DESC_BYTES) };
  const w = new Worker(WATCHDOG, { eval: true, workerData: { sab, hangMs: envNumber('FUZZ_HANG_MS', 20_000) } });
  w.unref();
  return shared;
}

/** A short, printable description of an input (bounded, never throws). */
export function describeInput(input: unknown): string {
  try {
    if (typeof input === 'string') return JSON.stringify(input.length > 1500 ? `${input.slice(0, 1500)}…(${input.length} chars)` : input);
    if (input instanceof Uint8Array) return `bytes(${input.length}) ${Buffer.from(input.subarray(0, 700)).toString('hex')}`;
    const s = JSON.stringify(input, (_k, v: unknown) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length} chars)` : v));
    return s === undefined ? String(input) : s.slice(0, 3000);
  } catch {
    return '(unprintable input)';
  }
}

export class FuzzInputTooSlow extends Error {
  constructor(label: string, ms: number, bound: number) {
    super(`${label}: one input took ${ms} ms (bound ${bound} ms): treated as a hang`);
    this.name = 'FuzzInputTooSlow';
  }
}

/**
 * Runs one synchronous call on one input under the per-input bound: fails over `budget.inputMs`,
 * and the watchdog kills the process (printing the input) if the call never returns.
 */
export function bounded<T>(budget: FuzzBudget, label: string, input: unknown, fn: () => T): T {
  const w = watchdog();
  const d = Buffer.from(`${label}: ${describeInput(input)}`, 'utf8').subarray(0, DESC_BYTES);
  w.desc.set(d);
  Atomics.store(w.len, 0, d.length);
  Atomics.store(w.state, 1, currentSeed);
  w.start[0] = Date.now();
  Atomics.store(w.state, 0, 1);
  const t0 = performance.now();
  let result: T;
  try {
    result = fn();
  } finally {
    Atomics.store(w.state, 0, 0);
  }
  // Only a call that returned is timed: a throwing one already fails the property with its error.
  const took = Math.round(performance.now() - t0);
  if (took > budget.inputMs) throw new FuzzInputTooSlow(label, took, budget.inputMs);
  return result;
}

/** The async counterpart (socket round trips): a deadline race, no watchdog needed. */
export async function boundedAsync<T>(ms: number, label: string, input: unknown, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${ms} ms for ${describeInput(input)}`)), ms);
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes a line to stderr even when the test reporter buffers console output. */
export function fuzzNote(line: string): void {
  writeSync(2, `${line}\n`);
}
