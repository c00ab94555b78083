"""What the container runs: the final stage's `ENTRYPOINT` and `CMD`, combined as Docker does.

Exec-form `ENTRYPOINT` gets `CMD` appended as arguments; a shell-form `ENTRYPOINT` ignores `CMD`;
shell form means `/bin/sh -c "<text>"`. The command is then read the way a shell would start it:
environment assignments and wrappers (`tini --`, `dumb-init`, `env`, `exec`) are skipped, a
`sh -c` script is split into its commands (following `cd`), and a Python interpreter's options
are skipped to find the script it runs.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from trainer_tools.trainer_lint.contract import ContractFacts
from trainer_tools.trainer_lint.dockerfile.image import StageView, resolve_path
from trainer_tools.trainer_lint.dockerfile.parser import Instruction
from trainer_tools.trainer_lint.dockerfile.words import expand, simple_commands

__all__ = ["EntryPoint", "entry_point", "is_python"]

# Shells whose `-c` script the analysis reads (POSIX sh and the common replacements).
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
# Interpreter options followed by a separate value (`-W error`, `-X dev`).
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class EntryPoint:
    """The container's command, and what the analysis learned from it."""

    instruction: Instruction
    """Where a finding about the command points: the instruction that supplies the script."""
    argv: tuple[str, ...]
    script: str | None
    """The script Python runs, as an absolute path; None when Python runs no script."""
    script_word: str | None
    """The script as written."""
    program: str
    """What actually runs, for messages (`python -m app`, `bash`, ...)."""
    via_shell: bool
    """A shell starts the command and stays its parent (no `exec`): signals stop at the shell."""
    unknown: bool
    """Part of the command is a variable the Dockerfile does not set: nothing can be said."""


def is_python(word: str, facts: ContractFacts) -> bool:
    """`python`, `python3`, `/usr/bin/python3.11`, ... (any interpreter of the vocabulary)."""
    name = posixpath.basename(word)
    return any(
        name == p or re.fullmatch(re.escape(p) + r"(\.[0-9]+)+", name) is not None
        for p in facts.python_executables
    )


def _argv(view: StageView) -> tuple[Instruction, list[str]] | None:
    entrypoint, cmd = view.entrypoint, view.cmd

    def words(instruction: Instruction) -> list[str]:
        if instruction.exec_form is not None:
            return list(instruction.exec_form)
        return ["/bin/sh", "-c", instruction.arguments]

    if entrypoint is not None:
        if entrypoint.exec_form is None:
            return entrypoint, words(entrypoint)  # shell form: CMD is ignored
        tail = words(cmd) if cmd is not None else []
        anchor = cmd if cmd is not None and tail else entrypoint
        return anchor, [*entrypoint.exec_form, *tail]
    if cmd is not None:
        return cmd, words(cmd)
    return None


def _unwrap(words: list[str], facts: ContractFacts) -> tuple[list[str], bool]:
    """Words without leading assignments and wrappers; and whether `exec` was one of them."""
    index = 0
    execs = False
    while index < len(words):
        word = words[index]
        name = posixpath.basename(word)
        if _ASSIGNMENT.match(word):
            index += 1
        elif name in facts.entry_wrappers:
            execs = execs or name == "exec"
            index += 1
            while index < len(words) and (
                words[index].startswith("-") or _ASSIGNMENT.match(words[index])
            ):
                index += 1  # the wrapper's own options, `--`, env's assignments
        else:
            break
    return words[index:], execs


def _python_script(words: list[str]) -> tuple[str | None, str]:
    """(script, program) of a Python command line (`python -u train.py` -> `train.py`)."""
    index = 1
    while index < len(words):
        word = words[index]
        if word == "-" or not word.startswith("-"):
            return (word if word != "-" else None), f"python {word}"
        if word in ("-m", "-c") or (not word.startswith("--") and word[-1] in "mc"):
            target = words[index + 1] if index + 1 < len(words) else ""
            kind = "-m" if word.endswith("m") else "-c"
            return None, f"python {kind} {target}".rstrip()
        index += 2 if word in _PYTHON_VALUE_OPTIONS else 1
    return None, "python (an interactive interpreter)"


def _read(
    words: list[str], workdir: str, facts: ContractFacts, depth: int = 0
) -> tuple[str | None, str | None, str, bool]:
    """(script as written, its absolute path, program, via a shell) of a command line."""
    words, _ = _unwrap(words, facts)
    if not words:
        return None, None, "nothing", False
    name = posixpath.basename(words[0])
    if name in _SHELLS and depth < 3:
        flags = [w for w in words[1:] if w.startswith("-")]
        script_index = next(
            (i for i, w in enumerate(words) if w.startswith("-") and "c" in w[1:]), None
        )
        if script_index is not None and flags and script_index + 1 < len(words):
            return _read_script(words[script_index + 1], workdir, facts, depth)
        return None, None, shlex.join(words[:3]), False
    if is_python(words[0], facts):
        script, program = _python_script(words)
        return script, (resolve_path(script, workdir) if script else None), program, False
    # What runs instead, with its first arguments: `bash run.sh`, `torchrun --nproc-per-node=2`.
    return None, None, shlex.join(words[:2]), False


def _read_script(
    text: str, workdir: str, facts: ContractFacts, depth: int
) -> tuple[str | None, str | None, str, bool]:
    """The Python command of a `sh -c` script (the last one), following `cd`."""
    last: tuple[str | None, str | None, str, bool] | None = None
    python: tuple[str | None, str | None, str, bool] | None = None
    cwd = workdir
    for command in simple_commands(text):
        unwrapped, execs = _unwrap(command, facts)
        if not unwrapped:
            continue
        if unwrapped[0] == "cd" and len(unwrapped) > 1:
            cwd = resolve_path(unwrapped[1], cwd)
            continue
        script, absolute, program, nested = _read(command, cwd, facts, depth + 1)
        # `exec` hands the process over; otherwise the shell stays the parent.
        last = (script, absolute, program, nested or not execs)
        if script is not None or program.startswith("python"):
            python = last
    return python or last or (None, None, "an empty shell command", True)


def entry_point(view: StageView, facts: ContractFacts) -> EntryPoint | None:
    """The final command of a stage; None when it has no `CMD` or `ENTRYPOINT` at all."""
    combined = _argv(view)
    if combined is None:
        return None
    anchor, argv = combined
    script_word, script, program, via_shell = _read(argv, view.workdir, facts)
    unknown = False
    if script_word is not None and "$" in script_word:
        expanded = expand(script_word, view.variables)
        unknown = expanded is None
        if expanded is not None:
            script_word, script = expanded, resolve_path(expanded, view.workdir)
    return EntryPoint(
        instruction=anchor,
        argv=tuple(argv),
        script=script,
        script_word=script_word,
        program=program,
        via_shell=via_shell,
        unknown=unknown,
    )
