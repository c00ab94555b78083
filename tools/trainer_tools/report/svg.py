"""Hand-written SVG charts: small, offline, and interactive through one short inline script.

Each chart is an `<svg>` with a `viewBox` (it scales with the page) and its data in a
`data-*` attribute that the page's script reads for hover read-outs; the marks themselves carry
no per-point markup, so 300 epochs of ten metrics stay a few kilobytes (see docs/report.md for
the measured comparison with Plotly).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PALETTE",
    "Line",
    "bar_chart",
    "esc",
    "heatmap",
    "histogram",
    "line_chart",
    "nice_ticks",
]

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)
WARN = "#d62728"
_W, _H = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 56, 14, 34


def esc(text: object) -> str:
    """HTML-escape for text and attribute values."""
    return html.escape(str(text), quote=True)


def _attr_json(data: Any) -> str:
    return esc(json.dumps(data, separators=(",", ":"), allow_nan=False))


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.1e}"
    return f"{value:.4g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count)
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= step * factor:
            step *= factor
            break
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


@dataclass
class _Axis:
    low: float
    high: float
    log: bool = False

    @classmethod
    def of(cls, values: Sequence[float], allow_log: bool = False) -> _Axis:
        low, high = min(values), max(values)
        if allow_log and low > 0 and high / low > 50:
            return cls(math.log10(low), math.log10(high), True)
        if high == low:
            pad = abs(low) * 0.1 or 1.0
            return cls(low - pad, high + pad)
        pad = (high - low) * 0.05
        return cls(low - pad if low < 0 or low - pad >= 0 else 0.0, high + pad)

    def pos(self, value: float, start: float, end: float) -> float:
        v = math.log10(value) if self.log else value
        return start + (v - self.low) / (self.high - self.low or 1.0) * (end - start)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            return [
                (float(10**e), _fmt(10.0**e))
                for e in range(math.ceil(self.low), math.floor(self.high) + 1)
            ]
        return [(t, _fmt(t)) for t in nice_ticks(self.low, self.high)]


@dataclass
class Line:
    """One series of a line chart: (x, y) points, y None where the value was null."""

    name: str
    points: list[tuple[float, float | None]]
    colour: str = PALETTE[0]
    emphasised: bool = False
    dashed: bool = False
    right_axis: bool = False
    marks: list[tuple[float, str]] = field(default_factory=list)  # (x, label) flagged points


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def line_chart(
    title: str,
    lines: Sequence[Line],
    *,
    chart_id: str,
    x_label: str = "epoch",
    y_label: str = "",
    right_label: str = "",
    bands: Sequence[tuple[float, str]] = (),
    square: bool = False,
    fixed_unit: bool = False,
) -> str:
    """A line chart; `bands` shade from x to the right edge (a divergence); lines with
    `right_axis` get their own scale on the right (the learning rate)."""
    width, height = (360, 320) if square else (_W, _H)
    limit = f' style="max-width:{width}px"' if square else ""
    x0, x1, y0, y1 = _LEFT, width - _RIGHT, height - _BOTTOM, _TOP
    xs = [x for line in lines for x, _ in line.points]
    left_values = [
        y for line in lines if not line.right_axis for _, y in line.points if y is not None
    ]
    right_values = [y for line in lines if line.right_axis for _, y in line.points if y is not None]
    if not xs or not (left_values or right_values):
        return ""
    x_axis = _Axis(0.0, 1.0) if fixed_unit else _Axis(min(xs), max(xs))
    if x_axis.high == x_axis.low:
        x_axis = _Axis(x_axis.low - 1, x_axis.high + 1)
    left = _Axis(0.0, 1.0) if fixed_unit else (_Axis.of(left_values) if left_values else None)
    right = _Axis.of(right_values, allow_log=True) if right_values else None
    parts = [
        f'<svg class="chart line" viewBox="0 0 {width} {height}"{limit} role="img" '
        f'aria-label="{esc(title)}" data-line="'
    ]
    hover: dict[str, Any] = {
        "x0": x0,
        "x1": x1,
        "lo": x_axis.low,
        "hi": x_axis.high,
        "w": width,
        "xl": x_label,
        "s": [
            {
                "n": line.name,
                "c": line.colour,
                "p": [[x, y] for x, y in line.points],
            }
            for line in lines
        ],
    }
    parts.append(_attr_json(hover) + '">')
    parts.append(f'<rect class="plot" x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}"/>')
    for x, label in bands:
        bx = x_axis.pos(x, x0, x1)
        parts.append(
            f'<rect class="band" x="{bx:.1f}" y="{y1}" width="{max(2.0, x1 - bx):.1f}" '
            f'height="{y0 - y1}"><title>{esc(label)}</title></rect>'
            f'<text class="band-label" x="{bx + 4:.1f}" y="{y1 + 12}">{esc(label)}</text>'
        )
    for value, text in x_axis.ticks():
        px = x_axis.pos(value, x0, x1)
        if x0 - 0.5 <= px <= x1 + 0.5:
            parts.append(
                f'<line class="grid" x1="{px:.1f}" x2="{px:.1f}" y1="{y1}" y2="{y0}"/>'
                f'<text class="tick" x="{px:.1f}" y="{y0 + 14}" text-anchor="middle">{text}</text>'
            )
    for axis, anchor, tx in ((left, "end", x0 - 4), (right, "start", x1 + 4)):
        if axis is None:
            continue
        for value, text in axis.ticks():
            py = axis.pos(value, y0, y1)
            if y1 - 0.5 <= py <= y0 + 0.5:
                if axis is left:
                    parts.append(
                        f'<line class="grid" x1="{x0}" x2="{x1}" y1="{py:.1f}" y2="{py:.1f}"/>'
                    )
                parts.append(
                    f'<text class="tick{" right" if axis is right else ""}" x="{tx}" '
                    f'y="{py + 3:.1f}" text-anchor="{anchor}">{text}</text>'
                )
    parts.append(
        f'<text class="axis-label" x="{(x0 + x1) / 2}" y="{height - 4}" '
        f'text-anchor="middle">{esc(x_label)}</text>'
    )
    if y_label:
        parts.append(
            f'<text class="axis-label" transform="translate(12 {(y0 + y1) / 2}) rotate(-90)" '
            f'text-anchor="middle">{esc(y_label)}</text>'
        )
    if right is not None and right_label:
        parts.append(
            f'<text class="axis-label right" transform="translate({width - 8} {(y0 + y1) / 2}) '
            f'rotate(90)" text-anchor="middle">{esc(right_label)}{" (log)" if right.log else ""}'
            "</text>"
        )
    for index, line in enumerate(lines):
        axis = right if line.right_axis else left
        if axis is None:
            continue
        classes = (
            "series" + (" primary" if line.emphasised else "") + (" dashed" if line.dashed else "")
        )
        parts.append(f'<g id="{chart_id}-s{index}" class="{classes}" style="--c:{line.colour}">')
        for run in _segments(line.points):
            coords = " ".join(
                f"{x_axis.pos(x, x0, x1):.1f},{axis.pos(y, y0, y1):.1f}" for x, y in run
            )
            if len(run) == 1:
                cx, cy = coords.split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5"/>')
            else:
                parts.append(f'<polyline points="{coords}"/>')
        for x, label in line.marks:
            px = x_axis.pos(x, x0, x1)
            parts.append(
                f'<text class="flag" x="{px:.1f}" y="{y1 + 10}" text-anchor="middle">×'
                f"<title>{esc(label)}</title></text>"
            )
        parts.append("</g>")
    parts.append(f'<line class="cursor" x1="0" x2="0" y1="{y1}" y2="{y0}"/>')
    parts.append("</svg>")
    legend = "".join(
        f'<li data-toggle="{chart_id}-s{index}" class="{"primary" if line.emphasised else ""}">'
        f'<i style="background:{line.colour}"{" class=dashed" if line.dashed else ""}></i>'
        f"{esc(line.name)}{' (right axis)' if line.right_axis else ''}"
        f"{' ★ primary' if line.emphasised else ''}</li>"
        for index, line in enumerate(lines)
    )
    return f'<ul class="legend">{legend}</ul>' + "".join(parts)


def _colour_scale(fraction: float) -> str:
    # White -> deep blue, perceptually even enough for counts.
    f = max(0.0, min(1.0, fraction)) ** 0.6
    r = round(247 - f * (247 - 8))
    g = round(251 - f * (251 - 48))
    b = round(255 - f * (255 - 107))
    return f"rgb({r},{g},{b})"


def heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    """A confusion matrix: rows are true classes, columns predicted; hover reads a cell."""
    n = len(matrix)
    if n == 0:
        return ""
    cell = max(6, min(36, 540 // n))
    label_width = 8 + 7 * min(18, max((len(s) for s in labels), default=1))
    size = cell * n
    width, height = label_width + size + 10, label_width + size + 26
    peak = max((max(row) for row in matrix if row), default=0) or 1
    data = {"n": n, "c": cell, "ox": label_width, "oy": label_width, "l": list(labels), "m": matrix}
    parts = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" style="max-width:{max(width, 260)}px" role="img" '
        f'aria-label="confusion matrix" data-heat="{_attr_json(data)}">'
    ]
    show_labels = cell >= 9
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count == 0:
                continue
            parts.append(
                f'<rect x="{label_width + j * cell}" y="{label_width + i * cell}" width="{cell}" '
                f'height="{cell}" fill="{_colour_scale(count / peak)}"/>'
            )
            if cell >= 22:
                colour = "#fff" if count / peak > 0.5 else "#222"
                parts.append(
                    f'<text class="cell" x="{label_width + j * cell + cell / 2}" '
                    f'y="{label_width + i * cell + cell / 2 + 4}" fill="{colour}" '
                    f'text-anchor="middle">{count}</text>'
                )
    parts.append(
        f'<rect class="frame" x="{label_width}" y="{label_width}" width="{size}" height="{size}"/>'
    )
    if show_labels:
        for i, name in enumerate(labels):
            short = esc(name if len(name) <= 18 else name[:17] + "…")
            parts.append(
                f'<text class="tick" x="{label_width - 4}" y="{label_width + i * cell + cell / 2 + 3}" '
                f'text-anchor="end">{short}</text>'
                f'<text class="tick" transform="translate({label_width + i * cell + cell / 2 + 3} '
                f'{label_width - 4}) rotate(-90)">{short}</text>'
            )
    parts.append(
        f'<text class="axis-label" x="{label_width + size / 2}" y="{height - 6}" '
        'text-anchor="middle">predicted class (rows: true class)</text></svg>'
    )
    return "".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, unit: str = "") -> str:
    """Horizontal bars, one per label (class histograms, split sizes)."""
    if not labels:
        return ""
    row = 16 if len(labels) <= 30 else 11
    label_width = 8 + 7 * min(20, max(len(s) for s in labels))
    width = 640
    height = row * len(labels) + 24
    peak = max(values) or 1
    span = width - label_width - 70
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        length = span * value / peak
        short = esc(label if len(label) <= 20 else label[:19] + "…")
        parts.append(
            f'<g data-tip="{esc(label)}: {_fmt(value)}{esc(unit)}">'
            f'<text class="tick" x="{label_width - 4}" y="{y + row * 0.7:.1f}" text-anchor="end">'
            f"{short}</text>"
            f'<rect class="bar" x="{label_width}" y="{y}" width="{max(length, 1):.1f}" '
            f'height="{row - 3}"/>'
            f'<text class="tick" x="{label_width + length + 4:.1f}" y="{y + row * 0.7:.1f}">'
            f"{_fmt(value)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], *, bins: int = 20, x_label: str = "") -> str:
    """Vertical bars counting `values` in equal bins."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        high = low + 1
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / (high - low) * bins))] += 1
    width, height = 420, 200
    x0, x1, y0, y1 = 40, width - 10, height - 30, 10
    peak = max(counts) or 1
    bar = (x1 - x0) / bins
    parts = [
        f'<svg class="chart hist" viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        'role="img">'
    ]
    for i, count in enumerate(counts):
        if not count:
            continue
        top = y0 - (y0 - y1) * count / peak
        lo = low + (high - low) * i / bins
        hi = low + (high - low) * (i + 1) / bins
        parts.append(
            f'<rect class="bar" x="{x0 + i * bar + 1:.1f}" y="{top:.1f}" width="{bar - 2:.1f}" '
            f'height="{y0 - top:.1f}" data-tip="{_fmt(lo)} – {_fmt(hi)}: {count}"/>'
        )
    for value, text in ((low, _fmt(low)), (high, _fmt(high))):
        px = x0 + (x1 - x0) * (value - low) / (high - low)
        parts.append(
            f'<text class="tick" x="{px:.1f}" y="{y0 + 13}" text-anchor="middle">{text}</text>'
        )
    parts.append(
        f'<text class="tick" x="{x0 - 4}" y="{y1 + 8}" text-anchor="end">{peak}</text>'
        f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}"/>'
        f'<text class="axis-label" x="{(x0 + x1) / 2}" y="{height - 3}" text-anchor="middle">'
        f"{esc(x_label)}</text></svg>"
    )
    return "".join(parts)
