"""One Dockerfile, analysed once, shared by every Dockerfile rule."""

from __future__ import annotations

import functools
import posixpath
from pathlib import Path

from trainer_tools.trainer_lint.contract import ContractFacts
from trainer_tools.trainer_lint.dockerfile.entry import EntryPoint, entry_point
from trainer_tools.trainer_lint.dockerfile.image import ImageModel, StageView
from trainer_tools.trainer_lint.dockerfile.packages import SdkSearch
from trainer_tools.trainer_lint.dockerfile.parser import Dockerfile, Instruction
from trainer_tools.trainer_lint.finding import Finding

__all__ = ["DockerfileAnalysis"]


class DockerfileAnalysis:
    """The parsed Dockerfile, its stages, the final image's command and where the SDK is."""

    def __init__(
        self, dockerfile: Dockerfile, facts: ContractFacts, context: Path | None = None
    ) -> None:
        self.dockerfile = dockerfile
        self.facts = facts
        self.context = context
        """The build context (the Dockerfile's folder), to read requirements files; None for
        text linted on its own."""
        self.model = ImageModel(dockerfile)
        self.sdk = SdkSearch(self.model, facts, context)

    @property
    def final(self) -> StageView:
        """The final stage with what it inherits."""
        return self.model.final

    @functools.cached_property
    def entry(self) -> EntryPoint | None:
        """The container's command (None: no `CMD` or `ENTRYPOINT` in the final stage)."""
        return entry_point(self.final, self.facts)

    def copied_to(self, name: str) -> list[str]:
        """Where the final image gets files named `name` by `COPY`/`ADD` (sorted)."""
        return sorted(
            {
                copy.target_of(source)
                for copy in self.final.copies
                if copy.from_image is None
                for source in copy.sources
                if posixpath.basename(source.rstrip("/")) == name
            }
        )

    def stage_label(self, view: StageView) -> str:
        """`stage 'builder'` or `stage 2` for messages."""
        stage = view.stage
        return f"stage {stage.name!r}" if stage.name else f"stage {stage.index}"

    def finding(
        self,
        code: str,
        instruction: Instruction,
        message: str,
        span: tuple[int, int, int, int] | None = None,
    ) -> Finding:
        """A finding of `code` at an instruction (or at `span` inside it)."""
        line, column, end_line, end_column = span or (
            instruction.line,
            instruction.column,
            instruction.end_line,
            instruction.end_column,
        )
        return Finding(self.dockerfile.path, line, column, code, message, end_line, end_column)
