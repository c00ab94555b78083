"""Benchmark: the report's charts, hand-written SVG vs Plotly (its JavaScript inlined), for a run of
300 epochs and 50 classes: file size, and render time in headless Chromium.

    python benchmarks/bench_report.py             # 300 epochs, 50 classes, best of 5 loads
    python benchmarks/bench_report.py --epochs 100 --classes 10 --repeat 3

Both pages draw the same things from the same record: one chart per metric family (9 metrics:
four losses and the learning rate on a second axis, mAP50 and mAP50-95, precision, recall), the
callback timeline (~300 marks with their payloads on hover), the 50x50 confusion matrix and 50
precision-recall curves of 101 points. Contenders:

- svg: `trainer_tools.report.render_report` (the report as shipped: SVG plus ~2 KB of script);
- plotly: the same charts as Plotly figures in one page, `include_plotlyjs=True` (offline);
- altair: the same charts as one Vega-Lite spec through Altair, saved with `inline=True` (vega,
  vega-lite and vega-embed inlined from the `vl-convert-python` wheel; offline).

Render time: from navigation start to the second animation frame after the load event (the page
is drawn; vega-embed draws after `load`: from the frame its canvas appears), best of `--repeat`
loads of a local file. Needs `plotly`, `altair`, `vl-convert-python` (dev extra) and `chromium`.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from trainer_tools.dev_backend.store import TimelineEntry
from trainer_tools.report import render_report
from trainer_tools.report.chromium import Chromium
from trainer_tools.report.record import RunRecord, events_from_timeline
from trainer_tools.report.series import metric_series
from trainer_tools.report.validation_view import validation_view


def _entry(seq: int, endpoint: str, schema: str, body: dict[str, Any], t: float) -> TimelineEntry:
    return TimelineEntry(
        seq=seq,
        job_id=1,
        endpoint=endpoint,
        schema=schema,
        method="POST",
        path="/training/jobs/1/callback/x",
        idempotency_key=None,
        received_at="2026-12-02T00:00:00Z",
        received_ns=int(t * 1e9),
        body=body,
        status_code=200,
        response={},
        replays=0,
    )


def synthetic_record(epochs: int, classes: int) -> RunRecord:
    """A completed run of `epochs` epochs and a validation over `classes` classes."""
    rng = random.Random(7)
    entries = [
        _entry(
            1,
            "training_progress",
            "callbacks/progress",
            {"job_id": 1, "status": "running", "current_epoch": 0, "total_epochs": epochs},
            0.0,
        )
    ]
    for epoch in range(1, epochs + 1):
        decay = math.exp(-epoch / (epochs / 4))
        metrics = {
            "loss": 0.2 + decay + rng.random() * 0.05,
            "val_loss": 0.25 + decay + rng.random() * 0.05,
            "box_loss": 0.1 + decay / 2,
            "cls_loss": 0.05 + decay / 3,
            "learning_rate": 0.01 * (0.99**epoch),
            "mAP50": 0.9 - 0.8 * decay,
            "mAP50-95": 0.7 - 0.6 * decay,
            "precision": 0.92 - 0.7 * decay,
            "recall": 0.88 - 0.7 * decay,
        }
        body = {
            "job_id": 1,
            "status": "running",
            "current_epoch": epoch,
            "total_epochs": epochs,
            "progress_percent": 100.0 * epoch / epochs,
            "metrics": {"loss": metrics["loss"], "extra_metrics": metrics},
            "epoch_duration_seconds": 10.0,
        }
        entries.append(
            _entry(epoch + 1, "training_progress", "callbacks/progress", body, epoch * 10.0)
        )
    names = [f"class_{i:02d}" for i in range(classes)]
    matrix = [
        [
            rng.randint(40, 90) if i == j else (rng.randint(0, 6) if rng.random() < 0.3 else 0)
            for j in range(classes)
        ]
        for i in range(classes)
    ]
    recall = [i / 100 for i in range(101)]
    validation = {
        "type": "validation",
        "job_id": 1,
        "epoch": epochs,
        "task_type": "detection",
        "primary_metric_name": "mAP50-95",
        "primary_metric_value": 0.7,
        "metrics": {"mAP50": 0.9, "mAP50-95": 0.7},
        "timestamp": "2026-12-02T00:00:00Z",
        "is_best": True,
        "class_names": names,
        "confusion_matrix": matrix,
        "pr_curves": {
            n: {
                "recall": recall,
                "precision": [round(max(0.0, 1 - r ** (2 + k % 5)), 4) for r in recall],
            }
            for k, n in enumerate(names)
        },
        "per_class_metrics": {n: {"precision": 0.9, "recall": 0.8, "ap50": 0.85} for n in names},
    }
    t = epochs * 10.0
    entries.append(
        _entry(epochs + 2, "validation_results", "callbacks/validation", validation, t + 1)
    )
    done = {"job_id": 1, "status": "completed", "total_epochs_completed": epochs, "exit_code": 0}
    entries.append(
        _entry(epochs + 3, "training_completion", "callbacks/training-completed", done, t + 2)
    )
    return RunRecord("benchmark", "synthetic", 1, events_from_timeline(entries), "completed")


def plotly_page(record: RunRecord) -> str:
    """The same charts with Plotly, its JavaScript inlined once."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figures = []
    families: dict[str, list[Any]] = {}
    for series in metric_series(record.events):
        families.setdefault(series.family, []).append(series)
    rates = families.pop("learning rate", [])
    for family, members in families.items():
        figure = make_subplots(specs=[[{"secondary_y": family == "loss"}]])
        for member in members:
            figure.add_trace(
                go.Scatter(x=member.epochs, y=member.values, name=member.name, mode="lines")
            )
        if family == "loss":
            for rate in rates:
                figure.add_trace(
                    go.Scatter(x=rate.epochs, y=rate.values, name=rate.name, line={"dash": "dash"}),
                    secondary_y=True,
                )
        figure.update_layout(title=family, height=300)
        figures.append(figure)
    events = record.events
    figures.append(
        go.Figure(
            go.Scatter(
                x=[e.seconds for e in events],
                y=[e.endpoint for e in events],
                mode="markers",
                text=[json.dumps(e.body, indent=1)[:3000] for e in events],
                hoverinfo="text",
            ),
            layout={"title": "callback timeline", "height": 300},
        )
    )
    view = validation_view(events)
    assert view is not None and view.confusion is not None
    figures.append(
        go.Figure(
            go.Heatmap(
                z=view.confusion, x=view.class_names, y=view.class_names, colorscale="Blues"
            ),
            layout={"title": "confusion matrix", "height": 700, "width": 760},
        )
    )
    figures.append(
        go.Figure(
            [
                go.Scatter(x=c.recall, y=c.precision, name=c.name, mode="lines")
                for c in view.pr_curves
            ],
            layout={"title": "precision-recall", "height": 500},
        )
    )
    divs = [
        figure.to_html(full_html=False, include_plotlyjs=(index == 0))
        for index, figure in enumerate(figures)
    ]
    return (
        "<!DOCTYPE html><html><head><meta charset=utf-8></head><body>"
        + "".join(divs)
        + "</body></html>"
    )


def altair_page(record: RunRecord) -> str:
    """The same charts with Vega-Lite through Altair, vega's JavaScript inlined (vl-convert)."""
    import io

    import altair as alt

    charts = []
    families: dict[str, list[Any]] = {}
    for series in metric_series(record.events):
        families.setdefault(series.family, []).append(series)
    rates = families.pop("learning rate", [])
    for family, members in families.items():
        rows = [
            {"epoch": e, "metric": m.name, "value": v}
            for m in members
            for e, v in zip(m.epochs, m.values, strict=True)
        ]
        chart: Any = (
            alt.Chart(alt.Data(values=rows), title=family)
            .mark_line()
            .encode(
                x="epoch:Q",
                y="value:Q",
                color="metric:N",
                tooltip=["epoch:Q", "metric:N", "value:Q"],
            )
        )
        if family == "loss" and rates:
            rate_rows = [
                {"epoch": e, "learning_rate": v}
                for r in rates
                for e, v in zip(r.epochs, r.values, strict=True)
            ]
            rate = (
                alt.Chart(alt.Data(values=rate_rows))
                .mark_line(strokeDash=[5, 3])
                .encode(x="epoch:Q", y="learning_rate:Q")
            )
            chart = alt.layer(chart, rate).resolve_scale(y="independent")
        charts.append(chart.properties(width=560, height=220))
    events = record.events
    timeline = [
        {"t": e.seconds, "endpoint": e.endpoint, "payload": json.dumps(e.body, indent=1)[:3000]}
        for e in events
    ]
    charts.append(
        alt.Chart(alt.Data(values=timeline), title="callback timeline")
        .mark_circle(size=60)
        .encode(x="t:Q", y="endpoint:N", tooltip=["payload:N"])
        .properties(width=800, height=160)
    )
    view = validation_view(events)
    assert view is not None and view.confusion is not None
    cells = [
        {"true": view.class_names[i], "predicted": view.class_names[j], "count": count}
        for i, row in enumerate(view.confusion)
        for j, count in enumerate(row)
    ]
    charts.append(
        alt.Chart(alt.Data(values=cells), title="confusion matrix")
        .mark_rect()
        .encode(
            x="predicted:N",
            y="true:N",
            color="count:Q",
            tooltip=["true:N", "predicted:N", "count:Q"],
        )
        .properties(width=600, height=600)
    )
    curves = [
        {"class": c.name, "recall": r, "precision": p}
        for c in view.pr_curves
        for r, p in zip(c.recall, c.precision, strict=True)
    ]
    charts.append(
        alt.Chart(alt.Data(values=curves), title="precision-recall")
        .mark_line()
        .encode(x="recall:Q", y="precision:Q", color="class:N")
        .properties(width=400, height=400)
    )
    buffer = io.StringIO()
    alt.vconcat(*charts).save(buffer, format="html", inline=True)
    return buffer.getvalue()


# When each page is drawn: Plotly draws while its scripts run; vega-embed after `load`.
_READY = {
    "svg": "true",
    "plotly": "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0",
    "altair": "document.querySelector('.vega-embed canvas, .vega-embed svg') !== null",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    record = synthetic_record(args.epochs, args.classes)
    pages = {
        "svg": render_report(record),
        "plotly": plotly_page(record),
        "altair": altair_page(record),
    }
    results: dict[str, tuple[int, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, Chromium() as browser:
        for name, page in pages.items():
            path = Path(tmp) / f"{name}.html"
            path.write_text(page, encoding="utf-8")
            times = []
            for _ in range(args.repeat + 1):  # the first load warms the browser's caches
                visit = browser.visit(path.as_uri(), ready=_READY[name])
                if visit.console_errors:
                    print(f"{name}: console errors {visit.console_errors}", file=sys.stderr)
                    return 1
                times.append(visit.render_ms)
            charts = int(browser.evaluate("document.querySelectorAll('svg, canvas').length"))
            results[name] = (len(page.encode()), min(times[1:]), charts)
    print(
        f"run: {args.epochs} epochs, {args.classes} classes; render = best of {args.repeat} loads"
    )
    for name, (size, ms, charts) in results.items():
        print(
            f"  {name:7s} {size / 1024:9.1f} KB  {ms:8.1f} ms to drawn  ({charts} svg/canvas elements)"
        )
    svg_size, svg_ms, _ = results["svg"]
    for name in ("plotly", "altair"):
        size, ms, _ = results[name]
        print(f"  ratio {name}/svg: size {size / svg_size:.1f}x, render time {ms / svg_ms:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
