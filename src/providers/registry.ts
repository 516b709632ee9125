/**
 * Template name → provider. Built-ins win; a `contrib/` directory with a built-in's name is
 * ignored with a warning. Plugins load lazily (only for the selected template).
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { claudeProvider } from './claude/provider.js';
import { CODEX_SYNTHETIC_REFS, codexProvider } from './codex/provider.js';
import { piProvider } from './pi/provider.js';
import { loadPlugin } from './plugins/loader.js';
import type { AgentProvider } from './types.js';

export const BUILTIN_PROVIDERS: Readonly<Record<string, AgentProvider>> = {
  claude: claudeProvider,
  codex: codexProvider,
  pi: piProvider,
};

/** Fixed synthetic references of all built-ins: reserved for their owner alone (plan validation). */
export const ALL_FIXED_SYNTHETIC_REFS: readonly string[] = [...CODEX_SYNTHETIC_REFS];

export interface ResolvedProvider {
  readonly provider: AgentProvider;
  readonly builtin: boolean;
  /** Fixed synthetic references this provider may put in provisionedEnv besides its prefix. */
  readonly syntheticRefs: readonly string[];
  readonly pluginDir: string | null;
  readonly pluginDockerfile: string | null;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function resolveProvider(
  template: string,
  opts: { home: string; cwd: string; warn(message: string): void },
): Promise<ResolvedProvider> {
  if (await isDir(join(opts.cwd, '.bot-bottle', 'contrib'))) {
    opts.warn(`${join(opts.cwd, '.bot-bottle', 'contrib')} is ignored: provider plugins load only from ${join(opts.home, 'contrib')}`);
  }
  const builtin = BUILTIN_PROVIDERS[template];
  if (builtin) {
    if (await isDir(join(opts.home, 'contrib', template))) {
      opts.warn(`${join(opts.home, 'contrib', template)} is ignored: "${template}" is a built-in provider name`);
    }
    return {
      provider: builtin,
      builtin: true,
      syntheticRefs: template === 'codex' ? CODEX_SYNTHETIC_REFS : [],
      pluginDir: null,
      pluginDockerfile: null,
    };
  }
  const plugin = await loadPlugin(opts.home, template);
  return { provider: plugin.provider, builtin: false, syntheticRefs: [], pluginDir: plugin.dir, pluginDockerfile: plugin.dockerfile };
}
