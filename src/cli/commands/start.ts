/**
 * `start [agent]` (docs/architecture.md §4): select → load → plan (no side effects) → preflight +
 * y/N → launch. Argument parsing and terminal interaction only; planning is src/plan, the launch
 * lifecycle src/launch. `--dry-run` stops after the plan and creates nothing.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { BottleError, EXIT, usageError } from '../../errors.js';
import type { Backend } from '../../backends/backend.js';
import { BACKEND_NAMES, DEFAULT_CANDIDATES, getBackend } from '../../backends/registry.js';
import { resolveHome, userHome } from '../../manifest/home.js';
import { indexManifests, loadAgent, loadBottles, selectBottleNames, sourceLabel, type ManifestIndex } from '../../manifest/loader.js';
import { preparePlan } from '../../plan/prepare.js';
import { plannedRuntime } from '../planned-runtime.js';
// The launch (and its capability relaunches) runs in src/cli/bottle-session.ts; the lifecycle lives in src/launch.
import { runBottleSession } from '../bottle-session.js';
import { agentCliProblem } from '../../launch/agent-cli-check.js';
import { printJson, warn } from '../output.js';
import { askHidden, askLine, confirmLaunch, isInteractive, renderPreflight } from '../preflight.js';

export const COLORS = ['red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white', 'none'] as const;

export interface StartFlags {
  bottle: string[];
  backend?: string;
  cwd?: boolean;
  dryRun?: boolean;
  format?: string;
  /** Alias of `--format json` (with --dry-run). */
  json?: boolean;
  headless?: boolean;
  prompt?: string;
  label?: string;
  color?: string;
  yes?: boolean;
}

/**
 * `--format` / `--json` (start and resume): `--json` is `--format json`. Returns the plan format;
 * a bad value or either flag without --dry-run is exit 2.
 */
export function planFormat(f: { dryRun?: boolean; format?: string; json?: boolean }): 'text' | 'json' {
  if (f.format !== undefined) {
    if (f.format !== 'text' && f.format !== 'json') throw usageError(`--format must be text or json (got "${f.format}")`);
    if (!f.dryRun) throw usageError('--format is only valid with --dry-run', 'add --dry-run, or drop --format');
  }
  if (f.json) {
    if (!f.dryRun) throw usageError('--json is only valid with --dry-run', 'add --dry-run, or drop --json');
    if (f.format === 'text') throw usageError('--json contradicts --format text', 'drop one of them');
    return 'json';
  }
  return f.format === 'json' ? 'json' : 'text';
}

/** Bad combinations fail before anything is read (docs/architecture.md §4.1, C3–C6; exit 2). */
export function validateStartArgs(agent: string | undefined, f: StartFlags): void {
  planFormat(f);
  if (f.prompt !== undefined && !f.headless) throw usageError('--prompt needs --headless', 'add --headless, or drop --prompt for an interactive session');
  if (f.headless) {
    if (agent === undefined) throw usageError('--headless needs an agent; pass one as the first argument (see bot-bottle list)');
    if (f.prompt === undefined && !f.dryRun) throw usageError('--headless needs --prompt <text> (or --prompt - to read it from stdin)');
  }
  if (f.color !== undefined && !(COLORS as readonly string[]).includes(f.color)) {
    throw usageError(`--color must be one of ${COLORS.join(', ')} (got "${f.color}")`);
  }
  if (f.label !== undefined && f.label.trim() === '') throw usageError('--label must not be empty');
}

async function chooseAgent(index: ManifestIndex, given: string | undefined, f: StartFlags): Promise<string> {
  if (given !== undefined) return given;
  const names = [...index.agents.keys()].sort();
  if (!isInteractive() || f.yes || names.length === 0) {
    throw usageError('no agent given; pass one (see bot-bottle list)');
  }
  process.stderr.write(names.map((n, i) => `  ${i + 1}) ${n}`).join('\n') + '\n');
  const answer = (await askLine('Agent (number or name): ')).trim();
  const byNumber = names[Number(answer) - 1];
  const chosen = /^\d+$/.test(answer) ? byNumber : names.find((n) => n === answer);
  if (chosen === undefined) throw new BottleError('CANCELLED', 'no agent chosen');
  return chosen;
}

async function chooseBottles(index: ManifestIndex, agentName: string, f: StartFlags): Promise<string[]> {
  const agent = loadAgent(index, agentName);
  if (f.bottle.length > 0 || !isInteractive() || f.yes || f.headless || f.dryRun) return selectBottleNames(agent, f.bottle, index);
  const all = [...index.bottles.keys()].sort();
  const answer = (await askLine(`Bottles (${all.join(', ')}) [${agent.bottles.join(' ')}]: `)).trim();
  return selectBottleNames(agent, answer === '' ? [] : answer.split(/[\s,]+/).filter(Boolean), index);
}

interface BackendChoice {
  backend: Backend | null;
  name: string;
  warnings: string[];
}

/** `--backend` → BOT_BOTTLE_BACKEND → first available (docs/architecture.md §4.1, step 4). */
async function chooseBackend(f: StartFlags): Promise<BackendChoice> {
  const named = f.backend ?? (process.env.BOT_BOTTLE_BACKEND || undefined);
  if (named !== undefined) {
    if (!BACKEND_NAMES.includes(named)) throw usageError(`unknown backend "${named}"`, `choose one of: ${BACKEND_NAMES.join(', ')}`);
    const backend = await getBackend(named);
    const a = await backend.available();
    if (!a.ok) {
      if (f.dryRun) return { backend, name: named, warnings: [`backend ${named} is not available here: ${a.reason}`] };
      throw new BottleError('BACKEND_UNAVAILABLE', `backend ${named} is not available: ${a.reason}`, { fix: `run "bot-bottle doctor --backend ${named}"` });
    }
    return { backend, name: named, warnings: [] };
  }
  for (const name of DEFAULT_CANDIDATES) {
    const b = await getBackend(name);
    if ((await b.available()).ok) return { backend: b, name, warnings: [] };
  }
  if (f.dryRun) return { backend: null, name: 'none', warnings: ['no backend is available on this machine; run "bot-bottle doctor"'] };
  throw new BottleError('BACKEND_UNAVAILABLE', 'no backend is available on this machine', { fix: 'run "bot-bottle doctor"' });
}

async function chooseLabel(agentName: string, f: StartFlags): Promise<{ label: string | null; explicit: boolean; color: string }> {
  let label = f.label ?? null;
  let explicit = f.label !== undefined && !f.headless;
  let color = f.color ?? 'none';
  if (label === null && isInteractive() && !f.yes && !f.headless && !f.dryRun) {
    const answer = (await askLine(`Label [${agentName}]: `)).trim();
    if (answer !== '') {
      label = answer;
      explicit = true;
    }
    if (f.color === undefined) {
      const c = (await askLine(`Colour (${COLORS.join(', ')}) [none]: `)).trim().toLowerCase();
      if (c !== '') {
        if (!(COLORS as readonly string[]).includes(c)) throw usageError(`colour must be one of ${COLORS.join(', ')}`);
        color = c;
      }
    }
  }
  return { label, explicit, color };
}

/** Slugs running on any available backend ("taken", docs/architecture.md §4.3, step 1). */
function activeSlugs(): (slug: string) => Promise<boolean> {
  let slugs: Promise<Set<string>> | null = null;
  const load = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const name of BACKEND_NAMES) {
      const b = await getBackend(name);
      if (!(await b.available()).ok) continue;
      for (const a of await b.listActive().catch(() => [])) out.add(a.slug);
    }
    return out;
  };
  return async (slug) => {
    slugs ??= load();
    return (await slugs).has(slug);
  };
}

function readPrompt(f: StartFlags): string | undefined {
  if (f.prompt === undefined) return undefined;
  const text = f.prompt === '-' ? readFileSync(0, 'utf8') : f.prompt;
  if (text.trim() === '') throw usageError('--prompt is empty', 'pass the task text, or - to read it from stdin');
  return text;
}

export async function runStart(agentArg: string | undefined, f: StartFlags): Promise<number> {
  validateStartArgs(agentArg, f);
  const prompt = readPrompt(f);
  const env = process.env;
  const home = resolveHome(env);
  const uhome = userHome(env);
  const cwd = process.cwd();
  const index = indexManifests({ home, cwd, userHome: uhome });
  // Headless: the first stderr line is `bot-bottle: started <slug>` (docs/cli.md#start-in-short),
  // so index warnings wait until then.
  if (!f.headless || f.dryRun) for (const w of index.warnings) warn(w);

  const agentName = await chooseAgent(index, agentArg, f);
  const bottleNames = await chooseBottles(index, agentName, f);
  const agent = loadAgent(index, agentName);
  const selected = loadBottles(index, bottleNames);
  const backend = await chooseBackend(f);
  const template = selected.config.agentProvider.template;
  // A built-in's CLI is known now: refuse before the label questions, not after them. Plugins are
  // asked again below, once they have planned.
  if (!f.dryRun && backend.backend !== null) {
    const problem = agentCliProblem({ backend: backend.backend, agentName: agent.name, template });
    if (problem) throw problem;
  }
  const { label, explicit, color } = await chooseLabel(agent.name, f);
  const runtime = await plannedRuntime(backend.backend, f.dryRun === true);

  const prepared = await preparePlan({
    home,
    userHome: uhome,
    cwd,
    copyCwd: f.cwd === true,
    agent,
    selected,
    backend: backend.name,
    backendBuildsImages: backend.backend?.buildsCustomImages === true,
    backendRuntime: runtime.runtime,
    label,
    labelIsExplicit: explicit,
    color,
    headless: f.headless === true,
    dryRun: f.dryRun === true,
    hostEnv: env,
    ...(isInteractive() && !f.headless ? { ask: (_name: string, question: string) => askHidden(`${question}: `) } : {}),
    isSlugTaken: activeSlugs(),
    display: (file) => sourceLabel(index, file),
  });
  // With the planned argv (plugins too), still before anything exists. A dry run shows it instead.
  const cliProblem =
    backend.backend === null
      ? null
      : agentCliProblem({ backend: backend.backend, agentName: agent.name, template, argv: f.headless ? prepared.plan.agent.headlessArgv : prepared.plan.agent.interactiveArgv });
  if (cliProblem && !f.dryRun) throw cliProblem;
  const doc = { ...prepared.document, warnings: [...backend.warnings, ...runtime.warnings, ...(cliProblem ? [cliProblem.oneLine()] : []), ...prepared.document.warnings] };

  if (f.dryRun) {
    if (planFormat(f) === 'json') printJson(doc);
    else process.stdout.write(renderPreflight({ ...prepared, document: doc }));
    return EXIT.ok;
  }

  if (f.headless) {
    process.stderr.write(`bot-bottle: started ${prepared.plan.slug}\n`);
    for (const w of [...index.warnings, ...doc.warnings]) warn(w);
  } else {
    process.stderr.write(renderPreflight({ ...prepared, document: doc }));
    if (!f.yes) {
      if (!isInteractive()) throw usageError('refusing to launch without confirmation; pass --yes');
      if (!(await confirmLaunch())) throw new BottleError('CANCELLED', 'launch cancelled; nothing was created');
    }
  }
  if (backend.backend === null) throw new BottleError('BACKEND_UNAVAILABLE', 'no backend is available on this machine', { fix: 'run "bot-bottle doctor"' });
  return runBottleSession(prepared, backend.backend, { resume: false, prompt });
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

let backendRows: string[] | null = null;

/**
 * Asks every backend whether it works here, for the help text: available() is cheap (no spawn,
 * docs/architecture.md §8). Runs from a preSubcommand hook because help is rendered synchronously.
 */
export async function refreshBackendHelp(): Promise<void> {
  try {
    const width = Math.max(...BACKEND_NAMES.map((n) => n.length));
    backendRows = await Promise.all(
      BACKEND_NAMES.map(async (name) => {
        const a = await (await getBackend(name)).available();
        return `${name.padEnd(width)}  ${a.ok ? 'available' : `not available: ${a.reason}`}`;
      }),
    );
  } catch {
    backendRows = null;
  }
}

/** The "Backends" help block: which backends work on this host, in default-selection order. */
export function backendHelp(): string {
  // `bot-bottle help start` renders help without running hooks: say where to look instead.
  if (backendRows === null) return `  ${BACKEND_NAMES.join(', ')}: run "bot-bottle doctor" to see which work on this host\n`;
  return backendRows.map((r) => `  ${r}\n`).join('');
}

/** Fills the backend block before `name`'s help (or action) runs. */
export function hookBackendHelp(program: Command, name: string): void {
  program.hook('preSubcommand', async (_program, sub) => {
    if (sub.name() === name) await refreshBackendHelp();
  });
}

export function registerStart(program: Command): void {
  hookBackendHelp(program, 'start');
  program
    .command('start')
    .description('launch a bottle and attach to the agent')
    .argument('[agent]', 'agent to run (see bot-bottle list)')
    .option('--bottle <name>', 'bottle to apply; repeatable, later wins on conflicts', collect, [] as string[])
    .option('--backend <name>', 'isolation backend (default: the first available; see "Backends" below)')
    .option('--cwd', 'copy the current directory into /home/node/workspace and start there')
    .option('--dry-run', 'resolve and print the plan; create nothing')
    .option('--format <format>', 'plan format with --dry-run: text or json')
    .option('--json', 'same as --format json')
    .option('--headless', 'no TTY, pickers or questions; needs an agent and --prompt')
    .option('--prompt <text>', 'task for a headless run; - reads it from stdin')
    .option('--label <text>', 'display label; also the slug')
    .option('--color <name>', `label colour (${COLORS.join(', ')})`)
    .option('-y, --yes', 'skip the confirmation and accept defaults')
    .addHelpText('after', () => `\nBackends:\n${backendHelp()}\nExample:\n  bot-bottle start implementer --bottle gitea-dev --cwd\n  bot-bottle start implementer --dry-run --json\n`)
    .action(async (agent: string | undefined, flags: StartFlags) => {
      process.exitCode = await runStart(agent, flags);
    });
}
