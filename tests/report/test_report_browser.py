"""Reports rendered in a real browser (headless Chromium): every section drawn, no console error,
no request beyond the file itself, the payload shown on hover. One dry-run per story and task
type; a screenshot of each is kept under build/report-screenshots/ (CI artifacts)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from report_paths import ROOT, SCENARIO_TRAINER, SCREENSHOTS
from synthetic_dataset import write_dice

from trainer_tools.dry_run import DryRunOptions, dry_run
from trainer_tools.report import record_from_dry_run, render_report
from trainer_tools.report.chromium import Chromium
from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Case:
    scenario: str
    task: str

    @property
    def name(self) -> str:
        return f"{self.scenario}-{self.task}"


CASES = [
    Case("healthy", "detection"),
    Case("diverging", "detection"),
    Case("failed", "detection"),
    Case("healthy", "classification"),
    Case("healthy", "segmentation"),
    Case("healthy", "pose"),
]

_DOM = """(() => {
  const q = s => document.querySelectorAll(s);
  const imgs = [...q('#dataset .samples img')];
  return {
    sections: [...q('section[data-section]')].map(s => s.dataset.section),
    charts: q('svg.chart').length,
    families: [...q('#curves figure[data-family]')].map(f => f.dataset.family),
    primary: [...q('#curves figure[data-primary]')].map(f => f.dataset.family),
    primaryLines: q('#curves .series.primary polyline').length,
    rightAxis: q('#curves .tick.right').length,
    bands: [...q('#curves .band title')].map(t => t.textContent),
    nullMarks: q('#curves .flag').length,
    marks: [...q('#timeline .mark')].map(m => m.classList[1]),
    phases: [...q('#timeline .phase')].map(p => p.dataset.phase),
    confusion: q('#validation svg.heatmap rect[fill]').length,
    prCurves: q('#validation figure[data-chart=pr] polyline').length,
    perClassRows: q('#validation table.per-class tr').length - 1,
    samples: imgs.length,
    samplesDrawn: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    datasetCharts: q('#dataset svg.chart').length,
    flags: [...q('#flags li')].map(li => li.textContent),
    checks: [...q('#verdict tr[data-check]')].map(r => [r.dataset.check, r.cells[0].textContent]),
    state: document.getElementById('state').textContent,
    refresh: !!document.querySelector('meta[http-equiv=refresh]'),
  };
})()"""


def _run(case: Case, root: Path, seaweed: SeaweedServer) -> Path:
    dataset = write_dice(root / f"ds-{case.task}", case.task)
    result = dry_run(
        DryRunOptions(
            train_py=SCENARIO_TRAINER,
            dataset=dataset,
            epochs=6,
            env={"REPORT_SCENARIO": case.scenario},
            timeout=120,
        ),
        say=lambda line: None,
        stream=lambda line: None,
        s3_server=seaweed,
    )
    record = record_from_dry_run(result, title=case.name, dataset_dir=dataset)
    path = root / f"{case.name}.html"
    path.write_text(render_report(record), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedServer) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    return {case.name: _run(case, root, seaweed) for case in CASES}


def _open(chromium: Chromium, path: Path, name: str) -> dict[str, Any]:
    visit = chromium.visit(path.as_uri())
    assert visit.console_errors == [], visit.console_errors
    assert visit.foreign_requests == [], f"the report fetched {visit.foreign_requests}"
    dom: dict[str, Any] = chromium.evaluate(_DOM)
    shot = chromium.screenshot(SCREENSHOTS / f"{name}.png")
    assert shot.stat().st_size > 10_000
    return dom


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_report_renders_every_section(
    case: Case, reports: dict[str, Path], chromium: Chromium
) -> None:
    dom = _open(chromium, reports[case.name], case.name)
    assert dom["sections"] == ["flags", "verdict", "curves", "timeline", "validation", "dataset"]
    assert not dom["refresh"]
    # One chart per family: loss (with the learning rate on its right axis), the primary metric,
    # precision, recall.
    assert "loss" in dom["families"]
    assert "learning rate" not in dom["families"]
    assert dom["rightAxis"] >= 2
    assert {"precision", "recall"} <= set(dom["families"])
    assert [c[0] for c in dom["checks"]] == [
        "payloads_valid",
        "lifecycle_in_order",
        "checkpoints_exist",
        "exit_code_agrees",
        "validation_accepted",
        "training_succeeded",
    ]
    assert dom["marks"] and set(dom["marks"]) == {"accepted"}
    assert dom["phases"][0] == "download"
    assert "conversion" in dom["phases"] and "epochs" in dom["phases"]
    assert dom["samples"] >= 3 and dom["samplesDrawn"] == dom["samples"]
    assert dom["datasetCharts"] >= 3  # classes, splits, objects per image (+ box sizes)
    if case.task != "classification":
        assert dom["datasetCharts"] == 4
    verdict = dict(dom["checks"])
    if case.scenario == "failed":
        assert dom["state"] == "failed"
        assert verdict["training_succeeded"] == "FAIL"  # a failed training is never a PASS
        assert any("the job failed" in f and "illegal memory access" in f for f in dom["flags"])
        assert dom["confusion"] == 0 and "validation" not in dom["phases"]
        return
    assert dom["state"] == "completed"
    assert set(verdict.values()) == {"PASS"}
    assert dom["primary"] and dom["primaryLines"] == 1
    assert {"validation", "upload"} <= set(dom["phases"])
    assert dom["confusion"] == 7  # the non-zero cells of the 3x3 matrix
    assert dom["prCurves"] == 3
    assert dom["perClassRows"] == 3
    if case.scenario == "diverging":
        assert dom["bands"] == ["loss, val_loss diverging"]
        assert dom["nullMarks"] == 1
        assert any("loss diverges at epoch 4" in f for f in dom["flags"])
        assert any("val_loss is NaN/inf" in f for f in dom["flags"])
    else:
        assert dom["bands"] == [] and dom["flags"] == []


def test_hover_shows_a_callbacks_payload(reports: dict[str, Path], chromium: Chromium) -> None:
    chromium.visit(reports["healthy-detection"].as_uri())
    # The last progress mark is drawn on top of its lane (epochs milliseconds apart overlap).
    where = chromium.evaluate(
        """(() => { const m = [...document.querySelectorAll('#timeline .mark')]
             .filter(m => m.dataset.tip.includes('"current_epoch": 6')).pop();
           const r = m.getBoundingClientRect();
           return [r.x + r.width / 2, r.y + r.height / 2 + window.scrollY]; })()"""
    )
    chromium.hover(*where)
    tip = chromium.evaluate(
        "(() => { const t = document.getElementById('tip');"
        " return [getComputedStyle(t).display, t.textContent]; })()"
    )
    assert tip[0] == "block"
    assert '"current_epoch": 6' in tip[1] and "accepted (200)" in tip[1]


def test_hover_on_a_curve_reads_every_series_at_that_epoch(
    reports: dict[str, Path], chromium: Chromium
) -> None:
    chromium.visit(reports["diverging-detection"].as_uri())
    box = chromium.evaluate(
        """(() => { const s = document.querySelector('#curves figure[data-family=loss] svg');
           const r = s.getBoundingClientRect();
           return [r.x + r.width * 0.93, r.y + r.height / 2 + window.scrollY]; })()"""
    )
    chromium.hover(*box)
    text = chromium.evaluate("document.getElementById('tip').textContent")
    assert "epoch 6" in text and "loss: 46" in text and "val_loss: null (NaN/inf)" in text


def test_dry_run_cli_writes_the_report_and_prints_where(tmp_path: Path, chromium: Chromium) -> None:
    dataset = write_dice(tmp_path / "ds", "detection")
    out = tmp_path / "nested" / "report.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer_tools.cli",
            "dry-run",
            str(SCENARIO_TRAINER),
            "--dataset",
            str(dataset),
            "--env",
            "REPORT_SCENARIO=diverging",
            "--epochs",
            "6",
            "--report",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"report: {out.resolve()} (open it in a browser)"
    live = [line for line in lines if line.startswith("dry-run: live report: http://127.0.0.1:")]
    assert live and live[0].split()[3].endswith("/jobs/1")
    # The terminal shows the divergence without opening anything.
    spark = next(line for line in lines if line.strip().startswith("loss "))
    assert "DIVERGING at epoch 4" in spark and "▁" in spark and "█" in spark
    dom = _open(chromium, out, "dry-run-cli")
    assert dom["bands"] == ["loss, val_loss diverging"]
    facts = chromium.evaluate("document.getElementById('report-facts').textContent")
    assert json.loads(facts)["state"] == "completed"
