/**
 * Can the agent's CLI run on the chosen backend? On a backend that runs the host's binaries
 * (Backend.agentBinaryFromHost: netns) a CLI missing from the host would otherwise surface as
 * exit 127 inside a fully built bottle; `start` and `resume` ask here first and refuse before
 * anything exists (docs/decisions/agent-cli-preflight.md). Backend-neutral: the backend only
 * says which PATH its sandbox searches and which host directories it sees. Same lookup as
 * `doctor` (src/doctor/agents.ts), so the two never disagree.
 */
import { accessSync, constants } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { BottleError } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import { agentCliFor, hostHasCommand, type CommandCheck } from '../plan/agent-cli.js';

export interface AgentCliQuestion {
  readonly backend: Backend;
  readonly agentName: string;
  /** The provider template (built-ins give an install line). */
  readonly template: string;
  /** argv the launch will run; absent before planning (then only built-ins are known). */
  readonly argv?: readonly string[];
  /** The operator's PATH, only to say where an unseen CLI is (default process.env.PATH). */
  readonly hostPath?: string;
}

function check(command: string, sandbox: { readonly path: string; readonly visibleRoots: readonly string[] }, hostPath: string): CommandCheck {
  if (isAbsolute(command)) {
    try {
      accessSync(command, constants.X_OK);
    } catch {
      return { ok: false, reason: 'missing', problem: `${command} does not exist or is not executable` };
    }
    // Found in its own directory first, so this judges exactly that file.
    return hostHasCommand(basename(command), { path: dirname(command), visibleRoots: sandbox.visibleRoots });
  }
  const r = hostHasCommand(command, sandbox);
  if (r.ok || r.reason !== 'missing') return r;
  // On the operator's PATH but not the sandbox's (~/.local/bin, a version manager): say where.
  const onHost = hostHasCommand(command, { path: hostPath });
  return onHost.ok ? { ok: false, reason: 'invisible', problem: `it is at ${onHost.path}, which the sandbox does not see` } : r;
}

/** null = fine (or not knowable yet); else the one error to refuse with (exit 3). */
export function agentCliProblem(q: AgentCliQuestion): BottleError | null {
  const sandbox = q.backend.agentBinaryFromHost;
  if (sandbox === null) return null;
  const builtin = agentCliFor(q.template);
  const command = q.argv?.[0] ?? builtin?.command;
  // A relative path with a slash resolves inside the guest's working directory: nothing to ask the host.
  if (command === undefined || (!isAbsolute(command) && command.includes('/'))) return null;
  const r = check(command, sandbox, q.hostPath ?? process.env.PATH ?? '');
  if (r.ok) return null;
  const cli = builtin !== null && builtin.command === command ? builtin : null;
  const what = `agent "${q.agentName}" runs ${command}`;
  const why = `(the ${q.backend.name} backend runs the host's binary)`;
  const data = { agent: q.agentName, command, reason: r.reason };
  const under = sandbox.visibleRoots.includes('/usr') ? '/usr' : `one of ${sandbox.visibleRoots.join(', ')}`;
  switch (r.reason) {
    case 'missing':
      return new BottleError('BACKEND_UNAVAILABLE', `${what}, which is not installed on this host ${why}`, {
        fix: cli !== null ? `install it (${cli.install})` : `install ${command} on the host (the "${q.template}" provider plugin says how)`,
        data,
      });
    case 'invisible':
      return new BottleError('BACKEND_UNAVAILABLE', `${what}, but ${r.problem} ${why}`, {
        fix: `install it under ${under}${cli !== null ? ` (npm install -g --prefix /usr/local ${cli.npmPackage})` : ''}`,
        data,
      });
    case 'interpreter':
      return new BottleError('BACKEND_UNAVAILABLE', `${what}, which the sandbox cannot start: ${r.problem} ${why}`, {
        fix: `install its interpreter under ${under}`,
        data,
      });
  }
}
