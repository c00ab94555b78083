"""TRL103 image-runs-as-root.

How it is checked: the last `USER` of the final stage, or of the stage it is built `FROM`, with
`ARG`/`ENV` variables substituted; a user (before any `:group`) in the vocabulary's `root_users`
is reported at that `USER`, no `USER` at all at the final `FROM`. A user named by a build argument
the file does not set is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from trainer_tools.trainer_lint.dockerfile.analysis import DockerfileAnalysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL103"
FIX = "create a user (`RUN useradd -m -u 1000 appuser`) and switch to it with `USER appuser`"


def check(analysis: DockerfileAnalysis) -> Iterator[Finding]:
    """Report a final stage that runs as root."""
    final = analysis.final
    if final.user is None:
        yield analysis.finding(
            CODE,
            final.stage.origin,
            f"the final stage never sets USER, so the trainer runs as root: {FIX} before the "
            "entry point",
        )
        return
    if final.user_name is None:
        return
    name = final.user_name.strip().split(":", 1)[0]
    if name in analysis.facts.root_users:
        yield analysis.finding(
            CODE,
            final.user,
            f"USER {final.user_name.strip()} runs the trainer as root: {FIX}",
        )
