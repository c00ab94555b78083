"""TRL102 sdk-missing-from-image.

How it is checked: the final stage has the SDK when it (or a stage it is built `FROM`) copies a
file named `trainer_sdk.py` (or a glob matching it, or a whole folder of the build context), or
runs an installer of the vocabulary (`pip install`, `uv pip install`, `uv sync`, ...) naming
`trainer-sdk` directly or through a requirements file or pyproject.toml it copied in (read from
the Dockerfile's folder), or copies `--from` a stage that installed it a folder holding that
stage's site-packages or virtual environment, or that stage's `trainer_sdk.py`. The finding is at
the final `FROM`; it names a stage that installs the SDK but does not reach the final image.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL102"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report a final image without the SDK."""
    final = analysis.final
    if analysis.sdk.has_sdk(final.stage):
        return
    facts = analysis.facts
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
