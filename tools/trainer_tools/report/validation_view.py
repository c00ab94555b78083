"""The validation section: the chosen validation callback's metrics, confusion matrix, PR curves
and per-class table.

The callback shown is the last one marked `is_best`, else the last accepted one. `pr_curves` and
`per_class_metrics` are free-form in the contract; the shapes read here are the common ones:
`{class: {"precision": [...], "recall": [...]}}` or a list of objects with a class name, and
`{class: {metric: value}}` or a list of objects with a class name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer_tools.report.record import Answer, RunEvent

__all__ = ["PrCurve", "ValidationView", "validation_view"]

_NAME_KEYS = ("class_name", "class", "name", "label")


@dataclass(frozen=True)
class PrCurve:
    """Precision over recall of one class."""

    name: str
    recall: list[float]
    precision: list[float]


@dataclass
class ValidationView:
    """What the validation section shows."""

    seq: int
    epoch: int | None
    task_type: str
    primary_name: str
    primary_value: float | None
    is_best: bool
    metrics: dict[str, Any]
    class_names: list[str]
    confusion: list[list[int]] | None
    pr_curves: list[PrCurve] = field(default_factory=list)
    per_class: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    count: int = 1  # validation callbacks in the run


def _name(item: dict[str, Any], fallback: str) -> str:
    for key in _NAME_KEYS:
        if isinstance(item.get(key), str | int):
            return str(item[key])
    return fallback


def _numbers(value: Any) -> list[float] | None:
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return [float(v) for v in value]
    return None


def _curves(raw: Any) -> list[PrCurve]:
    items: list[tuple[str, Any]] = []
    if isinstance(raw, dict):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(f"#{i}", v) for i, v in enumerate(raw)]
    curves = []
    for fallback, item in items:
        if not isinstance(item, dict):
            continue
        recall, precision = _numbers(item.get("recall")), _numbers(item.get("precision"))
        if recall and precision and len(recall) == len(precision):
            curves.append(PrCurve(_name(item, fallback), recall, precision))
    return curves


def _per_class(raw: Any, names: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    if isinstance(raw, dict):
        rows = [(str(k), v) for k, v in raw.items() if isinstance(v, dict)]
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            if isinstance(item, dict):
                fallback = names[index] if index < len(names) else f"#{index}"
                values = {k: v for k, v in item.items() if k not in _NAME_KEYS}
                rows.append((_name(item, fallback), values))
    return rows


def validation_view(events: Sequence[RunEvent]) -> ValidationView | None:
    """The validation to show, or None when the run reported none."""
    found = [
        e
        for e in events
        if e.kind == "validation" and e.answer is not Answer.REFUSED and isinstance(e.body, dict)
    ]
    if not found:
        return None
    best = [e for e in found if e.body.get("is_best")]
    chosen = (best or found)[-1]
    body: dict[str, Any] = chosen.body
    names = [str(n) for n in body.get("class_names") or []]
    matrix = body.get("confusion_matrix")
    confusion = (
        [[int(v) for v in row] for row in matrix]
        if isinstance(matrix, list) and all(isinstance(r, list) for r in matrix)
        else None
    )
    if confusion is not None and len(names) < len(confusion):
        names += [f"class {i}" for i in range(len(names), len(confusion))]
    value = body.get("primary_metric_value")
    return ValidationView(
        seq=chosen.seq,
        epoch=body.get("epoch") if isinstance(body.get("epoch"), int) else None,
        task_type=str(body.get("task_type", "")),
        primary_name=str(body.get("primary_metric_name", "")),
        primary_value=float(value) if isinstance(value, int | float) else None,
        is_best=bool(body.get("is_best")),
        metrics=dict(body.get("metrics") or {}),
        class_names=names,
        confusion=confusion,
        pr_curves=_curves(body.get("pr_curves")),
        per_class=_per_class(body.get("per_class_metrics"), names),
        count=len(found),
    )
