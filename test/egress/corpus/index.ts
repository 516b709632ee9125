/**
 * The egress attack corpus (issue 10, Deliver 5) for replay by tests and bench code:
 *   const env = await startCorpusEnv(CORPUS);
 *   const runs = await replayCorpus(env, CORPUS);
 *   const summary = summarize(runs.map((r) => judge(env, r)));
 */
import { ATTACKS } from './attacks.js';
import { BENIGN } from './benign.js';
import type { CorpusCase } from './types.js';

export { ATTACKS } from './attacks.js';
export { BENIGN } from './benign.js';
export { CORPUS_THRESHOLDS, startCorpusEnv, replayCorpus, judge, summarize } from './runner.js';
export type { CorpusEnv, CaseRun, Verdict, CorpusSummary } from './runner.js';
export type * from './types.js';

export const CORPUS: readonly CorpusCase[] = [...ATTACKS, ...BENIGN];

/** Every per-case known secret (the replayer gives them to the proxy as slot values). */
export const KNOWN_SECRETS: readonly string[] = [...new Set(CORPUS.map((c) => c.knownSecret).filter((s): s is string => typeof s === 'string'))];
