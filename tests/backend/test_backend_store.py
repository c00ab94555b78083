"""The SQLite record: WAL, survives restarts, idempotency stored once, atomic decisions."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from trainer_tools.dev_backend.lifecycle import JobState, Phase
from trainer_tools.dev_backend.store import Decision, IdempotencyKeyReused, Store, TimelineEntry


def accept(phase: Phase = Phase.RUNNING) -> Decision:
    return Decision(200, "application/json", {"ok": True}, JobState(phase), schema="x")


def record(store: Store, key: str | None, fingerprint: str = "f", job_id: int = 1) -> int:
    answer = store.record(
        job_id=job_id,
        scope="training",
        endpoint="e",
        method="POST",
        path=f"/jobs/{job_id}",
        idempotency_key=key,
        fingerprint=fingerprint,
        body={"n": 1},
        decide=lambda state, seq: accept(),
    )
    return answer.seq


def test_a_file_database_is_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    assert store.journal_mode == "wal"
    store.close()


def test_the_record_and_the_job_state_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite3"
    first = Store(path)
    record(first, "k1")
    first.record(
        job_id=1,
        scope="training",
        endpoint="e",
        method="POST",
        path="/jobs/1",
        idempotency_key=None,
        fingerprint="g",
        body=None,
        decide=lambda state, seq: accept(Phase.COMPLETED),
    )
    first.close()
    again = Store(path)
    assert [e.seq for e in again.timeline(1)] == [1, 2]
    assert again.job_states(1)["training"].phase is Phase.COMPLETED
    # A repeat after the restart is still recognised.
    assert record(again, "k1") == 1
    assert again.count() == 2


def test_a_repeat_is_answered_from_the_record_and_stored_once() -> None:
    store = Store(":memory:")
    calls = []

    def decide(state: JobState, seq: int) -> Decision:
        calls.append(seq)
        return accept()

    kwargs = dict(
        job_id=7,
        scope="training",
        endpoint="e",
        method="POST",
        path="/p",
        idempotency_key="same",
        fingerprint="f",
        body={"a": 1},
        decide=decide,
    )
    first = store.record(**kwargs)  # type: ignore[arg-type]
    second = store.record(**kwargs)  # type: ignore[arg-type]
    assert (first.replayed, second.replayed) == (False, True)
    assert second.seq == first.seq
    assert second.response == first.response
    assert calls == [1]  # the second was never decided again
    [entry] = store.timeline(7)
    assert entry.replays == 1


def test_the_same_key_for_another_request_is_refused_and_not_recorded() -> None:
    store = Store(":memory:")
    record(store, "k", fingerprint="one")
    with pytest.raises(IdempotencyKeyReused) as caught:
        record(store, "k", fingerprint="two")
    assert caught.value.first_seq == 1
    assert store.count() == 1


def test_a_failing_decision_leaves_nothing_behind() -> None:
    store = Store(":memory:")

    def explode(state: JobState, seq: int) -> Decision:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.record(
            job_id=1,
            scope="s",
            endpoint="e",
            method="POST",
            path="/p",
            idempotency_key="k",
            fingerprint="f",
            body=None,
            decide=explode,
        )
    assert store.count() == 0
    assert record(store, "k") == 1  # the key was not burnt


def test_concurrent_requests_get_distinct_sequence_numbers(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    seqs: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(20):
            seq = record(store, f"k-{n}-{i}", job_id=n)
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(1, 81))
    assert store.count() == 80


def test_job_ids_beyond_64_bits_are_stored() -> None:
    store = Store(":memory:")
    huge = 2**70
    record(store, None, job_id=huge)
    assert [e.job_id for e in store.timeline(huge)] == [huge]


def test_a_timeline_entry_survives_its_json_form() -> None:
    store = Store(":memory:")
    record(store, "k", job_id=3)
    [entry] = store.timeline(3)
    assert TimelineEntry.from_json(entry.to_json()) == entry
    assert entry.to_json()["accepted"] is True
