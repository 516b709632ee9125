/**
 * Approve-and-remember (docs/decisions/supervise-remember.md): the operator approves once with a
 * scope — this bottle (slug), this agent, or the bottle's manifest file — and later proposals the
 * remembered rule covers are decided `approved` when they are imported, through the same
 * apply path as an operator's approval (decideAndApply), with operator `remembered:<scope>` and a
 * `decision.remembered` audit row naming the rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError, usageError } from '../../errors.js';
import { fromMetadataFile, type BottleMetadata } from '../../state/metadata.js';
import { STATE_ENTRIES, stateDirFor } from '../../state/paths.js';
import type { RoutesFileRoute } from '../../egress/routes-file-types.js';
import { SuperviseStoreError } from '../store/errors.js';
import type { DecideInput, ProposalWithResponse, RememberRule, SuperviseStore } from '../store/types.js';
import { decideAndApply, type DecisionOutcome } from './decide.js';
import type { BackendLookup } from './apply.js';
import { planManifestAppend, writeManifestAppend, type ManifestAppendPlan } from './manifest-append.js';
import { covers, ruleFromPayload, type EgressAllowRule, type RememberRuleBody, type RememberScope } from './remember-match.js';

export type RememberPlan =
  | { readonly scope: 'bottle' | 'agent'; readonly subject: string; readonly kind: ProposalWithResponse['kind']; readonly rule: RememberRuleBody; readonly bottle: string; readonly proposalId: string }
  | { readonly scope: 'file'; readonly file: ManifestAppendPlan; readonly bottle: string; readonly proposalId: string };

export interface RememberOutcome {
  readonly scope: RememberScope;
  /** The stored rule (bottle/agent scopes). */
  readonly rule?: RememberRule;
  /** The manifest written (file scope). */
  readonly file?: string;
  /** A caveat for the operator, one line. */
  readonly note?: string;
}

/** The bottle's metadata, read synchronously (null when its state is gone or unreadable). */
export function bottleMetadata(home: string, slug: string): BottleMetadata | null {
  try {
    return fromMetadataFile(JSON.parse(readFileSync(join(stateDirFor(home, slug), STATE_ENTRIES.metadata), 'utf8')), slug);
  } catch {
    return null;
  }
}

/**
 * Checks that the approval can be remembered with `scope` and prepares it, before anything is
 * decided: a refusal leaves the proposal pending and every file unchanged.
 */
export function planRemember(home: string, p: ProposalWithResponse, scope: RememberScope, approvedPayload: unknown, opts: { userHome?: string } = {}): RememberPlan {
  const r = ruleFromPayload(p.kind, approvedPayload);
  if (!r.ok) throw new SuperviseStoreError('invalid', `cannot remember: ${r.message}`, 'approve without --remember');
  const meta = bottleMetadata(home, p.bottle);
  if (scope === 'bottle') return { scope, subject: p.bottle, kind: p.kind, rule: r.rule, bottle: p.bottle, proposalId: p.id };
  if (scope === 'agent') {
    if (!meta?.agentName) throw new SuperviseStoreError('invalid', `cannot remember for the agent: bottle ${p.bottle} records no agent name`, 'use --remember bottle');
    return { scope, subject: meta.agentName, kind: p.kind, rule: r.rule, bottle: p.bottle, proposalId: p.id };
  }
  if (p.kind !== 'egress-allow') throw new SuperviseStoreError('invalid', `--remember file is only for egress-allow (this is ${p.kind})`, 'use --remember bottle or agent');
  if (!meta) throw new SuperviseStoreError('invalid', `cannot remember in the bottle file: no metadata for ${p.bottle}`, 'use --remember bottle');
  const routes: RoutesFileRoute[] = (r.rule as EgressAllowRule).routes;
  const file = planManifestAppend({ home, cwd: meta.cwd || process.cwd(), bottleNames: meta.bottleNames, routes, ...(opts.userHome ? { userHome: opts.userHome } : {}) });
  return { scope, file, bottle: p.bottle, proposalId: p.id };
}

/** Stores the rule or writes the manifest; run after the approval was recorded. */
export function commitRemember(store: SuperviseStore, plan: RememberPlan, operator: string): RememberOutcome {
  if (plan.scope === 'file') {
    writeManifestAppend(plan.file);
    store.audit({
      bottle: plan.bottle,
      proposalId: plan.proposalId,
      actor: `operator:${operator}`,
      event: 'remember.added',
      detail: { scope: 'file', file: plan.file.path, hosts: plan.file.hosts },
    });
    return { scope: 'file', file: plan.file.path, note: 'takes effect when the bottle is next launched from the file (this bottle already has the route)' };
  }
  const rule = store.addRememberRule({
    scope: plan.scope,
    subject: plan.subject,
    kind: plan.kind,
    rule: plan.rule,
    sourceProposal: plan.proposalId,
    createdBy: `operator:${operator}`,
    bottle: plan.bottle,
  });
  // Egress keys its fingerprints per process: a token rule cannot match after egress restarts.
  const note = plan.kind === 'egress-token-allow' ? 'egress fingerprints are per egress process: this rule matches until the bottle\'s sidecars restart' : undefined;
  return { scope: plan.scope, rule, ...(note ? { note } : {}) };
}

/** Approve `input.id` and remember it: plan (may refuse), apply + record, then store/write. */
export async function approveAndRemember(
  store: SuperviseStore,
  home: string,
  input: DecideInput,
  scope: RememberScope,
  opts: { backendOf?: BackendLookup; userHome?: string } = {},
): Promise<DecisionOutcome & { remembered: RememberOutcome }> {
  if (input.decision === 'rejected') throw usageError('--remember applies to approvals only');
  const p = store.get(input.id);
  if (!p) throw new SuperviseStoreError('not_found', `no proposal "${input.id}"`, 'see "bot-bottle supervise --once"');
  if (p.state !== 'pending') throw new SuperviseStoreError('already_decided', `proposal ${p.id} is ${p.state}`);
  const plan = planRemember(home, p, scope, input.decision === 'modified' ? input.modifiedPayload : p.payload, opts);
  const outcome = await decideAndApply(store, home, input, opts.backendOf ? { backendOf: opts.backendOf } : {});
  let remembered: RememberOutcome;
  try {
    remembered = commitRemember(store, plan, input.operator);
  } catch (err) {
    throw new BottleError('CONFIG_INVALID', `approved ${p.id}, but remembering it failed: ${err instanceof Error ? err.message : String(err)}`, {
      fix: 'approve the next one with --remember again, or edit the file by hand',
    });
  }
  // Others already waiting that the new rule covers need not wait for the operator either.
  if (remembered.rule) await decideRemembered(store, home, store.listPending().map((x) => x.id), opts);
  return { ...outcome, remembered };
}

export interface RememberedResult {
  /** Proposal ids decided by a remembered rule. */
  readonly decided: Array<{ id: string; rule: number }>;
  readonly errors: string[];
}

/** The first stored rule that covers `p` (bottle scope first, then the bottle's agent). */
export function matchingRule(store: SuperviseStore, home: string, p: ProposalWithResponse | { bottle: string; kind: ProposalWithResponse['kind']; payload: unknown }): RememberRule | null {
  if (p.kind === 'capability-block') return null;
  const rules = store.listRememberRules({ scope: 'bottle', subject: p.bottle, kind: p.kind });
  const agent = bottleMetadata(home, p.bottle)?.agentName;
  if (agent) rules.push(...store.listRememberRules({ scope: 'agent', subject: agent, kind: p.kind }));
  return rules.find((r) => covers(p.kind, r.rule as RememberRuleBody, p.payload)) ?? null;
}

/**
 * Decides the pending proposals among `ids` that a remembered rule covers. Each goes through
 * decideAndApply (so an egress-allow rewrites the live routes and signals egress); a failed
 * apply leaves it pending for the operator (decideAndApply audits `apply.failed`).
 */
export async function decideRemembered(store: SuperviseStore, home: string, ids: readonly string[], opts: { backendOf?: BackendLookup } = {}): Promise<RememberedResult> {
  const out: RememberedResult = { decided: [], errors: [] };
  for (const id of ids) {
    const p = store.get(id);
    if (!p || p.state !== 'pending' || p.response) continue;
    let rule: RememberRule | null;
    try {
      rule = matchingRule(store, home, p);
    } catch (err) {
      out.errors.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (!rule) continue;
    const why = `approved by remembered rule ${rule.id} (${rule.scope} ${rule.subject})`;
    try {
      await decideAndApply(store, home, { id, decision: 'approved', operator: `remembered:${rule.scope}`, notes: why, reason: why }, opts.backendOf ? { backendOf: opts.backendOf } : {});
    } catch (err) {
      out.errors.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    store.audit({ bottle: p.bottle, proposalId: id, actor: `remembered:${rule.scope}`, event: 'decision.remembered', detail: { rule: rule.id, scope: rule.scope, subject: rule.subject, kind: p.kind } });
    out.decided.push({ id, rule: rule.id });
  }
  return out;
}
