/**
 * `supervise` (docs/cli.md#supervise): the operator's queue. `--once`/`--json` print the pending
 * table; `approve`, `reject`, `modify`, `show` and `audit` act on one proposal or the log. Every
 * verb first relays the spools once (import, expire, deliver). The bare interactive view lives in
 * src/cli/supervise-tui (loaded only when it exists in this build).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { EXIT, usageError } from '../../errors.js';
import { editInEditor } from '../supervise-tui/editor.js';
import { resolveHome } from '../../manifest/home.js';
import { readMetadata } from '../../state/metadata.js';
import { stateDirFor } from '../../state/paths.js';
import {
  approveAndRemember,
  decideAndApply,
  describeRule,
  editableText,
  heartbeatAgeSeconds,
  HEARTBEAT_OFFLINE_SECONDS,
  liveSlots,
  parseEditedText,
  proposalDetail,
  readLiveRoutes,
  relayAndRemember,
  REMEMBER_SCOPES,
  summarize,
  type DecisionOutcome,
  type RememberOutcome,
  type RememberScope,
} from '../../supervise/host/index.js';
import type { RememberRuleBody } from '../../supervise/host/remember-match.js';
import { openStore, SuperviseStoreError, type Proposal, type ProposalWithResponse, type SuperviseStore } from '../../supervise/store/index.js';
import { ANSI_COLORS, paint, printError, printJson, useColor, warn } from '../output.js';
import { askLine, isInteractive } from '../preflight.js';

const PENDING_SCHEMA = 'bot-bottle/pending@1';

function operatorName(): string {
  try {
    return userInfo().username || process.env.USER || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
}

/**
 * Opens the store and relays every spool once (remembered rules decide what they cover);
 * relay problems are warnings, not failures.
 */
async function openRelayed(home: string): Promise<SuperviseStore> {
  const store = openStore(home, { onNotice: (l) => process.stderr.write(`bot-bottle: notice: ${l}\n`) });
  try {
    const r = await relayAndRemember(store, home);
    for (const e of r.errors) warn(`supervise spool: ${e}`);
  } catch (err) {
    store.close();
    throw err;
  }
  return store;
}

async function withStore<T>(fn: (store: SuperviseStore, home: string) => Promise<T>): Promise<T> {
  const home = resolveHome(process.env);
  const store = await openRelayed(home);
  try {
    return await fn(store, home);
  } finally {
    store.close();
  }
}

function age(fromIso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function pendingDoc(pending: readonly Proposal[]): unknown {
  return {
    schema: PENDING_SCHEMA,
    pending: pending.map((p) => ({ id: p.id, slug: p.bottle, kind: p.kind, createdAt: p.createdAt, justification: p.justification, summary: summarize(p), payload: p.payload })),
  };
}

function labelColor(home: string, slug: string, cache: Map<string, number | undefined>): number | undefined {
  if (!cache.has(slug)) {
    let code: number | undefined;
    try {
      const raw = JSON.parse(readFileSync(join(stateDirFor(home, slug), 'metadata.json'), 'utf8')) as { color?: unknown };
      code = typeof raw.color === 'string' ? ANSI_COLORS[raw.color] : undefined;
    } catch {
      code = undefined;
    }
    cache.set(slug, code);
  }
  return cache.get(slug);
}

function renderTable(home: string, pending: readonly Proposal[], now: Date): string {
  if (pending.length === 0) return 'No pending proposals.\n';
  const color = useColor(process.stdout);
  const colors = new Map<string, number | undefined>();
  const rows = pending.map((p) => {
    const hb = heartbeatAgeSeconds(home, p.bottle, now);
    const offline = hb === null || hb > HEARTBEAT_OFFLINE_SECONDS;
    return [p.id, age(p.createdAt, now), `${p.bottle}${offline ? ' (offline)' : ''}`, p.kind, summarize(p), Date.parse(p.expiresAt) > now.getTime() ? `in ${age(now.toISOString(), new Date(p.expiresAt))}` : 'due'];
  });
  const head = ['ID', 'AGE', 'SLUG', 'KIND', 'SUMMARY', 'EXPIRES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], slugOf?: string) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
        return i === 2 && slugOf ? paint(padded, labelColor(home, slugOf, colors), color) : padded;
      })
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map((r, i) => line(r, pending[i]!.bottle))].join('\n')}\n`;
}

interface ListFlags {
  once?: boolean;
  json?: boolean;
}

async function runList(f: ListFlags): Promise<number> {
  if (!f.once && !f.json) {
    if (!isInteractive()) {
      throw usageError('supervise needs a terminal for the interactive view', 'use --once, --json or a verb (approve, reject, show, modify, audit, remembered, forget)');
    }
    return runInteractive();
  }
  return withStore(async (store, home) => {
    const pending = store.listPending();
    if (f.json) printJson(pendingDoc(pending));
    else process.stdout.write(renderTable(home, pending, new Date()));
    return EXIT.ok;
  });
}

/** The TUI module is built separately (src/cli/supervise-tui); this build may not have it. */
async function runInteractive(): Promise<number> {
  const spec = '../supervise-tui/index.js';
  let mod: { runSupervisorTui?: (opts: { home: string }) => Promise<number | void> };
  try {
    mod = (await import(spec)) as typeof mod;
  } catch {
    mod = {};
  }
  if (typeof mod.runSupervisorTui !== 'function') {
    throw usageError('the interactive view is not available in this version', 'use "bot-bottle supervise --once", "approve <id>" or "reject <id> --reason <text>"');
  }
  const code = await mod.runSupervisorTui({ home: resolveHome(process.env) });
  return typeof code === 'number' ? code : EXIT.ok;
}

function rememberedDoc(r: RememberOutcome | undefined): unknown {
  if (!r) return null;
  return { scope: r.scope, rule: r.rule?.id ?? null, file: r.file ?? null, note: r.note ?? null };
}

function decisionDoc(o: DecisionOutcome & { remembered?: RememberOutcome }): unknown {
  return {
    schema: 'bot-bottle/decision@1',
    id: o.response.proposalId,
    decision: o.response.decision,
    reason: o.response.reason,
    notes: o.response.notes,
    appliedAt: o.response.appliedAt,
    generation: o.routes?.generation ?? null,
    routes: o.routes?.routes ?? null,
    reload: o.routes?.reload ?? null,
    dockerfile: o.dockerfile ?? null,
    rebuild: o.rebuild ?? null,
    remembered: rememberedDoc(o.remembered),
  };
}

function reportDecision(o: DecisionOutcome & { remembered?: RememberOutcome }, json: boolean | undefined): number {
  if (json) {
    printJson(decisionDoc(o));
    return EXIT.ok;
  }
  const r = o.response;
  const lines = [`${r.decision} ${r.proposalId}`];
  if (o.routes) {
    lines.push(`routes generation ${o.routes.generation}: ${o.routes.routes.map((x) => x.host).join(', ') || 'no change'}`);
    if (o.routes.reload !== 'signalled') lines.push(`egress ${o.routes.reload}`);
  }
  if (o.dockerfile) lines.push(`wrote ${o.dockerfile}; the image is ${o.rebuild ?? 'built at the next resume of this slug'}`);
  const m = o.remembered;
  if (m?.rule) lines.push(`remembered as rule ${m.rule.id} (${m.scope} ${m.rule.subject}); "bot-bottle supervise forget ${m.rule.id}" undoes it`);
  if (m?.file) lines.push(`added to ${m.file}`);
  if (m?.note) lines.push(`note: ${m.note}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

interface DecideFlags {
  remember?: string;
  reason?: string;
  notes?: string;
  json?: boolean;
  file?: string;
}

function rememberScope(v: string | undefined): RememberScope | undefined {
  if (v === undefined) return undefined;
  if (!(REMEMBER_SCOPES as readonly string[]).includes(v)) throw usageError(`--remember must be one of ${REMEMBER_SCOPES.join(', ')}, got "${v}"`);
  return v as RememberScope;
}

async function runApprove(id: string, f: DecideFlags): Promise<number> {
  const scope = rememberScope(f.remember);
  return withStore(async (store, home) => {
    const input = { id, decision: 'approved' as const, reason: f.reason ?? null, notes: f.notes ?? '', operator: operatorName() };
    const o = scope ? await approveAndRemember(store, home, input, scope) : await decideAndApply(store, home, input);
    return reportDecision(o, f.json);
  });
}

const REMEMBERED_SCHEMA = 'bot-bottle/remembered@1';

async function runRemembered(f: { json?: boolean }): Promise<number> {
  return withStore(async (store) => {
    const rules = store.listRememberRules();
    if (f.json) {
      printJson({
        schema: REMEMBERED_SCHEMA,
        rules: rules.map((r) => ({ id: r.id, scope: r.scope, subject: r.subject, kind: r.kind, summary: describeRule(r.kind, r.rule as RememberRuleBody), rule: r.rule, sourceProposal: r.sourceProposal, createdBy: r.createdBy, createdAt: r.createdAt })),
      });
      return EXIT.ok;
    }
    if (rules.length === 0) {
      process.stdout.write('No remembered approvals.\n');
      return EXIT.ok;
    }
    for (const r of rules) process.stdout.write(`${r.id}  ${r.scope} ${r.subject}  ${r.kind}  ${describeRule(r.kind, r.rule as RememberRuleBody)}  (${r.createdBy}, ${r.createdAt})\n`);
    return EXIT.ok;
  });
}

async function runForget(ruleId: string, f: { json?: boolean }): Promise<number> {
  if (!/^[1-9][0-9]{0,15}$/.test(ruleId)) throw usageError(`rule id must be a positive integer, got "${ruleId}"`, 'see "bot-bottle supervise remembered"');
  return withStore(async (store) => {
    const r = store.forgetRememberRule(Number(ruleId), `operator:${operatorName()}`);
    if (!r) throw new SuperviseStoreError('not_found', `no remembered rule ${ruleId}`, 'see "bot-bottle supervise remembered"');
    if (f.json) printJson({ schema: 'bot-bottle/forgotten@1', id: r.id, scope: r.scope, subject: r.subject, kind: r.kind });
    else process.stdout.write(`forgot rule ${r.id} (${r.scope} ${r.subject}, ${r.kind}); matching proposals ask again\n`);
    return EXIT.ok;
  });
}

async function runReject(id: string, f: DecideFlags): Promise<number> {
  if (!f.reason?.trim()) throw usageError('reject needs --reason <text>', 'the reason is returned to the caller');
  return withStore(async (store, home) => {
    const o = await decideAndApply(store, home, { id, decision: 'rejected', reason: f.reason, notes: f.notes ?? f.reason ?? '', operator: operatorName() });
    return reportDecision(o, f.json);
  });
}

function requireProposal(store: SuperviseStore, id: string): ProposalWithResponse {
  const p = store.get(id);
  if (!p) throw new SuperviseStoreError('not_found', `no proposal "${id}"`, 'see "bot-bottle supervise --once"');
  return p;
}

async function runModify(id: string, f: DecideFlags): Promise<number> {
  return withStore(async (store, home) => {
    const p = requireProposal(store, id);
    if (p.kind !== 'egress-allow' && p.kind !== 'capability-block') {
      throw new SuperviseStoreError('modify_not_allowed', `${p.kind} proposals cannot be modified; approve or reject them`);
    }
    if (p.state !== 'pending') throw new SuperviseStoreError('already_decided', `proposal ${id} is ${p.state}`);
    let slots = new Set<string>();
    if (p.kind === 'egress-allow') {
      try {
        slots = liveSlots(readLiveRoutes(stateDirFor(home, p.bottle)).routes);
      } catch {
        slots = new Set();
      }
    }
    let modified: Record<string, unknown>;
    if (f.file !== undefined) {
      modified = parseEditedText(p.kind, readFileSync(f.file, 'utf8'), slots);
    } else {
      // The one editor runner (also the interactive view's): 0600 file in a fresh directory.
      const name = p.kind === 'capability-block' ? 'Dockerfile' : 'routes.yaml';
      let text = editableText(p.kind, p.payload);
      for (;;) {
        const edited = editInEditor(text, name, process.env);
        if ('error' in edited) throw new SuperviseStoreError('invalid', edited.error);
        text = edited.text;
        try {
          modified = parseEditedText(p.kind, text, slots);
          break;
        } catch (err) {
          if (!isInteractive()) throw new SuperviseStoreError('invalid', `the edit is invalid: ${err instanceof Error ? err.message : String(err)}; nothing was changed`);
          printError(err);
          const answer = (await askLine('Re-edit? [Y/n] ')).trim().toLowerCase();
          if (answer === 'n' || answer === 'no') throw new SuperviseStoreError('invalid', 'modify cancelled; nothing was changed');
        }
      }
    }
    const o = await decideAndApply(store, home, { id, decision: 'modified', modifiedPayload: modified, notes: f.notes ?? '', operator: operatorName() });
    return reportDecision(o, f.json);
  });
}

async function runShow(id: string, f: { json?: boolean }): Promise<number> {
  return withStore(async (store, home) => {
    const p = requireProposal(store, id);
    const d = proposalDetail(home, p);
    if (f.json) {
      printJson({
        schema: 'bot-bottle/proposal@1',
        id: p.id, slug: p.bottle, kind: p.kind, origin: p.origin, state: p.state,
        createdAt: p.createdAt, expiresAt: p.expiresAt, justification: p.justification,
        summary: d.summary, payload: p.payload, diff: d.body, warnings: d.warnings, invalid: d.invalid,
        response: p.response,
      });
      return EXIT.ok;
    }
    let label = p.bottle;
    try {
      label = (await readMetadata(stateDirFor(home, p.bottle), p.bottle)).label;
    } catch {
      // state gone: the slug is all we have
    }
    const out = [
      `${p.id}  ${p.kind}  ${p.bottle}${label !== p.bottle ? ` (${label})` : ''}  ${p.state}`,
      `filed ${p.createdAt} by ${p.origin}; expires ${p.expiresAt}`,
      `summary: ${d.summary}`,
    ];
    if (p.justification) out.push('justification:', ...p.justification.split('\n').map((l) => `  ${l}`));
    if (d.invalid) out.push(`invalid: ${d.invalid} (it can only be rejected or modified)`);
    if (d.warnings.length) out.push('warnings:', ...d.warnings.map((w) => `  ! ${w}`));
    if (p.response) out.push(`decision: ${p.response.decision} by ${p.response.operator} at ${p.response.decidedAt}${p.response.reason ? ` (reason: ${p.response.reason})` : ''}`);
    process.stdout.write(`${out.join('\n')}\n\n${d.body}`);
    return EXIT.ok;
  });
}

async function runAudit(f: { bottle?: string; limit?: string; json?: boolean }): Promise<number> {
  let limit: number | undefined;
  if (f.limit !== undefined) {
    limit = Number(f.limit);
    if (!Number.isInteger(limit) || limit < 1) throw usageError(`--limit must be a positive integer, got "${f.limit}"`);
  }
  return withStore(async (store) => {
    const rows = store.readAudit({ ...(f.bottle !== undefined ? { bottle: f.bottle } : {}), ...(limit !== undefined ? { limit } : {}) });
    if (f.json) {
      for (const r of rows) process.stdout.write(`${JSON.stringify({ schema: 'bot-bottle/audit@1', ...r })}\n`);
      return EXIT.ok;
    }
    if (rows.length === 0) process.stdout.write('No audit entries.\n');
    for (const r of rows) process.stdout.write(`${r.ts}  ${r.bottle ?? '-'}  ${r.proposalId ?? '-'}  ${r.actor}  ${r.event}  ${JSON.stringify(r.detail)}\n`);
    return EXIT.ok;
  });
}

/**
 * A verb's flags plus `supervise`'s own: commander hands `--json` after a verb to the parent
 * (which has --json too), so the verb reads both.
 */
function flagsOf<T>(cmd: Command): T {
  return cmd.optsWithGlobals<T & object>();
}

export function registerSupervise(program: Command): void {
  const sup = program
    .command('supervise')
    .description('operator queue: approve, modify or reject what bottles ask for')
    .option('--once', 'print the pending table and exit')
    .option('--json', `print a ${PENDING_SCHEMA} JSON document (implies --once)`)
    .addHelpText('after', '\nExample:\n  $ bot-bottle supervise --once\n  $ bot-bottle supervise approve 01J9Z3K4M5N6P7Q8R9S0T1V2W3\n')
    .action(async (f: ListFlags) => {
      process.exitCode = await runList(f);
    });
  sup
    .command('approve')
    .description('approve a proposal (a reason is required for egress-token-allow and secret-allow)')
    .argument('<id>', 'proposal id (see supervise --once)')
    .option('--reason <text>', 'why (required for egress-token-allow and secret-allow)')
    .option('--notes <text>', 'notes returned to the caller')
    .option('--remember <scope>', 'also approve what this covers from now on: bottle (this slug), agent (every bottle of this agent) or file (egress-allow: add the routes to the bottle file)')
    .option('--json', 'print a bot-bottle/decision@1 JSON document')
    .addHelpText('after', '\nExample:\n  $ bot-bottle supervise approve 01J9Z3K4M5N6P7Q8R9S0T1V2W3 --remember bottle\n')
    .action(async (id: string, _f: DecideFlags, cmd: Command) => {
      process.exitCode = await runApprove(id, flagsOf<DecideFlags>(cmd));
    });
  sup
    .command('reject')
    .description('reject a proposal; the reason is returned to the caller')
    .argument('<id>', 'proposal id')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--notes <text>', 'notes returned to the caller (default: the reason)')
    .option('--json', 'print a bot-bottle/decision@1 JSON document')
    .action(async (id: string, _f: DecideFlags, cmd: Command) => {
      process.exitCode = await runReject(id, flagsOf<DecideFlags>(cmd));
    });
  sup
    .command('show')
    .description('the proposal in detail: diff against the live routes or Dockerfile, warnings')
    .argument('<id>', 'proposal id')
    .option('--json', 'print a bot-bottle/proposal@1 JSON document')
    .action(async (id: string, _f: { json?: boolean }, cmd: Command) => {
      process.exitCode = await runShow(id, flagsOf<{ json?: boolean }>(cmd));
    });
  sup
    .command('modify')
    .description('edit an egress-allow or capability-block proposal in $VISUAL/$EDITOR, then approve it as modified')
    .argument('<id>', 'proposal id')
    .option('--file <path>', 'take the edited routes YAML / Dockerfile from a file instead of the editor')
    .option('--notes <text>', 'notes returned to the caller')
    .option('--json', 'print a bot-bottle/decision@1 JSON document')
    .action(async (id: string, _f: DecideFlags, cmd: Command) => {
      process.exitCode = await runModify(id, flagsOf<DecideFlags>(cmd));
    });
  sup
    .command('remembered')
    .description('the remembered approvals (approve --remember bottle|agent), oldest first')
    .option('--json', `print a ${REMEMBERED_SCHEMA} JSON document`)
    .action(async (_f: { json?: boolean }, cmd: Command) => {
      process.exitCode = await runRemembered(flagsOf<{ json?: boolean }>(cmd));
    });
  sup
    .command('forget')
    .description('delete a remembered approval; what it covered asks the operator again')
    .argument('<rule-id>', 'rule id (see supervise remembered)')
    .option('--json', 'print a bot-bottle/forgotten@1 JSON document')
    .action(async (ruleId: string, _f: { json?: boolean }, cmd: Command) => {
      process.exitCode = await runForget(ruleId, flagsOf<{ json?: boolean }>(cmd));
    });
  sup
    .command('audit')
    .description('the supervise audit log, newest first')
    .option('--bottle <slug>', 'only this bottle')
    .option('--limit <n>', 'at most n entries')
    .option('--json', 'one bot-bottle/audit@1 JSON object per line')
    .action(async (_f: { bottle?: string; limit?: string; json?: boolean }, cmd: Command) => {
      process.exitCode = await runAudit(flagsOf<{ bottle?: string; limit?: string; json?: boolean }>(cmd));
    });
}
