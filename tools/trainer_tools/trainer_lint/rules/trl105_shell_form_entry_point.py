"""TRL105 shell-form-entry-point.

How it is checked: the final stage's command (see TRL101) starts with a shell: shell-form
`CMD`/`ENTRYPOINT`, or an exec-form `sh -c` / `bash -c`, whose Python command is not started with
`exec`. Exec form, and `exec python train.py` inside a shell script, are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL105"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report an entry point that a shell keeps as the container's first process."""
    entry = analysis.entry
    if entry is None or not entry.via_shell:
        return
    script = analysis.facts.entry_script
    python = analysis.facts.python_executables[0]
    yield analysis.finding(
        CODE,
        entry.instruction,
        f"{entry.instruction.keyword} runs through a shell, which does not pass SIGTERM on to "
        f"Python: a cancelled job cannot report its failure; write it in exec form, "
        f'`{entry.instruction.keyword} ["{python}", "{script}"]`, or start the command with `exec`',
    )
