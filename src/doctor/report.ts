/**
 * `doctor` as data (docs/cli.md): common checks, each backend's checks, the agents' CLIs, which
 * backends are usable, the default, and the exit code. Nothing here prints.
 */
import { BACKEND_NAMES, DEFAULT_CANDIDATES, getBackend } from '../backends/registry.js';
import { isLinux } from '../backends/platform.js';
import { EXIT, usageError } from '../errors.js';
import { agentChecks } from './agents.js';
import { fail, ok, passes, type Check } from './check.js';
import { commonChecks, type CommonInput } from './common.js';
import { dockerChecks } from './docker.js';
import { macosContainerChecks } from './macos-container.js';
import { netnsChecks, type NetnsCheckOptions } from './netns.js';
import { smolmachinesChecks } from './smolmachines.js';

export interface DoctorReport {
  readonly schema: 'bot-bottle/doctor@1';
  /** BOT_BOTTLE_BACKEND when set, else the first backend whose available() passes (what `start` picks). */
  readonly defaultBackend: string | null;
  /** Checked backends none of whose checks failed. */
  readonly usable: string[];
  readonly checks: Check[];
}

export interface DoctorOptions extends CommonInput {
  /** `--backend`: check only this backend (besides the common checks). */
  readonly backend?: string;
  readonly netns?: NetnsCheckOptions;
}

/** Backends with checks beyond available(); the others report their available() verdict. */
const DETAILED: Readonly<Record<string, (o: DoctorOptions) => Promise<Check[]>>> = {
  netns: (o) => netnsChecks(o.netns),
  docker: (o) => dockerChecks(o.env),
  smolmachines: () => smolmachinesChecks(),
  'macos-container': () => macosContainerChecks(),
};

async function backendChecks(name: string, o: DoctorOptions): Promise<Check[]> {
  const a = await (await getBackend(name)).available();
  const id = `${name}.available`;
  const detailed = DETAILED[name];
  if (detailed === undefined) return [a.ok ? ok(name, id, `${name} available`) : fail(name, id, `${name}: ${a.reason}`, a.fix)];
  const checks = await detailed(o);
  // The backend's own verdict is what `start` obeys: never report a backend usable that it refuses.
  if (!a.ok && passes(checks, name)) checks.push(fail(name, id, `${name}: ${a.reason}`, a.fix));
  return checks;
}

async function chooseDefault(o: DoctorOptions): Promise<{ name: string | null; check: Check | null }> {
  const named = o.env.BOT_BOTTLE_BACKEND;
  if (named !== undefined && named !== '') {
    if (!BACKEND_NAMES.includes(named)) {
      // Only a known name is echoed (docs/cli.md#conventions: messages name variables, not their
      // values).
      return { name: null, check: fail('common', 'backend-env', 'BOT_BOTTLE_BACKEND names no known backend', `set it to one of: ${BACKEND_NAMES.join(', ')} (or unset it)`) };
    }
    return { name: named, check: ok('common', 'backend-env', `BOT_BOTTLE_BACKEND selects ${named}`) };
  }
  for (const name of DEFAULT_CANDIDATES) {
    if ((await (await getBackend(name)).available()).ok) return { name, check: null };
  }
  return { name: null, check: null };
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  if (o.backend !== undefined && !BACKEND_NAMES.includes(o.backend)) {
    throw usageError(`unknown backend "${o.backend}"`, `choose one of: ${BACKEND_NAMES.join(', ')}`);
  }
  const common = commonChecks(o);
  const def = await chooseDefault(o);
  const checks: Check[] = [...common.checks, ...(def.check ? [def.check] : [])];
  const names = o.backend !== undefined ? [o.backend] : [...BACKEND_NAMES];
  for (const name of names) checks.push(...(await backendChecks(name, o)));
  const usable = names.filter((n) => passes(checks, n));
  // Agents are judged for the backend a launch would use; with none, for netns (the only
  // implemented backend) so a user who is not root yet still learns which CLIs are missing.
  const judgeOn = o.backend ?? def.name ?? (isLinux() ? 'netns' : null);
  if (common.facts !== null) checks.push(...(await agentChecks(common.facts.agents, judgeOn, o.env)));
  return { schema: 'bot-bottle/doctor@1', defaultBackend: def.name, usable, checks };
}

/**
 * Exit 0 when the requested backend (else the default) is usable, else 3 (docs/cli.md#exit-codes).
 */
export function doctorExitCode(report: Pick<DoctorReport, 'defaultBackend' | 'usable'>, requested?: string): number {
  const target = requested ?? report.defaultBackend;
  return target !== null && report.usable.includes(target) ? EXIT.ok : EXIT.backendUnavailable;
}
