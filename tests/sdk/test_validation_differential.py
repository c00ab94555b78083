"""The generated validators agree with jsonschema's Draft202012Validator (exact 2020-12
semantics) on generated valid and invalid progress payloads, and report every error."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_validator import reference_validator

from trainer_contract.validators import validator

OURS = validator("callbacks/progress")
REFERENCE = reference_validator("callbacks/progress.json")

numbers = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.integers(-10, 10**6)
nullable_number = st.none() | numbers
json_scalars = st.none() | st.booleans() | numbers | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
metric_names = st.sampled_from(
    ["loss", "mAP50", "mAP50-95", "precision", "recall", "top1"]
) | st.text(min_size=1, max_size=10)

metrics = st.none() | st.fixed_dictionaries(
    {},
    optional={
        "loss": nullable_number,
        "accuracy": nullable_number,
        "learning_rate": nullable_number,
        "extra_metrics": st.none() | st.dictionaries(metric_names, nullable_number, max_size=5),
    },
)

valid_like = st.fixed_dictionaries(
    {
        "job_id": st.integers(0, 10**9),
        "status": st.just("running"),
        "current_epoch": st.integers(0, 1000),
        "total_epochs": st.integers(1, 1000),
    },
    optional={
        "progress_percent": st.floats(0, 100),
        "metrics": metrics,
        "checkpoint_path": st.none() | st.text(max_size=20),
        "best_checkpoint_path": st.none() | st.text(max_size=20),
        "epoch_duration_seconds": st.none() | st.floats(0, 1e6),
        "estimated_time_remaining": st.none() | st.floats(0, 1e6),
        "extra_data": st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    },
)

FIELDS = [
    "job_id",
    "status",
    "current_epoch",
    "total_epochs",
    "progress_percent",
    "metrics",
    "checkpoint_path",
    "epoch_duration_seconds",
    "extra_data",
    "unknown_field",
]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A payload with 1-4 faults: wrong types/values, missing required fields, unknown fields,
    bad metric values."""
    payload = dict(draw(valid_like))
    for _ in range(draw(st.integers(1, 4))):
        field = draw(st.sampled_from(FIELDS))
        action = draw(st.sampled_from(["replace", "delete", "bad_metric"]))
        if action == "delete":
            payload.pop(field, None)
        elif action == "bad_metric":
            payload["metrics"] = {"loss": draw(json_values), draw(metric_names): draw(json_values)}
        else:
            payload[field] = draw(json_values)
    return payload


def _agree(payload: dict[str, Any]) -> None:
    ours_valid = OURS.is_valid(payload)
    reference_errors = list(REFERENCE.iter_errors(payload))
    assert ours_valid == (not reference_errors), (payload, [e.message for e in reference_errors])
    ours = OURS.errors(payload)
    assert bool(ours) == bool(reference_errors)
    # Every error the reference reports is reported by ours too, at the same place.
    our_fields = {e.path[2:].split(".")[0].split("[")[0] for e in ours}
    our_keywords = {e.keyword for e in ours}
    for error in reference_errors:
        if error.absolute_path:
            assert str(error.absolute_path[0]) in our_fields, (payload, error.message, ours)
        else:
            assert error.validator in our_keywords, (payload, error.message, ours)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_like)
def test_agrees_on_valid_payloads(payload: dict[str, Any]) -> None:
    _agree(payload)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_agrees_on_invalid_payloads(payload: dict[str, Any]) -> None:
    _agree(payload)


def test_generated_validator_also_rejects_what_json_cannot_carry() -> None:
    payload = {
        "job_id": 1,
        "status": "running",
        "current_epoch": 1,
        "total_epochs": 2,
        "metrics": {"loss": math.nan, "extra_metrics": {"mAP50-95": math.inf}},
    }
    assert REFERENCE.is_valid(payload)  # jsonschema accepts NaN as a number ...
    paths = {(e.path, e.keyword) for e in OURS.errors(payload)}
    # ... the generated validator names both values (jsonschema-rs may add a `type` error too).
    assert {
        ("$.metrics.loss", "finite"),
        ("$.metrics.extra_metrics['mAP50-95']", "finite"),
    } <= paths
