import type { Command } from 'commander';

// Placeholder until this command lands; registers nothing so the CLI never pretends to do it.
export function registerStart(_program: Command): void {}
