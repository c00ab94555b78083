"""A large run (300 epochs, 50 classes) in the browser: the confusion matrix reads a cell on hover,
a legend entry hides its series, and the page stays small and self-contained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_paths import SCREENSHOTS

from trainer_tools.report import Answer, RunEvent, RunRecord, render_report
from trainer_tools.report.chromium import Chromium

CLASSES = [f"class_{i:02d}" for i in range(50)]


def _event(seq: int, kind: str, endpoint: str, body: dict[str, Any]) -> RunEvent:
    return RunEvent(seq, float(seq), "", endpoint, kind, Answer.ACCEPTED, 200, body)


def _record() -> RunRecord:
    events = []
    for epoch in range(1, 301):
        metrics = {"loss": 1.0 / epoch, "learning_rate": 0.01 * 0.99**epoch, "mAP50": epoch / 300}
        body = {
            "job_id": 1,
            "status": "running",
            "current_epoch": epoch,
            "total_epochs": 300,
            "metrics": {"loss": metrics["loss"], "extra_metrics": metrics},
        }
        events.append(_event(epoch, "progress", "training_progress", body))
    matrix = [
        [(40 if i == j else (3 if j == (i + 7) % 50 else 0)) for j in range(50)] for i in range(50)
    ]
    validation = {
        "type": "validation",
        "job_id": 1,
        "epoch": 300,
        "task_type": "detection",
        "primary_metric_name": "mAP50",
        "primary_metric_value": 1.0,
        "metrics": {"mAP50": 1.0},
        "timestamp": "2026-12-02T00:00:00Z",
        "class_names": CLASSES,
        "confusion_matrix": matrix,
    }
    events.append(_event(301, "validation", "validation_results", validation))
    return RunRecord("large", "test", 1, tuple(events), "completed")


def test_large_run_heatmap_hover_and_legend_toggle(tmp_path: Path, chromium: Chromium) -> None:
    page = render_report(_record())
    assert len(page.encode()) < 1_000_000
    path = tmp_path / "large.html"
    path.write_text(page, encoding="utf-8")
    visit = chromium.visit(path.as_uri())
    assert visit.console_errors == [] and visit.foreign_requests == []
    chromium.screenshot(SCREENSHOTS / "large-run.png")
    # Row 3 (class_03) was predicted as class_10 three times.
    where = chromium.evaluate(
        """(() => { const s = document.querySelector('#validation svg.heatmap');
           const d = JSON.parse(s.dataset.heat); const r = s.getBoundingClientRect();
           const k = r.width / s.viewBox.baseVal.width;
           return [r.x + (d.ox + 10.5 * d.c) * k, r.y + (d.oy + 3.5 * d.c) * k + window.scrollY]; })()"""
    )
    chromium.hover(*where)
    assert chromium.evaluate("document.getElementById('tip').textContent") == (
        "true class_03\npredicted class_10\ncount 3"
    )
    # The per-class table is computed from the matrix: 50 rows.
    assert chromium.evaluate("document.querySelectorAll('table.per-class tr').length") == 51
    # Clicking a legend entry hides its series; clicking again shows it.
    hidden = chromium.evaluate(
        """(() => { const li = document.querySelector('#curves li[data-toggle]');
           const g = document.getElementById(li.dataset.toggle);
           li.click(); const off = getComputedStyle(g).display;
           li.click(); return [off, getComputedStyle(g).display]; })()"""
    )
    assert hidden == ["none", "inline"]
