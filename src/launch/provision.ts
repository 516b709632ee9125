/**
 * Provisioning (docs/architecture.md §4.6), in a fixed order — CA trust first, because every
 * later step may talk through the egress proxy: CA trust → git config → skills → prompt →
 * provider files → MCP registration → workspace copy. Backend-neutral: everything goes through
 * RunningBottle.exec/copyIn, as the agent user.
 */
import { readFileSync } from 'node:fs';
import { BottleError } from '../errors.js';
import { GUEST_PROMPT_FILE, GUEST_WORKSPACE, type BottlePlan, type GuestFile } from '../plan/bottle-plan.js';
import type { ExecResult, RunningBottle } from '../backends/backend.js';

/** The order is part of the contract; tests compare against it. */
export const PROVISION_STEPS = ['ca-trust', 'git-config', 'skills', 'prompt', 'provider-files', 'mcp', 'workspace'] as const;
export type ProvisionStep = (typeof PROVISION_STEPS)[number];

const WRITE_FILE = 'set -e; mkdir -p "$(dirname "$1")"; cat > "$1"; chmod "$2" "$1"';
// CA trust in one sandboxed exec (each exec builds a sandbox): the bottle CA from stdin to $1, then
// the bundle $2 = the runtime's own system roots (Debian/Alpine path, then Fedora's) + the bottle CA.
const INSTALL_CA =
  'set -e; mkdir -p "$(dirname "$1")" "$(dirname "$2")"; cat > "$1"; chmod 644 "$1"; ' +
  'for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do ' +
  'if [ -r "$f" ]; then cat "$f"; echo; break; fi; done > "$2"; cat "$1" >> "$2"; chmod 644 "$2"';

/** One error naming the real cause: the sandbox itself, a command missing from the runtime, or the command. */
export function provisionFailure(step: ProvisionStep, argv: readonly string[], r: ExecResult): BottleError {
  if (r.sandboxError !== undefined) {
    return new BottleError('LAUNCH_FAILED', `provisioning step ${step}: the sandbox could not be built: ${r.sandboxError}`, {
      fix: 'run "bot-bottle doctor" to check the backend and its runtime directory',
    });
  }
  const detail = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
  if (r.code === 127) {
    return new BottleError('LAUNCH_FAILED', `provisioning step ${step}: ${argv[0] ?? 'a command'} or a tool it runs is missing in the agent runtime (exit 127): ${detail}`, {
      fix: 'install it where the backend takes the agent runtime from (the host, on netns)',
    });
  }
  return new BottleError('LAUNCH_FAILED', `provisioning step ${step} failed (exit ${r.code}): ${detail}`, {
    fix: 'run "bot-bottle doctor" to check the backend and the agent runtime',
  });
}

async function must(b: RunningBottle, step: ProvisionStep, argv: readonly string[], stdin?: string): Promise<void> {
  const r = await b.exec(argv, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw provisionFailure(step, argv, r);
}

async function writeGuestFile(b: RunningBottle, step: ProvisionStep, f: GuestFile): Promise<void> {
  await must(b, step, ['/bin/sh', '-c', WRITE_FILE, 'write-file', f.path, (f.mode ?? 0o644).toString(8)], f.content);
}

export async function provision(plan: BottlePlan, b: RunningBottle, onStep: (step: ProvisionStep) => void, aborted: () => void): Promise<void> {
  onStep('ca-trust');
  let caPem: string;
  try {
    caPem = readFileSync(plan.ca.hostCertPath, 'utf8');
  } catch {
    throw new BottleError('LAUNCH_FAILED', `bottle CA certificate missing at ${plan.ca.hostCertPath}`, { fix: 'the plan pipeline writes it; relaunch' });
  }
  await must(b, 'ca-trust', ['/bin/sh', '-c', INSTALL_CA, 'ca-trust', plan.ca.guestCertPath, plan.ca.guestBundlePath], caPem);
  aborted();

  if (plan.agent.gitConfig.length > 0) onStep('git-config');
  if (plan.agent.gitConfig.length > 0) await must(b, 'git-config', gitConfigArgv(plan.agent.gitConfig));
  aborted();

  if (plan.agent.skills.length > 0) onStep('skills');
  for (const s of plan.agent.skills) await b.copyIn(s.hostPath, s.guestPath);
  aborted();

  const prompt = plan.agent.files.filter((f) => f.path === GUEST_PROMPT_FILE);
  const others = plan.agent.files.filter((f) => f.path !== GUEST_PROMPT_FILE);
  if (prompt.length > 0) onStep('prompt');
  for (const f of prompt) await writeGuestFile(b, 'prompt', f);
  aborted();

  if (others.length > 0) onStep('provider-files');
  for (const f of others) await writeGuestFile(b, 'provider-files', f);
  aborted();

  // null while supervise is not available: the plan drops the provider's command rather than
  // register a server that does not run (docs/decisions/supervise-not-available.md).
  if (plan.agent.mcpRegisterArgv) onStep('mcp');
  if (plan.agent.mcpRegisterArgv) await must(b, 'mcp', plan.agent.mcpRegisterArgv);
  aborted();

  if (plan.copyCwd) onStep('workspace');
  if (plan.copyCwd) await b.copyIn(plan.cwd, GUEST_WORKSPACE);
}

// `insteadOf` is multi-valued (one value per spelling of the upstream URL), so each key is cleared
// once and every value added: a plain `git config key value` would keep only the last spelling.
// One sandboxed exec for all pairs; keys and values travel as argv, never through shell quoting.
const APPLY_GIT_CONFIG = [
  'while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do git config --global --unset-all "$1" 2>/dev/null || true; shift; done',
  'shift',
  'while [ "$#" -gt 1 ]; do git config --global --add "$1" "$2" || exit 1; shift 2; done',
].join('\n');

export function gitConfigArgv(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const keys = [...new Set(pairs.map(([k]) => k))];
  return ['/bin/sh', '-c', APPLY_GIT_CONFIG, 'git-config', ...keys, '--', ...pairs.flat()];
}
