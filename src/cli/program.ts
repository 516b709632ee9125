/**
 * The command-line program: the commander tree and its error handling (docs/cli.md). Loaded by
 * main.ts for every invocation except a sidecar daemon's own (src/sidecar/run-daemon.ts).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { BottleError, EXIT } from '../errors.js';
import { commanderErrorLine, printError } from './output.js';
import { loadCommands } from './commands/index.js';

export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('bot-bottle');
  program
    .description('Run AI coding agents inside a throw-away sandbox whose only ways out are policed sidecars.')
    .version(VERSION, '-V, --version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Commander's own usage errors become the one-line form of docs/cli.md#conventions.
      outputError: (s, write) => write(commanderErrorLine(s, 'bot-bottle --help')),
    })
    .addHelpText('after', '\nExample:\n  $ bot-bottle info implementer\n');
  for (const register of await loadCommands(only)) register(program);
  const configure = (cmd: Command, path: string): void => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (s, write) => write(commanderErrorLine(s, `${path} --help`)) });
    // docs/cli.md: every help shows one example. Commands that did not add their own get the
    // plain invocation, so the rule holds for commands registered by any module.
    if ((cmd as unknown as NodeJS.EventEmitter).listenerCount('afterHelp') === 0) {
      const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ');
      cmd.addHelpText('after', `\nExample:\n  $ ${path}${args ? ` ${args}` : ''}\n`);
    }
    for (const sub of cmd.commands) configure(sub, `${path} ${sub.name()}`);
  };
  program.commands.forEach((c) => configure(c, `bot-bottle ${c.name()}`));
  return program;
}

/** Parses `argv` with the full command tree and runs the command; resolves with the exit code. */
export async function runProgram(argv: string[]): Promise<number> {
  const first = argv[2];
  const program = await buildProgram(first === 'sidecar' ? first : undefined);
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return EXIT.ok;
      }
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    printError(err);
    return err instanceof BottleError ? err.exitCode : EXIT.error;
  }
}
