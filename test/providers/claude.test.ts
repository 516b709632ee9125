import { describe, expect, it } from 'vitest';
import { claudeProvider } from '../../src/providers/claude/provider.js';
import { makeCtx } from './fixtures.js';

describe('claude provider', () => {
  it('P18: auth_token → strong Bearer route, hidden placeholder, DISABLE vars', async () => {
    const plan = await claudeProvider.plan(makeCtx({ config: { authToken: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN' } }));
    expect(plan.egressRoutes).toHaveLength(1);
    const r = plan.egressRoutes[0]!;
    expect(r.host).toBe('api.anthropic.com');
    expect(r.auth).toEqual({ scheme: 'Bearer', tokenRef: 'BOT_BOTTLE_CLAUDE_OAUTH_TOKEN' });
    expect(r.weak).toBeUndefined();
    expect(r.tlsPassthrough).toBe(false);
    expect(r.dlp.outboundOnMatch).toBe('redact');
    expect(plan.guestEnv.CLAUDE_CODE_OAUTH_TOKEN).toBe('egress-placeholder');
    expect(plan.hiddenEnvNames).toContain('CLAUDE_CODE_OAUTH_TOKEN');
    expect(plan.guestEnv.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(plan.guestEnv.DISABLE_ERROR_REPORTING).toBe('1');
    expect(plan.guestEnv.DISABLE_AUTOUPDATER).toBe('1');
    expect(plan.guestEnv.MCP_TOOL_TIMEOUT).toBe('660000');
    expect(plan.provisionedEnv).toEqual({});
  });

  it('P19: without auth_token → weak passthrough route, no placeholder', async () => {
    const plan = await claudeProvider.plan(makeCtx());
    expect(plan.egressRoutes).toEqual([expect.objectContaining({ host: 'api.anthropic.com', tlsPassthrough: true, weak: true })]);
    expect(plan.egressRoutes[0]!.auth).toBeUndefined();
    expect(plan.guestEnv).not.toHaveProperty('CLAUDE_CODE_OAUTH_TOKEN');
    expect(plan.hiddenEnvNames).toEqual([]);
    expect(plan.guestEnv.DISABLE_AUTOUPDATER).toBe('1');
  });

  it('P20: prompt file flag only with a non-empty prompt', async () => {
    const empty = await claudeProvider.plan(makeCtx());
    expect(empty.interactiveArgv).toEqual(['claude', '--dangerously-skip-permissions']);
    expect(empty.interactiveArgv).not.toContain('--append-system-prompt-file');
    const withPrompt = await claudeProvider.plan(makeCtx({ agent: { name: 'a', prompt: 'Be careful.', skills: [] } }));
    expect(withPrompt.interactiveArgv).toEqual(['claude', '--dangerously-skip-permissions', '--append-system-prompt-file', '/home/node/.bot-bottle-prompt.txt']);
    expect(withPrompt.resumeArgv.at(-1)).toBe('--continue');
  });

  it('P21: headless argv ends with -p and the prompt placeholder as one element', async () => {
    const plan = await claudeProvider.plan(makeCtx({ headless: true }));
    expect(plan.headlessArgv.slice(-2)).toEqual(['-p', '{{prompt}}']);
    expect(plan.headlessResumeArgv.slice(-3)).toEqual(['--continue', '-p', '{{prompt}}']);
    // The pipeline substitutes the prompt as exactly one element, unchanged (no shell).
    const prompt = 'fix "it"; rm -rf /';
    const argv = plan.headlessArgv.map((a) => (a === '{{prompt}}' ? prompt : a));
    expect(argv.at(-1)).toBe(prompt);
    expect(argv.at(-2)).toBe('-p');
  });

  it('writes ~/.claude.json trusting the workdir, skills dir, MCP registration, transcript path', async () => {
    const plan = await claudeProvider.plan(makeCtx({ workdir: '/home/node/workspace' }));
    const cj = plan.files.find((f) => f.path === '/home/node/.claude.json');
    const doc = JSON.parse(cj!.content) as { hasCompletedOnboarding: boolean; bypassPermissionsModeAccepted: boolean; projects: Record<string, { hasTrustDialogAccepted: boolean }> };
    expect(doc.hasCompletedOnboarding).toBe(true);
    expect(doc.bypassPermissionsModeAccepted).toBe(true);
    expect(doc.projects['/home/node/workspace']!.hasTrustDialogAccepted).toBe(true);
    expect(plan.skillsDir).toBe('/home/node/.claude/skills');
    expect(plan.transcriptPaths).toEqual(['/home/node/.claude/projects']);
    expect(plan.mcpRegisterArgv).toEqual(['claude', 'mcp', 'add', '--scope', 'user', '--transport', 'http', 'supervise', 'http://supervise:9100/mcp']);
    expect(plan.image.tag).toBe('bot-bottle-claude:latest');
    expect(plan.files.some((f) => f.path === '/home/node/.claude/settings.json' && f.content.includes('statusLine'))).toBe(true);
  });

  it('rejects settings', () => {
    expect(() => claudeProvider.validateSettings!({ x: 1 })).toThrow(/settings is not supported/);
  });
});
