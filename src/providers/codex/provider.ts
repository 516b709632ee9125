/**
 * Built-in `codex` provider (docs/configuration.md §3.2). Everything about forwarding the host's
 * ChatGPT login lives in this folder: nothing else in the code base knows the option or its
 * synthetic reference exist (an architecture test enforces it).
 */
import { rejectSettings } from '../errors.js';
import { bundledDockerfile, tildePath } from '../paths.js';
import { authRoute, weakPassthroughRoute } from '../route.js';
import { PROMPT_PLACEHOLDER, type AgentProvider, type ProviderContext, type ProvisionFile, type ProvisionPlan } from '../types.js';
import { codexConfigToml } from './config-toml.js';
import { buildDummyAuth } from './dummy-auth.js';
import { readHostCodexLogin } from './host-auth.js';

/** The synthetic reference under which the host access token travels to egress. */
export const CODEX_HOST_TOKEN_REF = 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN';
/**
 * The synthetic references this provider may put in provisionedEnv (plan validation,
 * docs/architecture.md §4.3).
 */
export const CODEX_SYNTHETIC_REFS: readonly string[] = [CODEX_HOST_TOKEN_REF];

export const CODEX_API_HOSTS = ['api.openai.com', 'chatgpt.com'] as const;
const BYPASS = '--dangerously-bypass-approvals-and-sandbox';

export const codexProvider: AgentProvider = {
  apiVersion: 1,
  name: 'codex',
  validateSettings: rejectSettings('codex'),
  async plan(ctx: ProviderContext): Promise<ProvisionPlan> {
    const codexHome = `${ctx.guestHome}/.codex`;
    const files: ProvisionFile[] = [{ path: `${codexHome}/config.toml`, content: codexConfigToml(ctx.workdir, ctx.endpoints.superviseMcpUrl) }];
    // Codex reads global instructions from AGENTS.md in CODEX_HOME (a decision of this code base).
    if (ctx.agent.prompt !== '') files.push({ path: `${codexHome}/AGENTS.md`, content: `${ctx.agent.prompt}\n` });

    let egressRoutes = CODEX_API_HOSTS.map((h) => weakPassthroughRoute(h));
    const provisionedEnv: Record<string, string> = {};
    const notes: string[] = [];
    if (ctx.config.forwardHostCredentials) {
      const login = await readHostCodexLogin(ctx.host, ctx.now());
      provisionedEnv[CODEX_HOST_TOKEN_REF] = login.accessToken;
      egressRoutes = CODEX_API_HOSTS.map((h) => authRoute(h, 'Bearer', CODEX_HOST_TOKEN_REF));
      files.push({ path: `${codexHome}/auth.json`, content: `${JSON.stringify(buildDummyAuth(login.document), null, 2)}\n`, mode: 0o600 });
      // The one way other layers (preflight, info) learn about forwarding: a provider note.
      notes.push(`host ChatGPT login forwarded from ${tildePath(login.path, ctx.host.home)} (injected by egress; the agent gets a redacted copy)`);
    }
    return {
      template: 'codex',
      image: { tag: 'bot-bottle-codex:latest', dockerfile: bundledDockerfile('codex'), context: null, buildArgs: {} },
      interactiveArgv: ['codex', BYPASS],
      resumeArgv: ['codex', 'resume', '--last', BYPASS],
      headlessArgv: ['codex', 'exec', BYPASS, '--skip-git-repo-check', PROMPT_PLACEHOLDER],
      headlessResumeArgv: ['codex', 'exec', 'resume', '--last', BYPASS, '--skip-git-repo-check', PROMPT_PLACEHOLDER],
      // rustls ignores the system store; no OPENAI_API_KEY placeholder (it would force API-key mode).
      guestEnv: { CODEX_CA_CERTIFICATE: ctx.ca.guestBundlePath, CODEX_HOME: codexHome },
      hiddenEnvNames: [],
      files,
      skillsDir: `${codexHome}/skills`,
      transcriptPaths: [`${codexHome}/sessions`],
      mcpRegisterArgv: null,
      egressRoutes,
      provisionedEnv,
      notes,
    };
  },
};
