"""The SDK against the reference backend over real HTTP, with checkpoints in a real S3 server."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trainer_contract.lint_rules import TRAINING_OPERATION
from trainer_sdk import ErrorType, TrainerSDK
from trainer_tools.dev_backend import Store, TimelineEntry, create_app
from trainer_tools.dev_backend.lifecycle import EventKind, Phase
from trainer_tools.dev_backend.roles import body_roles, event_for
from trainer_tools.dry_run.services import AsgiServer
from trainer_tools.dry_run.verdict import judge
from trainer_tools.services.seaweed import SeaweedServer

TOKEN = "integration-token"

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def backend() -> Iterator[tuple[AsgiServer, Store]]:
    store = Store(":memory:")
    with AsgiServer(create_app(store, token=TOKEN)) as server:
        yield server, store
    store.close()


SdkFactory = Callable[[int], TrainerSDK]


@pytest.fixture
def make_sdk(
    backend: tuple[AsgiServer, Store], storage_env: Callable[..., dict[str, str]], tmp_path: Path
) -> SdkFactory:
    def make(job_id: int) -> TrainerSDK:
        env = storage_env(
            JOB_ID=str(job_id),
            CALLBACK_URL=backend[0].url,
            CALLBACK_TOKEN=TOKEN,
            WORK_DIR=str(tmp_path / "work"),
            TMP_DIR=str(tmp_path / "tmp"),
            DEVICE="cpu",
            EPOCHS="3",
        )
        return TrainerSDK(env=env)

    return make


def kinds(entries: list[TimelineEntry]) -> list[tuple[EventKind, int | None]]:
    roles = body_roles()
    return [(roles.kind(e.schema or ""), event_for(e.schema or "", e.body).epoch) for e in entries]


def test_a_whole_training_run_is_recorded_in_order_once(
    make_sdk: SdkFactory, backend: tuple[AsgiServer, Store], seaweed: SeaweedServer, tmp_path: Path
) -> None:
    sdk = make_sdk(101)
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights" * 100)
    sdk.report_started("training", total_epochs=3)
    for epoch in (1, 2, 3):
        sdk.report_progress(epoch, 3, {"loss": 1.0 / epoch, "mAP50-95": 0.1 * epoch})
    uri = sdk.upload_checkpoint(str(weights), "best")
    sdk.report_validation(
        epoch=3,
        task_type="detection",
        primary_metric=("mAP50-95", 0.3),
        all_metrics={"mAP50-95": 0.3},
        class_names=["a", "b"],
        is_best=True,
    )
    sdk.report_completed({"loss": 0.33}, {"best": uri}, 3)
    sdk.close()

    entries = backend[1].timeline(101)
    assert all(e.status_code == 200 for e in entries), [e.response for e in entries]
    assert kinds(entries) == [
        (EventKind.PROGRESS, 0),
        (EventKind.PROGRESS, 1),
        (EventKind.PROGRESS, 2),
        (EventKind.PROGRESS, 3),
        (EventKind.OTHER, None),  # the upload log event (with its duration)
        (EventKind.OTHER, None),  # the validation results
        (EventKind.COMPLETED, None),
    ]
    keys = [e.idempotency_key for e in entries]
    assert None not in keys and len(set(keys)) == len(keys)
    assert all(e.replays == 0 for e in entries)
    assert backend[1].job_states(101)[TRAINING_OPERATION].phase is Phase.COMPLETED
    # The user's metric names reach the backend as given.
    assert entries[1].body["metrics"]["extra_metrics"]["mAP50-95"] == pytest.approx(0.1)
    # The reported checkpoint is really in the internal bucket, and the dry-run verdict agrees.
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    assert (
        seaweed.client().get_object(Bucket=bucket, Key=key)["Body"].read() == weights.read_bytes()
    )
    verdict = judge(101, entries, 0, {uri: True}, bucket)
    assert verdict.ok, verdict.format()


def test_a_failure_and_forwarded_logs_are_recorded(
    make_sdk: SdkFactory, backend: tuple[AsgiServer, Store]
) -> None:
    sdk = make_sdk(102)
    logger = logging.getLogger("trainer-under-test")
    logger.setLevel(logging.INFO)
    handler = sdk.logging_handler()
    logger.addHandler(handler)
    try:
        sdk.report_started("training", total_epochs=3)
        logger.info("epoch 1 starts")
        sdk.report_failed(ErrorType.RESOURCE_ERROR, "CUDA out of memory", None, 0)
    finally:
        logger.removeHandler(handler)
        sdk.close()
    entries = backend[1].timeline(102)
    assert all(e.accepted for e in entries), [e.response for e in entries]
    assert [k for k, _ in kinds(entries)] == [EventKind.PROGRESS, EventKind.OTHER, EventKind.FAILED]
    assert "epoch 1 starts" in str(entries[1].body)
    assert str(ErrorType.RESOURCE_ERROR) in str(entries[2].body)
    assert backend[1].job_states(102)[TRAINING_OPERATION].phase is Phase.FAILED
