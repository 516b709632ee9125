/** `completion <bash|zsh|fish>`: prints a shell completion script (docs/cli-json.md, "Shell completion"). */
import { Argument, type Command } from 'commander';
import { completionScript, SHELLS, type CompletionCommand, type CompletionOption, type Shell } from '../completion.js';

/**
 * Internal commands that completion does not offer (docs/architecture.md §7: internal, not for
 * direct use).
 */
export const HIDDEN_FROM_COMPLETION: readonly string[] = ['sidecar'];

/** The completion description of a commander command tree: what its help shows, minus internals. */
export function describeCommand(cmd: Command, hide: readonly string[] = HIDDEN_FROM_COMPLETION): CompletionCommand {
  const help = cmd.createHelp();
  const options: CompletionOption[] = help.visibleOptions(cmd).map((o) => ({
    flags: [o.short, o.long].filter((f): f is string => f !== undefined),
    description: o.description,
    takesValue: o.required || o.optional,
    ...(o.argChoices ? { choices: [...o.argChoices] } : {}),
  }));
  const subcommands = help
    .visibleCommands(cmd)
    .filter((c) => !hide.includes(c.name()))
    .map((c) => describeCommand(c, hide));
  const first = cmd.registeredArguments[0]?.argChoices;
  return { name: cmd.name(), description: cmd.description(), options, subcommands, ...(first ? { argumentChoices: [...first] } : {}) };
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices([...SHELLS]))
    .addHelpText(
      'after',
      '\nExample:\n  $ source <(bot-bottle completion bash)\n  $ bot-bottle completion fish > ~/.config/fish/completions/bot-bottle.fish\n',
    )
    .action((shell: Shell) => {
      // The program this command is registered on: main.ts registers every command for any
      // first word but `sidecar` (commands/index.ts). Importing main.ts's buildProgram here instead
      // would close an import cycle main → commands/index → completion → main. The test that the
      // CLI's script equals the one built from buildProgram() catches a program loaded partially.
      process.stdout.write(completionScript(shell, describeCommand(program)));
    });
}
