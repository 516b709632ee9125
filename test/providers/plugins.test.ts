import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveProvider } from '../../src/providers/registry.js';
import { loadPlugin } from '../../src/providers/plugins/loader.js';
import { makeCtx } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'bb-plugins-'));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

const PLUGIN_TS = (name: string) => `
import type { AgentProvider } from '${join(process.cwd(), 'src/providers/types.js')}';
const p: AgentProvider = {
  apiVersion: 1,
  name: ${JSON.stringify(name)},
  async plan(ctx) {
    const n: number = 1; // TypeScript syntax proves tsx compiled it
    return {
      template: ${JSON.stringify(name)},
      image: { tag: 'bot-bottle-${name}:latest', dockerfile: null, context: null, buildArgs: {} },
      interactiveArgv: ['mytool'], resumeArgv: ['mytool', '--resume'],
      headlessArgv: ['mytool', '{{prompt}}'], headlessResumeArgv: ['mytool', '--resume', '{{prompt}}'],
      guestEnv: { MYTOOL_N: String(n) }, hiddenEnvNames: [], files: [], skillsDir: ctx.guestHome + '/.mytool/skills',
      transcriptPaths: [], mcpRegisterArgv: null, egressRoutes: [], provisionedEnv: {}, notes: [],
    };
  },
};
export default p;
`;

function writePlugin(home: string, dir: string, file: string, content: string, mode = 0o644): string {
  const d = join(home, 'contrib', dir);
  mkdirSync(d, { recursive: true, mode: 0o755 });
  chmodSync(join(home, 'contrib'), 0o755);
  chmodSync(d, 0o755);
  const f = join(d, file);
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

describe('user plugins', () => {
  it('loads a TypeScript plugin through tsx and plans with it', async () => {
    const home = tempHome();
    writePlugin(home, 'mytool', 'provider.ts', PLUGIN_TS('mytool'));
    writeFileSync(join(home, 'contrib', 'mytool', 'Dockerfile'), 'FROM scratch\n');
    const r = await resolveProvider('mytool', { home, cwd: home, warn: () => {} });
    expect(r.builtin).toBe(false);
    expect(r.pluginDockerfile).toBe(join(home, 'contrib', 'mytool', 'Dockerfile'));
    const plan = await r.provider.plan(makeCtx({ config: { template: 'mytool' } }));
    expect(plan.guestEnv.MYTOOL_N).toBe('1');
  });

  it('loads a JS plugin exporting a factory under `provider`', async () => {
    const home = tempHome();
    writePlugin(home, 'jstool', 'provider.mjs', `export const provider = () => ({ apiVersion: 1, name: 'jstool', plan: async () => ({}) });\n`);
    const p = await loadPlugin(home, 'jstool');
    expect(p.provider.name).toBe('jstool');
  });

  it('P43: contrib/claude/ is ignored with a warning; the built-in is used', async () => {
    const home = tempHome();
    writePlugin(home, 'claude', 'provider.mjs', `throw new Error('must never be imported');\n`);
    const warnings: string[] = [];
    const r = await resolveProvider('claude', { home, cwd: home, warn: (m) => warnings.push(m) });
    expect(r.builtin).toBe(true);
    expect(r.provider.name).toBe('claude');
    expect(warnings.join('\n')).toMatch(/contrib\/claude is ignored: "claude" is a built-in provider name/);
  });

  it('cwd .bot-bottle/contrib is ignored with a warning', async () => {
    const home = tempHome();
    const cwd = tempHome();
    mkdirSync(join(cwd, '.bot-bottle', 'contrib', 'evil'), { recursive: true });
    const warnings: string[] = [];
    await expect(resolveProvider('evil', { home, cwd, warn: (m) => warnings.push(m) })).rejects.toThrow(/contrib\/evil does not exist/);
    expect(warnings.join('\n')).toMatch(/\.bot-bottle\/contrib is ignored/);
  });

  it('P44: a world-writable entry is refused (and a group-writable directory)', async () => {
    const home = tempHome();
    const f = writePlugin(home, 'loose', 'provider.mjs', `export default { apiVersion: 1, name: 'loose', plan: async () => ({}) };\n`, 0o666);
    chmodSync(f, 0o666);
    await expect(loadPlugin(home, 'loose')).rejects.toThrow(/plugin "loose" failed to load: entry file .* is writable by group or others/);
    chmodSync(f, 0o644);
    chmodSync(join(home, 'contrib', 'loose'), 0o775);
    await expect(loadPlugin(home, 'loose')).rejects.toThrow(/directory .* is writable by group or others/);
  });

  it.skipIf(process.getuid?.() !== 0)('P44: an entry owned by another user is refused (needs root to chown)', async () => {
    const home = tempHome();
    const f = writePlugin(home, 'foreign', 'provider.mjs', `export default { apiVersion: 1, name: 'foreign', plan: async () => ({}) };\n`);
    chownSync(f, 12345, 12345);
    await expect(loadPlugin(home, 'foreign')).rejects.toThrow(/entry file .* is owned by uid 12345, not by you/);
  });

  it('P45: an export whose name differs from the directory is rejected', async () => {
    const home = tempHome();
    writePlugin(home, 'alpha', 'provider.mjs', `export default { apiVersion: 1, name: 'beta', plan: async () => ({}) };\n`);
    await expect(loadPlugin(home, 'alpha')).rejects.toThrow(/plugin "alpha" failed to load: its provider is named "beta"/);
  });

  it('bad exports, zero or two entries, and import errors fail with the plugin name', async () => {
    const home = tempHome();
    writePlugin(home, 'noapi', 'provider.mjs', `export default { apiVersion: 2, name: 'noapi', plan: async () => ({}) };\n`);
    await expect(loadPlugin(home, 'noapi')).rejects.toThrow(/plugin "noapi" failed to load: export.apiVersion/);
    writePlugin(home, 'noplan', 'provider.mjs', `export default { apiVersion: 1, name: 'noplan' };\n`);
    await expect(loadPlugin(home, 'noplan')).rejects.toThrow(/plugin "noplan" failed to load: export.plan/);
    writePlugin(home, 'two', 'provider.mjs', 'export default 1;\n');
    writePlugin(home, 'two', 'provider.js', 'export default 1;\n');
    await expect(loadPlugin(home, 'two')).rejects.toThrow(/more than one entry file/);
    mkdirSync(join(home, 'contrib', 'none'), { mode: 0o755 });
    chmodSync(join(home, 'contrib', 'none'), 0o755);
    await expect(loadPlugin(home, 'none')).rejects.toThrow(/no entry file/);
    writePlugin(home, 'broken', 'provider.mjs', `throw new Error('boom at import');\n`);
    await expect(loadPlugin(home, 'broken')).rejects.toThrow(/plugin "broken" failed to load: boom at import/);
  });

  it('M61: a template without a contrib directory names the directory', async () => {
    const home = tempHome();
    await expect(resolveProvider('mytool', { home, cwd: home, warn: () => {} })).rejects.toThrow(new RegExp(`${join(home, 'contrib', 'mytool')} does not exist`));
  });
});
