"""Unicode sparklines of the metric series, for the dry-run's terminal output.

    loss            █▄▂▁▁▁▁▂▅█  0.931 -> 46.2  DIVERGING at epoch 7 (46.2 after a best of 0.21)

Eight block characters scale each series between its own minimum and maximum; a null value (a NaN
or infinity the trainer produced) is drawn as `×`. Longer series are cut into `width` buckets,
each shown by its value furthest from the series' median, so that a spike is never averaged away.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from trainer_tools.report.record import RunEvent
from trainer_tools.report.series import LEARNING_RATE_FAMILY, MetricSeries, metric_series

__all__ = ["BLOCKS", "NON_FINITE", "format_sparklines", "sparkline"]

BLOCKS = "▁▂▃▄▅▆▇█"
NON_FINITE = "×"
DEFAULT_WIDTH = 40


def _buckets(values: Sequence[float | None], width: int) -> list[float | None]:
    if len(values) <= width:
        return list(values)
    finite = [v for v in values if v is not None]
    middle = statistics.median(finite) if finite else 0.0
    out: list[float | None] = []
    for index in range(width):
        chunk = values[index * len(values) // width : (index + 1) * len(values) // width]
        if any(v is None for v in chunk):
            out.append(None)
            continue
        numbers = [v for v in chunk if v is not None]
        out.append(max(numbers, key=lambda v: abs(v - middle)) if numbers else None)
    return out


def sparkline(values: Sequence[float | None], width: int = DEFAULT_WIDTH) -> str:
    """The values as block characters (`×` for None), at most `width` characters."""
    shown = _buckets(values, width)
    finite = [v for v in shown if v is not None]
    if not finite:
        return NON_FINITE * len(shown)
    low, high = min(finite), max(finite)
    span = high - low
    chars = []
    for value in shown:
        if value is None:
            chars.append(NON_FINITE)
        elif span <= 0:
            chars.append(BLOCKS[len(BLOCKS) // 2])
        else:
            chars.append(BLOCKS[min(len(BLOCKS) - 1, int((value - low) / span * len(BLOCKS)))])
    return "".join(chars)


def _describe(series: MetricSeries) -> str:
    points = series.finite
    text = f"{points[0][1]:.4g} -> {points[-1][1]:.4g}"
    if (
        len(points) > 2
        and series.family != LEARNING_RATE_FAMILY
        and len({v for _, v in points}) > 1
    ):
        best = (
            min(points, key=lambda p: p[1])
            if series.lower_is_better
            else max(points, key=lambda p: p[1])
        )
        text += f" (best {best[1]:.4g} at epoch {best[0]})"
    for flag in series.flags:
        if flag.kind == "diverging":
            text += f"  DIVERGING at epoch {flag.epoch}"
            break
    nulls = [f.epoch for f in series.flags if f.kind == "non-finite"]
    if nulls:
        text += f"  NaN/inf at epoch {', '.join(map(str, nulls[:5]))}" + (
            " ..." if len(nulls) > 5 else ""
        )
    return text


def format_sparklines(events: Sequence[RunEvent], width: int = DEFAULT_WIDTH) -> str:
    """One line per metric: name, sparkline, first -> last, best, flags; empty without metrics."""
    all_series = metric_series(events)
    if not all_series:
        return ""
    name_width = min(24, max(len(s.name) for s in all_series))
    lines = []
    for series in all_series:
        name = (
            series.name if len(series.name) <= name_width else series.name[: name_width - 1] + "…"
        )
        lines.append(
            f"  {name.ljust(name_width)}  {sparkline(series.values, width)}  {_describe(series)}"
        )
    return "\n".join(lines)
