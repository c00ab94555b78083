"""Assemble the report: one self-contained HTML page (inline CSS and script, no request at all).

Sections, in the order a reader needs them: what to look at (flags), the verdict with each check
and its evidence, the metric curves, the callback timeline, the validation, the dataset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from trainer_tools.dev_backend.lifecycle import EventKind
from trainer_tools.report.dataset_view import DatasetView, dataset_view
from trainer_tools.report.record import Answer, RunRecord
from trainer_tools.report.series import (
    LEARNING_RATE_FAMILY,
    LOSS_FAMILY,
    MetricSeries,
    metric_series,
    primary_metric,
)
from trainer_tools.report.svg import PALETTE, Line, bar_chart, esc, heatmap, histogram, line_chart
from trainer_tools.report.timeline import timeline_chart
from trainer_tools.report.validation_view import ValidationView, validation_view

__all__ = ["render_report"]

_CSS = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--ok:#2ca02c;--bad:#d62728;--na:#98a2b3}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 28px;background:#fff;border-bottom:1px solid var(--line)}h1{margin:0 0 4px;font-size:20px}
.meta{color:var(--muted)}main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:14px 18px}
h2{font-size:16px;margin:0 0 10px}h3{font-size:14px;margin:10px 0 4px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff;background:var(--na)}
.badge.pass,.badge.completed{background:var(--ok)}.badge.fail,.badge.failed{background:var(--bad)}.badge.running,.badge.pending{background:#1f77b4}
.flags li{color:var(--bad);font-weight:600}.flags li.info{color:var(--fg);font-weight:400}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.checks td.ok{color:var(--ok);font-weight:700}.checks td.bad{color:var(--bad);font-weight:700}.checks td.na{color:var(--na);font-weight:700}
.checks ul{margin:2px 0 0;padding-left:18px;color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:2px}
svg.chart{width:100%;height:auto;display:block;overflow:visible}
svg .plot{fill:#fff;stroke:var(--line)}svg .grid{stroke:#eef0f3}svg .tick{font-size:10px;fill:var(--muted)}
svg .axis-label{font-size:11px;fill:var(--muted)}svg .series polyline{fill:none;stroke:var(--c);stroke-width:1.6}
svg .series circle{fill:var(--c)}svg .series.primary polyline{stroke-width:3.2}svg .series.dashed polyline{stroke-dasharray:5 3}
svg .series.off{display:none}svg .band{fill:rgba(214,39,40,.10)}svg .band-label,svg .flag{font-size:11px;fill:var(--bad);font-weight:700}
svg .cursor{stroke:#98a2b3;stroke-dasharray:3 3;display:none}svg.hover .cursor{display:block}
svg .bar{fill:#5b8ff9}svg .frame{fill:none;stroke:var(--line)}svg .cell{font-size:10px}
svg .lane{font-size:11px;fill:var(--fg)}svg .phase-span{opacity:.35}svg .phase-label{font-size:11px;fill:#344054}
svg .mark{cursor:pointer}svg .mark:hover circle,svg .mark:hover rect{stroke:#000;stroke-width:2}
ul.legend{list-style:none;margin:0 0 2px;padding:0;display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px}
ul.legend li{cursor:pointer;user-select:none}ul.legend.static li{cursor:default}ul.legend li.off{opacity:.35}ul.legend li.primary{font-weight:700}
ul.legend i{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}
#tip{position:absolute;display:none;max-width:560px;max-height:420px;overflow:auto;background:#101828;color:#f2f4f7;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;padding:8px 10px;border-radius:6px;white-space:pre-wrap;pointer-events:none;z-index:9}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.samples figure{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:5px;font-size:11px;color:var(--muted)}
.samples img{display:block;max-width:100%;image-rendering:auto}
.muted{color:var(--muted)}.error{color:var(--bad)}
"""

_JS = """
(function(){
var tip=document.getElementById('tip');
function show(e,text){tip.textContent=text;tip.style.display='block';
var x=e.pageX+14,y=e.pageY+14;if(x+tip.offsetWidth>window.scrollX+window.innerWidth)x=e.pageX-tip.offsetWidth-14;
tip.style.left=x+'px';tip.style.top=y+'px';}
function hide(){tip.style.display='none';}
document.querySelectorAll('[data-tip]').forEach(function(el){
el.addEventListener('mousemove',function(e){show(e,el.getAttribute('data-tip'));});
el.addEventListener('mouseleave',hide);});
function fmt(v){if(v===null)return 'null (NaN/inf)';var a=Math.abs(v);return (a!==0&&(a<1e-3||a>=1e5))?v.toExponential(2):(+v.toPrecision(4)).toString();}
document.querySelectorAll('svg[data-line]').forEach(function(svg){
var d=JSON.parse(svg.getAttribute('data-line'));var cur=svg.querySelector('.cursor');
var xs=[];d.s.forEach(function(s){s.p.forEach(function(p){if(xs.indexOf(p[0])<0)xs.push(p[0]);});});xs.sort(function(a,b){return a-b;});
svg.addEventListener('mousemove',function(e){var r=svg.getBoundingClientRect();var vx=(e.clientX-r.left)*d.w/r.width;
var v=d.lo+(vx-d.x0)/(d.x1-d.x0)*(d.hi-d.lo);var best=xs[0];xs.forEach(function(x){if(Math.abs(x-v)<Math.abs(best-v))best=x;});
var px=d.x0+(best-d.lo)/((d.hi-d.lo)||1)*(d.x1-d.x0);cur.setAttribute('x1',px);cur.setAttribute('x2',px);svg.classList.add('hover');
var lines=[d.xl+' '+fmt(best)];d.s.forEach(function(s){s.p.forEach(function(p){if(p[0]===best)lines.push(s.n+': '+fmt(p[1]));});});show(e,lines.join('\\n'));});
svg.addEventListener('mouseleave',function(){svg.classList.remove('hover');hide();});});
document.querySelectorAll('[data-toggle]').forEach(function(li){li.addEventListener('click',function(){
var g=document.getElementById(li.getAttribute('data-toggle'));if(g){g.classList.toggle('off');li.classList.toggle('off');}});});
document.querySelectorAll('svg[data-heat]').forEach(function(svg){var d=JSON.parse(svg.getAttribute('data-heat'));
var vb=svg.viewBox.baseVal;svg.addEventListener('mousemove',function(e){var r=svg.getBoundingClientRect();
var x=(e.clientX-r.left)*vb.width/r.width-d.ox,y=(e.clientY-r.top)*vb.height/r.height-d.oy;var j=Math.floor(x/d.c),i=Math.floor(y/d.c);
if(i>=0&&j>=0&&i<d.n&&j<d.n){show(e,'true '+d.l[i]+'\\npredicted '+d.l[j]+'\\ncount '+d.m[i][j]);}else hide();});
svg.addEventListener('mouseleave',hide);});
})();
"""


def _families(series: Sequence[MetricSeries]) -> list[tuple[str, list[MetricSeries]]]:
    groups: dict[str, list[MetricSeries]] = {}
    for item in series:
        groups.setdefault(item.family, []).append(item)
    ordered = sorted(
        groups.items(), key=lambda kv: (kv[0] != LOSS_FAMILY, kv[0] == LEARNING_RATE_FAMILY)
    )
    return ordered


def _lines(members: Sequence[MetricSeries], primary: str | None, start: int = 0) -> list[Line]:
    lines = []
    for index, item in enumerate(members):
        nulls = [e for e, v in zip(item.epochs, item.values, strict=True) if v is None]
        lines.append(
            Line(
                item.name,
                [(float(e), v) for e, v in zip(item.epochs, item.values, strict=True)],
                colour=PALETTE[(start + index) % len(PALETTE)],
                emphasised=item.name == primary,
                marks=[(float(e), f"{item.name} is NaN/inf at epoch {e}") for e in nulls],
            )
        )
    return lines


def _curves_section(series: Sequence[MetricSeries], primary: str | None) -> str:
    if not series:
        return '<p class="muted">No metric was reported per epoch.</p>'
    groups = _families(series)
    rates = next((m for f, m in groups if f == LEARNING_RATE_FAMILY), [])
    has_loss = any(f == LOSS_FAMILY for f, _ in groups)
    figures = []
    for number, (family, members) in enumerate(groups):
        if family == LEARNING_RATE_FAMILY and has_loss:
            continue
        lines = _lines(members, primary)
        right_label = ""
        if family == LOSS_FAMILY and rates:
            right_label = "learning rate"
            for index, rate in enumerate(rates):
                lines.append(
                    Line(
                        rate.name,
                        [(float(e), v) for e, v in zip(rate.epochs, rate.values, strict=True)],
                        colour=PALETTE[(len(members) + index) % len(PALETTE)],
                        dashed=True,
                        right_axis=True,
                    )
                )
        diverging: dict[int, list[str]] = {}
        for member in members:
            if member.diverged_at is not None:
                diverging.setdefault(member.diverged_at, []).append(member.name)
        bands = [(float(at), f"{', '.join(names)} diverging") for at, names in diverging.items()]
        chart = line_chart(
            family,
            lines,
            chart_id=f"c{number}",
            y_label=family,
            right_label=right_label,
            bands=bands,
        )
        is_primary = any(m.name == primary for m in members)
        figures.append(
            f'<figure data-family="{esc(family)}"{" data-primary" if is_primary else ""}>'
            f"<figcaption>{esc(family)}{' ★' if is_primary else ''}</figcaption>{chart}</figure>"
        )
    return '<div class="grid">' + "".join(figures) + "</div>"


def _flags(record: RunRecord, series: Sequence[MetricSeries]) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for item in series:
        for flag in item.flags:
            if flag.kind == "diverging":
                found.append((flag.message, True))
        nulls = [f.epoch for f in item.flags if f.kind == "non-finite"]
        if nulls:
            shown = ", ".join(map(str, nulls[:8])) + (" …" if len(nulls) > 8 else "")
            found.append((f"{item.name} is NaN/inf (null) at epoch {shown}", True))
    refused = [e for e in record.events if e.answer is Answer.REFUSED]
    for event in refused[:10]:
        found.append(
            (
                f"callback #{event.seq} {event.endpoint} refused ({event.status}): {event.detail}",
                True,
            )
        )
    pending = [e for e in record.events if e.answer is Answer.PENDING]
    if pending:
        found.append((f"{len(pending)} callback(s) never delivered (still in the outbox)", True))
    for event in record.events:
        if event.kind == EventKind.FAILED.value and isinstance(event.body, dict):
            found.append(
                (
                    f"the job failed ({event.body.get('error_type', '?')}): "
                    f"{event.body.get('error_message', '')}",
                    True,
                )
            )
    found.extend((note, False) for note in record.notes)
    return found


def _verdict_section(record: RunRecord) -> str:
    if not record.checks:
        return '<p class="muted">Not judged.</p>'
    rows = []
    for check in record.checks:
        cls, mark = ("ok", "PASS") if check.ok else ("bad", "FAIL")
        if check.ok is None:
            cls, mark = "na", "n/a"
        details = "".join(f"<li>{esc(d)}</li>" for d in check.details[:40])
        rows.append(
            f'<tr data-check="{esc(check.name)}"><td class="{cls}">{mark}</td><td>'
            f"<b>{esc(check.name)}</b></td><td>{esc(check.summary)}"
            f"{f'<ul>{details}</ul>' if details else ''}</td></tr>"
        )
    return f'<table class="checks"><tr><th></th><th>check</th><th>evidence</th></tr>{"".join(rows)}</table>'


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return esc(value)


def _validation_section(view: ValidationView | None) -> str:
    if view is None:
        return '<p class="muted">The run reported no validation result.</p>'
    head = (
        f"<p>Validation #{view.seq}, epoch {view.epoch}, {esc(view.task_type)}"
        f"{' (best)' if view.is_best else ''}; primary metric <b>{esc(view.primary_name)}</b> = "
        f"{_num(view.primary_value)}. {view.count} validation callback(s) in the run.</p>"
    )
    metrics = "".join(
        f"<tr><td>{esc(k)}{' ★' if k == view.primary_name else ''}</td><td class=num>{_num(v)}</td></tr>"
        for k, v in view.metrics.items()
    )
    parts = [head, f'<div class="grid"><div><h3>metrics</h3><table>{metrics}</table></div>']
    if view.confusion:
        parts.append(
            '<figure data-chart="confusion"'
            + (' style="grid-column:1/-1"' if len(view.confusion) > 15 else "")
            + "><figcaption>confusion matrix</figcaption>"
            + heatmap(view.confusion, view.class_names)
            + "</figure>"
        )
    if view.pr_curves:
        lines = [
            Line(
                c.name,
                list(zip(c.recall, c.precision, strict=True)),
                colour=PALETTE[i % len(PALETTE)],
            )
            for i, c in enumerate(view.pr_curves)
        ]
        parts.append(
            '<figure data-chart="pr"><figcaption>precision-recall curves</figcaption>'
            + line_chart(
                "PR",
                lines,
                chart_id="pr",
                x_label="recall",
                y_label="precision",
                square=True,
                fixed_unit=True,
            )
            + "</figure>"
        )
    parts.append("</div>")
    if view.per_class:
        keys = list(dict.fromkeys(k for _, row in view.per_class for k in row))
        header = "".join(f"<th>{esc(k)}</th>" for k in keys)
        body = "".join(
            f"<tr><td>{esc(name)}</td>"
            + "".join(f"<td class=num>{_num(row.get(k, ''))}</td>" for k in keys)
            + "</tr>"
            for name, row in view.per_class
        )
        parts.append(
            f'<h3>per class</h3><table class="per-class"><tr><th>class</th>{header}</tr>{body}</table>'
        )
    elif view.confusion:
        rows = []
        for i, name in enumerate(view.class_names[: len(view.confusion)]):
            tp = view.confusion[i][i]
            support = sum(view.confusion[i])
            predicted = sum(row[i] for row in view.confusion)
            recall = tp / support if support else 0.0
            precision = tp / predicted if predicted else 0.0
            rows.append(
                f"<tr><td>{esc(name)}</td><td class=num>{support}</td><td class=num>{precision:.3f}</td>"
                f"<td class=num>{recall:.3f}</td></tr>"
            )
        parts.append(
            '<h3>per class (from the confusion matrix)</h3><table class="per-class"><tr><th>class</th>'
            f"<th>support</th><th>precision</th><th>recall</th></tr>{''.join(rows)}</table>"
        )
    return "".join(parts)


def _dataset_section(view: DatasetView | None) -> str:
    if view is None:
        return '<p class="muted">No dataset given (pass --dataset DIR to draw it).</p>'
    if view.error:
        return f'<p class="error">The dataset could not be read: {esc(view.error)}</p>'
    conversion = view.conversion
    summary = (
        f"<p>{esc(view.task_type)}, {len(view.class_names)} classes, "
        f"{sum(view.split_sizes.values())} images, {sum(view.class_counts.values())} objects"
        + (
            f"; the conversion dropped {conversion.get('objects_dropped')} object(s)"
            if conversion.get("objects_dropped")
            else ""
        )
        + ".</p>"
    )
    figures = [
        '<figure data-chart="classes"><figcaption>objects per class</figcaption>'
        + bar_chart(list(view.class_counts), [float(v) for v in view.class_counts.values()])
        + "</figure>",
        '<figure data-chart="splits"><figcaption>split sizes (images)</figcaption>'
        + bar_chart(list(view.split_sizes), [float(v) for v in view.split_sizes.values()])
        + "</figure>",
        '<figure data-chart="objects-per-image"><figcaption>objects per image</figcaption>'
        + histogram(
            [float(v) for v in view.objects_per_image],
            bins=max(1, min(20, max(view.objects_per_image or [0]) + 1)),
            x_label="objects in an image",
        )
        + "</figure>",
    ]
    if view.relative_box_sizes:
        figures.append(
            '<figure data-chart="box-sizes"><figcaption>box sizes</figcaption>'
            + histogram(view.relative_box_sizes, x_label="sqrt(box area / image area)")
            + "</figure>"
        )
    samples = "".join(
        f'<figure><img alt="{esc(s.file_name)}" src="{s.data_uri}">'
        f"{esc(s.file_name)} ({esc(s.split)})<br>{esc(', '.join(s.classes) or 'no object')}</figure>"
        for s in view.samples
    )
    return (
        summary
        + '<div class="grid">'
        + "".join(figures)
        + "</div><h3>samples</h3>"
        + f'<div class="samples">{samples}</div>'
    )


def _script_json(data: Any) -> str:
    # Inside <script> nothing is unescaped: only "</" could end the element early.
    return json.dumps(data).replace("</", "<\\/")


def render_report(record: RunRecord, *, refresh_seconds: int | None = None) -> str:
    """The report of `record` as one HTML document; with `refresh_seconds`, it reloads itself."""
    series = metric_series(record.events)
    primary = primary_metric(record.events)
    flags = _flags(record, series)
    verdict = record.verdict_ok
    verdict_badge = (
        '<span class="badge">not judged</span>'
        if verdict is None
        else f'<span class="badge {"pass" if verdict else "fail"}">verdict {"PASS" if verdict else "FAIL"}</span>'
    )
    dataset = dataset_view(record.dataset_dir) if record.dataset_dir is not None else None
    refresh = f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""
    flag_items = "".join(
        f'<li class="{"" if serious else "info"}">{esc(text)}</li>' for text, serious in flags
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    sections = [
        (
            "flags",
            "What to look at",
            f'<ul class="flags">{flag_items}</ul>'
            if flags
            else '<p class="muted">Nothing flagged: no divergence, no NaN/inf, no refused callback.</p>',
        ),
        ("verdict", "Verdict", _verdict_section(record)),
        ("curves", "Metrics per epoch", _curves_section(series, primary)),
        (
            "timeline",
            "Callback timeline",
            timeline_chart(record.events) or '<p class="muted">No callback.</p>',
        ),
        ("validation", "Validation", _validation_section(validation_view(record.events))),
        ("dataset", "Dataset", _dataset_section(dataset)),
    ]
    body = "".join(
        f'<section id="{key}" data-section="{key}"><h2>{esc(title)}</h2>{content}</section>'
        for key, title, content in sections
    )
    facts = {
        "job_id": record.job_id,
        "state": record.state,
        "callbacks": len(record.events),
        "verdict": verdict,
    }
    job = f"job {record.job_id}" if record.job_id is not None else "job ?"
    return (
        '<!DOCTYPE html><html lang=en><head><meta charset=utf-8><link rel=icon href="data:,">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{refresh}<title>{esc(record.title)}: {esc(job)} report</title>"
        f"<style>{_CSS}</style></head><body>"
        f'<header><h1>{esc(record.title)} <span class="badge {esc(record.state)}" id="state">'
        f"{esc(record.state)}</span> {verdict_badge}</h1>"
        f'<div class="meta">{esc(job)} · {len(record.events)} callbacks · from {esc(record.source)}'
        f"{f' · exit code {record.exit_code}' if record.exit_code is not None else ''} · generated {generated}"
        f"{' · refreshes every ' + str(refresh_seconds) + ' s while the job runs' if refresh_seconds else ''}</div>"
        f"</header><main>{body}</main><div id=tip></div>"
        f'<script type="application/json" id="report-facts">{_script_json(facts)}</script>'
        f"<script>{_JS}</script></body></html>"
    )
