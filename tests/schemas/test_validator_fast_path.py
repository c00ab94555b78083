"""`Validator.is_valid` decides valid payloads in one jsonschema-rs call (schema and finite
numbers together): it must agree with the exact path (`errors`) on every instance."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_contract.validators import validator

NUMBERS = st.floats(allow_nan=True, allow_infinity=True) | st.integers()
LEAVES = st.none() | st.booleans() | st.text(max_size=5) | NUMBERS
FREE = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


class Subfloat(float):
    """A float subclass (as numpy's float64 is): jsonschema-rs does not take it."""


def base_payload() -> dict[str, Any]:
    return {
        "job_id": 42,
        "status": "running",
        "current_epoch": 5,
        "total_epochs": 100,
        "progress_percent": 5.0,
        "metrics": {"loss": 0.5, "extra_metrics": {"mAP50": 0.7}},
    }


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["loss", "progress_percent", "epoch_duration_seconds"]),
    NUMBERS,
    FREE,
    st.booleans(),
)
def test_is_valid_agrees_with_errors(field: str, number: Any, extra: Any, check: bool) -> None:
    check_finite = check
    payload = base_payload()
    if field == "loss":
        payload["metrics"]["loss"] = number
    else:
        payload[field] = number
    payload["extra_data"] = {"free": extra}
    progress = validator("callbacks/progress")
    fast = progress.is_valid(payload, check_finite=check_finite)
    exact = not progress.errors(payload, check_finite=check_finite)
    assert fast == exact


def test_non_finite_values_anywhere_are_invalid() -> None:
    progress = validator("callbacks/progress")
    assert progress.is_valid(base_payload())
    for bad in (math.nan, math.inf, -math.inf):
        deep = base_payload()
        deep["extra_data"] = {"a": [1, (2.0, {"b": bad})]}
        assert not progress.is_valid(deep)
        assert progress.is_valid(deep, check_finite=False)
        assert [e.path for e in progress.errors(deep)] == ["$.extra_data.a[1][1].b"]
        metric = base_payload()
        metric["metrics"]["extra_metrics"]["mAP50"] = bad
        assert not progress.is_valid(metric)


def test_a_float_subclass_takes_the_exact_path() -> None:
    progress = validator("callbacks/progress")
    payload = base_payload()
    payload["extra_data"] = {"a": [Subfloat(1.5)]}
    try:
        expected: bool | type[BaseException] = not progress.errors(payload)
    except ValueError:
        expected = ValueError
    try:
        got: bool | type[BaseException] = progress.is_valid(payload)
    except ValueError:
        got = ValueError
    assert got == expected
