/**
 * Files written by `bot-bottle init` (docs/cli.md#commands). Each MUST validate
 * (test/cli/init.test.ts).
 */

export type InitProvider = 'claude' | 'codex' | 'pi';
export const INIT_PROVIDERS: readonly InitProvider[] = ['claude', 'codex', 'pi'];

const ROUTE_EXAMPLE = `  # Default deny: the agent reaches only the provider's API plus the routes listed here.
  # routes:
  #   - host: api.github.com
  #     matches:
  #       - methods: [GET]
  #         paths: [{type: prefix, value: /repos/acme/}]
  #     auth: {scheme: Bearer, token_ref: GITHUB_TOKEN}   # name of a HOST variable, never a value
  #   - host: registry.npmjs.org
  #     matches: [{methods: [GET, HEAD]}]
  routes: []
  log: 1`;

const COMMON_TAIL = `# env:                      # visible to the agent: configuration, not credentials
#   TZ: Europe/Berlin
#   NPM_CONFIG_REGISTRY: "\${NPM_REGISTRY_URL}"   # copied from the host at launch
#   DB_PASSWORD: "?Password for the dev database" # asked on the terminal at launch
# git-gate:                 # pushes leave only through the git gate (scanned, policed)
#   user: {name: Assistant Bot, email: bot@example.com}
#   repos:
#     webapp:
#       url: ssh://git@gitea.example.com:2222/acme/webapp.git
#       key: {provider: static, path: ~/.ssh/deploy_webapp}
#       host_key: "ssh-ed25519 AAAA..."              # ssh-keyscan -p 2222 gitea.example.com
#       protected_refs: [main]`;

export function bottleTemplate(provider: InitProvider): string {
  switch (provider) {
    case 'claude':
      return `---
# Base bottle for Claude Code. The subscription token stays on the host: egress injects it.
# Get one with "claude setup-token", then: export BOT_BOTTLE_CLAUDE_OAUTH_TOKEN=...
agent_provider:
  template: claude
  auth_token: BOT_BOTTLE_CLAUDE_OAUTH_TOKEN
egress:
${ROUTE_EXAMPLE}
${COMMON_TAIL}
---
Base bottle: Claude Code with its subscription token injected by egress. No other hosts.
Other bottles can build on it with \`extends: claude\`.
`;
    case 'codex':
      return `---
# Base bottle for the Codex CLI. Your host ChatGPT login ("codex login --device-auth") is
# forwarded through egress; the token itself never enters the bottle.
agent_provider:
  template: codex
  forward_host_credentials: true
egress:
${ROUTE_EXAMPLE}
${COMMON_TAIL}
---
Base bottle: Codex CLI using the host's ChatGPT login through egress. No other hosts.
`;
    case 'pi':
      return `---
# Base bottle for pi with an OpenAI-compatible endpoint. Adjust base_url and models.
agent_provider:
  template: pi
  settings:
    provider: ollama
    base_url: https://llm.example.com/v1
    api_key_ref: LLM_API_KEY        # host variable; egress injects it as a Bearer token
    models:
      - {id: qwen2.5-coder:14b, context_window: 32768}
    default_model: qwen2.5-coder:14b
egress:
${ROUTE_EXAMPLE}
${COMMON_TAIL}
---
Base bottle: pi talking to one OpenAI-compatible endpoint. No other hosts.
`;
  }
}

export function agentTemplate(provider: InitProvider): string {
  return `---
description: General-purpose assistant in the ${provider} bottle.
bottle: ${provider}
# skills: [run-tests]            # directories under ~/.claude/skills/
# git-gate:
#   user: {name: Assistant Bot}  # agents may only set the identity
---
You are a careful assistant working inside a sandbox. Explain what you change, keep commits
small, and push work only through the git gate.
`;
}
