/**
 * `resume <slug>` (docs/architecture.md §4.8): relaunch a preserved bottle with the same slug,
 * backend, bottle list, label, colour, cwd and --cwd setting; manifests are re-read. On netns the
 * agent's home (and with it the transcript) lives on in state/<slug>/home.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { BottleError, EXIT, usageError } from '../../errors.js';
import { agentCliProblem } from '../../launch/agent-cli-check.js';
import { runBottleSession } from '../bottle-session.js';
import { printJson } from '../output.js';
import { prepareResume } from '../resume-plan.js';
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

export async function runResume(slug: string, f: ResumeFlags): Promise<number> {
  const format = planFormat(f);
  if (f.prompt !== undefined && !f.headless) throw usageError('--prompt needs --headless', 'add --headless, or drop --prompt for an interactive session');
  if (f.headless && f.prompt === undefined && !f.dryRun) throw usageError('--headless needs --prompt <text> (or --prompt - to read it from stdin)');
  const prompt = f.prompt === '-' ? readFileSync(0, 'utf8') : f.prompt;

  const { prepared, backend, agentName, template } = await prepareResume(slug, { headless: f.headless === true, dryRun: f.dryRun === true });
  // The agent CLI may have gone from the host since the first launch: refuse before touching the
  // state dir (docs/decisions/agent-cli-preflight.md); a dry run shows it as a warning.
  const plan = prepared.plan.agent;
  const cliProblem = agentCliProblem({ backend, agentName, template, argv: f.headless ? plan.headlessResumeArgv : plan.resumeArgv });
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

  return runBottleSession(prepared, backend, { resume: true, prompt });
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
