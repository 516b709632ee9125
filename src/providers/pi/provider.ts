/**
 * Built-in `pi` provider (docs/configuration.md §3.2): pi-coding-agent against an OpenAI-compatible
 * endpoint.
 */
import { bundledDockerfile } from '../paths.js';
import { authRoute, weakRoute } from '../route.js';
import { EGRESS_PLACEHOLDER, PROMPT_PLACEHOLDER, type AgentProvider, type ProviderContext, type ProvisionFile, type ProvisionPlan } from '../types.js';
import { parsePiSettings, type PiSettings } from './settings.js';

function routeHost(url: URL): { host: string; port?: number } {
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  return url.port === '' ? { host } : { host, port: Number(url.port) };
}

export function piModelsJson(s: PiSettings): string {
  const provider: Record<string, unknown> = {
    baseUrl: s.baseUrl.toString().replace(/\/$/, ''),
    api: s.api,
    apiKey: EGRESS_PLACEHOLDER,
    models: s.models.map((m) => ({ id: m.id, name: m.name, contextWindow: m.contextWindow, maxTokens: m.maxTokens, reasoning: m.reasoning })),
  };
  if (s.compat !== null) provider.compat = s.compat;
  return `${JSON.stringify({ providers: { [s.provider]: provider } }, null, 2)}\n`;
}

export const piProvider: AgentProvider = {
  apiVersion: 1,
  name: 'pi',
  validateSettings(settings) {
    parsePiSettings(settings);
  },
  async plan(ctx: ProviderContext): Promise<ProvisionPlan> {
    const s = parsePiSettings(ctx.config.settings);
    const dir = `${ctx.guestHome}/.pi/agent`;
    const files: ProvisionFile[] = [
      { path: `${dir}/models.json`, content: piModelsJson(s) },
      { path: `${dir}/settings.json`, content: `${JSON.stringify({ defaultProvider: s.provider, defaultModel: s.defaultModel }, null, 2)}\n` },
    ];
    if (ctx.agent.prompt !== '') files.push({ path: `${dir}/AGENTS.md`, content: `${ctx.agent.prompt}\n` });
    const { host, port } = routeHost(s.baseUrl);
    const route = s.apiKeyRef ? authRoute(host, 'Bearer', s.apiKeyRef, port) : weakRoute(host, port);
    const args = [...s.startupArgs];
    return {
      template: 'pi',
      image: { tag: 'bot-bottle-pi:latest', dockerfile: bundledDockerfile('pi'), context: null, buildArgs: {} },
      interactiveArgv: ['pi', ...args],
      resumeArgv: ['pi', '--continue', ...args],
      headlessArgv: ['pi', ...args, '-p', PROMPT_PLACEHOLDER],
      headlessResumeArgv: ['pi', '--continue', ...args, '-p', PROMPT_PLACEHOLDER],
      guestEnv: {},
      hiddenEnvNames: [],
      files,
      skillsDir: `${dir}/skills`,
      transcriptPaths: [`${dir}/sessions`],
      mcpRegisterArgv: null,
      egressRoutes: [route],
      provisionedEnv: {},
      notes: ['supervise: this provider has no MCP support; supervise tools are unavailable to this agent'],
    };
  },
};
