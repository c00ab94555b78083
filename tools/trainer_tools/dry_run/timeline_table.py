"""Print a job's callback timeline as a plain-text table.

One row per recorded callback: its number, the time since the first callback, the endpoint, the
HTTP answer and a one-line summary. The summary is built from the body generically (scalar fields
as `key=value`, nulls left out), so that it needs no knowledge of any payload and stays right when
the schemas change; a rejected callback shows the backend's reason and first failing JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from trainer_contract.callbacks import ENDPOINTS
from trainer_tools.dev_backend.store import TimelineEntry

__all__ = ["format_timeline", "path_parameters", "summarize_body"]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SUMMARY_WIDTH = 86
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


def summarize_body(body: Any, skip: Iterable[str] = (), width: int = _SUMMARY_WIDTH) -> str:
    """One line of `key=value` pairs (leaf names) for the scalar fields of `body`, cut to `width`.

    `skip` names keys left out at every depth (the job id, which every row would repeat, and
    duplicates such as a metrics mirror).
    """
    parts = list(_scalars(body, "", "", frozenset(skip), set())) if isinstance(body, dict) else []
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


def format_timeline(entries: Sequence[TimelineEntry], skip: Iterable[str] | None = None) -> str:
    """Render `entries` as an aligned table (empty timeline: a one-line notice).

    `skip` names body keys left out of the summaries (default: the path parameters).
    """
    if not entries:
        return "(the backend received no callback)"
    start = entries[0].received_ns
    skipped = tuple(path_parameters() if skip is None else skip)
    rows = []
    for entry in entries:
        answer = str(entry.status_code) + (f" x{entry.replays + 1}" if entry.replays else "")
        summary = (
            summarize_body(entry.body, skipped)
            if entry.accepted
            else "REJECTED " + _rejection(entry)
        )
        if not entry.accepted and len(summary) > _SUMMARY_WIDTH:
            summary = summary[: _SUMMARY_WIDTH - 1] + "…"
        rows.append(
            (
                str(entry.seq),
                f"{(entry.received_ns - start) / 1e9:.2f}",
                entry.endpoint,
                answer,
                summary,
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
