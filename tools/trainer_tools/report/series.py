"""Per-epoch metric series from the progress callbacks, grouped into families, with flags.

A family is what shares a chart: every loss (train, val, box, cls) together, `mAP50` with
`mAP50-95`, `precision` with `val_precision`. The learning rate is its own family and is drawn on
its own axis. A series is flagged when it holds a null (a NaN or infinity the SDK could not send)
and, for losses, when it diverges: a value more than `DIVERGENCE_FACTOR` times the best value so
far and above the first one (0.93 -> 46 is flagged; a noisy plateau is not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.report.record import Answer, RunEvent

__all__ = [
    "DIVERGENCE_FACTOR",
    "LEARNING_RATE_FAMILY",
    "LOSS_FAMILY",
    "Flag",
    "MetricSeries",
    "family_of",
    "metric_series",
    "primary_metric",
]

DIVERGENCE_FACTOR = 3.0
LOSS_FAMILY = "loss"
LEARNING_RATE_FAMILY = "learning rate"
_PREFIXES = ("metrics/", "train/", "val/", "valid/", "train_", "val_", "valid_", "eval_", "test_")
_SUFFIX = re.compile(r"\([A-Za-z]\)$")
_TRAILING = re.compile(r"[\d\-._@]*$")
_LR_NAMES = frozenset({"lr", "learning_rate", "learning-rate", "learningrate"})


@dataclass(frozen=True)
class Flag:
    """Something wrong with a series, at an epoch."""

    kind: str  # "diverging" or "non-finite"
    metric: str
    epoch: int
    message: str


@dataclass
class MetricSeries:
    """One metric over the epochs; `values[i]` is None where the metric was null."""

    name: str
    family: str
    epochs: list[int] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def finite(self) -> list[tuple[int, float]]:
        """(epoch, value) of the finite points."""
        return [(e, v) for e, v in zip(self.epochs, self.values, strict=True) if v is not None]

    @property
    def lower_is_better(self) -> bool:
        """Losses and errors go down."""
        return self.family == LOSS_FAMILY or "error" in self.name.lower()

    @property
    def diverged_at(self) -> int | None:
        """The first epoch flagged as diverging, or None."""
        return next((f.epoch for f in self.flags if f.kind == "diverging"), None)


def family_of(name: str) -> str:
    """The chart a metric is drawn on: loss, learning rate, or its name without prefixes/digits."""
    lowered = name.lower()
    if lowered in _LR_NAMES or lowered.endswith(("/lr", "_lr")) or lowered.startswith("lr/"):
        return LEARNING_RATE_FAMILY
    if "loss" in lowered:
        return LOSS_FAMILY
    base = name
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if base.lower().startswith(prefix) and len(base) > len(prefix):
                base = base[len(prefix) :]
                changed = True
    base = _SUFFIX.sub("", base)
    stripped = _TRAILING.sub("", base)
    return stripped or base


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _metrics_of(body: Any) -> dict[str, Any]:
    """The metrics of a progress body, by name (extra_metrics first: the trainer's own names)."""
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), dict):
        return {}
    metrics: dict[str, Any] = body["metrics"]
    extra = metrics.get("extra_metrics")
    found: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    for key, value in metrics.items():
        if key == "extra_metrics" or key in found:
            continue
        # The well-known top-level keys are null when the trainer did not report them.
        if value is not None or not isinstance(extra, dict):
            found[key] = value
    return found


def _progress(events: Iterable[RunEvent]) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for event in events:
        if event.kind != EventKind.PROGRESS.value or event.answer is Answer.REFUSED:
            continue
        if not isinstance(event.body, dict):
            continue
        epoch = event.body.get("current_epoch")
        metrics = _metrics_of(event.body)
        if isinstance(epoch, int) and metrics:
            rows.append((epoch, metrics))
    return rows


def _flag_divergence(series: MetricSeries) -> None:
    points = series.finite
    if len(points) < 2:
        return
    first = points[0][1]
    best = first
    for epoch, value in points[1:]:
        if value > first and value > best * DIVERGENCE_FACTOR and value - best > 1e-12:
            series.flags.append(
                Flag(
                    "diverging",
                    series.name,
                    epoch,
                    f"{series.name} diverges at epoch {epoch}: {value:.4g} after a best of "
                    f"{best:.4g} (started at {first:.4g})",
                )
            )
            return
        best = min(best, value)


def metric_series(events: Sequence[RunEvent]) -> list[MetricSeries]:
    """Every metric reported per epoch, in the order first seen, with its flags."""
    by_name: dict[str, MetricSeries] = {}
    for epoch, metrics in _progress(events):
        for name, raw in metrics.items():
            series = by_name.setdefault(name, MetricSeries(name, family_of(name)))
            series.epochs.append(epoch)
            series.values.append(_finite(raw))
    kept = []
    for series in by_name.values():
        if not series.finite:
            continue  # never reported a number: nothing to draw
        for epoch, value in zip(series.epochs, series.values, strict=True):
            if value is None:
                series.flags.append(
                    Flag(
                        "non-finite",
                        series.name,
                        epoch,
                        f"{series.name} is null at epoch {epoch} (NaN or infinity in the trainer)",
                    )
                )
        if series.lower_is_better:
            _flag_divergence(series)
        kept.append(series)
    return kept


def primary_metric(events: Sequence[RunEvent]) -> str | None:
    """The primary metric named by the last accepted validation callback, if any."""
    for event in reversed(events):
        if event.answer is Answer.REFUSED or not isinstance(event.body, dict):
            continue
        name = event.body.get("primary_metric_name")
        if isinstance(name, str) and name:
            return name
    return None
