/**
 * Shell completion scripts (docs/cli-json.md, "Shell completion"). Pure: a plain description of
 * the command tree in, a script out. The description is taken from the real commander program
 * (commands/completion.ts), so the completion never drifts from the CLI.
 *
 * All three scripts work the same way: walk the words before the cursor, descending into a
 * subcommand when a word names one, skipping the value of an option that takes one and counting
 * the other words (positional arguments); then offer the choices of a value option, the options
 * of the command reached (cursor word starts with `-`), or its subcommands plus, before any
 * positional argument, the allowed values of its first one.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionOption {
  /** Every spelling, e.g. `['-y', '--yes']`. */
  readonly flags: readonly string[];
  readonly description: string;
  readonly takesValue: boolean;
  /** Allowed values when the option restricts them. */
  readonly choices?: readonly string[];
}

export interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  readonly options: readonly CompletionOption[];
  readonly subcommands: readonly CompletionCommand[];
  /** Allowed values of the first positional argument, when it restricts them. */
  readonly argumentChoices?: readonly string[];
}

interface Node {
  /** Space-joined subcommand path below the program; `''` is the program itself. */
  readonly path: string;
  readonly command: CompletionCommand;
}

function nodes(root: CompletionCommand): Node[] {
  const out: Node[] = [];
  const walk = (command: CompletionCommand, path: string): void => {
    out.push({ path, command });
    for (const sub of command.subcommands) walk(sub, path === '' ? sub.name : `${path} ${sub.name}`);
  };
  walk(root, '');
  return out;
}

/** The identifier-safe form of the program name for shell function names. */
function ident(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '_');
}

/** POSIX single quoting; valid in bash, zsh and fish. */
function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** fish single quotes only know `\'` and `\\`. */
function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

const valueFlags = (c: CompletionCommand): string[] => c.options.filter((o) => o.takesValue).flatMap((o) => o.flags);

/**
 * `case` arms shared by the bash and zsh scripts (both accept this syntax): one arm per command
 * path that has something to say, each echoing a space-separated word list.
 */
function caseArms(all: Node[], words: (n: Node) => string[]): string {
  return all
    .map((n) => ({ path: n.path, list: words(n) }))
    .filter((a) => a.list.length > 0)
    .map((a) => `    ${sq(a.path)}) echo ${sq(a.list.join(' '))} ;;`)
    .join('\n');
}

function choiceArms(all: Node[]): string {
  const arms: string[] = [];
  for (const n of all) {
    for (const o of n.command.options) {
      if (!o.takesValue || !o.choices || o.choices.length === 0) continue;
      for (const f of o.flags) arms.push(`    ${sq(`${n.path}|${f}`)}) echo ${sq(o.choices.join(' '))} ;;`);
    }
  }
  return arms.join('\n');
}

/** Helper functions for bash and zsh: subcommands, options, value options, choices per path. */
function posixTables(fn: string, all: Node[]): string {
  const table = (name: string, arms: string): string =>
    arms === '' ? `${fn}_${name}() { :; }` : `${fn}_${name}() {\n  case "$1" in\n${arms}\n  esac\n}`;
  return [
    table('subcommands', caseArms(all, (n) => n.command.subcommands.map((s) => s.name))),
    table('arguments', caseArms(all, (n) => [...(n.command.argumentChoices ?? [])])),
    table('options', caseArms(all, (n) => n.command.options.flatMap((o) => o.flags))),
    table('value_options', caseArms(all, (n) => valueFlags(n.command))),
    // $1 is "<path>|<flag>".
    table('choices', choiceArms(all)),
  ].join('\n\n');
}

/**
 * The word walk of the header comment, in bash/zsh syntax; leaves the subcommand path in `cmdpath`
 * (not `path`: zsh ties that to $PATH), a pending value option in `expect` and the number of
 * positional arguments given to that subcommand in `npos`.
 */
function posixWalk(fn: string, first: string, last: string, word: string): string {
  return `  local cmdpath="" expect="" w i npos=0
  for ((i = ${first}; i < ${last}; i++)); do
    w=${word}
    if [[ -n $expect ]]; then
      expect=""
      continue
    fi
    case "$w" in
      --*=*) ;;
      -*)
        if [[ " $(${fn}_value_options "$cmdpath") " == *" $w "* ]]; then expect="$w"; fi
        ;;
      *)
        if [[ " $(${fn}_subcommands "$cmdpath") " == *" $w "* ]]; then
          cmdpath="\${cmdpath:+$cmdpath }$w"
          npos=0
        else
          npos=$((npos + 1))
        fi
        ;;
    esac
  done`;
}

export function bashScript(root: CompletionCommand): string {
  const fn = `_${ident(root.name)}`;
  return `# bash completion for ${root.name}; generated by "${root.name} completion bash".
# Load it with:  source <(${root.name} completion bash)

${posixTables(fn, nodes(root))}

${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
${posixWalk(fn, '1', 'COMP_CWORD', '"${COMP_WORDS[i]}"')}
  COMPREPLY=()
  if [[ -n $expect ]]; then
    # An option value: its choices, else the shell's default (files).
    local choices
    choices="$(${fn}_choices "$cmdpath|$expect")"
    if [[ -n $choices ]]; then COMPREPLY=($(compgen -W "$choices" -- "$cur")); fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_options "$cmdpath")" -- "$cur"))
  else
    local candidates
    candidates="$(${fn}_subcommands "$cmdpath")"
    if ((npos == 0)); then candidates="$candidates $(${fn}_arguments "$cmdpath")"; fi
    COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
  fi
  return 0
}

complete -o default -F ${fn} ${root.name}
`;
}

export function zshScript(root: CompletionCommand): string {
  const fn = `_${ident(root.name)}`;
  const all = nodes(root);
  // `name:description` pairs for _describe; a colon inside a name must be escaped.
  const described = (items: Array<{ name: string; description: string }>): string =>
    items.map((i) => sq(`${i.name.replace(/:/g, '\\:')}:${oneLine(i.description)}`)).join(' ');
  const arms = (pick: (c: CompletionCommand) => Array<{ name: string; description: string }>): string =>
    all
      .map((n) => ({ path: n.path, items: pick(n.command) }))
      .filter((a) => a.items.length > 0)
      .map((a) => `    ${sq(a.path)}) reply=(${described(a.items)}) ;;`)
      .join('\n');
  const describedTable = (name: string, body: string): string =>
    `${fn}_${name}_described() {\n  reply=()\n  case "$1" in\n${body}\n  esac\n}`;
  return `#compdef ${root.name}
# zsh completion for ${root.name}; generated by "${root.name} completion zsh".
# Load it with:  source <(${root.name} completion zsh)   (after compinit)
# or save it as _${root.name} in a directory on $fpath.

${posixTables(fn, all)}

${describedTable('subcommands', arms((c) => c.subcommands.map((s) => ({ name: s.name, description: s.description }))))}

${describedTable('options', arms((c) => c.options.flatMap((o) => o.flags.map((f) => ({ name: f, description: o.description })))))}

${fn}() {
  local cur="\${words[CURRENT]}"
${posixWalk(fn, '2', 'CURRENT', '"${words[i]}"')}
  local -a reply choices
  if [[ -n $expect ]]; then
    choices=(\${=$(${fn}_choices "$cmdpath|$expect")})
    if (( \${#choices} )); then compadd -a choices; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    ${fn}_options_described "$cmdpath"
    _describe -t options 'option' reply
  else
    ${fn}_subcommands_described "$cmdpath"
    _describe -t commands 'command' reply
    if ((npos == 0)); then
      choices=(\${=$(${fn}_arguments "$cmdpath")})
      if (( \${#choices} )); then compadd -a choices; fi
    fi
  fi
}

if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${root.name}
fi
`;
}

export function fishScript(root: CompletionCommand): string {
  const fn = `__${ident(root.name)}`;
  const all = nodes(root);
  const switchArms = (words: (n: Node) => string[]): string =>
    all
      .map((n) => ({ path: n.path, list: words(n) }))
      .filter((a) => a.list.length > 0)
      // One word per line: fish splits command substitutions on newlines only.
      .map((a) => `        case ${fishQuote(a.path)}\n            printf '%s\\n' ${a.list.map(fishQuote).join(' ')}`)
      .join('\n');
  const lines: string[] = [
    `# fish completion for ${root.name}; generated by "${root.name} completion fish".`,
    `# Load it with:  ${root.name} completion fish | source`,
    `# or save it as ~/.config/fish/completions/${root.name}.fish`,
    '',
    `function ${fn}_subcommands`,
    '    switch $argv[1]',
    switchArms((n) => n.command.subcommands.map((s) => s.name)),
    '    end',
    'end',
    '',
    `function ${fn}_value_options`,
    '    switch $argv[1]',
    switchArms((n) => valueFlags(n.command)),
    '    end',
    'end',
    '',
    '# The subcommand path of the words before the cursor, then the number of positional',
    '# arguments given to it (the walk of src/cli/completion.ts).',
    `function ${fn}_walk`,
    '    set -l words (commandline -opc)',
    '    set -e words[1]',
    '    set -l cmdpath',
    '    set -l expect 0',
    '    set -l npos 0',
    '    for w in $words',
    '        if test $expect = 1',
    '            set expect 0',
    '            continue',
    '        end',
    '        switch $w',
    "            case '--*=*'",
    "            case '-*'",
    `                if contains -- $w (${fn}_value_options "$cmdpath")`,
    '                    set expect 1',
    '                end',
    "            case '*'",
    `                if contains -- $w (${fn}_subcommands "$cmdpath")`,
    '                    set cmdpath $cmdpath $w',
    '                    set npos 0',
    '                else',
    '                    set npos (math $npos + 1)',
    '                end',
    '        end',
    '    end',
    '    echo "$cmdpath"',
    '    echo $npos',
    'end',
    '',
    '# At subcommand path $argv[1]; with a second argument, also before any positional argument.',
    `function ${fn}_at`,
    `    set -l here (${fn}_walk)`,
    '    test "$here[1]" = "$argv[1]"; or return 1',
    '    test (count $argv) -lt 2; or test "$here[2]" = 0',
    'end',
    '',
    `complete -c ${root.name} -f`,
  ];
  for (const n of all) {
    // Command names are words of [a-z0-9-], so double quotes inside the condition are enough.
    const cond = `-n ${fishQuote(`${fn}_at "${n.path}"`)}`;
    for (const sub of n.command.subcommands) {
      lines.push(`complete -c ${root.name} ${cond} -a ${fishQuote(sub.name)} -d ${fishQuote(oneLine(sub.description))}`);
    }
    if (n.command.argumentChoices && n.command.argumentChoices.length > 0) {
      const first = `-n ${fishQuote(`${fn}_at "${n.path}" first`)}`;
      lines.push(`complete -c ${root.name} ${first} -a ${fishQuote(n.command.argumentChoices.join(' '))}`);
    }
    for (const o of n.command.options) {
      const spell = o.flags
        .map((f) => (f.startsWith('--') ? `-l ${fishQuote(f.slice(2))}` : `-s ${fishQuote(f.slice(1))}`))
        .join(' ');
      const value = o.takesValue ? (o.choices && o.choices.length > 0 ? ` -x -a ${fishQuote(o.choices.join(' '))}` : ' -r') : '';
      lines.push(`complete -c ${root.name} ${cond} ${spell}${value} -d ${fishQuote(oneLine(o.description))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, root: CompletionCommand): string {
  switch (shell) {
    case 'bash':
      return bashScript(root);
    case 'zsh':
      return zshScript(root);
    case 'fish':
      return fishScript(root);
  }
}
