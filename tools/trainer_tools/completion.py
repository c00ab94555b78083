"""Shell completion scripts for `trainer-sdk` and `trainer-lint`, generated from their argparse
parsers (so a new option or subcommand completes without editing anything here).

bash gets a completion function; zsh gets the same through `bashcompinit` (what zsh ships for
bash completions); fish gets `complete` lines with each option's help. Options with choices
complete their choices; everything else that takes a value completes file names.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["SHELLS", "CommandTree", "render", "tree_of"]

SHELLS = ("bash", "zsh", "fish")


@dataclass(frozen=True)
class Option:
    """One option: its spellings, whether it takes a value, its choices, its help."""

    flags: tuple[str, ...]
    takes_value: bool
    choices: tuple[str, ...]
    help: str


@dataclass
class CommandTree:
    """A command's options and, for `trainer-sdk`, its subcommands."""

    name: str
    options: list[Option] = field(default_factory=list)
    subcommands: dict[str, CommandTree] = field(default_factory=dict)
    help: str = ""
    words: tuple[str, ...] = ()
    """Choices of its positional arguments (`completion bash|zsh|fish`)."""


def _help(action: argparse.Action) -> str:
    text = action.help if isinstance(action.help, str) and action.help != argparse.SUPPRESS else ""
    return re.sub(r"\s+", " ", text.split("%(", 1)[0]).strip()


def tree_of(parser: argparse.ArgumentParser, name: str, help: str = "") -> CommandTree:
    """The completion tree of a parser."""
    tree = CommandTree(name, help=help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: str(c.help or "") for c in action._choices_actions}
            for sub_name, sub_parser in action.choices.items():
                tree.subcommands[sub_name] = tree_of(sub_parser, sub_name, helps.get(sub_name, ""))
        elif not action.option_strings and action.choices:
            tree.words += tuple(str(c) for c in action.choices)
        elif action.option_strings:
            choices = tuple(str(c) for c in action.choices) if action.choices else ()
            tree.options.append(
                Option(tuple(action.option_strings), action.nargs != 0, choices, _help(action))
            )
    return tree


def _bash_function(tree: CommandTree) -> Iterator[str]:
    fn = "_" + re.sub(r"[^A-Za-z0-9]", "_", tree.name) + "_complete"
    yield f"{fn}() {{"
    yield '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"'
    yield '    local sub="" i'
    if tree.subcommands:
        yield "    for ((i = 1; i < COMP_CWORD; i++)); do"
        yield '        case "${COMP_WORDS[i]}" in'
        names = "|".join(sorted(tree.subcommands))
        yield f'            {names}) sub="${{COMP_WORDS[i]}}"; break ;;'
        yield "        esac"
        yield "    done"
    yield '    case "$sub" in'
    for sub_name, node in [("", tree), *sorted(tree.subcommands.items())]:
        label = shlex.quote(sub_name) if sub_name else '""'
        yield f"        {label})"
        yield '            case "$prev" in'
        for option in node.options:
            if option.choices:
                words = " ".join(option.choices)
                quoted = shlex.quote(words)
                yield f'                {"|".join(option.flags)}) COMPREPLY=($(compgen -W {quoted} -- "$cur")); return ;;'

        valued = [f for o in node.options if o.takes_value and not o.choices for f in o.flags]
        if valued:
            joined = "|".join(valued)
            yield f'                {joined}) COMPREPLY=($(compgen -f -- "$cur")); return ;;'
        yield "            esac"
        flags = " ".join(f for o in node.options for f in o.flags)
        extra = [*sorted(node.subcommands), *node.words]
        words = flags + (" " + " ".join(extra) if extra else "")
        yield '            if [[ "$cur" == -* ]]; then'
        yield f'                COMPREPLY=($(compgen -W {shlex.quote(flags)} -- "$cur"))'
        if extra:
            yield "            else"
            yield f'                COMPREPLY=($(compgen -W {shlex.quote(words)} -- "$cur"))'
        else:
            yield "            else"
            yield '                COMPREPLY=($(compgen -f -- "$cur"))'
        yield "            fi"
        yield "            ;;"
    yield "    esac"
    yield "}"
    yield f"complete -o filenames -F {fn} {tree.name}"


def _fish_escape(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish(tree: CommandTree) -> Iterator[str]:
    name = tree.name
    yield f"complete -c {name} -f"
    subs = " ".join(sorted(tree.subcommands))
    for sub_name, node in sorted(tree.subcommands.items()):
        yield (
            f"complete -c {name} -n {_fish_escape('not __fish_seen_subcommand_from ' + subs)} "
            f"-a {sub_name} -d {_fish_escape(node.help[:80])}"
        )
    nodes: list[tuple[str | None, CommandTree]] = [(None, tree), *sorted(tree.subcommands.items())]
    for child, node in nodes:
        if child is None:
            condition = f"not __fish_seen_subcommand_from {subs}" if subs else ""
        else:
            condition = f"__fish_seen_subcommand_from {child}"
        guard = f" -n {_fish_escape(condition)}" if condition else ""
        for option in node.options:
            spellings = []
            for flag in option.flags:
                if flag.startswith("--"):
                    spellings.append(f"-l {flag[2:]}")
                elif len(flag) == 2:
                    spellings.append(f"-s {flag[1:]}")
                else:
                    spellings.append(f"-o {flag[1:]}")
            value = ""
            if option.choices:
                value = f" -x -a {_fish_escape(' '.join(option.choices))}"
            elif option.takes_value:
                value = " -r -F"
            yield (
                f"complete -c {name}{guard} {' '.join(spellings)}{value} "
                f"-d {_fish_escape(option.help[:80])}"
            )
        if child is not None and node.words:
            yield (
                f"complete -c {name} -n {_fish_escape(condition)} "
                f"-a {_fish_escape(' '.join(node.words))}"
            )
        elif child is not None and not node.subcommands:
            yield f"complete -c {name} -n {_fish_escape(condition)} -F"
    if not tree.subcommands:
        yield f"complete -c {name} -F"


def render(shell: str, trees: list[CommandTree]) -> str:
    """The completion script of `shell` for every command in `trees`."""
    if shell not in SHELLS:
        raise ValueError(f"{shell!r}: completion is available for {', '.join(SHELLS)}")
    lines = [
        f"# {shell} completion for {', '.join(t.name for t in trees)}, generated by "
        f"`trainer-sdk completion {shell}`.",
    ]
    if shell == "fish":
        lines.append(
            "# Save as ~/.config/fish/completions/trainer-sdk.fish (and trainer-lint.fish)."
        )
        for tree in trees:
            lines.extend(_fish(tree))
        return "\n".join(lines) + "\n"
    if shell == "zsh":
        lines += [
            "# Add to ~/.zshrc: source <(trainer-sdk completion zsh)",
            "autoload -U +X compinit && compinit",
            "autoload -U +X bashcompinit && bashcompinit",
        ]
    else:
        lines.append("# Add to ~/.bashrc: source <(trainer-sdk completion bash)")
    for tree in trees:
        lines.extend(_bash_function(tree))
    return "\n".join(lines) + "\n"
