"""Callback bodies, built from the generated models and validated before they leave the process.

Each builder returns a generated TypedDict (so mypy checks field names and types against the
schema); `check` validates an instance with the generated validator and raises
`PayloadValidationError` listing every failing field with its JSON path and the broken rule.
Nothing here knows a field rule by heart: ranges, enums, required fields and formats are the
schema's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from trainer_contract.callbacks import MAX_INTEGER_DIGITS, MAX_NESTING_DEPTH
from trainer_contract.models.callbacks.export_completed import ExportCompleted, ExportMetadata
from trainer_contract.models.callbacks.failed import JobFailed
from trainer_contract.models.callbacks.inference_completed import (
    ImagePrediction,
    InferenceCompleted,
)
from trainer_contract.models.callbacks.log import LogEvent
from trainer_contract.models.callbacks.progress import TrainingProgress
from trainer_contract.models.callbacks.started import OperationStarted
from trainer_contract.models.callbacks.training_completed import TrainingCompleted
from trainer_contract.models.callbacks.validation import ValidationResult
from trainer_contract.models.metrics import Metrics
from trainer_contract.validators import SchemaError, schema_documents, validator
from trainer_sdk.errors import PayloadValidationError
from trainer_sdk.unicode_text import utf8_safe

# Integers strictly below this magnitude have at most MAX_INTEGER_DIGITS digits.
_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS

_METRICS_SCHEMA: dict[str, Any] = schema_documents()["metrics"]
# The well-known metrics that callbacks carry at the top level (metrics.json).
_TOP_LEVEL_METRICS: tuple[str, ...] = tuple(
    key for key in _METRICS_SCHEMA["properties"] if key != "extra_metrics"
)
# Accepted synonyms of top-level metrics (`x-synonym-of` in metrics.json#/$defs/user_metrics).
_METRIC_SYNONYMS: dict[str, str] = {
    name: prop["x-synonym-of"]
    for name, prop in _METRICS_SCHEMA["$defs"]["user_metrics"]["properties"].items()
    if "x-synonym-of" in prop
}

__all__ = [
    "check",
    "class_name_list",
    "completed_payload",
    "export_completed_payload",
    "export_metadata",
    "failed_payload",
    "inference_completed_payload",
    "log_payload",
    "metrics_payload",
    "plain",
    "progress_payload",
    "started_payload",
    "utc_now",
    "utf8_safe",
    "validation_payload",
]


def utc_now() -> str:
    """The current time as ISO 8601 in UTC with a `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Unfit(Exception):
    """A value no callback body can carry; `keys` collects its path while unwinding."""

    def __init__(self, message: str, keyword: str) -> None:
        super().__init__(message)
        self.message = message
        self.keyword = keyword
        self.keys: list[str | int] = []


def _json_path(keys: list[str | int]) -> str:
    parts = []
    for key in reversed(keys):
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isidentifier():
            parts.append(f".{key}")
        else:
            parts.append(f"[{key!r}]")
    return "$" + "".join(parts)


def plain(value: Any, *, what: str = "the payload", lenient: bool = False) -> Any:
    """Turn framework values into JSON values: numpy/torch scalars and arrays, tuples, Paths.

    Trainers pass `metrics['loss']` as a numpy float32 or a 0-d tensor more often than as a
    float; both have `.item()`, and arrays have `.tolist()`. Anything else is returned as is and
    judged by the schema.

    What no callback can carry is handled here, before any encoder or validator could fail on
    it: lone surrogates in strings (and keys) become U+FFFD; nesting deeper than the contract's
    `MAX_NESTING_DEPTH` and integers longer than `MAX_INTEGER_DIGITS` raise
    `PayloadValidationError` naming the path (`what` names the call), or with `lenient` (log
    data, which must never fail) are replaced by a short note, as are NaN and infinity.
    """
    try:
        return _plain(value, 1, lenient)
    except _Unfit as unfit:
        error = SchemaError(_json_path(unfit.keys), unfit.message, unfit.keyword, "")
        raise PayloadValidationError.from_errors(what, "callbacks/api", [error]) from None


def _plain(value: Any, depth: int, lenient: bool) -> Any:
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is float:
        if lenient and not math.isfinite(value):
            return str(value)
        return value
    if kind is str:
        return utf8_safe(value)
    if kind is int:
        return value if -_INTEGER_LIMIT < value < _INTEGER_LIMIT else _integer(value, lenient)
    if kind is dict or kind is list or kind is tuple:
        return _container(value, depth, lenient)
    # Subclasses (numpy.float64 is a float, an IntEnum an int) are not accepted by the compiled
    # validator, and JSON only needs the plain value.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, float):
        return _plain(float(value), depth, lenient)
    if isinstance(value, int):
        return _integer(int(value), lenient)
    if isinstance(value, str):
        return utf8_safe(str(value))
    if isinstance(value, (Mapping, list, tuple)):
        return _container(value, depth, lenient)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return _plain(tolist(), depth, lenient)
        except (TypeError, ValueError):
            pass
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _plain(item(), depth, lenient)
        except (TypeError, ValueError):
            pass
    if hasattr(value, "__fspath__"):
        return utf8_safe(str(value))
    return value


def _container(value: Any, depth: int, lenient: bool) -> Any:
    """A mapping (keys become strings) or a sequence, one level deeper."""
    if depth >= MAX_NESTING_DEPTH:
        message = f"nested deeper than {MAX_NESTING_DEPTH} levels"
        if lenient:
            return f"<{message}: not sent>"
        raise _Unfit(message + "; flatten it or send it as a file", "depth")
    depth += 1
    if isinstance(value, Mapping):
        mapping: dict[str, Any] = {}
        for key, item in value.items():
            name = key if type(key) is str and key.isascii() else utf8_safe(str(key))
            try:
                mapping[name] = _plain(item, depth, lenient)
            except _Unfit as unfit:
                unfit.keys.append(name)
                raise
        return mapping
    items: list[Any] = []
    for index, item in enumerate(value):
        try:
            items.append(_plain(item, depth, lenient))
        except _Unfit as unfit:
            unfit.keys.append(index)
            raise
    return items


def _integer(value: int, lenient: bool) -> int | str:
    if -_INTEGER_LIMIT < value < _INTEGER_LIMIT:
        return value
    message = f"an integer of more than {MAX_INTEGER_DIGITS} digits ({value.bit_length()} bits)"
    if lenient:
        return f"<{message}: not sent>"
    raise _Unfit(message + "; JSON readers refuse it, send it as a float or a string", "integer")


def check(schema: str, instance: object, what: str) -> None:
    """Validate `instance` against the contract schema `schema`; raise listing every error.

    `what` names the thing checked for the message: "report_progress arguments",
    "progress callback body", ...
    """
    compiled = validator(schema)
    if compiled.is_valid(instance):
        return
    errors = compiled.errors(instance)
    raise PayloadValidationError.from_errors(what, schema, errors)


def class_name_list(names: Any) -> list[str] | None:
    """Class names as the list the platform stores: a list stays; Ultralytics' `names` mapping
    (class id -> name, as in data.yaml; keys may be strings after JSON) becomes the list in id
    order. A mapping whose ids are not exactly 0..n-1 is refused: its list would shift names
    onto the wrong class ids."""
    if names is None or isinstance(names, list):
        return names
    if isinstance(names, Mapping):
        try:
            by_id = {int(key): str(value) for key, value in names.items()}
        except (TypeError, ValueError):
            by_id = {}
        if sorted(by_id) != list(range(len(names))):
            raise PayloadValidationError(
                "class_names: a mapping must have the class ids 0..n-1 as keys (as Ultralytics' "
                f"`names`), got keys {sorted(map(str, names))[:10]}",
                errors=[],
            )
        return [by_id[index] for index in range(len(by_id))]
    return cast(list[str], names)


def metrics_payload(metrics: Mapping[str, Any] | None) -> Metrics | None:
    """The contract's metrics object: the well-known metrics on top, every metric in extra_metrics.

    A top-level metric falls back to its synonym (`x-synonym-of` in metrics.json: `lr`).
    """
    if metrics is None:
        return None
    values = {str(name): plain(value) for name, value in metrics.items()}
    top: dict[str, Any] = {key: values.get(key) for key in _TOP_LEVEL_METRICS}
    for synonym, target in _METRIC_SYNONYMS.items():
        if top.get(target) is None and synonym in values:
            top[target] = values[synonym]
    return {
        "loss": top["loss"],
        "accuracy": top["accuracy"],
        "learning_rate": top["learning_rate"],
        "extra_metrics": values,
    }


def progress_payload(
    job_id: int,
    epoch: int,
    total_epochs: int,
    metrics: Mapping[str, Any] | None,
    *,
    extra_data: Mapping[str, Any] | None = None,
    checkpoint_path: str | None = None,
    best_checkpoint_path: str | None = None,
    epoch_duration_seconds: float | None = None,
    estimated_time_remaining: float | None = None,
) -> TrainingProgress:
    """The progress callback body (epoch 0 with `metrics=None` is the training start report)."""
    percent = 0.0
    if isinstance(total_epochs, int) and total_epochs > 0 and isinstance(epoch, int):
        # The schema documents the percentage as capped at 100 (a trainer may run one extra
        # epoch, e.g. a final evaluation pass numbered total+1).
        percent = round(min(100.0, max(0.0, 100.0 * epoch / total_epochs)), 4)
    payload: TrainingProgress = {
        "job_id": job_id,
        "status": "running",
        "current_epoch": epoch,
        "total_epochs": total_epochs,
        "progress_percent": percent,
        "metrics": metrics_payload(metrics),
    }
    if checkpoint_path is not None:
        payload["checkpoint_path"] = checkpoint_path
    if best_checkpoint_path is not None:
        payload["best_checkpoint_path"] = best_checkpoint_path
    if epoch_duration_seconds is not None:
        payload["epoch_duration_seconds"] = epoch_duration_seconds
    if estimated_time_remaining is not None:
        payload["estimated_time_remaining"] = estimated_time_remaining
    if extra_data is not None:
        payload["extra_data"] = cast(dict[str, Any], plain(extra_data))
    return payload


def started_payload(job_id: int, operation_type: str) -> OperationStarted:
    """The started callback body of inference and export jobs."""
    return {
        "type": "started",
        "job_id": job_id,
        "operation_type": cast(Any, operation_type),
        "timestamp": utc_now(),
    }


def validation_payload(
    job_id: int,
    epoch: int,
    task_type: str,
    primary_metric: Sequence[Any],
    *,
    all_metrics: Mapping[str, Any] | None,
    is_best: bool,
    optional: Mapping[str, Any],
) -> ValidationResult:
    """The validation results body; `optional` holds the optional fields that were given."""
    name, value = ([*list(primary_metric), None, None])[:2]
    payload: ValidationResult = {
        "type": "validation",
        "job_id": job_id,
        "epoch": epoch,
        "task_type": cast(Any, task_type),
        "primary_metric_name": cast(str, name),
        "primary_metric_value": plain(value),
        "metrics": cast(dict[str, Any], plain(all_metrics or {})),
        "is_best": is_best,
        "timestamp": utc_now(),
    }
    extra = cast(dict[str, Any], payload)
    for key, item in optional.items():
        if item is not None:
            extra[key] = plain(item)
    return payload


def completed_payload(
    job_id: int,
    total_epochs_completed: int,
    *,
    final_metrics: Mapping[str, Any] | None,
    checkpoints: Mapping[str, str] | None,
    best_metrics: Mapping[str, Any] | None,
    best_epoch: int | None,
    total_duration_seconds: float | None,
    extra_data: Mapping[str, Any] | None,
) -> TrainingCompleted:
    """The training completion body; `checkpoints['best'/'last']` fill the two path fields."""
    given = dict(checkpoints or {})
    payload: TrainingCompleted = {
        "job_id": job_id,
        "status": "completed",
        "total_epochs_completed": total_epochs_completed,
        "exit_code": 0,
        "final_metrics": metrics_payload(final_metrics),
        "best_checkpoint_path": given.get("best"),
        "last_checkpoint_path": given.get("last"),
    }
    if given:
        payload["checkpoints"] = given
    if best_metrics is not None:
        payload["best_metrics"] = metrics_payload(best_metrics)
    if best_epoch is not None:
        payload["best_epoch"] = best_epoch
    if total_duration_seconds is not None:
        payload["total_duration_seconds"] = total_duration_seconds
    if extra_data is not None:
        payload["extra_data"] = cast(dict[str, Any], plain(extra_data))
    return payload


def failed_payload(
    job_id: int,
    error_type: str,
    message: str,
    *,
    traceback: str | None,
    epochs_completed: int,
) -> JobFailed:
    """The failure body; `error_message` is `[<ErrorType value>] <message>` as the contract says."""
    payload: JobFailed = {
        "job_id": job_id,
        "status": "failed",
        "total_epochs_completed": epochs_completed,
        "error_message": f"[{error_type}] {message}",
        "error_type": cast(Any, error_type),
        "exit_code": 1,
    }
    if traceback is not None:
        payload["traceback"] = traceback
    return payload


def log_payload(
    job_id: int,
    event_type: str,
    message: str,
    level: str,
    *,
    data: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> LogEvent:
    """The log callback body."""
    payload: LogEvent = {
        "job_id": job_id,
        "event_type": event_type,
        "message": message,
        "level": cast(Any, level),
        "timestamp": utc_now(),
    }
    if data is not None:
        payload["data"] = cast(dict[str, Any], plain(data))
    if source is not None:
        payload["source"] = source
    return payload


def inference_completed_payload(
    job_id: int,
    total_images: int,
    total_time_ms: float,
    results: Sequence[Mapping[str, Any]],
    result_urls: Sequence[Any] | Mapping[str, Any] | None,
) -> InferenceCompleted:
    """The inference completion body; the average time is derived, never asked for."""
    average = float(total_time_ms) / total_images if total_images else 0.0
    payload: InferenceCompleted = {
        "type": "inference_completed",
        "job_id": job_id,
        "status": "completed",
        "total_images": total_images,
        "total_inference_time_ms": plain(total_time_ms),
        "avg_inference_time_ms": average,
        "results": cast(list[ImagePrediction], plain(results)),
        "timestamp": utc_now(),
    }
    if result_urls is not None:
        payload["result_urls"] = plain(result_urls)
    return payload


def export_metadata(
    framework: str,
    model_name: str,
    export_format: str,
    task_type: str,
    *,
    optional: Mapping[str, Any],
) -> ExportMetadata:
    """The export metadata object; `num_classes` is derived from `class_names` when given."""
    metadata: ExportMetadata = {
        "framework": framework,
        "model_name": model_name,
        "export_format": export_format,
        "task_type": cast(Any, task_type),
        "created_at": utc_now(),
    }
    extra = cast(dict[str, Any], metadata)
    for key, item in optional.items():
        if item is not None:
            extra[key] = plain(item)
    class_names = optional.get("class_names")
    if isinstance(class_names, (list, tuple)):
        metadata["num_classes"] = len(class_names)
    return metadata


def export_completed_payload(
    job_id: int,
    export_format: str,
    output_s3_uri: str,
    file_size_bytes: int,
    metadata: Mapping[str, Any],
) -> ExportCompleted:
    """The export completion body."""
    return {
        "type": "export_completed",
        "job_id": job_id,
        "status": "completed",
        "export_format": export_format,
        "output_s3_uri": output_s3_uri,
        "file_size_bytes": file_size_bytes,
        "metadata": cast(ExportMetadata, plain(metadata)),
        "timestamp": utc_now(),
    }
