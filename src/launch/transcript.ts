/**
 * The agent's conversation across a stop (docs/cli.md, state directory `transcript/`): the
 * provider's transcript paths are archived inside the bottle (tar as the agent user) and kept as
 * an opaque `state/<slug>/transcript/transcript.tgz`; a resume unpacks it inside the new bottle,
 * again as the agent user. The host never unpacks what the agent wrote.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningBottle } from '../backends/backend.js';
import { GUEST_HOME, type BottlePlan } from '../plan/bottle-plan.js';

const ARCHIVE = join('transcript', 'transcript.tgz');

/** Transcript paths relative to the guest home (the plan validator keeps them inside it). */
function relativePaths(plan: BottlePlan): string[] {
  return plan.agent.transcriptPaths.filter((p) => p.startsWith(`${GUEST_HOME}/`)).map((p) => p.slice(GUEST_HOME.length + 1));
}

/** Archives the transcript paths that exist; false when there was nothing to keep. Throws when the exec fails. */
export async function snapshotTranscript(plan: BottlePlan, bottle: RunningBottle): Promise<boolean> {
  const rel = relativePaths(plan);
  if (rel.length === 0) return false;
  const script =
    `cd ${GUEST_HOME} || exit 3; found=; for p in "$@"; do [ -e "$p" ] && found=1; done; [ -n "$found" ] || exit 0; ` +
    'tar --ignore-failed-read -czf - -- "$@" 2>/dev/null | base64 -w0';
  const r = await bottle.exec(['/bin/sh', '-c', script, 'snapshot', ...rel], { cwd: GUEST_HOME });
  if (r.code !== 0) throw new Error(`archiving the transcript exited ${r.code}: ${(r.sandboxError ?? r.stderr).trim().split('\n')[0] ?? ''}`);
  const text = r.stdout.trim();
  if (text === '') return false;
  mkdirSync(join(plan.stateDir, 'transcript'), { recursive: true, mode: 0o700 });
  writeFileSync(join(plan.stateDir, ARCHIVE), Buffer.from(text, 'base64'), { mode: 0o600 });
  return true;
}

/** Unpacks the last snapshot into the guest home; false when there is none. Throws when the exec fails. */
export async function restoreTranscript(plan: BottlePlan, bottle: RunningBottle): Promise<boolean> {
  const path = join(plan.stateDir, ARCHIVE);
  if (!existsSync(path)) return false;
  const r = await bottle.exec(['/bin/sh', '-c', `base64 -d | tar -xzf - -C ${GUEST_HOME}`], { stdin: readFileSync(path).toString('base64'), cwd: GUEST_HOME });
  if (r.code !== 0) throw new Error(`unpacking the transcript exited ${r.code}: ${(r.sandboxError ?? r.stderr).trim().split('\n')[0] ?? ''}`);
  return true;
}
