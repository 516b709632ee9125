/**
 * Which command each built-in provider runs, and whether a runtime that takes its binaries from
 * the host (netns: the sandbox binds the host's /usr, /bin, …) can run it. I/O-light: a PATH walk,
 * one realpath and one small read of the script header; no spawning. Used by `doctor`, and meant
 * for `start` to refuse early instead of failing inside the sandbox with exit 127.
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { findExecutable } from '../backends/platform.js';

export interface AgentCli {
  /** argv[0] of the provider's interactive command. */
  readonly command: string;
  /** The npm package that ships it (the bundled images install the same package). */
  readonly npmPackage: string;
  /** One line a person can run. */
  readonly install: string;
}

const cli = (command: string, npmPackage: string): AgentCli => ({ command, npmPackage, install: `npm install -g ${npmPackage}` });

// Kept beside the providers by a test that compares each command with the provider's own
// interactive argv (test/doctor/agent-cli.test.ts), so the two cannot drift apart silently.
const BUILTIN_CLIS: Readonly<Record<string, AgentCli>> = {
  claude: cli('claude', '@anthropic-ai/claude-code'),
  codex: cli('codex', '@openai/codex'),
  pi: cli('pi', '@mariozechner/pi-coding-agent'),
};

/** The CLI of a built-in provider; null for a plugin, whose command is known only once it plans. */
export function agentCliFor(providerName: string): AgentCli | null {
  return Object.prototype.hasOwnProperty.call(BUILTIN_CLIS, providerName) ? (BUILTIN_CLIS[providerName] ?? null) : null;
}

export interface CommandLookup {
  /** PATH to search; default the host's. */
  readonly path?: string;
  /** When set, the command (after symlinks) and its script interpreter must live under one of these. */
  readonly visibleRoots?: readonly string[];
}

export type CommandCheck =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: 'missing' | 'invisible' | 'interpreter'; readonly problem: string };

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

const under = (p: string, roots: readonly string[]): boolean => roots.some((r) => p === r || p.startsWith(`${r}/`));

/** `#!/usr/bin/env node` → {env: 'node'}; `#!/usr/bin/python3 -u` → {abs: …}; a binary → null. */
function interpreterOf(file: string): { viaEnv: string } | { abs: string } | null {
  let head = '';
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(256);
    head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
  if (!head.startsWith('#!')) return null;
  const words = (head.slice(2).split('\n')[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (first === undefined) return null;
  if (/\/env$/.test(first)) {
    const prog = words.slice(1).find((w) => !w.startsWith('-') && !w.includes('='));
    return prog === undefined ? null : { viaEnv: prog };
  }
  return isAbsolute(first) ? { abs: first } : null;
}

/**
 * Whether `command` can be started from `lookup.path`, and — for a sandbox that sees only some
 * host directories — whether the file it resolves to and its `#!` interpreter are inside them
 * (a CLI installed under /root/.nvm and symlinked into /usr/local/bin is on PATH yet missing in
 * the sandbox).
 */
export function hostHasCommand(command: string, lookup: CommandLookup = {}): CommandCheck {
  const path = lookup.path ?? process.env.PATH ?? '';
  const found = findExecutable(command, path);
  if (found === null) return { ok: false, reason: 'missing', problem: `${command} is not on PATH` };
  const roots = lookup.visibleRoots;
  if (roots === undefined) return { ok: true, path: found };
  const real = realOrNull(found) ?? found;
  if (!under(real, roots)) {
    return { ok: false, reason: 'invisible', problem: `${found} resolves to ${real}, outside the host directories the sandbox sees` };
  }
  const interp = interpreterOf(real);
  if (interp !== null) {
    const name = 'viaEnv' in interp ? interp.viaEnv : interp.abs;
    const at = 'viaEnv' in interp ? findExecutable(interp.viaEnv, path) : interp.abs;
    const realInterp = at === null ? null : realOrNull(at);
    if (realInterp === null || !under(realInterp, roots)) {
      const where = at === null ? 'is not on PATH' : `resolves to ${realInterp ?? at}, outside the host directories the sandbox sees`;
      return { ok: false, reason: 'interpreter', problem: `${found} runs ${name}, which ${where}` };
    }
  }
  return { ok: true, path: found };
}
