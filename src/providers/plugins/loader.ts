/**
 * User provider plugins from `<home>/contrib/<name>/` (docs/configuration.md §7). A plugin runs in
 * the CLI process with the operator's privileges, so it is loaded only when a selected bottle names
 * it, and only from files the operator owns that nobody else can write (the stance ssh takes with
 * key files). `<cwd>/.bot-bottle/contrib/` is never consulted: a repository cannot ship code.
 */
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { BottleError } from '../../errors.js';
import type { AgentProvider } from '../types.js';
import type { tsImport as TsImportFn } from 'tsx/esm/api';

type TsImport = typeof TsImportFn;

export const PLUGIN_ENTRIES = ['provider.ts', 'provider.mts', 'provider.js', 'provider.mjs'] as const;

export interface LoadedPlugin {
  readonly provider: AgentProvider;
  readonly dir: string;
  /** `<dir>/Dockerfile` when present: step 3 of the image cascade (build context = dir). */
  readonly dockerfile: string | null;
}

function pluginError(name: string, message: string, fix?: string): BottleError {
  return new BottleError('PROVIDER_CONFIG', `plugin "${name}" failed to load: ${message}`, fix === undefined ? {} : { fix });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses files owned by someone else or writable by group/others. */
async function checkTrust(name: string, path: string, what: string): Promise<void> {
  const st = await stat(path);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw pluginError(name, `${what} ${path} is owned by uid ${st.uid}, not by you`, `chown it to yourself`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw pluginError(name, `${what} ${path} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`, `run "chmod go-w ${path}"`);
  }
}

const providerShape = z.looseObject({
  apiVersion: z.literal(1),
  name: z.string(),
  plan: z.custom<AgentProvider['plan']>((v) => typeof v === 'function', 'plan must be a function'),
  validateSettings: z.custom<NonNullable<AgentProvider['validateSettings']>>((v) => typeof v === 'function', 'validateSettings must be a function').optional(),
});

function describeIssue(err: z.ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid export';
  return i.path.length > 0 ? `export.${i.path.join('.')}: ${i.message}` : i.message;
}

export async function loadPlugin(home: string, name: string): Promise<LoadedPlugin> {
  const dir = join(home, 'contrib', name);
  if (!(await exists(dir))) {
    throw new BottleError('PROVIDER_CONFIG', `agent_provider.template "${name}" is not a built-in provider and ${dir} does not exist`, {
      fix: `create the plugin directory ${dir} with a provider.ts, or use claude, codex or pi`,
    });
  }
  await checkTrust(name, dir, 'directory');
  const present: string[] = [];
  for (const entry of PLUGIN_ENTRIES) if (await exists(join(dir, entry))) present.push(entry);
  if (present.length !== 1) {
    throw pluginError(
      name,
      present.length === 0 ? `no entry file in ${dir}` : `more than one entry file in ${dir} (${present.join(', ')})`,
      `keep exactly one of ${PLUGIN_ENTRIES.join(', ')}`,
    );
  }
  const entry = join(dir, present[0]!);
  await checkTrust(name, entry, 'entry file');

  let mod: Record<string, unknown>;
  try {
    const url = pathToFileURL(entry).href;
    if (/\.m?ts$/.test(entry)) {
      // tsx is an optional peer (docs/decisions/packaging.md): only TypeScript plugins need it.
      let tsImport: TsImport;
      try {
        ({ tsImport } = await import('tsx/esm/api'));
      } catch {
        throw new BottleError('PROVIDER_CONFIG', `plugin "${name}" is TypeScript (${present[0]}) and this installation has no TypeScript loader`, {
          fix: `compile it to provider.js (or provider.mjs), or install tsx next to bot-bottle (npm install -g tsx)`,
        });
      }
      mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(url)) as Record<string, unknown>;
    }
  } catch (err) {
    if (err instanceof BottleError) throw err;
    throw pluginError(name, err instanceof Error ? err.message : String(err));
  }
  let exported: unknown = mod.default ?? mod.provider;
  // A provider.ts outside a `"type": "module"` package is compiled as CommonJS by tsx, so its
  // ESM exports arrive one level down (module.exports = {default, provider}).
  if (typeof exported === 'object' && exported !== null && !('apiVersion' in exported)) {
    const inner = exported as Record<string, unknown>;
    if (inner.default !== undefined || inner.provider !== undefined) exported = inner.default ?? inner.provider;
  }
  if (typeof exported === 'function') {
    try {
      exported = await (exported as () => unknown)();
    } catch (err) {
      throw pluginError(name, `factory threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const parsed = providerShape.safeParse(exported);
  if (!parsed.success) throw pluginError(name, describeIssue(parsed.error), 'export default an AgentProvider (apiVersion 1, name, plan)');
  if (parsed.data.name !== name) {
    throw pluginError(name, `its provider is named "${parsed.data.name}" but lives in contrib/${name}/`, 'make the name equal the directory name');
  }
  const dockerfile = join(dir, 'Dockerfile');
  return { provider: exported as AgentProvider, dir, dockerfile: (await exists(dockerfile)) ? dockerfile : null };
}
