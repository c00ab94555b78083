"""Sparklines and the metric series behind them: divergence and NaN/inf are flagged, families
group the charts."""

from __future__ import annotations

from trainer_tools.report.record import Answer, RunEvent
from trainer_tools.report.series import family_of, metric_series
from trainer_tools.report.sparkline import BLOCKS, NON_FINITE, format_sparklines, sparkline


def _progress(epoch: int, metrics: dict[str, float | None]) -> RunEvent:
    body = {
        "job_id": 1,
        "status": "running",
        "current_epoch": epoch,
        "total_epochs": 10,
        "metrics": {"loss": metrics.get("loss"), "extra_metrics": metrics},
    }
    return RunEvent(
        epoch, float(epoch), "", "training_progress", "progress", Answer.ACCEPTED, 200, body
    )


def test_sparkline_scales_between_min_and_max_and_marks_nulls() -> None:
    assert sparkline([0.0, 1.0, None, 0.5]) == BLOCKS[0] + BLOCKS[-1] + NON_FINITE + BLOCKS[4]
    assert sparkline([2.0, 2.0]) == BLOCKS[4] * 2


def test_a_spike_survives_bucketing() -> None:
    values: list[float | None] = [1.0] * 300
    values[150] = 40.0
    line = sparkline(values, width=30)
    assert len(line) == 30 and line.count(BLOCKS[-1]) == 1


def test_diverging_loss_is_flagged_and_a_noisy_one_is_not() -> None:
    losses = [0.93, 0.61, 0.52, 0.55, 2.1, 46.0]
    noisy = [0.93, 0.61, 0.66, 0.58, 0.63, 0.57]
    events = [
        _progress(e + 1, {"loss": a, "val_loss": b})
        for e, (a, b) in enumerate(zip(losses, noisy, strict=True))
    ]
    series = {s.name: s for s in metric_series(events)}
    assert series["loss"].diverged_at == 5
    assert series["val_loss"].diverged_at is None
    text = format_sparklines(events)
    loss_line = next(line for line in text.splitlines() if line.strip().startswith("loss "))
    assert "DIVERGING at epoch 5" in loss_line and "0.93 -> 46" in loss_line


def test_null_metrics_are_flagged_as_non_finite() -> None:
    events = [_progress(1, {"loss": 1.0, "mAP50": 0.2}), _progress(2, {"loss": 0.8, "mAP50": None})]
    series = {s.name: s for s in metric_series(events)}
    assert [f.kind for f in series["mAP50"].flags] == ["non-finite"]
    assert "NaN/inf at epoch 2" in format_sparklines(events)


def test_refused_progress_is_not_plotted() -> None:
    good = _progress(1, {"loss": 1.0})
    bad = RunEvent(2, 2.0, "", "training_progress", "progress", Answer.REFUSED, 422, good.body)
    assert [s.values for s in metric_series([good, bad])] == [[1.0]]


def test_families() -> None:
    assert family_of("val_loss") == family_of("train/box_loss") == "loss"
    assert family_of("lr") == family_of("learning_rate") == "learning rate"
    assert family_of("mAP50") == family_of("mAP50-95(B)") == "mAP"
    assert family_of("metrics/precision(B)") == family_of("val_precision") == "precision"
