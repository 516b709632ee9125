/**
 * `resume <slug>` (docs/architecture.md §4.8): relaunch a preserved bottle with the same slug,
 * backend, bottle list, label, colour, cwd and --cwd setting; manifests are re-read. On netns the
 * agent's home (and with it the transcript) lives on in state/<slug>/home.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError, EXIT, usageError } from '../../errors.js';
import { BACKEND_NAMES, getBackend } from '../../backends/registry.js';
import { resolveHome, userHome } from '../../manifest/home.js';
import { indexManifests, loadAgent, loadBottles, sourceLabel } from '../../manifest/loader.js';
import { preparePlan } from '../../plan/prepare.js';
import { runLaunch } from '../../launch/run.js';
import { deployKeyHooks } from '../../launch/deploy-keys.js';
import { agentCliProblem } from '../../launch/agent-cli-check.js';
import { rematerializeState } from '../../launch/resume-state.js';
import { pidRunning } from '../../launch/live.js';
import { readMetadata } from '../../state/metadata.js';
import { stateDirFor } from '../../state/paths.js';
import { printJson, warn } from '../output.js';
import { confirmLaunch, isInteractive, renderPreflight } from '../preflight.js';
import { backendHelp, hookBackendHelp, planFormat } from './start.js';

interface ResumeFlags {
  dryRun?: boolean;
  format?: string;
  /** Alias of `--format json` (with --dry-run). */
  json?: boolean;
  headless?: boolean;
  prompt?: string;
  yes?: boolean;
}

function sessionLive(stateDir: string): boolean {
  try {
    return pidRunning((JSON.parse(readFileSync(join(stateDir, 'session.json'), 'utf8')) as { pid?: unknown }).pid);
  } catch {
    return false;
  }
}

export async function runResume(slug: string, f: ResumeFlags): Promise<number> {
  const format = planFormat(f);
  if (f.prompt !== undefined && !f.headless) throw usageError('--prompt needs --headless', 'add --headless, or drop --prompt for an interactive session');
  if (f.headless && f.prompt === undefined && !f.dryRun) throw usageError('--headless needs --prompt <text> (or --prompt - to read it from stdin)');
  const prompt = f.prompt === '-' ? readFileSync(0, 'utf8') : f.prompt;

  const env = process.env;
  const home = resolveHome(env);
  const uhome = userHome(env);
  const stateDir = stateDirFor(home, slug);
  const meta = await readMetadata(stateDir, slug);
  if (sessionLive(stateDir)) throw new BottleError('STILL_RUNNING', `bottle "${slug}" is still running`, { fix: 'attach to it, or stop it first' });
  if (!BACKEND_NAMES.includes(meta.backend)) throw new BottleError('BACKEND_UNAVAILABLE', `recorded backend "${meta.backend}" is unknown to this version`, { fix: 'see "bot-bottle doctor"' });
  const backend = await getBackend(meta.backend);
  const avail = await backend.available();
  if (!avail.ok && !f.dryRun) {
    throw new BottleError('BACKEND_UNAVAILABLE', `backend ${meta.backend} (recorded for ${slug}) is not available: ${avail.reason}`, { fix: `run "bot-bottle doctor --backend ${meta.backend}"` });
  }
  const cwd = meta.cwd || process.cwd();
  const index = indexManifests({ home, cwd, userHome: uhome });
  for (const w of index.warnings) warn(w);
  const prepared = await preparePlan({
    home, userHome: uhome, cwd, copyCwd: meta.copyCwd,
    agent: loadAgent(index, meta.agentName),
    selected: loadBottles(index, meta.bottleNames),
    backend: meta.backend,
    label: meta.label, labelIsExplicit: true, color: meta.color,
    headless: f.headless === true, dryRun: f.dryRun === true, hostEnv: env,
    slug,
    display: (file) => sourceLabel(index, file),
  });
  // The agent CLI may have gone from the host since the first launch: refuse before touching the
  // state dir (docs/decisions/agent-cli-preflight.md); a dry run shows it as a warning.
  const plan = prepared.plan.agent;
  const cliProblem = agentCliProblem({ backend, agentName: meta.agentName, template: prepared.metadata.template, argv: f.headless ? plan.headlessResumeArgv : plan.resumeArgv });
  if (cliProblem && !f.dryRun) throw cliProblem;
  const shown = cliProblem ? { ...prepared, document: { ...prepared.document, warnings: [cliProblem.oneLine(), ...prepared.document.warnings] } } : prepared;
  if (f.dryRun) {
    if (format === 'json') printJson(shown.document);
    else process.stdout.write(renderPreflight(shown));
    return EXIT.ok;
  }
  if (f.headless) process.stderr.write(`bot-bottle: started ${slug}\n`);
  else {
    process.stderr.write(renderPreflight(prepared));
    if (!f.yes) {
      if (!isInteractive()) throw usageError('refusing to launch without confirmation; pass --yes');
      if (!(await confirmLaunch())) throw new BottleError('CANCELLED', 'resume cancelled; nothing was changed');
    }
  }

  const controller = new AbortController();
  let interactiveSession = false;
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => (interactiveSession ? undefined : controller.abort(EXIT.sigint))],
    ['SIGTERM', () => controller.abort(EXIT.sigterm)],
    ['SIGHUP', () => controller.abort(EXIT.sighup)],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const result = await runLaunch(prepared, {
      backend,
      resume: true,
      ...deployKeyHooks(prepared, process.env, () => rematerializeState(prepared)),
      ...(prompt !== undefined ? { prompt } : { tty: Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) }),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'ready') interactiveSession = prompt === undefined;
        if (e.type === 'warning') warn(e.message);
        else process.stderr.write(`bot-bottle: ${e.message}\n`);
      },
      onOutput: (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
    });
    return result.exitCode;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

export function registerResume(program: Command): void {
  hookBackendHelp(program, 'resume');
  program
    .command('resume')
    .description('relaunch a preserved bottle (same slug, backend and bottles; manifests re-read)')
    .argument('<slug>', 'the bottle to resume (see bot-bottle list)')
    .option('--dry-run', 'resolve and print the plan; change nothing')
    .option('--format <format>', 'plan format with --dry-run: text or json')
    .option('--json', 'same as --format json')
    .option('--headless', 'no TTY or questions; needs --prompt')
    .option('--prompt <text>', 'task for a headless run; - reads it from stdin')
    .option('-y, --yes', 'skip the confirmation')
    // The backend is the one recorded for the bottle; list which ones work here.
    .addHelpText('after', () => `\nBackends (the bottle's recorded one must be available):\n${backendHelp()}\nExample:\n  bot-bottle resume implementer-k3x9q --headless --prompt "continue"\n`)
    .action(async (slug: string, flags: ResumeFlags) => {
      process.exitCode = await runResume(slug, flags);
    });
}
