"""The per-job lifecycle as a state machine: what the reference backend accepts, and in which order.

The rules are the contract's (`lifecycle.json` `x-job-lifecycle`, generated as
`trainer_contract.job_lifecycle`)::

    pending --started/progress--> running --progress (epoch never decreasing)--> running
    pending|running --completed--> completed        (terminal, final)
    pending|running --failed-----> failed           (terminal)
    running|failed --started-----> running          (resume: a restart with the same JOB_ID)

A training's start report is the progress report at `START_EPOCH`; sent again by a restarted
Job, it resumes the job and starts the epoch count afresh. A lifecycle callback the table does
not allow (anything but a start after `failed`, anything after `completed`) or an epoch lower
than the last one of the run is a conflict (HTTP 409) whose reason says what happened and what
to do instead. Callbacks that are not part of the lifecycle (logs, validation results) are
accepted in every state.

The module is pure: states in, states out. The store persists the state; `events` maps a request
onto an `Event`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from trainer_contract.job_lifecycle import START_EPOCH, TRANSITIONS

__all__ = ["Event", "EventKind", "JobState", "LifecycleConflict", "Phase", "advance"]


class Phase(enum.StrEnum):
    """Where a job is in its lifecycle."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """True once the job has reported its end."""
        return self in (Phase.COMPLETED, Phase.FAILED)


class EventKind(enum.StrEnum):
    """What a callback means for the lifecycle."""

    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    OTHER = "other"  # logs, validation results: accepted in any state


@dataclass(frozen=True)
class Event:
    """One callback, as the lifecycle sees it.

    `epoch_path` / `total_path` are the JSON paths of the epoch fields in the request body, so that
    a conflict can point at the field that caused it.
    """

    kind: EventKind
    epoch: int | None = None
    total_epochs: int | None = None
    epoch_path: str = "$"
    total_path: str = "$"


@dataclass(frozen=True)
class JobState:
    """The lifecycle state of one job, as stored between requests."""

    phase: Phase = Phase.PENDING
    last_epoch: int | None = None
    total_epochs: int | None = None
    terminal_seq: int | None = None  # the timeline sequence number of the terminal callback

    def to_json(self) -> dict[str, object]:
        """The state as a JSON object (stored in SQLite, shown in the timeline)."""
        return {
            "phase": self.phase.value,
            "last_epoch": self.last_epoch,
            "total_epochs": self.total_epochs,
            "terminal_seq": self.terminal_seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> JobState:
        """Rebuild a state written by `to_json`."""
        last = data.get("last_epoch")
        total = data.get("total_epochs")
        seq = data.get("terminal_seq")
        return cls(
            phase=Phase(str(data.get("phase", Phase.PENDING.value))),
            last_epoch=last if isinstance(last, int) else None,
            total_epochs=total if isinstance(total, int) else None,
            terminal_seq=seq if isinstance(seq, int) else None,
        )


class LifecycleConflict(Exception):
    """A callback that breaks the lifecycle; `status` is the HTTP status to answer with.

    Always 409 today: the body is valid against its schema, but the job's state (or the plan it
    reported, for an epoch beyond the total) does not allow it. `status` leaves room for rules
    that need another code.
    """

    def __init__(self, reason: str, path: str, status: int = 409) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.status = status


def _contract_event(event: Event) -> str:
    """The event's name in the contract's table (a progress report at START_EPOCH is a start)."""
    if event.kind is EventKind.PROGRESS and event.epoch == START_EPOCH:
        return EventKind.STARTED.value
    return event.kind.value


def advance(state: JobState, event: Event, seq: int) -> JobState:
    """Return the state after `event` (timeline number `seq`), or raise `LifecycleConflict`."""
    if event.kind is EventKind.OTHER:
        return state
    if (
        event.epoch is not None
        and event.total_epochs is not None
        and event.kind in (EventKind.STARTED, EventKind.PROGRESS)
        and event.epoch > event.total_epochs
    ):
        raise LifecycleConflict(
            f"epoch {event.epoch} is beyond total_epochs {event.total_epochs}; report epochs "
            f"from 0 to the total, or raise the total first",
            event.epoch_path,
        )
    name = _contract_event(event)
    transition = TRANSITIONS.get((state.phase.value, name))
    if transition is None:
        if state.phase.terminal:
            again = (
                " (a failed job resumes when a restart sends its start report again; a "
                "completed one is final: run it again under a new JOB_ID)"
            )
            raise LifecycleConflict(
                f"the job already reported '{state.phase.value}' (timeline #{state.terminal_seq}); "
                f"a '{event.kind.value}' callback after the end of a job is refused{again}. "
                f"Report the end exactly once, as the last lifecycle callback",
                "$",
            )
        raise LifecycleConflict(
            f"a '{name}' callback is not allowed while the job is '{state.phase.value}'", "$"
        )
    phase = Phase(transition.to)
    if phase.terminal:
        return replace(state, phase=phase, terminal_seq=seq)
    if transition.resume:
        # A restarted Job: the run begins again, from the epoch its start report gives.
        return JobState(
            phase=phase,
            last_epoch=event.epoch,
            total_epochs=event.total_epochs
            if event.total_epochs is not None
            else state.total_epochs,
            terminal_seq=None,
        )
    if event.epoch is not None and state.last_epoch is not None and event.epoch < state.last_epoch:
        raise LifecycleConflict(
            f"epoch went backwards: {event.epoch} after {state.last_epoch}; epochs must never "
            f"decrease within a run (a restarted job sends its start report first)",
            event.epoch_path,
        )
    return replace(
        state,
        phase=phase,
        last_epoch=event.epoch if event.epoch is not None else state.last_epoch,
        total_epochs=event.total_epochs if event.total_epochs is not None else state.total_epochs,
    )
