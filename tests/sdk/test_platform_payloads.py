"""Payloads as the platform stores them: column sizes (maxLength), accuracy from mAP50-95,
objects-only per-class metrics, Ultralytics' names mapping, image_path, task types, the
platform SDK's create_export_metadata, progress without loss."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sdk_recording_backend import RecordingBackend

from trainer_contract.config import TASK_NAMES
from trainer_contract.validators import schema_documents, validator
from trainer_sdk import PayloadValidationError, TrainerSDK

MakeSdk = Callable[..., TrainerSDK]


def _limited_strings(node: Any, path: str) -> Iterator[tuple[str, int]]:
    """Every (JSON path, maxLength) of a string in a schema, through properties and items."""
    if not isinstance(node, dict):
        return
    if isinstance(node.get("maxLength"), int):
        yield path, node["maxLength"]
    for name, child in (node.get("properties") or {}).items():
        yield from _limited_strings(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _limited_strings(node["items"], f"{path}[0]")
    for name, child in (node.get("$defs") or {}).items():
        yield from _limited_strings(child, f"#{name}")


# The column sizes of the platform's database (section "What the database can hold").
COLUMNS = {
    ("callbacks/log", "$.event_type"): 10,
    ("callbacks/validation", "$.primary_metric_name"): 100,
    ("callbacks/validation", "#image_result.image_name"): 200,
    ("callbacks/validation", "#image_result.true_label"): 100,
    ("callbacks/validation", "#image_result.predicted_label"): 100,
    ("callbacks/progress", "$.checkpoint_path"): 500,
    ("callbacks/progress", "$.best_checkpoint_path"): 500,
    ("callbacks/training-completed", "$.best_checkpoint_path"): 500,
    ("callbacks/training-completed", "$.last_checkpoint_path"): 500,
    ("callbacks/inference-completed", "#image_prediction.image_path"): 500,
    ("callbacks/inference-completed", "#image_prediction.image_name"): 200,
    ("callbacks/export-completed", "$.output_s3_uri"): 500,
    ("task-type", "$"): 50,
}


def test_every_column_the_callbacks_write_has_its_size_in_the_schemas() -> None:
    documents = schema_documents()
    found = {
        (name, path): limit
        for name in {n for n, _ in COLUMNS}
        for path, limit in _limited_strings(documents[name], "$")
    }
    assert {key: found.get(key) for key in COLUMNS} == COLUMNS


@pytest.mark.parametrize("name", sorted({n for n, _ in COLUMNS if n.startswith("callbacks/")}))
def test_each_limit_refuses_one_character_more_at_its_path(name: str) -> None:
    """For every example of every callback body: a string at its limit passes, one more fails
    at the JSON path of that string."""
    document = schema_documents()[name]
    for example in document["examples"]:
        for path, limit in _limited_strings(document, "$"):
            if not path.startswith("$.") or "[" in path:
                continue
            field = path[2:]
            if field not in example or not isinstance(example[field], str):
                continue
            prefix = "s3://b/" if field.endswith("uri") else ""
            at_limit = {**example, field: prefix + "x" * (limit - len(prefix))}
            assert validator(name).is_valid(at_limit), (name, path)
            over = {**example, field: prefix + "x" * (limit + 1 - len(prefix))}
            assert [e.path for e in validator(name).errors(over)] == [path], (name, path)


def test_the_sdk_refuses_an_over_long_value_before_sending_naming_its_path(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    image = {"image_name": "a" * 201, "is_correct": True}
    with pytest.raises(PayloadValidationError) as info:
        sdk.report_validation(1, "detection", ("mAP50", 0.5), image_results=[image])
    assert [e.path for e in info.value.errors] == ["$.image_results[0].image_name"]
    assert "maxLength" in str(info.value)
    with pytest.raises(PayloadValidationError) as info:
        sdk.report_progress(1, 3, {"loss": 0.1}, checkpoint_path="s3://b/" + "k" * 500)
    assert [e.path for e in info.value.errors] == ["$.checkpoint_path"]
    sdk.flush_logs()
    assert backend.calls() == []


def test_the_sdks_own_event_types_fit_the_log_type_column() -> None:
    log = schema_documents()["callbacks/log"]
    events = log["x-sdk-events"]
    assert events
    for event in events:
        body = {**log["examples"][0], "event_type": event}
        assert validator("callbacks/log").is_valid(body), event


def test_a_log_event_longer_than_the_column_is_dropped_not_sent(
    make_sdk: MakeSdk, backend: RecordingBackend, capfd: pytest.CaptureFixture[str]
) -> None:
    """log_event never raises into the trainer; an over-long event type is reported once."""
    sdk = make_sdk()
    sdk.log_event("dataset_conversion", "18 characters: more than log_type holds")
    sdk.log_event("dataset", "fits")
    sdk.flush_logs()
    assert [b["event_type"] for b in backend.bodies("/callback/logs")] == ["dataset"]
    assert "$.event_type" in capfd.readouterr().err


def test_accuracy_is_filled_from_map50_95_in_progress_and_completion(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_progress(1, 2, {"loss": 1.0, "mAP50-95": 0.42, "mAP50": 0.6})
    sdk.report_progress(2, 2, {"loss": 0.9, "accuracy": 0.7, "mAP50-95": 0.5})
    sdk.report_completed({"mAP50-95": 0.55}, total_epochs=2)
    first, second = backend.bodies("/callback/progress")
    assert first["metrics"]["accuracy"] == 0.42
    assert first["metrics"]["extra_metrics"]["mAP50-95"] == 0.42
    assert second["metrics"]["accuracy"] == 0.7  # a given accuracy wins
    [completion] = backend.bodies("/callback/completion")
    assert completion["final_metrics"]["accuracy"] == 0.55


def test_progress_without_loss_is_sent_and_warned_about_once(
    make_sdk: MakeSdk, backend: RecordingBackend, caplog: pytest.LogCaptureFixture
) -> None:
    sdk = make_sdk()
    with caplog.at_level(logging.WARNING, logger="trainer_sdk"):
        sdk.report_progress(1, 3, {"mAP50": 0.5})
        sdk.report_progress(2, 3, {"mAP50": 0.6})
    sdk.flush_logs()
    bodies = backend.bodies("/callback/progress")
    assert [b["metrics"]["loss"] for b in bodies] == [None, None]
    warnings = [r for r in caplog.records if "'loss'" in r.getMessage()]
    assert len(warnings) == 1


def test_ultralytics_names_mapping_is_sent_as_a_list(
    make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    sdk = make_sdk()
    sdk.report_validation(1, "detection", ("mAP50", 0.5), class_names={1: "dog", 0: "cat"})
    sdk.flush_logs()
    [body] = backend.bodies("/results")
    assert body["class_names"] == ["cat", "dog"]
    with pytest.raises(PayloadValidationError, match=r"0\.\.n-1"):
        sdk.report_validation(2, "detection", ("mAP50", 0.5), class_names={0: "cat", 2: "dog"})


def test_per_class_metrics_and_pr_curves_must_be_objects(make_sdk: MakeSdk) -> None:
    sdk = make_sdk()
    with pytest.raises(PayloadValidationError) as info:
        sdk.report_validation(
            1, "detection", ("mAP50", 0.5), per_class_metrics=[{"ap": 0.5}], pr_curves=[[0.1]]
        )
    assert {e.path for e in info.value.errors} == {"$.per_class_metrics", "$.pr_curves"}


def test_inference_results_need_image_path(make_sdk: MakeSdk) -> None:
    sdk = make_sdk()
    with pytest.raises(PayloadValidationError) as info:
        sdk.report_inference_completed(1, 10.0, [{"image_name": "a.jpg", "predictions": []}])
    assert [e.path for e in info.value.errors] == ["$.results[0].image_path"]


@pytest.mark.parametrize(
    "task",
    [
        "semantic_segmentation",
        "panoptic_segmentation",
        "open_vocabulary_detection",
        "image_classification",
    ],
)
def test_the_platforms_task_types_are_accepted_everywhere(
    task: str, make_sdk: MakeSdk, backend: RecordingBackend
) -> None:
    assert task in TASK_NAMES
    sdk = make_sdk(extra_env={"TASK_TYPE": task})
    sdk.report_validation(1, task, ("mIoU", 0.5))
    metadata = TrainerSDK.create_export_metadata("fw", "m", "onnx", task, [1, 3, 64, 64], None)
    sdk.flush_logs()
    [body] = backend.bodies("/results")
    assert body["task_type"] == sdk.task_type
    assert metadata["task_type"] == task  # kept as given, as the platform's SDK does


def test_create_export_metadata_behaves_as_the_platforms() -> None:
    metadata = TrainerSDK.create_export_metadata(
        framework="ultralytics",
        model_name="yolo11n",
        export_format="onnx",
        task_type="detection",
        input_shape=[1, 3, 640, 640],
        output_shape=[[1, 84, 8400]],
        class_names={0: "cat", 1: "dog"},
        export_config={"opset": 17, "half": False},
        input_dtype="float16",
        dynamic=True,
    )
    assert metadata["input_dtype"] == "float16"  # an extra keyword overrides, as there
    assert metadata["class_names"] == ["cat", "dog"] and metadata["num_classes"] == 2
    assert metadata["export_config"] == {"opset": 17, "half": False}
    assert metadata["dynamic"] is True and metadata["created_at"].endswith("Z")
    plain = TrainerSDK.create_export_metadata(
        "timm", "resnet18", "onnx", "classification", None, None
    )
    assert plain["input_dtype"] == "float32"
    assert "class_names" not in plain and "num_classes" not in plain
    assert "preprocessing" not in plain and "export_config" not in plain


def test_conversion_names_the_tasks_it_handles_for_the_other_platform_tasks(
    make_sdk: MakeSdk, tmp_path: Any
) -> None:
    from trainer_contract.config import DICE_TASKS
    from trainer_sdk import ConfigError

    sdk = make_sdk(extra_env={"TASK_TYPE": "semantic_segmentation"})
    with pytest.raises(ConfigError) as info:
        sdk.convert_dataset(str(tmp_path), "dice", "yolo")
    assert "semantic_segmentation" in str(info.value)
    assert all(task in str(info.value) for task in DICE_TASKS)


def test_create_export_metadata_takes_the_platform_trainers_call() -> None:
    """The keyword call of the platform's Ultralytics export script (its argument names and
    value shapes), extra fields included; the long task name is kept."""
    metadata = TrainerSDK.create_export_metadata(
        framework="ultralytics",
        model_name="best",
        export_format="onnx",
        task_type="instance_segmentation",
        input_shape=[640, 640, 3],
        output_shape=[[1, 84, 8400]],
        class_names=["cat", "dog"],
        preprocessing={"resize": 640, "format": "RGB", "layout": "NCHW"},
        postprocessing={"nms": True, "confidence_threshold": 0.25},
        export_config={"opset": 17},
        export_info={"file_size_mb": 12.5, "export_time_seconds": 3.1},
    )
    assert metadata["task_type"] == "instance_segmentation"
    assert metadata["export_info"] == {"file_size_mb": 12.5, "export_time_seconds": 3.1}
    assert metadata["num_classes"] == 2 and metadata["input_dtype"] == "float32"
