"""Non-finite metric values (NaN, infinity) in `report_progress`, as frameworks really send them.

A framework's metric dict often holds a NaN for one epoch (a loss term with nothing to learn from,
a metric over an empty split). JSON cannot carry NaN or infinity, and raising from inside the
framework's callback would abort a training that is otherwise fine. So `report_progress`:

- drops a non-finite *optional* metric (everything but the contract's required ones), warns once
  per metric name, and still sends the rest;
- replaces a non-finite number inside `extra_data` (free-form, nested) with null, warned the same;
- raises `NonFiniteMetricError` (a `PayloadValidationError`, ErrorType VALIDATION_ERROR) for a
  non-finite *vital* metric, one the contract requires or recommends (`required` and
  `x-recommended` of `metrics.json#/$defs/user_metrics`: the training `loss`): a NaN training loss
  means the training diverged, and `run(main)` reports it as a failure of that type. (A missing
  `loss` is only warned about: not reporting it is no sign of a broken training.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trainer_contract.validators import schema_documents
from trainer_sdk.errors import NonFiniteMetricError

__all__ = ["VITAL_METRICS", "finite_extra_data", "finite_metrics"]

_USER_METRICS: dict[str, Any] = schema_documents()["metrics"]["$defs"]["user_metrics"]
VITAL_METRICS: frozenset[str] = frozenset(
    [*_USER_METRICS.get("required", ()), *_USER_METRICS.get("x-recommended", ())]
)
"""Metrics whose NaN or infinity fails the job (the contract's required and recommended ones)."""


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def finite_metrics(metrics: Any, where: str) -> tuple[Any, list[str]]:
    """`metrics` without its non-finite optional values, and the names dropped.

    Raises `NonFiniteMetricError` naming the metric when a vital one is non-finite. Anything
    that is not a mapping is returned unchanged (the schema judges it).
    """
    if not isinstance(metrics, Mapping):
        return metrics, []
    vital = sorted(k for k in VITAL_METRICS if _non_finite(metrics.get(k)))
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
