/**
 * The preflight (docs/architecture.md §4.4): the launch plan as text, and the questions around it
 * (y/N, pickers, `?` env entries) on the controlling TTY. Names and markers only — never the value
 * of a secret, prompted or interpolated variable.
 */
import { createInterface } from 'node:readline';
import { BottleError, EXIT } from '../errors.js';
import { NOT_AVAILABLE } from '../plan/availability.js';
import type { PlanDocument } from '../plan/plan-document.js';
import type { PreparedLaunch } from '../plan/prepare.js';
import { block, formatBottleSelection, formatEnvNames, formatGitGateRepo, formatIdentity, formatProviderImage, formatRouteTable } from './format-bottle.js';

const PROMPT_PREVIEW = 40;

function promptLine(prompt: string): string {
  if (prompt === '') return '(empty)';
  const first = prompt.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const preview = first.length > PROMPT_PREVIEW ? `${first.slice(0, PROMPT_PREVIEW)}…` : first;
  return `${prompt.length} chars  ${JSON.stringify(preview)}`;
}

/** What supervise does for this agent; in a build without it, why not and what follows. */
function superviseLine(d: PlanDocument): string {
  const t = d.provider.template;
  if (d.supervise.available) {
    if (d.supervise.mcp === 'registered') return `on (MCP registered with ${t})`;
    if (d.supervise.mcp === 'configured') return `on (MCP configured in ${t}'s settings)`;
    return `on (${t} has no MCP support)`;
  }
  // Nothing is registered or configured with the agent, and holds fail closed without the daemon
  // (docs/decisions/egress-supervise-holds.md).
  return `${NOT_AVAILABLE} (no MCP server registered with ${t}; DLP "supervise" holds are blocked)`;
}

/** Only credentials a launch would stop on; names, never values. */
function credentialLines(d: PlanDocument): string[] {
  const list = (status: 'missing' | 'invalid') =>
    d.credentials
      .filter((c) => c.status === status)
      .map((c) => `${c.name} (${c.usedBy})`)
      .join(', ');
  const lines: string[] = [];
  const missing = list('missing');
  const invalid = list('invalid');
  if (missing !== '') lines.push(`not set on the host: ${missing}`);
  if (invalid !== '') lines.push(`contains a line break or NUL: ${invalid}`);
  if (lines.length > 0) lines.push('a launch without --dry-run stops here');
  return lines;
}

export function renderPreflight(p: PreparedLaunch): string {
  const d = p.document;
  const v = p.view;
  const lines: string[] = [`launch plan  ${d.slug}${d.slugTentative ? '  (tentative)' : ''}`];
  lines.push(...block('agent', `${d.agent.name}  (${d.agent.origin}: ${d.agent.source})`));
  lines.push(...block('prompt', promptLine(v.agent.prompt)));
  lines.push(...block('skills', d.agent.skills.length > 0 ? d.agent.skills.join(', ') : '(none)'));
  const image = formatProviderImage({
    image: d.provider.image,
    dockerfile: d.provider.imageSource === 'bundled' ? null : d.provider.dockerfile,
    source: d.provider.imageSource,
    build: d.provider.imageBuild,
  });
  lines.push(...block('provider', `${d.provider.template}  ${image}`));
  lines.push(...block('bottles', formatBottleSelection(v.selected.trees)));
  lines.push(...block('git identity', formatIdentity(v.identity)));
  const repos = v.selected.config.gitGate.repos;
  lines.push(...block('git-gate', repos.length > 0 ? repos.map(formatGitGateRepo) : '(none)'));
  const rows = v.routes.map((m) =>
    m.origin.kind === 'provider' ? { route: m.route, provider: m.origin.provider, defaultOnMatch: 'redact' as const } : { route: m.route, defaultOnMatch: 'supervise' as const },
  );
  lines.push(...block('egress', [`log=${d.egress.log}`, ...(rows.length > 0 ? formatRouteTable(rows) : ['(no routes: nothing leaves the bottle)'])]));
  lines.push(...block('env', formatEnvNames(v.selected.config.env)));
  const credentials = credentialLines(d);
  if (credentials.length > 0) lines.push(...block('credentials', credentials));
  lines.push(...block('workspace', d.workspace ? `${d.workspace.guestPath} ← ${d.workspace.hostPath}` : '(none; the agent starts in /home/node)'));
  lines.push(...block('backend', d.backend.runtime ? `${d.backend.name}  runtime ${d.backend.runtime}` : d.backend.name));
  lines.push(...block('supervise', superviseLine(d)));
  lines.push(...block('label', `${d.label}  colour ${d.color}`));
  const notes = [...d.warnings.map((w) => `warning: ${w}`), ...d.notes];
  if (notes.length > 0) lines.push(...block('notes', notes));
  return `${lines.join('\n')}\n`;
}

/** Pickers, modals and y/N need stdin and stderr to be TTYs (docs/cli.md#conventions). */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}

/** One line from the TTY, echoed. */
export function askLine(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

/** One line from the TTY without echo (`?` env entries). Ctrl-C aborts with 130. */
export function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode?.(true);
    stdin.resume();
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
    };
    function onData(buf: Buffer): void {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new BottleError('ABORTED', 'interrupted', { exitCode: EXIT.sigint }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    }
    stdin.on('data', onData);
  });
}

/** `Launch? [y/N]`: only y/yes accepts (default No). */
export async function confirmLaunch(): Promise<boolean> {
  const answer = (await askLine('Launch? [y/N] ')).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
