/**
 * `init [--provider claude|codex|pi] [--json]` (docs/cli.md#commands): scaffolds the home
 * directory. Never overwrites, never asks. `--json` prints `bot-bottle/init@1` (docs/cli-json.md).
 */
import { Option, type Command } from 'commander';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BottleError } from '../../errors.js';
import { displayPath, resolveHome } from '../../manifest/home.js';
import { printJson } from '../output.js';
import { agentTemplate, bottleTemplate, INIT_PROVIDERS, type InitProvider } from './init-templates.js';

export interface InitResult {
  readonly created: string[];
  readonly skipped: string[];
}

/** docs/cli-json.md: absolute paths (the text output abbreviates them with `~`). */
export interface InitDocument {
  schema: 'bot-bottle/init@1';
  home: string;
  provider: InitProvider;
  created: string[];
  skipped: string[];
}

function ensureDir(path: string, mode: number, created: string[]): void {
  let exists = false;
  try {
    const st = statSync(path);
    if (!st.isDirectory()) throw new BottleError('CONFIG_INVALID', `${path} exists and is not a directory`, { fix: 'move it away, then re-run bot-bottle init' });
    exists = true;
  } catch (e) {
    if (e instanceof BottleError) throw e;
  }
  if (exists) return;
  mkdirSync(path, { mode });
  chmodSync(path, mode); // mkdir's mode is filtered by the umask
  created.push(path);
}

function writeNew(path: string, text: string, created: string[], skipped: string[]): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o644 });
    created.push(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') skipped.push(path);
    else throw e;
  }
}

export function initHome(home: string, provider: InitProvider): InitResult {
  const created: string[] = [];
  const skipped: string[] = [];
  mkdirSync(join(home, '..'), { recursive: true });
  ensureDir(home, 0o700, created);
  ensureDir(join(home, 'bottles'), 0o755, created);
  ensureDir(join(home, 'agents'), 0o755, created);
  ensureDir(join(home, 'contrib'), 0o755, created);
  ensureDir(join(home, 'state'), 0o700, created);
  writeNew(join(home, 'bottles', `${provider}.md`), bottleTemplate(provider), created, skipped);
  writeNew(join(home, 'agents', 'assistant.md'), agentTemplate(provider), created, skipped);
  return { created, skipped };
}

function nextSteps(provider: InitProvider): string[] {
  const cred =
    provider === 'claude'
      ? ['  1. claude setup-token', '     export BOT_BOTTLE_CLAUDE_OAUTH_TOKEN=...   (the token it printed)']
      : provider === 'codex'
        ? ['  1. codex login --device-auth   (on the host; the login is forwarded through egress)']
        : ['  1. edit the pi bottle: base_url and models; export LLM_API_KEY=... if the endpoint needs a key'];
  return ['', 'next steps:', ...cred, '  2. bot-bottle doctor', '  3. bot-bottle start assistant'];
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('scaffold the bot-bottle home directory with an example bottle and agent')
    .addOption(new Option('--provider <name>', 'agent provider of the example bottle').choices([...INIT_PROVIDERS]).default('claude'))
    .option('--json', 'print a bot-bottle/init@1 JSON document')
    .addHelpText('after', '\nExample:\n  $ bot-bottle init --provider codex\n')
    .action((flags: { provider: InitProvider; json?: boolean }) => {
      const home = resolveHome();
      const r = initHome(home, flags.provider);
      if (flags.json) {
        const doc: InitDocument = { schema: 'bot-bottle/init@1', home, provider: flags.provider, created: r.created, skipped: r.skipped };
        printJson(doc);
        return;
      }
      const out: string[] = [];
      for (const p of r.created) out.push(`created ${displayPath(p)}`);
      for (const p of r.skipped) out.push(`skipped ${displayPath(p)} (exists)`);
      out.push(...nextSteps(flags.provider));
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
