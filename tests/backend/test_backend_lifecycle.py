"""The lifecycle state machine, on its own (pure: states in, states out)."""

from __future__ import annotations

import pytest

from trainer_tools.dev_backend.lifecycle import (
    Event,
    EventKind,
    JobState,
    LifecycleConflict,
    Phase,
    advance,
)


def progress(epoch: int, total: int = 10) -> Event:
    return Event(EventKind.PROGRESS, epoch, total, "$.current_epoch", "$.total_epochs")


def run(*events: Event) -> JobState:
    state = JobState()
    for seq, event in enumerate(events, start=1):
        state = advance(state, event, seq)
    return state


def test_a_whole_job_ends_completed_with_the_last_epoch_and_the_terminal_number() -> None:
    state = run(progress(0), progress(1), progress(2), progress(2), Event(EventKind.COMPLETED))
    assert state == JobState(Phase.COMPLETED, last_epoch=2, total_epochs=10, terminal_seq=5)


def test_a_failure_is_terminal_too() -> None:
    state = run(progress(0), Event(EventKind.FAILED))
    assert state.phase is Phase.FAILED
    assert state.phase.terminal
    assert state.terminal_seq == 2


def test_an_epoch_going_backwards_is_a_conflict_pointing_at_the_epoch() -> None:
    state = run(progress(0), progress(5))
    with pytest.raises(LifecycleConflict) as caught:
        advance(state, progress(4), 3)
    assert caught.value.status == 409
    assert caught.value.path == "$.current_epoch"
    assert "4 after 5" in caught.value.reason


@pytest.mark.parametrize("kind", [EventKind.PROGRESS, EventKind.COMPLETED, EventKind.FAILED])
def test_nothing_of_the_lifecycle_is_accepted_after_the_end(kind: EventKind) -> None:
    state = run(progress(0), Event(EventKind.COMPLETED))
    event = progress(3) if kind is EventKind.PROGRESS else Event(kind)
    with pytest.raises(LifecycleConflict) as caught:
        advance(state, event, 3)
    assert caught.value.status == 409
    assert "#2" in caught.value.reason  # names the callback that ended the job
    assert "completed" in caught.value.reason


def test_logs_and_validation_results_are_accepted_in_every_state() -> None:
    done = run(progress(0), Event(EventKind.FAILED))
    assert advance(done, Event(EventKind.OTHER), 3) == done
    assert advance(JobState(), Event(EventKind.OTHER), 1) == JobState()


def test_an_epoch_beyond_the_total_is_refused() -> None:
    with pytest.raises(LifecycleConflict) as caught:
        advance(JobState(), progress(11, total=10), 1)
    assert caught.value.status == 409
    assert caught.value.path == "$.current_epoch"


def test_a_job_may_complete_without_any_progress() -> None:
    assert run(Event(EventKind.COMPLETED)).phase is Phase.COMPLETED


def test_state_survives_its_json_form() -> None:
    state = run(progress(0), progress(3), Event(EventKind.COMPLETED))
    assert JobState.from_json(state.to_json()) == state


def test_a_start_report_after_a_failure_or_mid_run_resumes_the_job() -> None:
    stopped = run(progress(0), progress(3), Event(EventKind.FAILED))
    resumed = advance(stopped, progress(0), 4)
    assert resumed == JobState(Phase.RUNNING, last_epoch=0, total_epochs=10, terminal_seq=None)
    assert advance(resumed, progress(2), 5).last_epoch == 2  # from its checkpoint on
    killed = run(progress(0), progress(5))
    assert advance(killed, progress(0), 3).last_epoch == 0
    started = advance(run(Event(EventKind.FAILED)), Event(EventKind.STARTED), 2)
    assert started.phase is Phase.RUNNING


def test_a_completed_job_is_final_even_for_a_start_report() -> None:
    done = run(progress(0), Event(EventKind.COMPLETED))
    with pytest.raises(LifecycleConflict) as caught:
        advance(done, progress(0), 3)
    assert "completed" in caught.value.reason and "new JOB_ID" in caught.value.reason


def test_only_a_start_report_resumes_a_failed_job() -> None:
    failed = run(progress(0), Event(EventKind.FAILED))
    with pytest.raises(LifecycleConflict):
        advance(failed, progress(1), 3)
