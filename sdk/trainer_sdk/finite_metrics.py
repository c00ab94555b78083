"""Non-finite metric values (NaN, infinity) in the reports, as frameworks really send them.

A framework's metric dict often holds a NaN for one epoch (a loss term with nothing to learn from,
a metric over an empty split). JSON cannot carry NaN or infinity, and raising from inside the
framework's callback would abort a training that is otherwise fine. So `report_progress` (and
`report_completed` for its `final_metrics`, `best_metrics` and `extra_data`):

- drops a non-finite *optional* metric (everything but the contract's required ones), warns once
  per metric name, and still sends the rest;
- replaces a non-finite number inside `extra_data` (free-form, nested) with null, warned the same;
- raises `NonFiniteMetricError` (a `PayloadValidationError`, ErrorType VALIDATION_ERROR) for a
  non-finite *vital* metric, one the contract requires or recommends (`required` and
  `x-recommended` of `metrics.json#/$defs/user_metrics`: the training `loss`): a NaN training loss
  means the training diverged, and `run(main)` reports it as a failure of that type. (A missing
  `loss` is only warned about: not reporting it is no sign of a broken training.)

`report_validation` never raises on one: a validation metric is evidence about the model, not
about the training's health (a class with no instances gives a NaN AP), so its non-finite
metrics are dropped, a non-finite primary metric value or `overall_loss` is sent as null (both
nullable in the contract), and inside `per_class_metrics` / `pr_curves` such a number becomes
null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trainer_contract.validators import schema_documents
from trainer_sdk.errors import NonFiniteMetricError

__all__ = ["VITAL_METRICS", "finite_extra_data", "finite_metrics", "non_finite"]

_USER_METRICS: dict[str, Any] = schema_documents()["metrics"]["$defs"]["user_metrics"]
VITAL_METRICS: frozenset[str] = frozenset(
    [*_USER_METRICS.get("required", ()), *_USER_METRICS.get("x-recommended", ())]
)
"""Metrics whose NaN or infinity fails the job (the contract's required and recommended ones)."""


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def non_finite(value: Any) -> bool:
    """A float that JSON cannot carry (NaN, +-infinity)."""
    return _non_finite(value)


def finite_metrics(
    metrics: Any, where: str, vital_names: frozenset[str] = VITAL_METRICS
) -> tuple[Any, list[str]]:
    """`metrics` without its non-finite optional values, and the names dropped.

    Raises `NonFiniteMetricError` naming the metric when a vital one (of `vital_names`) is
    non-finite. Anything that is not a mapping is returned unchanged (the schema judges it).
    """
    if not isinstance(metrics, Mapping):
        return metrics, []
    vital = sorted(k for k in vital_names if _non_finite(metrics.get(k)))
    if vital:
        shown = ", ".join(f"{name}={metrics[name]!r}" for name in vital)
        raise NonFiniteMetricError(
            f"{where}: the metric {shown} is not a finite number: the training "
            "diverged (a NaN or infinite loss); nothing was sent. Lower the learning rate, check "
            "the labels, or stop the job with this failure."
        )
    dropped = [str(k) for k, v in metrics.items() if _non_finite(v)]
    if not dropped:
        return metrics, []
    return {k: v for k, v in metrics.items() if not _non_finite(v)}, dropped


def finite_extra_data(value: Any, path: str = "extra_data") -> tuple[Any, list[str]]:
    """`value` (nested dicts and lists) with every non-finite number replaced by None, and the
    JSON-ish paths replaced."""
    replaced: list[str] = []

    def walk(item: Any, at: str) -> Any:
        if _non_finite(item):
            replaced.append(at)
            return None
        if isinstance(item, Mapping):
            return {k: walk(v, f"{at}.{k}") for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, f"{at}[{i}]") for i, v in enumerate(item)]
        return item

    cleaned = walk(value, path)
    return (cleaned if replaced else value), replaced
