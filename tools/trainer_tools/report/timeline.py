"""The callback timeline drawn over time: phases as bands, each callback a mark on its lane.

Phases come from the callbacks themselves, so they work for every source:

- download, conversion, upload: the SDK's log events of those steps (`event_type` naming the
  step, `data.seconds` its duration when known). Without a download event, the time from the
  start report to the conversion event is shown as "download + conversion";
- epochs: from the start of the first reported epoch (its time minus `epoch_duration_seconds`)
  to the last progress report;
- validation: each validation callback, from the callback before it.

A mark's colour is its answer (accepted, retried, refused; pending and superseded for an outbox);
hovering shows its payload.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.report.record import Answer, RunEvent
from trainer_tools.report.svg import esc

__all__ = ["ANSWER_COLOURS", "PHASE_COLOURS", "Phase", "phases", "timeline_chart"]

ANSWER_COLOURS = {
    Answer.ACCEPTED: "#2ca02c",
    Answer.RETRIED: "#ff7f0e",
    Answer.REFUSED: "#d62728",
    Answer.PENDING: "#7f7f7f",
    Answer.SUPERSEDED: "#bcbd22",
}
PHASE_COLOURS = {
    "download": "#c6dbef",
    "conversion": "#dadaeb",
    "download + conversion": "#d4d9ee",
    "epochs": "#c7e9c0",
    "validation": "#fdd0a2",
    "upload": "#fcbba1",
}
_MAX_TIP = 3000
_STEP_WORDS = (("download", "download"), ("conversion", "conversion"), ("convert", "conversion"))


@dataclass(frozen=True)
class Phase:
    """A stretch of the job's time."""

    name: str
    start: float
    end: float


def _step(event: RunEvent) -> str | None:
    if not isinstance(event.body, dict) or event.answer is Answer.REFUSED:
        return None
    kind = str(event.body.get("event_type", "")).lower()
    if "upload" in kind:
        return "upload"
    for word, step in _STEP_WORDS:
        if word in kind:
            return step
    return None


def _seconds(event: RunEvent) -> float | None:
    data = event.body.get("data") if isinstance(event.body, dict) else None
    value = data.get("seconds") if isinstance(data, dict) else None
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def phases(events: Sequence[RunEvent]) -> list[Phase]:
    """The job's phases, in time order."""
    if not events:
        return []
    found: list[Phase] = []
    start = next((e.seconds for e in events if e.kind == EventKind.STARTED.value), None)
    if start is None:
        start = next(
            (
                e.seconds
                for e in events
                if e.kind == EventKind.PROGRESS.value
                and isinstance(e.body, dict)
                and e.body.get("current_epoch") == 0
            ),
            events[0].seconds,
        )
    previous = start
    downloaded = False
    for event in events:
        step = _step(event)
        if step is None:
            if event.lifecycle or event.kind == "validation":
                previous = max(previous, event.seconds)
            continue
        took = _seconds(event)
        begin = max(previous, event.seconds - took) if took is not None else previous
        if step == "download":
            downloaded = True
        name = "download + conversion" if step == "conversion" and not downloaded else step
        if step == "conversion" and downloaded and took is None:
            begin = previous
        found.append(Phase(name, begin, event.seconds))
        previous = event.seconds
    progress = [
        e
        for e in events
        if e.kind == EventKind.PROGRESS.value
        and e.answer is not Answer.REFUSED
        and isinstance(e.body, dict)
        and isinstance(e.body.get("current_epoch"), int)
        and e.body["current_epoch"] > 0
    ]
    if progress:
        first = progress[0]
        duration = (
            first.body.get("epoch_duration_seconds") if isinstance(first.body, dict) else None
        )
        begin = (
            first.seconds - float(duration) if isinstance(duration, int | float) else first.seconds
        )
        ends = [p.end for p in found if p.end <= first.seconds]
        begin = max([begin, *ends])
        found.append(Phase("epochs", begin, progress[-1].seconds))
    before = start
    for event in events:
        if event.kind == "validation" and event.answer is not Answer.REFUSED:
            found.append(Phase("validation", before, event.seconds))
        before = event.seconds
    return sorted(found, key=lambda p: (p.start, p.end))


def _tip(event: RunEvent) -> str:
    head = f"#{event.seq} {event.endpoint} at +{event.seconds:.2f} s: {event.answer.value}"
    if event.status is not None:
        head += f" ({event.status})"
    if event.detail:
        head += f"\n{event.detail}"
    body = json.dumps(event.body, indent=1, ensure_ascii=False)
    if len(body) > _MAX_TIP:
        body = body[:_MAX_TIP] + "\n… (cut)"
    return head + "\n" + body


def timeline_chart(events: Sequence[RunEvent]) -> str:
    """Lanes: phases on top, then one lane per endpoint, marks coloured by answer."""
    if not events:
        return ""
    lanes = list(dict.fromkeys(e.endpoint for e in events))
    found = phases(events)
    width = 900
    left, right = 120, 20
    lane_h = 26
    top = 30
    height = top + lane_h * (len(lanes) + 1) + 30
    end = max([e.seconds for e in events] + [p.end for p in found]) or 1.0
    scale = (width - left - right) / end

    def x(value: float) -> float:
        return left + value * scale

    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="callback timeline">'
    ]
    parts.append(
        f'<text class="lane" x="{left - 6}" y="{top + 17}" text-anchor="end">phases</text>'
    )
    for phase in found:
        colour = PHASE_COLOURS.get(phase.name, "#eee")
        w = max(2.0, (phase.end - phase.start) * scale)
        parts.append(
            f'<g class="phase" data-phase="{esc(phase.name)}" data-tip="{esc(phase.name)}: '
            f'+{phase.start:.2f} s to +{phase.end:.2f} s ({phase.end - phase.start:.2f} s)">'
            f'<rect x="{x(phase.start):.1f}" y="{top + 2}" width="{w:.1f}" height="{lane_h - 4}" '
            f'fill="{colour}"/>'
            f'<rect class="phase-span" x="{x(phase.start):.1f}" y="{top + lane_h}" width="{w:.1f}" '
            f'height="{lane_h * len(lanes)}" fill="{colour}"/>'
        )
        if w > 40:
            parts.append(
                f'<text class="phase-label" x="{x(phase.start) + 3:.1f}" y="{top + 17}">'
                f"{esc(phase.name)}</text>"
            )
        parts.append("</g>")
    for index, lane in enumerate(lanes):
        y = top + lane_h * (index + 1)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y + lane_h / 2}" '
            f'y2="{y + lane_h / 2}"/>'
            f'<text class="lane" x="{left - 6}" y="{y + lane_h / 2 + 4}" text-anchor="end">'
            f"{esc(lane)}</text>"
        )
    for event in events:
        cy = top + lane_h * (lanes.index(event.endpoint) + 1) + lane_h / 2
        colour = ANSWER_COLOURS[event.answer]
        shape = (
            f'<rect x="{x(event.seconds) - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" '
            f'fill="{colour}"/>'
            if event.answer is Answer.REFUSED
            else f'<circle cx="{x(event.seconds):.1f}" cy="{cy:.1f}" r="5" fill="{colour}"/>'
        )
        parts.append(
            f'<g class="mark {event.answer.value}" data-seq="{event.seq}" '
            f'data-tip="{esc(_tip(event))}">{shape}</g>'
        )
    axis_y = top + lane_h * (len(lanes) + 1) + 4
    step = max(1, int(end / 8)) if end >= 8 else end / 8
    tick = 0.0
    while tick <= end + 1e-9:
        parts.append(
            f'<text class="tick" x="{x(tick):.1f}" y="{axis_y + 12}" text-anchor="middle">'
            f"{tick:.3g}</text>"
        )
        tick += step
    parts.append(
        f'<text class="axis-label" x="{(left + width - right) / 2}" y="{height - 2}" '
        'text-anchor="middle">seconds since the first callback</text></svg>'
    )
    legend = "".join(
        f'<li><i style="background:{ANSWER_COLOURS[a]}"></i>{a.value}</li>'
        for a in Answer
        if any(e.answer is a for e in events)
    )
    return f'<ul class="legend static">{legend}</ul>' + "".join(parts)
