/**
 * Push policy (docs/security-model.md §2.5) as a pure function: ref updates + repo policy +
 * ancestry facts in, the first rejection (or ok) out. The daemon supplies `isAncestor` answers it
 * computed with `git merge-base --is-ancestor`; nothing here touches git or the filesystem.
 */

export const ZERO_OID_RE = /^0+$/;

export interface RefUpdate {
  readonly oldOid: string;
  readonly newOid: string;
  readonly ref: string;
}

export interface PushPolicy {
  readonly readOnly: boolean;
  readonly protectedRefs: readonly string[];
  readonly allowForcePush: boolean;
  readonly allowDelete: boolean;
  /** `allow_non_commit_refs`: refs may point (after peeling tags) at trees and blobs. Default false. */
  readonly allowNonCommitRefs?: boolean;
}

export type PolicyCode = 'read_only' | 'namespace' | 'protected' | 'delete' | 'non_commit' | 'force';

/** What a new ref value peels to (`<oid>^{}`): a commit, tree or blob; `missing` when git could not say. */
export type PeeledType = 'commit' | 'tree' | 'blob' | 'missing';

export type PolicyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: PolicyCode; readonly ref: string; readonly message: string };

export function isZeroOid(oid: string): boolean {
  return ZERO_OID_RE.test(oid);
}

/** `main` → `refs/heads/main`; entries already starting with `refs/` are kept. */
export function normaliseRefPattern(pattern: string): string {
  return pattern.startsWith('refs/') ? pattern : `refs/heads/${pattern}`;
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** `*` matches within one path segment, `**` across segments; everything else is literal. */
export function refPatternToRegExp(pattern: string): RegExp {
  const full = normaliseRefPattern(pattern);
  let re = '';
  for (let i = 0; i < full.length; i++) {
    const ch = full[i] as string;
    if (ch === '*') {
      if (full[i + 1] === '*') {
        re += '.*';
        i++;
      } else {
        re += '[^/]*';
      }
    } else {
      re += escapeRe(ch);
    }
  }
  return new RegExp(`^${re}$`);
}

export function isProtectedRef(ref: string, protectedRefs: readonly string[]): boolean {
  return protectedRefs.some((p) => refPatternToRegExp(p).test(ref));
}

/** Refs we mirror and accept: branches and tags only. */
export function inPushNamespace(ref: string): boolean {
  return /^refs\/(heads|tags)\/.+/.test(ref);
}

/**
 * Checks one update. `isAncestor(old, new)` is only consulted for updates of an existing ref to a
 * non-zero value; any move of an existing tag counts as a force update whatever its ancestry.
 * `peeledType(new)` is what the new value peels to; without it every ref is taken to name a commit.
 */
export function checkUpdate(
  repo: string,
  update: RefUpdate,
  policy: PushPolicy,
  isAncestor: (oldOid: string, newOid: string) => boolean,
  peeledType: (newOid: string) => PeeledType = () => 'commit',
): PolicyResult {
  const { ref } = update;
  if (policy.readOnly) {
    return { ok: false, code: 'read_only', ref, message: `git-gate: '${repo}' is read-only in this bottle` };
  }
  if (!inPushNamespace(ref)) {
    return { ok: false, code: 'namespace', ref, message: `git-gate: only refs/heads/* and refs/tags/* may be pushed (got ${ref})` };
  }
  if (isProtectedRef(ref, policy.protectedRefs)) {
    return { ok: false, code: 'protected', ref, message: `git-gate: ${ref} is protected in this bottle; push to another branch` };
  }
  const deleting = isZeroOid(update.newOid);
  const creating = isZeroOid(update.oldOid);
  if (deleting) {
    if (!policy.allowDelete) {
      return { ok: false, code: 'delete', ref, message: `git-gate: deleting ${ref} is disabled for '${repo}'` };
    }
    return { ok: true };
  }
  const peeled = peeledType(update.newOid);
  if (peeled !== 'commit' && !policy.allowNonCommitRefs) {
    // A ref straight at a blob or tree carries content no commit review would show
    // (docs/decisions/gate-scan-every-object.md).
    const what = peeled === 'missing' ? 'an object the gate cannot read' : `a ${peeled}`;
    return {
      ok: false,
      code: 'non_commit',
      ref,
      message: `git-gate: ${ref} points at ${what} (${update.newOid.slice(0, 12)}), not a commit; refused (allow_non_commit_refs is off for '${repo}')`,
    };
  }
  if (!creating && !policy.allowForcePush) {
    const isTag = ref.startsWith('refs/tags/');
    const forced = isTag ? update.oldOid !== update.newOid : !isAncestor(update.oldOid, update.newOid);
    if (forced) {
      return {
        ok: false,
        code: 'force',
        ref,
        message: `git-gate: non-fast-forward update of ${ref} refused (force-push is disabled for '${repo}')`,
      };
    }
  }
  return { ok: true };
}

/**
 * Checks every update; stops at the first rejection, like every push step
 * (docs/security-model.md §2.5).
 */
export function checkPush(
  repo: string,
  updates: readonly RefUpdate[],
  policy: PushPolicy,
  isAncestor: (oldOid: string, newOid: string) => boolean,
  peeledType?: (newOid: string) => PeeledType,
): PolicyResult {
  for (const u of updates) {
    const r = checkUpdate(repo, u, policy, isAncestor, peeledType);
    if (!r.ok) return r;
  }
  return { ok: true };
}

/** Whether the update needs a forced upstream push (`+new:ref` with a lease on `old`). */
export function isForceUpdate(update: RefUpdate, isAncestor: (oldOid: string, newOid: string) => boolean): boolean {
  if (isZeroOid(update.oldOid) || isZeroOid(update.newOid)) return false;
  if (update.ref.startsWith('refs/tags/')) return update.oldOid !== update.newOid;
  return !isAncestor(update.oldOid, update.newOid);
}

/** Parses pre-receive stdin (`<old> <new> <ref>` per line). Malformed lines are skipped by git itself never; we reject them. */
export function parseRefUpdates(stdin: string): RefUpdate[] | { error: string } {
  const out: RefUpdate[] = [];
  for (const line of stdin.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)$/.exec(line);
    if (!m) return { error: 'malformed ref update line from receive-pack' };
    out.push({ oldOid: m[1] as string, newOid: m[2] as string, ref: m[3] as string });
  }
  return out;
}
