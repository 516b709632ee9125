/**
 * Agent CLI checks of `doctor`: for each agent, the command its provider runs, and whether the
 * backend being judged can start it. On netns the sandbox runs the host's binary from the bound
 * system directories, so the CLI must be installed there (docs/architecture.md §8).
 */
import { agentCliFor, hostHasCommand, type CommandCheck, type CommandLookup } from '../plan/agent-cli.js';
import { fail, ok, skip, type Check } from './check.js';
import type { AgentFact } from './manifests.js';

const S = 'agents';

/** Where the netns sandbox finds a command: its own PATH, resolved inside the bound system paths. */
export async function netnsAgentLookup(): Promise<Required<CommandLookup>> {
  const [{ DEFAULT_PATH }, { SYSTEM_PATHS }] = await Promise.all([import('../backends/netns/running.js'), import('../backends/netns/sandbox-argv.js')]);
  return { path: DEFAULT_PATH, visibleRoots: SYSTEM_PATHS };
}

function fixFor(r: Extract<CommandCheck, { ok: false }>, install: string, npmPackage: string): string {
  switch (r.reason) {
    case 'missing':
      return `install it on the host (${install}) or use --backend docker, whose agent image ships it`;
    case 'invisible':
      return `install it under /usr, which the sandbox sees (npm install -g --prefix /usr/local ${npmPackage})`;
    case 'interpreter':
      return 'install its interpreter under /usr, which the sandbox sees (e.g. apt-get install nodejs)';
  }
}

/** `backend` null: nothing to judge against (no usable backend on this machine). */
export async function agentChecks(agents: readonly AgentFact[], backend: string | null, env: Readonly<Record<string, string | undefined>>): Promise<Check[]> {
  if (agents.length === 0) return [skip(S, 'agents', 'no agents defined (bot-bottle init writes an example)')];
  const lookup = backend === 'netns' ? await netnsAgentLookup() : null;
  return agents.map((a): Check => {
    const id = `agent.${a.name}.cli`;
    if (a.template === null) return skip(S, id, `agent ${a.name}: no loadable default bottle, so its CLI is not known`);
    const cli = agentCliFor(a.template);
    if (cli === null) return skip(S, id, `agent ${a.name}: plugin provider ${a.template} names its command only when it plans; not checked`);
    if (backend === null) return skip(S, id, `agent ${a.name} (${cli.command}): not checked, no backend is usable here`);
    if (lookup === null) return skip(S, id, `agent ${a.name} (${cli.command}): not checked, backend ${backend} runs the CLI from its agent image, not the host`);
    const r = hostHasCommand(cli.command, lookup);
    if (r.ok) return ok(S, id, `agent ${a.name}: ${cli.command} (${r.path}) runs on ${backend}`);
    const why = `${backend} runs the host's ${cli.command} from its system directories`;
    if (r.reason === 'missing') {
      // On the operator's PATH but not the sandbox's (~/.local/bin, a version manager): say where.
      const onHost = hostHasCommand(cli.command, { path: env.PATH ?? '' });
      if (onHost.ok) {
        return fail(S, id, `agent ${a.name}: ${cli.command} is at ${onHost.path}, which the sandbox does not see (${why})`, fixFor({ ...r, reason: 'invisible' }, cli.install, cli.npmPackage));
      }
      return fail(S, id, `agent ${a.name}: ${cli.command} is not installed on the host (${why})`, fixFor(r, cli.install, cli.npmPackage));
    }
    return fail(S, id, `agent ${a.name}: ${r.problem} (${why})`, fixFor(r, cli.install, cli.npmPackage));
  });
}
