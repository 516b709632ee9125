/**
 * The fixed parts of applying an approved `capability-block` to a running bottle
 * (docs/supervise.md, "Applying approvals"): the grace period before the bottle stops, the prompt
 * a headless agent resumes with, and the per-bottle Dockerfile the image is rebuilt from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_ENTRIES } from '../state/paths.js';

/** Between the approval and the stop: the tool result reaches the agent first. */
export const CAPABILITY_GRACE_MS = 3000;

/** What a headless agent is told when it resumes on the rebuilt image. */
export const CAPABILITY_RESUME_PROMPT = 'The operator approved your capability request; the bottle now runs the new image. Continue the task.';

/** `state/<slug>/Dockerfile` as written by the deciding process; null when there is none. */
export function readStateDockerfile(stateDir: string): string | null {
  try {
    return readFileSync(join(stateDir, STATE_ENTRIES.dockerfile), 'utf8');
  } catch {
    return null;
  }
}
