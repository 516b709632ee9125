/**
 * Built-in `claude` provider (docs/configuration.md §3.2): Claude Code with the OAuth token
 * injected by egress.
 */
import { GUEST_PROMPT_FILE } from '../../plan/bottle-plan.js';
import { AGENT_TOOL_TIMEOUT_SECONDS } from '../../supervise/config.js';
import { rejectSettings } from '../errors.js';
import { bundledDockerfile } from '../paths.js';
import { authRoute, weakPassthroughRoute } from '../route.js';
import { EGRESS_PLACEHOLDER, PROMPT_PLACEHOLDER, type AgentProvider, type ProviderContext, type ProvisionPlan, type ProviderRoute } from '../types.js';
import { claudeFiles } from './files.js';

export const CLAUDE_API_HOST = 'api.anthropic.com';

export const claudeProvider: AgentProvider = {
  apiVersion: 1,
  name: 'claude',
  validateSettings: rejectSettings('claude'),
  async plan(ctx: ProviderContext): Promise<ProvisionPlan> {
    const base = ['claude', '--dangerously-skip-permissions'];
    if (ctx.agent.prompt !== '') base.push('--append-system-prompt-file', GUEST_PROMPT_FILE);
    const guestEnv: Record<string, string> = {
      // Always off (a decision of this code base): the traffic they cause would be blocked by
      // egress anyway.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      // The supervise tools block until the operator answers (docs/architecture.md §7a).
      MCP_TOOL_TIMEOUT: String(AGENT_TOOL_TIMEOUT_SECONDS * 1000),
    };
    const hiddenEnvNames: string[] = [];
    let route: ProviderRoute;
    const tokenRef = ctx.config.authToken;
    if (tokenRef) {
      // The CLI refuses to start without a token; the real one is injected by egress.
      guestEnv.CLAUDE_CODE_OAUTH_TOKEN = EGRESS_PLACEHOLDER;
      hiddenEnvNames.push('CLAUDE_CODE_OAUTH_TOKEN');
      route = authRoute(CLAUDE_API_HOST, 'Bearer', tokenRef);
    } else {
      // A login performed inside the bottle keeps working (certificate pinning-safe).
      route = weakPassthroughRoute(CLAUDE_API_HOST);
    }
    return {
      template: 'claude',
      image: { tag: 'bot-bottle-claude:latest', dockerfile: bundledDockerfile('claude'), context: null, buildArgs: {} },
      interactiveArgv: base,
      resumeArgv: [...base, '--continue'],
      headlessArgv: [...base, '-p', PROMPT_PLACEHOLDER],
      headlessResumeArgv: [...base, '--continue', '-p', PROMPT_PLACEHOLDER],
      guestEnv,
      hiddenEnvNames,
      files: claudeFiles(ctx),
      skillsDir: `${ctx.guestHome}/.claude/skills`,
      transcriptPaths: [`${ctx.guestHome}/.claude/projects`],
      mcpRegisterArgv:
        ctx.endpoints.superviseMcpUrl === null ? null : ['claude', 'mcp', 'add', '--scope', 'user', '--transport', 'http', 'supervise', ctx.endpoints.superviseMcpUrl],
      egressRoutes: [route],
      provisionedEnv: {},
      notes: [],
    };
  },
};
