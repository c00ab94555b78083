"""Print a job's callback timeline as a plain-text table.

One row per recorded callback: its number, the time since the first callback, the endpoint, the
HTTP answer and a one-line summary. The summary is built from the body generically (scalar fields
as `key=value`, nulls left out), so that it needs no knowledge of any payload and stays right when
the schemas change; a rejected callback shows the backend's reason and first failing JSON path.

The table fits a given width (the terminal's, see `shutil.get_terminal_size`): the summary column
takes what the other columns leave. The job's primary metric (the name its validation results
declare) leads every summary that carries it, so that it survives the cut.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from trainer_contract.callbacks import ENDPOINTS
from trainer_contract.models.callbacks.validation import ValidationResult
from trainer_contract.validators import schema_documents
from trainer_tools.dev_backend.store import TimelineEntry

__all__ = ["format_timeline", "path_parameters", "primary_metric", "summarize_body"]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SUMMARY_WIDTH = 86
_MIN_SUMMARY_WIDTH = 16
# The validation body names its primary metric in two fields (checked against the model).
_PRIMARY_NAME, _PRIMARY_VALUE = "primary_metric_name", "primary_metric_value"
assert {_PRIMARY_NAME, _PRIMARY_VALUE} <= set(ValidationResult.__annotations__)
# Without a declared primary metric, the metric the schema requires of progress reports leads,
# else the first of its known names (x-known-metrics: loss).
_USER_METRICS = schema_documents()["metrics"]["$defs"]["user_metrics"]
_REQUIRED_METRIC: str | None = next(
    iter([*_USER_METRICS.get("required", []), *schema_documents()["metrics"]["x-known-metrics"]]),
    None,
)
_HEADERS = ("#", "t+s", "endpoint", "answer", "summary")


def _scalars(
    value: Any, prefix: str, leaf: str, skip: frozenset[str], seen: set[tuple[str, str]]
) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _scalars(item, f"{prefix}{key}.", str(key), skip, seen)
        return
    if value is None or isinstance(value, list):
        return
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, str) and " " in value:
        text = json.dumps(value)
    else:
        text = str(value)
    # A value repeated under the same name deeper down (a metrics mirror) is shown once.
    if (leaf, text) in seen:
        return
    seen.add((leaf, text))
    yield f"{leaf}={text}"


def path_parameters() -> frozenset[str]:
    """The names of the endpoints' path parameters (the job id), which every body repeats."""
    return frozenset(name for e in ENDPOINTS.values() for name in _PARAM.findall(e.path))


def primary_metric(entries: Sequence[TimelineEntry]) -> str | None:
    """The primary metric's name as the job's last accepted validation result declared it."""
    for entry in reversed(entries):
        if entry.accepted and isinstance(entry.body, dict):
            name = entry.body.get(_PRIMARY_NAME)
            if isinstance(name, str) and name:
                return name
    return None


def summarize_body(
    body: Any, skip: Iterable[str] = (), width: int = _SUMMARY_WIDTH, primary: str | None = None
) -> str:
    """One line of `key=value` pairs (leaf names) for the scalar fields of `body`, cut to `width`.

    `skip` names keys left out at every depth (the job id, which every row would repeat, and
    duplicates such as a metrics mirror). The pair of metric `primary` (and a validation body's
    own primary metric, `name=value`) comes first.
    """
    parts: list[str] = []
    if isinstance(body, dict):
        skipped = frozenset(skip)
        name, value = body.get(_PRIMARY_NAME), body.get(_PRIMARY_VALUE)
        seen: set[tuple[str, str]] = set()
        if isinstance(name, str) and name:
            skipped |= {_PRIMARY_NAME, _PRIMARY_VALUE}
            parts.extend(_scalars({name: value}, "", "", frozenset(), seen))
        parts.extend(_scalars(body, "", "", skipped, seen))
        if primary is not None:
            lead = [p for p in parts if p.startswith(primary + "=")][:1]
            parts = lead + [p for p in parts if p not in lead]
    line = " ".join(parts) if parts else ("(no body)" if body is None else json.dumps(body))
    return line if len(line) <= width else line[: width - 1] + "…"


def _rejection(entry: TimelineEntry) -> str:
    detail = str(entry.response.get("detail") or entry.response.get("title") or "rejected")
    errors = entry.response.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"{first.get('path')}: {first.get('message')}{more}"
    return detail


def format_timeline(
    entries: Sequence[TimelineEntry], skip: Iterable[str] | None = None, width: int | None = None
) -> str:
    """Render `entries` as an aligned table (empty timeline: a one-line notice).

    `skip` names body keys left out of the summaries (default: the path parameters). `width`
    is the widest a line may be (the terminal's columns); the summaries are cut to fit it, never
    below a readable minimum. The primary metric, when validation results named one, is said in a
    header line and leads the summaries.
    """
    if not entries:
        return "(the backend received no callback)"
    start = entries[0].received_ns
    skipped = tuple(path_parameters() if skip is None else skip)
    primary = primary_metric(entries)
    lead = primary or _REQUIRED_METRIC
    fixed = []
    for entry in entries:
        answer = str(entry.status_code) + (f" x{entry.replays + 1}" if entry.replays else "")
        fixed.append(
            (
                str(entry.seq),
                f"{(entry.received_ns - start) / 1e9:.2f}",
                entry.endpoint,
                answer,
            )
        )
    fixed_widths = [max(len(h), *(len(r[i]) for r in fixed)) for i, h in enumerate(_HEADERS[:-1])]
    summary_width = _SUMMARY_WIDTH
    if width is not None:
        summary_width = max(_MIN_SUMMARY_WIDTH, width - sum(fixed_widths) - 2 * len(fixed_widths))
    rows = []
    for entry, cells in zip(entries, fixed, strict=True):
        summary = (
            summarize_body(entry.body, skipped, summary_width, lead)
            if entry.accepted
            else "REJECTED " + _rejection(entry)
        )
        if len(summary) > summary_width:
            summary = summary[: summary_width - 1] + "…"
        rows.append((*cells, summary))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if primary is not None:
        lines.insert(0, f"primary metric: {primary} (leads each summary)")
    elif lead is not None:
        lines.insert(0, f"no primary metric reported (report_validation names one): {lead} leads")
    return "\n".join(lines)
