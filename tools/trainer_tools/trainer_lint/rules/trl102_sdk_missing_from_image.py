"""TRL102 sdk-missing-from-image.

How it is checked: the final stage has the SDK when it (or a stage it is built `FROM`) copies a
file named `trainer_sdk.py` (or a glob matching it, or a whole folder of the build context), or
runs an installer of the vocabulary (`pip install`, `uv pip install`, `uv sync`, ...) naming
`trainer-sdk` directly or through a requirements file or pyproject.toml it copied in (read from
the Dockerfile's folder), or copies `--from` a stage that installed it a folder holding that
stage's site-packages or virtual environment, or that stage's `trainer_sdk.py`. The finding is at
the final `FROM`; it names a stage that installs the SDK but does not reach the final image.
When the only SDK is a copied `trainer_sdk.py`, it must also be importable by `train.py`: in the
script's folder or in a folder of `PYTHONPATH` (otherwise reported at the `COPY`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.dockerfile.image import Copy, resolve_path
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL102"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report a final image without the SDK."""
    final = analysis.final
    facts = analysis.facts
    bundles = list(analysis.sdk.bundle_copies(final.stage))
    if analysis.sdk.other_routes(final.stage):
        return
    if bundles:
        yield from _importable(analysis, bundles)
        return
    stranded = analysis.sdk.stranded_installs(final.stage)
    note = ""
    if stranded:
        stage = stranded[0].run.stage
        label = f"stage {stage.name!r}" if stage.name else f"stage {stage.index}"
        note = (
            f"; {label} installs {facts.sdk_distribution} (line {stranded[0].run.instruction.line})"
            " but the final stage copies neither its site-packages nor its virtual environment"
        )
    yield analysis.finding(
        CODE,
        final.stage.origin,
        f"the final image has no SDK: nothing copies {facts.sdk_bundle} or installs "
        f"{facts.sdk_distribution} into {analysis.stage_label(final)}{note}; add "
        f"`COPY {facts.sdk_bundle} ./` next to {facts.entry_script}",
    )


def _importable(analysis: DockerfileAnalysis, bundles: list[tuple[Copy, str]]) -> Iterator[Finding]:
    """Report a `trainer_sdk.py` that `python train.py` cannot import."""
    entry = analysis.entry
    facts = analysis.facts
    if entry is None or entry.script is None or entry.unknown:
        return  # TRL101's business
    if posixpath.basename(entry.script) != facts.entry_script:
        return
    targets = analysis.copied_to(facts.entry_script)
    if targets and entry.script not in targets:
        return  # the script itself is elsewhere: TRL101 reports it
    folders = {posixpath.dirname(entry.script)}
    python_path = analysis.final.variables.get("PYTHONPATH")
    if python_path is None and "PYTHONPATH" in analysis.final.variables:
        return  # set from a build argument: cannot be known
    folders |= {resolve_path(p, "/") for p in (python_path or "").split(":") if p}
    if any(posixpath.dirname(target) in folders for _, target in bundles):
        return
    copy, target = bundles[-1]
    folder = posixpath.dirname(target)
    yield analysis.finding(
        CODE,
        copy.instruction,
        f"{facts.sdk_bundle} is copied to {folder}, but {facts.entry_script} runs from "
        f"{posixpath.dirname(entry.script)} and Python imports from the script's folder and "
        f"PYTHONPATH only: copy it next to {facts.entry_script} or add {folder} to PYTHONPATH",
    )
