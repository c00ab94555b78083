"""What a stage of a Dockerfile amounts to: working folder, user, entry point, files, commands.

A stage built `FROM` another stage of the same file starts with everything that stage has
(files, `WORKDIR`, `USER`, `ENV`, `CMD`, `ENTRYPOINT`), so each view is computed from the view of
its base. A stage built from an outside image starts from what Docker assumes of an unknown
image: working folder `/`, user root, no entry point the linter can see.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace

from trainer_tools.trainer_lint.dockerfile.parser import Dockerfile, Instruction, Stage
from trainer_tools.trainer_lint.dockerfile.words import expand, key_values, split_words

__all__ = ["Copy", "ImageModel", "Run", "StageView", "resolve_path"]


def resolve_path(path: str, workdir: str) -> str:
    """An absolute, normalised path: relative paths are taken from `workdir`."""
    joined = path if path.startswith("/") else posixpath.join(workdir, path)
    normal = posixpath.normpath(joined)
    return "/" + normal.lstrip("/") if normal != "/" else "/"


@dataclass(frozen=True)
class Copy:
    """A `COPY` or `ADD`: its sources as written, where they land, and where they come from."""

    instruction: Instruction
    stage: Stage
    sources: tuple[str, ...]
    destination: str
    """Absolute destination, as written (a trailing `/` kept: it says "a folder")."""
    from_stage: Stage | None
    """The stage of `--from=<stage>`, or None (build context, or an outside image)."""
    from_image: str | None
    """The image of `--from=<image>` when it is not a stage of this file."""

    @property
    def into_folder(self) -> bool:
        """The destination is a folder (several sources, a trailing `/`, `.`, or no suffix)."""
        if len(self.sources) > 1 or self.destination.endswith("/"):
            return True
        return "." not in posixpath.basename(self.destination.rstrip("/"))

    def target_of(self, source: str) -> str:
        """Where one source file lands."""
        if self.into_folder:
            return resolve_path(posixpath.basename(source.rstrip("/")), self.destination)
        return resolve_path(self.destination, "/")


@dataclass(frozen=True)
class Run:
    """A `RUN`: its shell script (or exec-form words), heredoc bodies, and its context."""

    instruction: Instruction
    stage: Stage
    script: str
    workdir: str
    variables: dict[str, str | None]


@dataclass(frozen=True)
class StageView:
    """A stage with everything it inherits: the state at its end."""

    stage: Stage
    chain: tuple[Stage, ...]
    """The stages it is built on, from the first to itself."""
    workdir: str = "/"
    user: Instruction | None = None
    """The last `USER` in effect (None: the base image's user, root for an unknown image)."""
    user_name: str | None = None
    """The user of `user`, variables substituted; None when unknown."""
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    variables: dict[str, str | None] = field(default_factory=dict)
    copies: tuple[Copy, ...] = ()
    runs: tuple[Run, ...] = ()
    external_base: str | None = None
    """The outside image the chain starts from (None when it is `scratch`)."""


class ImageModel:
    """The views of every stage of one Dockerfile, computed once."""

    def __init__(self, dockerfile: Dockerfile) -> None:
        self.dockerfile = dockerfile
        self.global_variables: dict[str, str | None] = {}
        for instruction in dockerfile.global_args:
            for name, value in key_values(instruction.arguments):
                self.global_variables[name] = (
                    expand(value, self.global_variables) if value is not None else None
                )
        self._views: dict[int, StageView] = {}

    def base_stage(self, stage: Stage) -> Stage | None:
        """The earlier stage `stage` is built `FROM`, if any."""
        base = expand(stage.base, self.global_variables) or stage.base
        found = self.dockerfile.stage_named(base)
        if found is not None and found.index < stage.index and not base.isdigit():
            return found
        return None

    def view(self, stage: Stage) -> StageView:
        """The state at the end of `stage`."""
        cached = self._views.get(stage.index)
        if cached is not None:
            return cached
        # A base stage always comes earlier: compute in file order, without recursion (a chain
        # of thousands of stages stays linear).
        for earlier in self.dockerfile.stages[: stage.index + 1]:
            if earlier.index not in self._views:
                self._views[earlier.index] = self._compute(earlier)
        return self._views[stage.index]

    def _compute(self, stage: Stage) -> StageView:
        base = self.base_stage(stage)
        if base is not None:
            start = self._views[base.index]
            state = replace(start, stage=stage, chain=(*start.chain, stage))
        else:
            image = expand(stage.base, self.global_variables) or stage.base
            state = StageView(
                stage=stage,
                chain=(stage,),
                external_base=None if image.lower() == "scratch" else image,
            )
        return self._walk(stage, state, inherited=base is not None)

    @property
    def final(self) -> StageView:
        """The view of the last stage: the image that runs."""
        return self.view(self.dockerfile.final)

    def _walk(self, stage: Stage, state: StageView, *, inherited: bool) -> StageView:
        variables = dict(state.variables)
        workdir = state.workdir
        user, user_name = state.user, state.user_name
        entrypoint, cmd = state.entrypoint, state.cmd
        cmd_from_base = inherited and cmd is not None
        copies = list(state.copies)
        runs = list(state.runs)
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "ARG":
                for name, value in key_values(instruction.arguments):
                    if value is not None:
                        variables[name] = expand(value, variables)
                    else:
                        variables.setdefault(name, self.global_variables.get(name))
            elif keyword == "ENV":
                for name, value in key_values(instruction.arguments):
                    # A search path keeps what the Dockerfile adds even when it extends an
                    # inherited value (`PATH=/opt/venv/bin:$PATH`).
                    partial = name.endswith("PATH")
                    variables[name] = (
                        expand(value, variables, partial=partial) if value is not None else None
                    )
            elif keyword == "WORKDIR":
                folder = expand(instruction.arguments.strip(), variables)
                # An unknown folder keeps the last known one: better than a wrong guess.
                if folder:
                    workdir = resolve_path(folder, workdir)
            elif keyword == "USER":
                user = instruction
                user_name = expand(instruction.arguments.strip(), variables)
            elif keyword == "ENTRYPOINT":
                entrypoint = instruction
                if cmd_from_base:
                    cmd = None  # Docker: a new ENTRYPOINT resets a CMD inherited from the base
                    cmd_from_base = False
            elif keyword == "CMD":
                cmd = instruction
                cmd_from_base = False
            elif keyword in ("COPY", "ADD"):
                copy = self._copy(stage, instruction, variables, workdir)
                if copy is not None:
                    copies.append(copy)
            elif keyword == "RUN":
                script = (
                    " ".join(instruction.exec_form)
                    if instruction.exec_form is not None
                    else instruction.arguments
                )
                if instruction.heredocs:
                    script = "\n".join([script, *instruction.heredocs])
                runs.append(Run(instruction, stage, script, workdir, dict(variables)))
        return replace(
            state,
            workdir=workdir,
            user=user,
            user_name=user_name,
            entrypoint=entrypoint,
            cmd=cmd,
            variables=variables,
            copies=tuple(copies),
            runs=tuple(runs),
        )

    def _copy(
        self,
        stage: Stage,
        instruction: Instruction,
        variables: dict[str, str | None],
        workdir: str,
    ) -> Copy | None:
        words = (
            list(instruction.exec_form)
            if instruction.exec_form is not None
            else split_words(instruction.arguments)
        )
        words = [w for w in words if not w.startswith("<<")]  # heredoc sources
        if len(words) < 2:
            return None
        *sources, destination = [expand(w, variables) or w for w in words]
        folder = destination.endswith("/") or destination in (".", "./")
        if len(sources) > 1 and not folder:
            # Docker rejects it ("the destination must be a directory and end with a /"): such
            # a COPY puts nothing in the image. (`COPY a.py ./  # note` is one: `#` and `note`
            # are sources there, not a comment.)
            return None
        origin = instruction.flags.get("from")
        from_stage: Stage | None = None
        from_image: str | None = None
        if origin:
            reference = expand(origin, variables) or origin
            found = self.dockerfile.stage_named(reference)
            if found is not None and found.index < stage.index:
                from_stage = found
            else:
                from_image = reference
        absolute = resolve_path(destination, workdir)
        if folder:
            absolute = absolute.rstrip("/") + "/"
        return Copy(instruction, stage, tuple(sources), absolute, from_stage, from_image)
