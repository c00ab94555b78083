"""TRL101 entry-point-not-train-py.

How it is checked: combines the final stage's `ENTRYPOINT` and `CMD` (inherited from the stage it
is built `FROM`; a new `ENTRYPOINT` resets an inherited `CMD`) as Docker does, reads the command as
a shell would (assignments, `tini --` / `dumb-init` / `env` / `exec` wrappers, `sh -c` scripts
with their `cd`), skips the interpreter's options, and resolves the script against the final
`WORKDIR`. The script must be `train.py` (the vocabulary's `entry_script`) and, when the
Dockerfile copies files named `train.py` (and no whole folders), one of them must land there.
No `CMD`/`ENTRYPOINT` at all is reported at the final `FROM`; a script named by a build argument
the file does not set is not reported.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL101"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report an image whose command does not run train.py."""
    script_name = analysis.facts.entry_script
    python = analysis.facts.python_executables[0]
    fix = f'end the Dockerfile with `CMD ["{python}", "{script_name}"]`'
    final = analysis.final
    entry = analysis.entry
    if entry is None:
        yield analysis.finding(
            CODE,
            final.stage.origin,
            f"the final stage has no CMD or ENTRYPOINT, so the container runs the base image's "
            f"command instead of {script_name}: {fix}",
        )
        return
    if entry.unknown:
        return
    if entry.script is None:
        yield analysis.finding(
            CODE,
            entry.instruction,
            f"the entry point runs `{entry.program}`, not `{python} {script_name}`: {fix}",
        )
        return
    if posixpath.basename(entry.script) != script_name:
        yield analysis.finding(
            CODE,
            entry.instruction,
            f"the entry point runs {entry.script_word}, not {script_name}: the platform expects "
            f"the container to run {script_name}; {fix}",
        )
        return
    if analysis.sdk.folder_copies(final.stage):
        return  # a copied folder may put train.py anywhere
    targets = analysis.copied_to(script_name)
    if targets and entry.script not in targets:
        yield analysis.finding(
            CODE,
            entry.instruction,
            f"the entry point runs {entry.script}, but {script_name} is copied to "
            f"{', '.join(targets)}: run it from there (set WORKDIR to its folder, or give the "
            "absolute path)",
        )
