/**
 * `bot-bottle log [slug] [--follow] [--denied] [--json] [--suggest]` (docs/cli.md#log): what the
 * sidecars allowed and refused, from the egress and git-gate audit files of a bottle's state dir.
 * Without a slug: every bottle of the home. Never prints a secret (src/log/entry.ts).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { BottleError, EXIT, usageError } from '../../errors.js';
import { scanStateDirs } from '../../launch/live.js';
import { resolveHome } from '../../manifest/home.js';
import { stateDirFor } from '../../state/paths.js';
import { isDenied, type LogEntry } from '../../log/entry.js';
import { entryJson, entryText, LOG_SCHEMA } from '../../log/format.js';
import { AuditTail, auditFilesOf, readAll } from '../../log/read.js';
import { suggestRoutes } from '../../log/suggest.js';
import { useColor } from '../output.js';

interface LogFlags {
  follow?: boolean;
  denied?: boolean;
  json?: boolean;
  suggest?: boolean;
}

/** How often `--follow` looks for new lines and checks that the bottle still runs. */
const FOLLOW_POLL_MS = 250;
const LIVENESS_EVERY_MS = 1000;

function slugsOf(home: string, slug: string | undefined): string[] {
  if (slug !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) throw usageError(`"${slug}" is not a bottle slug`, 'see "bot-bottle list"');
    const dir = stateDirFor(home, slug);
    if (!existsSync(dir)) throw new BottleError('STATE_NOT_FOUND', `no saved state for "${slug}" (looked in ${dir})`, { fix: 'see "bot-bottle list"' });
    return [slug];
  }
  return scanStateDirs(home).map((s) => s.slug).sort();
}

export async function runLog(slug: string | undefined, flags: LogFlags): Promise<number> {
  if (flags.suggest && flags.follow) throw usageError('--suggest reads a finished record and cannot be combined with --follow', 'drop one of them');
  const home = resolveHome();
  const slugs = slugsOf(home, slug);
  const files = slugs.flatMap((s) => auditFilesOf(home, s));
  const keep = (e: LogEntry): boolean => !flags.denied || isDenied(e);

  if (flags.suggest) {
    const s = suggestRoutes(readAll(files).filter(isDenied));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ schema: 'bot-bottle/log-suggest@1', slugs, routes: s.routes, skipped: s.skipped, droppedPaths: s.droppedPaths, yaml: s.yaml }, null, 2)}\n`);
    } else process.stdout.write(s.yaml);
    return EXIT.ok;
  }

  const colour = useColor(process.stdout);
  const showSlug = slug === undefined;
  const print = (entries: readonly LogEntry[]): void => {
    const out = entries.filter(keep).map((e) => (flags.json ? entryJson(e) : entryText(e, colour, showSlug)));
    if (out.length > 0) process.stdout.write(out.join(''));
  };

  if (!flags.follow) {
    const entries = readAll(files);
    print(entries);
    if (entries.length === 0 && !flags.json) process.stderr.write(`no audit records${slug ? ` for ${slug}` : ''}\n`);
    return EXIT.ok;
  }
  return follow(home, slug, files, print);
}

/**
 * Tails until SIGINT (exit 130) or until no followed bottle is live any more (exit 0, after a last
 * read so the final lines are not lost). Without a slug, bottles that start meanwhile are added.
 */
function follow(home: string, slug: string | undefined, files: ReturnType<typeof auditFilesOf>, print: (e: readonly LogEntry[]) => void): Promise<number> {
  const tail = new AuditTail();
  tail.add(files);
  const drain = (): void => {
    for (;;) {
      const { entries, more } = tail.read();
      print(entries);
      if (!more) break;
    }
  };
  const liveSlugs = (): string[] => scanStateDirs(home).filter((s) => s.live && (slug === undefined || s.slug === slug)).map((s) => s.slug);
  drain();
  if (liveSlugs().length === 0) {
    process.stderr.write(`${slug ? `bottle ${slug} is` : 'no bottle is'} not running; nothing to follow\n`);
    return Promise.resolve(EXIT.ok);
  }
  return new Promise((resolve) => {
    let lastCheck = Date.now();
    const finish = (code: number): void => {
      clearInterval(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      drain();
      resolve(code);
    };
    const onInt = (): void => finish(EXIT.sigint);
    const onTerm = (): void => finish(EXIT.sigterm);
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer = setInterval(() => {
      drain();
      if (Date.now() - lastCheck < LIVENESS_EVERY_MS) return;
      lastCheck = Date.now();
      const live = liveSlugs();
      if (live.length === 0) {
        process.stderr.write(`${slug ? `bottle ${slug} ended` : 'no bottle is running any more'}; stopped following\n`);
        finish(EXIT.ok);
        return;
      }
      if (slug === undefined) for (const s of live) tail.add(auditFilesOf(home, s));
    }, FOLLOW_POLL_MS);
  });
}

export function registerLog(program: Command): void {
  program
    .command('log')
    .description('what the sidecars allowed and refused (egress and git-gate audit); --suggest proposes routes for the refusals')
    .argument('[slug]', 'bottle slug (default: every bottle with state)')
    .option('-f, --follow', 'keep printing new records until the bottle ends or Ctrl-C')
    .option('--denied', 'only refusals')
    .option('--json', `one ${LOG_SCHEMA} JSON object per line (with --suggest: one bot-bottle/log-suggest@1 document)`)
    .option('--suggest', 'turn the refusals into a proposed egress routes snippet to review and paste')
    .addHelpText('after', '\nExample:\n  $ bot-bottle log implementer-k3x9q --denied\n  $ bot-bottle log implementer-k3x9q --suggest\n')
    .action(async (slug: string | undefined, flags: LogFlags) => {
      process.exitCode = await runLog(slug, flags);
    });
}
