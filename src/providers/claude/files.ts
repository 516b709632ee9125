/** Guest files that let Claude Code start unattended: onboarding done, workdir trusted, bypass accepted. */
import type { ProviderContext, ProvisionFile } from '../types.js';

const ANSI: Record<string, string> = {
  red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36', white: '37',
};

export function claudeFiles(ctx: ProviderContext): ProvisionFile[] {
  const claudeJson = {
    hasCompletedOnboarding: true,
    bypassPermissionsModeAccepted: true,
    autoUpdates: false,
    projects: {
      [ctx.workdir]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] },
    },
  };
  // The status line shows which bottle this is, in the operator's colour; printf keeps it
  // independent of the label's characters (the label reaches it only through the env).
  const colour = ctx.color ? ANSI[ctx.color] : undefined;
  const command = colour
    ? `printf '\\033[${colour}m[bottle %s]\\033[0m' "$BOT_BOTTLE_LABEL"`
    : `printf '[bottle %s]' "$BOT_BOTTLE_LABEL"`;
  const settings = { statusLine: { type: 'command', command } };
  return [
    { path: `${ctx.guestHome}/.claude.json`, content: `${JSON.stringify(claudeJson, null, 2)}\n` },
    { path: `${ctx.guestHome}/.claude/settings.json`, content: `${JSON.stringify(settings, null, 2)}\n` },
  ];
}
