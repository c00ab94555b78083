"""TrainerSDK callbacks: bodies, validation before sending, order, headers, ranks, file sink."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
from sdk_recording_backend import RecordingBackend

from trainer_contract.validators import validator
from trainer_sdk import (
    CallbackDeliveryError,
    CallbackRejectedError,
    ConfigError,
    ErrorType,
    NonFiniteMetricError,
    PayloadValidationError,
    TrainerSDK,
    __version__,
)
from trainer_sdk.delivery.outbox import read_outbox

MakeSdk = Callable[..., TrainerSDK]


def test_progress_body_carries_every_metric_and_measured_times(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_started("training", total_epochs=10)
    sdk.report_progress(
        1,
        10,
        {"loss": np.float32(0.5), "accuracy": 0.8, "lr": 0.001, "mAP50-95": 0.52},
        extra_data={"raw": np.array([1, 2])},
    )
    sdk.flush_logs()
    started, progress = backend.bodies("/training/jobs/7/callback/progress")
    assert started["current_epoch"] == 0 and started["total_epochs"] == 10
    assert started["metrics"] is None and started["progress_percent"] == 0
    assert progress["status"] == "running" and progress["progress_percent"] == 10
    metrics = progress["metrics"]
    assert metrics["loss"] == 0.5 and metrics["accuracy"] == 0.8
    assert metrics["learning_rate"] == 0.001  # `lr` is the documented synonym
    assert metrics["extra_metrics"] == {"loss": 0.5, "accuracy": 0.8, "lr": 0.001, "mAP50-95": 0.52}
    assert progress["extra_data"] == {"raw": [1, 2]}
    assert progress["epoch_duration_seconds"] >= 0
    assert progress["estimated_time_remaining"] >= 0
    for body in (started, progress):
        assert validator("callbacks/progress").is_valid(body)


def test_a_non_finite_optional_metric_is_dropped_with_one_warning_and_the_rest_is_sent(
    make_sdk: MakeSdk, backend: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = make_sdk()
    for epoch in (3, 4):
        sdk.report_progress(
            epoch,
            10,
            {"loss": 0.1, "mAP50-95": math.nan, "precision": np.float32("inf"), "recall": 0.5},
            extra_data={"raw": {"seg_loss": math.nan, "ok": 1.0}, "list": [math.inf, 2]},
        )
    sdk.flush_logs()
    bodies = backend.bodies("/training/jobs/7/callback/progress")
    assert [b["current_epoch"] for b in bodies] == [3, 4]
    for body in bodies:
        assert validator("callbacks/progress").is_valid(body)
        assert body["metrics"]["loss"] == 0.1
        assert body["metrics"]["extra_metrics"] == {"loss": 0.1, "recall": 0.5}
        assert body["extra_data"] == {"raw": {"seg_loss": None, "ok": 1.0}, "list": [None, 2]}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for name in ("'mAP50-95'", "'precision'", "'extra_data.raw.seg_loss'", "'extra_data.list[0]'"):
        # Named once, although two epochs carried it.
        assert sum(name in w for w in warnings) == 1, (name, warnings)


def test_a_non_finite_loss_raises_a_validation_error_naming_it_and_nothing_is_sent(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    with pytest.raises(NonFiniteMetricError) as info:
        sdk.report_progress(3, 10, {"loss": math.nan, "mAP50-95": 0.5})
    assert isinstance(info.value, PayloadValidationError)
    assert info.value.error_type is ErrorType.VALIDATION_ERROR
    message = str(info.value)
    assert "loss=nan" in message and "diverged" in message and "nothing was sent" in message
    sdk.flush_logs()
    assert backend.requests == []
    assert sdk.outbox_path is not None
    assert read_outbox(sdk.outbox_path).pending == () and sdk.undelivered == 0


def test_non_finite_validation_values_never_raise_and_are_named_once(
    make_sdk: MakeSdk, backend: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """A class with no instances has a NaN AP: the validation report is still sent, valid."""
    sdk = make_sdk()
    for epoch in (1, 2):
        sdk.report_validation(
            epoch,
            "detection",
            ("mAP50-95", np.float64("nan")),
            all_metrics={"mAP50": 0.4, "mAP50-95": math.nan, "loss": math.inf},
            per_class_metrics={"cat": {"ap": math.nan, "n": 3}, "dog": {"ap": 0.5, "n": 2}},
            pr_curves={"cat": {"precision": [1.0, math.nan], "recall": [0.0, 1.0]}},
            overall_loss=np.float32("nan"),
        )
    sdk.flush_logs()
    bodies = backend.bodies("/validation/jobs/7/results")
    assert [b["epoch"] for b in bodies] == [1, 2]
    for body in bodies:
        assert validator("callbacks/validation").is_valid(body)
        assert body["primary_metric_name"] == "mAP50-95"
        assert body["primary_metric_value"] is None
        assert body["metrics"] == {"mAP50": 0.4}  # loss too: validation metrics are evidence
        assert body["per_class_metrics"] == {
            "cat": {"ap": None, "n": 3},
            "dog": {"ap": 0.5, "n": 2},
        }
        assert body["pr_curves"] == {"cat": {"precision": [1.0, None], "recall": [0.0, 1.0]}}
        assert "overall_loss" not in body  # None: an optional field left out
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for name in (
        "the metric 'mAP50-95'",
        "\"primary_metric 'mAP50-95'\"",
        "'overall_loss'",
        "'per_class_metrics.cat.ap'",
        "'pr_curves.cat.precision[1]'",
    ):
        assert sum(name in w and "report_validation(epoch=1)" in w for w in warnings) == 1, (
            name,
            warnings,
        )
    assert not any("report_validation(epoch=2)" in w for w in warnings)  # once per name


def test_non_finite_completion_metrics_are_dropped_and_a_nan_final_loss_raises(
    make_sdk: MakeSdk, backend: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = make_sdk()
    sdk.report_completed(
        {"loss": 0.2, "mAP50-95": math.nan, "recall": 0.7},
        {},
        3,
        extra_data={"curve": [0.1, math.inf]},
        best_metrics={"precision": math.inf, "mAP50": 0.6},
        best_epoch=2,
    )
    (body,) = backend.bodies("/training/jobs/7/callback/completion")
    assert validator("callbacks/training-completed").is_valid(body)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    text = json.dumps(body)
    assert "NaN" not in text and "Infinity" not in text
    for name in ("'mAP50-95'", "'best_metrics.precision'", "'extra_data.curve[1]'"):
        assert sum(name in w and "report_completed()" in w for w in warnings) == 1, (name, warnings)
    other = make_sdk()
    with pytest.raises(NonFiniteMetricError, match="final_metrics: the metric loss=nan"):
        other.report_completed({"loss": math.nan}, {}, 3)


def test_every_bad_argument_is_listed_at_once(make_sdk: MakeSdk) -> None:
    sdk = make_sdk()
    with pytest.raises(PayloadValidationError) as info:
        sdk.report_progress(-1, 0, {"accuracy": "high"})
    paths = {error.path for error in info.value.errors}
    assert {"$.epoch", "$.total_epochs", "$.metrics.accuracy"} <= paths
    keywords = {error.keyword for error in info.value.errors}
    assert {"minimum", "type"} <= keywords


def test_progress_percent_is_capped_at_100(make_sdk: MakeSdk, backend: RecordingBackend) -> None:
    sdk = make_sdk()
    sdk.report_progress(11, 10, {"loss": 0.1})
    sdk.flush_logs()
    (body,) = backend.bodies("/callback/progress")
    assert body["progress_percent"] == 100


def test_headers_carry_idempotency_key_and_version(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk(extra_env={"CALLBACK_TOKEN": "tok-abcdef-123"})
    sdk.report_progress(1, 2, {"loss": 0.3})
    sdk.report_progress(2, 2, {"loss": 0.2})
    sdk.flush_logs()
    keys = [r.headers["Idempotency-Key"] for r in backend.requests]
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(
        r.headers["User-Agent"].startswith(f"trainer-sdk/{__version__}") for r in backend.requests
    )
    assert backend.requests[0].headers["Authorization"] == "Bearer tok-abcdef-123"
    assert "tok-abcdef-123" not in repr(sdk)


def test_url_credentials_never_replace_the_bearer_token(
    make_sdk: MakeSdk,
    backend: RecordingBackend,
    env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """httpx turns `user:password@` into Basic auth, which would drop the bearer token: the
    token is sent, the URL's credentials are not, and the warning masks them."""
    with_userinfo = env["CALLBACK_URL"].replace("://", "://svc:hunter2-pass@", 1)
    sdk = make_sdk(extra_env={"CALLBACK_URL": with_userinfo, "CALLBACK_TOKEN": "tok-abcdef-123"})
    sdk.report_progress(1, 2, {"loss": 0.3})
    sdk.flush_logs()
    (request,) = backend.requests
    assert request.headers["Authorization"] == "Bearer tok-abcdef-123"
    assert request.url.userinfo == b""
    warned = [r.getMessage() for r in caplog.records if "carries credentials" in r.getMessage()]
    assert len(warned) == 1 and "svc:***@" not in warned[0] and "hunter2" not in warned[0]
    # Without a token, the URL's credentials are Basic auth as usual (a proxy in front).
    sdk.close()  # a job's SDKs share one sender while one is open
    backend.requests.clear()
    plain = make_sdk(extra_env={"CALLBACK_URL": with_userinfo})
    plain.report_progress(1, 2, {"loss": 0.3})
    plain.flush_logs()
    (request,) = backend.requests
    assert request.headers["Authorization"].startswith("Basic ")


def test_completion_flushes_queued_callbacks_first(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_started("training", total_epochs=3)
    for epoch in (1, 2, 3):
        sdk.report_progress(epoch, 3, {"loss": 1 / epoch})
        sdk.log_info(f"epoch {epoch} done")
    sdk.report_completed(
        {"loss": 0.3, "mAP50-95": 0.7}, {"best": "s3://b/best.pt", "last": "s3://b/last.pt"}, 3
    )
    paths = [path.rsplit("/", 1)[-1] for path, _ in backend.calls()]
    assert paths == ["progress"] + ["progress", "logs"] * 3 + ["completion"]
    completion = backend.bodies("/callback/completion")[0]
    assert completion["status"] == "completed" and completion["exit_code"] == 0
    assert completion["best_checkpoint_path"] == "s3://b/best.pt"
    assert completion["last_checkpoint_path"] == "s3://b/last.pt"
    assert completion["final_metrics"]["extra_metrics"]["mAP50-95"] == 0.7
    assert completion["total_epochs_completed"] == 3
    assert sdk.terminal_state == "completed"


def test_completion_defaults_to_the_configured_epochs(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk(extra_env={"EPOCHS": "4"})
    sdk.report_completed({"loss": 0.1})
    assert backend.bodies("/callback/completion")[0]["total_epochs_completed"] == 4


@pytest.mark.parametrize(
    ("given", "wire"),
    [
        (ErrorType.RESOURCE_ERROR, "ResourceError"),
        (ErrorType.TRAINING_ERROR, "UnknownError"),  # the guide's deprecated alias
        ("DatasetError", "DatasetError"),
        ("config_error", "ConfigError"),
    ],
)
def test_failure_body_and_error_type_forms(
    make_sdk: MakeSdk, backend: RecordingBackend, given: ErrorType | str, wire: str
) -> None:
    sdk = make_sdk()
    sdk.report_failed(given, "CUDA out of memory", "Traceback ...", epochs_completed=35)
    body = backend.bodies("/training/jobs/7/callback/completion")[0]
    assert body["status"] == "failed" and body["exit_code"] == 1
    assert body["error_type"] == wire
    assert body["error_message"] == f"[{wire}] CUDA out of memory"
    assert body["traceback"] == "Traceback ..." and body["total_epochs_completed"] == 35


def test_unknown_error_type_is_refused_with_the_choices(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    with pytest.raises(PayloadValidationError, match="RESOURCE_ERROR"):
        sdk.report_failed("OutOfCheese", "x")
    assert backend.requests == []


def test_failure_text_is_scrubbed_of_secrets(make_sdk: MakeSdk, backend: RecordingBackend) -> None:
    secret = "AKIA-very-secret-key"
    sdk = make_sdk(extra_env={"INTERNAL_STORAGE_SECRET_KEY": secret})
    sdk.report_failed(
        ErrorType.NETWORK_ERROR,
        f"S3 said no for {secret}",
        f"Traceback: GET http://u:{secret}@s3/x?X-Amz-Signature=abc123",
    )
    text = json.dumps(backend.bodies("/callback/completion")[0])
    assert secret not in text and "abc123" not in text and "***" in text


def test_inference_and_export_jobs_use_their_own_paths(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk(extra_env={"FRAMEWORK": "ultralytics", "MODEL_NAME": "yolo11n"})
    sdk.report_started("inference")
    sdk.report_inference_completed(4, 200.0, [{"image_path": "s3://b/a.jpg"}], ["s3://b/r.json"])
    sdk.report_failed(ErrorType.UNKNOWN_ERROR, "late failure")
    export = make_sdk()
    export.report_started("export")
    metadata = TrainerSDK.create_export_metadata(
        "ultralytics",
        "yolo11n",
        "onnx",
        "object_detection",
        [1, 3, 640, 640],
        [1, 84, 8400],
        class_names=["cat", "dog"],
    )
    assert metadata["num_classes"] == 2 and metadata["task_type"] == "object_detection"
    export.report_export_completed("onnx", "s3://b/model.onnx", 1234, metadata)
    export.report_failed("FrameworkError", "after export")
    paths = [path for path, _ in backend.calls()]
    assert paths == [
        "/api/v1/test_inference/inference/jobs/7/callback/started",
        "/api/v1/test_inference/inference/jobs/7/callback/completion",
        "/api/v1/test_inference/inference/jobs/7/callback/completion",
        "/api/v1/export/jobs/7/callback/started",
        "/api/v1/export/jobs/7/callback/completion",
        "/api/v1/export/jobs/7/callback/completion",
    ]
    inference = backend.calls()[1][1]
    assert inference["avg_inference_time_ms"] == 50.0 and inference["type"] == "inference_completed"


def test_validation_results_accept_long_task_names_and_tuples(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_validation(
        epoch=5,
        task_type="image_classification",
        primary_metric=("top1", np.float64(0.91)),
        all_metrics={"top1": 0.91, "top5": 0.99},
        class_names=["cat", "dog"],
        visualization_urls={"confusion_matrix": "s3://b/cm.png"},
        is_best=True,
        confusion_matrix=[[5, 1], [0, 6]],
    )
    sdk.flush_logs()
    (body,) = backend.bodies("/validation/jobs/7/results")
    assert body["task_type"] == "classification"
    assert body["primary_metric_name"] == "top1" and body["primary_metric_value"] == 0.91
    assert body["is_best"] is True and body["confusion_matrix"] == [[5, 1], [0, 6]]
    assert body["timestamp"].endswith("Z")


def test_a_400_names_endpoint_status_and_message(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    backend.behaviour = lambda request: httpx.Response(400, json={"detail": "job 7 is not running"})
    sdk = make_sdk()
    with pytest.raises(CallbackRejectedError) as info:
        sdk.report_completed({"loss": 0.1}, total_epochs=1)
    message = str(info.value)
    assert "/training/jobs/7/callback/completion" in message
    assert "400" in message and "job 7 is not running" in message
    assert len(backend.requests) == 1  # never retried


def test_unreachable_backend_raises_delivery_error_naming_the_outbox(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    backend.behaviour = refuse
    sdk = make_sdk()
    sdk.report_progress(1, 2, {"loss": 0.5})
    with pytest.raises(CallbackDeliveryError) as info:
        sdk.report_completed({"loss": 0.5}, total_epochs=2)
    assert info.value.exit_code == 2
    assert sdk.outbox_path is not None and str(sdk.outbox_path) in str(info.value)
    sdk.abandon()
    pending = read_outbox(sdk.outbox_path).pending
    assert [e.endpoint for e in pending] == ["training_progress", "training_completion"]


def test_other_ranks_are_silent_unless_enabled(
    make_sdk: MakeSdk, backend: RecordingBackend, env: dict[str, str]
) -> None:
    quiet = make_sdk(extra_env={"RANK": "1", "WORLD_SIZE": "2"})
    assert not quiet.is_reporting and quiet.outbox_path is None
    quiet.report_started("training", total_epochs=2)
    quiet.report_progress(1, 2, {"loss": 0.5})
    quiet.log("hello")
    quiet.report_completed({"loss": 0.1}, total_epochs=2)
    assert quiet.upload_checkpoint("/nonexistent.pt", "best") == ""
    assert quiet.get_basic_config()["epochs"] == 100  # config still works on every rank
    assert backend.requests == []

    loud = make_sdk(extra_env={"RANK": "1", "WORLD_SIZE": "2", "TRAINER_SDK_ALL_RANKS": "true"})
    loud.report_progress(1, 2, {"loss": 0.5})
    loud.flush_logs()
    assert len(backend.requests) == 1
    assert loud.outbox_path is not None and loud.outbox_path.name == "job-7-rank1.jsonl"


def test_file_url_writes_validated_callbacks_with_headers(tmp_path: Path) -> None:
    target = tmp_path / "callbacks.jsonl"
    env = {"JOB_ID": "3", "CALLBACK_URL": target.as_uri(), "WORK_DIR": str(tmp_path / "w")}
    with TrainerSDK(env=env) as sdk:
        sdk.report_started("training", total_epochs=1)
        sdk.report_progress(1, 1, {"loss": 0.1})
        sdk.report_completed({"loss": 0.1}, total_epochs=1)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["endpoint"] for line in lines] == [
        "training_progress",
        "training_progress",
        "training_completion",
    ]
    assert all(line["headers"]["Idempotency-Key"] for line in lines)
    assert validator("callbacks/training-completed").is_valid(lines[-1]["body"])


def test_properties_come_from_the_environment(make_sdk: MakeSdk) -> None:
    sdk = make_sdk(
        extra_env={
            "TASK_TYPE": "instance_segmentation",
            "MODEL_NAME": "yolo11n-seg",
            "DATASET_ID": "ds_1",
            "SNAPSHOT_ID": "snap_1",
            "DATASET_VERSION_HASH": "abc",
            "FRAMEWORK": "ultralytics",
        }
    )
    assert (sdk.job_id, sdk.task_type, sdk.model_name) == (7, "segmentation", "yolo11n-seg")
    assert (sdk.dataset_id, sdk.snapshot_id, sdk.dataset_version_hash) == ("ds_1", "snap_1", "abc")
    assert sdk.framework == "ultralytics"


def test_reports_after_close_are_refused_clearly(make_sdk: MakeSdk) -> None:
    sdk = make_sdk()
    sdk.close()
    sdk.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        sdk.report_progress(1, 2, {"loss": 0.1})
    sdk.log("after close")  # logging never raises


def test_context_manager_reports_an_uncaught_exception(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    with pytest.raises(MemoryError), make_sdk() as sdk:
        sdk.report_progress(2, 5, {"loss": 0.4})
        raise MemoryError("host out of memory")
    failed = backend.bodies("/callback/completion")[0]
    assert failed["error_type"] == "ResourceError"
    assert failed["total_epochs_completed"] == 2
    assert "MemoryError: host out of memory" in failed["error_message"]
    assert "Traceback" in failed["traceback"]


def test_restarted_process_redelivers_first_and_in_order(
    env: dict[str, str], backend: RecordingBackend
) -> None:
    backend.behaviour = lambda request: httpx.Response(503)
    first = TrainerSDK(env=env, http_transport=backend.transport())
    first.report_progress(1, 3, {"loss": 0.9})
    first.report_progress(2, 3, {"loss": 0.8})
    first.abandon()  # the pod died
    assert first.outbox_path is not None
    spooled = [envelope.key for envelope in read_outbox(first.outbox_path).pending]
    assert len(spooled) == 2

    healthy = RecordingBackend()
    with TrainerSDK(env=env, http_transport=healthy.transport()) as second:
        second.report_progress(3, 3, {"loss": 0.7})
        second.report_completed({"loss": 0.7}, total_epochs=3)
    epochs = [body.get("current_epoch") for _, body in healthy.calls()]
    assert epochs == [1, 2, 3, None]
    assert [r.headers["Idempotency-Key"] for r in healthy.requests[:2]] == spooled


def test_unwritable_work_dir_is_a_config_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {"JOB_ID": "1", "CALLBACK_URL": "http://backend.test", "WORK_DIR": str(blocker)}
    with pytest.raises(ConfigError, match="WORK_DIR") as info:
        TrainerSDK(env=env)
    assert "writable" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"), [("CALLBACK_TIMEOUT", "0"), ("CALLBACK_RETRY_DELAY", "-1")]
)
def test_nonsense_delivery_settings_are_config_errors(
    env: dict[str, str], name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        TrainerSDK(env={**env, name: value})


def test_numpy_scalars_are_accepted_everywhere(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_started("training", total_epochs=np.int64(4))
    sdk.report_progress(
        np.int64(1), np.int32(4), {"loss": np.float16(0.5)}, epoch_duration_seconds=np.float64(2.5)
    )
    sdk.report_completed(
        {"loss": np.float32(0.25)}, total_epochs=np.int64(4), best_epoch=np.int64(1)
    )
    started, progress, completed = (body for _, body in backend.calls())
    assert started["total_epochs"] == 4
    assert progress["current_epoch"] == 1 and progress["epoch_duration_seconds"] == 2.5
    assert progress["estimated_time_remaining"] == 7.5
    assert completed["total_epochs_completed"] == 4 and completed["best_epoch"] == 1


def test_two_sdks_of_one_job_share_one_ordered_sender(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    main = make_sdk()
    helper = make_sdk()  # e.g. built inside an exporter function
    main.report_started("training", total_epochs=3)
    helper.log_info("helper says hi")
    main.report_progress(1, 3, {"loss": 0.5})
    helper.close()  # must not stop the main SDK's deliveries
    main.report_progress(2, 3, {"loss": 0.4})
    main.report_completed({"loss": 0.4}, total_epochs=3)
    kinds = [path.rsplit("/", 1)[-1] for path, _ in backend.calls()]
    assert kinds == ["progress", "logs", "progress", "progress", "completion"]
    main.close()
    assert main.outbox_path is not None
    assert read_outbox(main.outbox_path).pending == ()


def test_a_resumed_run_measures_its_first_epoch_as_one_epoch(
    make_sdk: MakeSdk, backend: RecordingBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A framework resuming at epoch 6 reports 6 first: the time since start is one epoch's."""
    clock = iter([100.0, 110.0, 120.0])
    sdk = make_sdk()
    monkeypatch.setattr("trainer_sdk.client.time.monotonic", lambda: next(clock))
    sdk.report_started("training", total_epochs=10)  # 100
    sdk.report_progress(6, 10, {"loss": 0.2})  # 110: one epoch of 10 s, 4 left
    sdk.report_progress(7, 10, {"loss": 0.1})  # 120
    sdk.flush_logs()
    _, sixth, seventh = backend.bodies("/training/jobs/7/callback/progress")
    assert sixth["epoch_duration_seconds"] == 10.0 and sixth["estimated_time_remaining"] == 40.0
    assert seventh["epoch_duration_seconds"] == 10.0 and seventh["estimated_time_remaining"] == 30.0
