"""What each callback body means for a job's lifecycle, derived from the generated contract tables.

Nothing here names a schema or an endpoint. The lifecycle vocabulary of the linter
(`LIFECYCLE_METHODS`: which SDK method starts, progresses, completes and fails a job) names the
SDK methods; `SDK_METHODS[...].sends` names the bodies each one sends; `ENDPOINTS` says which
endpoints accept a failure body (the completion endpoints, whose other bodies are successes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.lint_rules import LIFECYCLE_METHODS
from trainer_contract.models.callbacks.progress import TrainingProgress
from trainer_contract.sdk_api import SDK_METHODS
from trainer_tools.dev_backend.lifecycle import Event, EventKind

__all__ = ["BodyRoles", "body_roles", "event_for", "with_epoch"]


@dataclass(frozen=True)
class BodyRoles:
    """The validator names of the bodies in each lifecycle role."""

    started: frozenset[str]
    progress: frozenset[str]
    completed: frozenset[str]
    failed: frozenset[str]

    def kind(self, schema: str) -> EventKind:
        """The lifecycle meaning of a body that matched `schema`."""
        if schema in self.failed:
            return EventKind.FAILED
        if schema in self.completed:
            return EventKind.COMPLETED
        if schema in self.progress:
            return EventKind.PROGRESS
        if schema in self.started:
            return EventKind.STARTED
        return EventKind.OTHER

    @property
    def terminal(self) -> frozenset[str]:
        """Bodies that end a job."""
        return self.completed | self.failed


@cache
def body_roles() -> BodyRoles:
    """Compute the roles once from the generated tables."""
    progress = frozenset(SDK_METHODS[LIFECYCLE_METHODS.progress].sends)
    # report_started sends the progress body (epoch 0) for training and a started body otherwise.
    started = frozenset(SDK_METHODS[LIFECYCLE_METHODS.started].sends) - progress
    failed = frozenset(SDK_METHODS[LIFECYCLE_METHODS.failed].sends)
    completed = frozenset(
        body
        for endpoint in ENDPOINTS.values()
        if failed & set(endpoint.bodies)
        for body in endpoint.bodies
        if body not in failed
    )
    return BodyRoles(started=started, progress=progress, completed=completed, failed=failed)


def event_for(schema: str, body: object) -> Event:
    """The lifecycle event of a valid `body` that matched `schema`."""
    kind = body_roles().kind(schema)
    if kind is EventKind.PROGRESS and isinstance(body, dict):
        progress = cast(TrainingProgress, body)
        return Event(
            kind,
            epoch=progress["current_epoch"],
            total_epochs=progress["total_epochs"],
            epoch_path="$." + _key(TrainingProgress, "current_epoch"),
            total_path="$." + _key(TrainingProgress, "total_epochs"),
        )
    return Event(kind)


def with_epoch(body: dict[str, Any], epoch: int) -> dict[str, Any]:
    """A copy of a progress body reporting `epoch` (the total raised to it when needed)."""
    progress = cast(TrainingProgress, dict(body))
    progress["current_epoch"] = epoch
    progress["total_epochs"] = max(progress["total_epochs"], epoch, 1)
    return dict(progress)


def _key(model: type, name: str) -> str:
    # The key is checked against the generated model, so a renamed field fails here, loudly,
    # instead of silently reading nothing.
    if name not in model.__annotations__:
        raise KeyError(f"{model.__name__} has no field {name!r}: regenerate and update the backend")
    return name
