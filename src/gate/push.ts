/**
 * The pre-receive decision for one push (docs/security-model.md §2.5): policy → secret scan →
 * allow-marker approval → forward upstream. Nothing reaches upstream before the last step; the
 * gate's own refs are updated by receive-pack only when this returns exit 0, i.e. only after
 * upstream accepted, so a rejected or failed forward never lets the mirror diverge from upstream.
 */
import type { Scanner } from '../dlp/types.js';
import type { Approver, SecretAllowFinding } from './approver.js';
import type { GateRepoConfig } from './config.js';
import type { GitRunner } from './git.js';
import { checkPush, isForceUpdate, isZeroOid, parseRefUpdates, type PeeledType, type RefUpdate } from './policy.js';
import { reasonFromStderr, sanitizeUpstreamText } from './sanitize.js';
import { maskSecrets, scanPush, type GateFinding, type ScanLimits } from './scan.js';

export interface PushDeps {
  readonly repo: GateRepoConfig;
  readonly dir: string;
  readonly git: GitRunner;
  /** Quarantine environment forwarded by the hook. */
  readonly quarantineEnv: Readonly<Record<string, string>>;
  /** Credential env for upstream; throws if a token slot is unset. */
  readonly upstreamEnv: () => Record<string, string>;
  readonly scanner: Scanner;
  readonly approver: Approver;
  /** Approval memory for the gate's life: keys from `approvalKey`. */
  readonly approvals: Set<string>;
  readonly scanLimits: ScanLimits;
  readonly allowTimeoutSeconds: number;
  readonly upstreamTimeoutMs: number;
  /** Secret values to strip from upstream text (tokens, canary). */
  readonly secrets: readonly string[];
  /** One line of hook stderr, shown to the agent as `remote: …`. */
  readonly say: (line: string) => void;
  /** Aborted when the hook (and so the push's client) went away: nothing more is done for it. */
  readonly signal?: AbortSignal;
}

export type PushOutcome =
  | 'accepted'
  | 'policy'
  | 'secret'
  | 'blob_too_large'
  | 'scan_limit'
  | 'aborted'
  | 'approval_rejected'
  | 'approval_timeout'
  | 'approval_unavailable'
  | 'upstream_rejected'
  | 'upstream_unreachable'
  | 'internal';

export interface PushRecord {
  readonly repo: string;
  readonly updates: readonly RefUpdate[];
  readonly outcome: PushOutcome;
  readonly detail?: string;
  readonly findings: ReadonlyArray<Pick<GateFinding, 'rule' | 'file' | 'line' | 'commit' | 'fingerprint'>>;
  readonly proposalId?: string;
}

export function approvalKey(repo: string, f: GateFinding): string {
  return JSON.stringify([repo, f.commit, f.file, f.line, f.rule]);
}

function short(oid: string): string {
  return oid.slice(0, 8);
}

export function formatFindingsReport(findings: readonly GateFinding[], withHint: boolean): string[] {
  const n = findings.length;
  const lines = [`git-gate: push rejected: ${n} secret finding${n === 1 ? '' : 's'} in commits new to this gate`];
  for (const f of findings) {
    const where = f.line === null ? f.file : `${f.file}:${f.line}`;
    lines.push(`git-gate:   [${f.rule}] ${where}  ${f.via} ${short(f.commit)}  (${f.ref})`);
    lines.push(`git-gate:       ${f.maskedLine}`);
  }
  lines.push('git-gate: Nothing was sent upstream. Remove the secret from every new commit (amend or rebase)');
  if (withHint) {
    lines.push('git-gate: and push again. For a false positive, end the line with `bot-bottle:allow <reason>`;');
    lines.push('git-gate: the push will then wait for operator approval.');
  } else {
    lines.push('git-gate: and push again.');
  }
  return lines;
}

async function ancestry(d: PushDeps, updates: readonly RefUpdate[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const u of updates) {
    if (isZeroOid(u.oldOid) || isZeroOid(u.newOid)) continue;
    const r = await d.git.run(['merge-base', '--is-ancestor', u.oldOid, u.newOid], { cwd: d.dir, env: d.quarantineEnv, ...(d.signal ? { signal: d.signal } : {}) });
    out.set(`${u.oldOid}..${u.newOid}`, r.code === 0);
  }
  return out;
}

/** What each new ref value peels to (`<oid>^{}`: annotated tags followed to their final target). */
async function peeledTypes(d: PushDeps, updates: readonly RefUpdate[]): Promise<Map<string, PeeledType>> {
  const out = new Map<string, PeeledType>();
  const oids = [...new Set(updates.filter((u) => !isZeroOid(u.newOid)).map((u) => u.newOid))];
  if (oids.length === 0) return out;
  const r = await d.git.run(['cat-file', '--batch-check=%(objecttype)'], {
    cwd: d.dir,
    env: d.quarantineEnv,
    input: oids.map((o) => `${o}^{}`).join('\n') + '\n',
    ...(d.signal ? { signal: d.signal } : {}),
  });
  const types = r.code === 0 ? r.stdout.toString('latin1').split('\n') : [];
  oids.forEach((oid, i) => {
    const t = types[i] ?? '';
    out.set(oid, t === 'commit' || t === 'tree' || t === 'blob' ? t : 'missing');
  });
  return out;
}

export async function preReceive(d: PushDeps, stdin: string): Promise<{ exit: number; record: PushRecord }> {
  const name = d.repo.name;
  const parsed = parseRefUpdates(stdin);
  const done = (outcome: PushOutcome, extra: Partial<PushRecord> = {}) => ({
    exit: outcome === 'accepted' ? 0 : 1,
    record: { repo: name, updates: Array.isArray(parsed) ? parsed : [], outcome, findings: [], ...extra },
  });
  if (!Array.isArray(parsed)) {
    d.say(`git-gate: ${parsed.error}; push refused`);
    return done('internal', { detail: parsed.error });
  }
  const updates = parsed;
  const anc = await ancestry(d, updates);
  const isAncestor = (o: string, n: string) => anc.get(`${o}..${n}`) ?? false;
  const peeled = await peeledTypes(d, updates);

  // 6.1 policy
  const policy = checkPush(name, updates, d.repo.policy, isAncestor, (oid) => peeled.get(oid) ?? 'missing');
  if (!policy.ok) {
    d.say(policy.message);
    return done('policy', { detail: policy.code });
  }

  // 6.2 scan
  let scan;
  try {
    scan = await scanPush(
      { git: d.git, cwd: d.dir, env: d.quarantineEnv, scanner: d.scanner, limits: d.scanLimits, ...(d.signal ? { signal: d.signal } : {}) },
      updates,
    );
  } catch (err) {
    d.say('git-gate: the secret scan failed inside the gate; push refused (see the git-gate log)');
    return done('internal', { detail: `scan failed: ${(err as Error).message}` });
  }
  if (scan.kind === 'too_large') {
    // The path is agent-chosen and reaches the log: shown masked like every other path.
    const file = maskSecrets(d.scanner, scan.file);
    d.say(`git-gate: ${file} in ${short(scan.commit)} exceeds ${scan.limit} bytes and cannot be scanned; push refused`);
    return done('blob_too_large', { findings: [{ rule: 'blob_too_large', file, line: null, commit: scan.commit, fingerprint: '' }] });
  }
  if (scan.kind === 'limit') {
    // Never a partial scan: over a bound, the push is refused and says which bound.
    d.say(`git-gate: ${scan.message}; push refused (nothing was sent upstream). Push fewer or smaller objects at a time.`);
    return done('scan_limit', { detail: scan.message });
  }
  if (d.signal?.aborted) return done('aborted', { detail: 'the client went away' });
  if (scan.kind === 'error') {
    d.say(`git-gate: cannot scan the pushed objects (${scan.message}); push refused`);
    return done('internal', { detail: scan.message });
  }
  const findings = scan.findings;
  const logged = findings.map((f) => ({ rule: f.rule, file: f.file, line: f.line, commit: f.commit, fingerprint: f.fingerprint }));
  let proposalId: string | undefined;

  if (findings.length > 0) {
    const blocking = findings.filter((f) => f.markerReason === null || !f.allowable);
    if (blocking.length > 0) {
      for (const l of formatFindingsReport(findings, blocking.every((f) => f.allowable))) d.say(l);
      return done('secret', { findings: logged });
    }
    // 6.3 every finding is marked and allowable: ask the operator unless already approved.
    const pending = findings.filter((f) => !d.approvals.has(approvalKey(name, f)));
    if (pending.length > 0) {
      const req = {
        repo: name,
        refUpdates: updates.map((u) => ({ ref: maskSecrets(d.scanner, u.ref), old: u.oldOid, new: u.newOid })),
        findings: pending.map(
          (f): SecretAllowFinding => ({ commit: f.commit, file: f.file, line: f.line, rule: f.rule, masked_line: f.maskedLine, reason: f.markerReason ?? '' }),
        ),
      };
      const asked = d.approver.request(req, d.allowTimeoutSeconds, (id) => {
        proposalId = id;
        d.say(`git-gate: waiting up to ${d.allowTimeoutSeconds}s for operator approval (proposal ${id})`);
      });
      // A push whose client left is not worth an answer: stop waiting (the proposal lapses in supervise).
      const left = new Promise<null>((resolve) => {
        if (d.signal?.aborted) resolve(null);
        d.signal?.addEventListener('abort', () => resolve(null), { once: true });
      });
      const outcome = await Promise.race([asked, left]);
      if (outcome === null) return done('aborted', { findings: logged, ...(proposalId ? { proposalId } : {}), detail: 'the client went away' });
      const withId = (o: PushOutcome, detail?: string) =>
        done(o, { findings: logged, ...(proposalId ? { proposalId } : {}), ...(detail ? { detail } : {}) });
      switch (outcome.status) {
        case 'approved':
          for (const f of pending) d.approvals.add(approvalKey(name, f));
          d.say(`git-gate: operator approved the allow request (proposal ${outcome.id})`);
          break;
        case 'rejected':
          d.say(`git-gate: operator rejected the allow request: ${outcome.notes}`);
          return withId('approval_rejected');
        case 'timeout':
          d.say(`git-gate: no operator decision within ${d.allowTimeoutSeconds}s; push refused`);
          return withId('approval_timeout');
        case 'unavailable':
          d.say('git-gate: cannot reach the supervise service; allow markers cannot be approved; push refused');
          return withId('approval_unavailable', outcome.detail);
      }
    }
  }

  // 6.4 forward upstream with the gate's credential, inside the quarantine environment.
  let env: Record<string, string>;
  try {
    env = d.upstreamEnv();
  } catch (err) {
    d.say(`git-gate: upstream unreachable (${(err as Error).message}); nothing was pushed`);
    return done('upstream_unreachable', { findings: logged, ...(proposalId ? { proposalId } : {}) });
  }
  const items: Array<{ ref: string; spec: string; lease?: string }> = updates.map((u) => {
    if (isZeroOid(u.newOid)) return { ref: u.ref, spec: `:${u.ref}`, lease: `--force-with-lease=${u.ref}:${u.oldOid}` };
    if (isForceUpdate(u, isAncestor)) return { ref: u.ref, spec: `+${u.newOid}:${u.ref}`, lease: `--force-with-lease=${u.ref}:${u.oldOid}` };
    return { ref: u.ref, spec: `${u.newOid}:${u.ref}` };
  });
  // The quarantine's objects are readable through GIT_OBJECT_DIRECTORY + alternates. GIT_QUARANTINE_PATH
  // itself stays out: a local (file://) upstream's receive-pack would inherit it and refuse every
  // ref update. Local refs are safe without it: origin has no fetch refspec, so push updates none.
  const { GIT_QUARANTINE_PATH: _q, ...objectEnv } = d.quarantineEnv;
  const pushOnce = (batch: typeof items, atomic: boolean) =>
    d.git.run(
      [
        'push',
        ...(atomic ? ['--atomic'] : []),
        '--porcelain',
        '--no-verify',
        ...batch.flatMap((i) => (i.lease ? [i.lease] : [])),
        'origin',
        ...batch.map((i) => i.spec),
      ],
      { cwd: d.dir, env: { ...objectEnv, ...env }, timeoutMs: d.upstreamTimeoutMs },
    );
  if (d.signal?.aborted) return done('aborted', { findings: logged, ...(proposalId ? { proposalId } : {}), detail: 'the client went away' });
  let pushed = await pushOnce(items, true);
  if (pushed.code !== 0 && /does not support --atomic/.test(pushed.stderr) && items.length > 1) {
    // Upstream without atomic push support: ref by ref, reporting what landed. Refs that did land
    // upstream reach the gate's mirror on the next refresh (the gate never leads upstream).
    const landed: string[] = [];
    for (const item of items) {
      const one = await pushOnce([item], false);
      if (one.code === 0) {
        landed.push(item.ref);
        continue;
      }
      pushed = one;
      if (landed.length > 0) d.say(`git-gate: upstream has no atomic push; already updated upstream: ${landed.join(', ')} (fetch to see them)`);
      break;
    }
    if (landed.length === items.length) pushed = { ...pushed, code: 0 };
  } else if (pushed.code !== 0 && /does not support --atomic/.test(pushed.stderr)) {
    pushed = await pushOnce(items, false);
  }
  const extra = { findings: logged, ...(proposalId ? { proposalId } : {}) };
  if (pushed.code === 0) return done('accepted', extra);
  const out = pushed.stdout.toString('utf8');
  const reached = /^To /m.test(out);
  if (pushed.timedOut || !reached) {
    const reason = pushed.timedOut ? `timed out after ${Math.round(d.upstreamTimeoutMs / 1000)}s` : reasonFromStderr(pushed.stderr, d.secrets);
    d.say(`git-gate: upstream unreachable (${reason}); nothing was pushed`);
    return done('upstream_unreachable', { ...extra, detail: reason });
  }
  const rejected = out
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.split('\t').slice(1).join(' '))
    .join('; ');
  const remote = pushed.stderr
    .split('\n')
    .filter((l) => l.startsWith('remote:'))
    .map((l) => l.slice(7).trim())
    .filter(Boolean)
    .join(' ');
  const msg = sanitizeUpstreamText([rejected, remote].filter(Boolean).join(' — ') || reasonFromStderr(pushed.stderr, d.secrets), d.secrets, d.scanner).slice(0, 500);
  d.say(`git-gate: upstream rejected the push: ${msg}`);
  return done('upstream_rejected', { ...extra, detail: msg });
}
