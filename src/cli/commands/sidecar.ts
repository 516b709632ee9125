import type { Command } from 'commander';

// Placeholder until the sidecar supervisor lands. Daemon subcommands (`sidecar egress`,
// `sidecar git-gate`) are registered from their own modules: sidecar-egress.ts, sidecar-git-gate.ts.
export function registerSidecar(_program: Command): void {}
