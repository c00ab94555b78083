"""The reference backend's pages for people: `GET /` lists the jobs, `GET /jobs/{id}` shows a
job's report (the same page as `trainer-sdk report`), reloading itself while the job runs.

A browser cannot send a bearer token: with `create_app(..., public_pages=True)` the pages are
served without it (the dry-run, and `dev-backend` on a loopback address or with `--public-pages`);
otherwise they need it like everything else. The callback endpoints and the JSON timeline always
require it. The report's dataset section is
drawn when the app knows the dataset (`app.state.report_dataset`, set by the dry-run).
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from trainer_tools.dev_backend.store import Store

__all__ = [
    "INDEX_PATH",
    "JOB_PAGE_PATH",
    "REFRESH_SECONDS",
    "is_loopback_host",
    "is_page",
    "job_page",
    "page_routes",
]

INDEX_PATH = "/"
JOB_PAGE_PATH = "/jobs/{job_id}"
REFRESH_SECONDS = 2
_PAGE = re.compile(r"^/(?:jobs/\d+)?$")
_INDEX_CSS = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #e4e7ec;padding:4px 10px;"
    "text-align:left}.badge{padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;"
    "font-weight:600;background:#1f77b4}.completed{background:#2ca02c}.failed{background:#d62728}"
    ".muted{color:#667085}"
)


def job_page(job_id: int) -> str:
    """The path of a job's report page."""
    return JOB_PAGE_PATH.format(job_id=job_id)


def is_loopback_host(host: str) -> bool:
    """True for a listening address (or `localhost`) that only this machine can reach."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_page(path: str) -> bool:
    """True for the pages' paths (served without the bearer token)."""
    return bool(_PAGE.match(path))


def _index(store: Store) -> str:
    from trainer_tools.report.svg import esc

    jobs = store.jobs()
    rows = "".join(
        f'<tr><td><a href="{job_page(j.job_id)}">job {j.job_id}</a></td>'
        f'<td><span class="badge {esc(j.phase)}">{esc(j.phase)}</span></td>'
        f"<td>{j.callbacks}</td><td>{esc(j.first_at)}</td><td>{esc(j.last_at)}</td></tr>"
        for j in reversed(jobs)
    )
    running = any(j.phase in ("pending", "running") for j in jobs)
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if running else ""
    table = (
        "<table><tr><th>job</th><th>state</th><th>callbacks</th><th>first</th><th>last</th></tr>"
        f"{rows}</table>"
        if jobs
        else '<p class="muted">No callback received yet.</p>'
    )
    return (
        f'<!DOCTYPE html><html lang=en><head><meta charset=utf-8><link rel=icon href="data:,">{refresh}'
        f"<title>reference backend: jobs</title><style>{_INDEX_CSS}</style></head><body>"
        f"<h1>Jobs</h1>{table}</body></html>"
    )


def _job(store: Store, job_id: int, dataset: Path | None) -> str | None:
    from trainer_tools.report import render_report
    from trainer_tools.report.sources import record_from_timeline

    entries = store.timeline(job_id)
    if not entries:
        return None
    record = record_from_timeline(
        entries,
        job_id=job_id,
        title=f"job {job_id}",
        source="the reference backend (live)",
        dataset_dir=dataset,
    )
    return render_report(record, refresh_seconds=REFRESH_SECONDS if record.live else None)


def page_routes(store: Store) -> list[Route]:
    """The routes of `/` and `/jobs/{job_id}`."""

    async def index(request: Request) -> Response:
        """Every job with its state."""
        return HTMLResponse(await run_in_threadpool(_index, store))

    async def job(request: Request) -> Response:
        """One job's report."""
        raw = str(request.path_params.get("job_id", ""))
        if not (raw.isascii() and raw.isdigit()):
            return HTMLResponse(f"<p>no job {raw!r}</p>", status_code=404)
        dataset = getattr(request.app.state, "report_dataset", None)
        page = await run_in_threadpool(_job, store, int(raw), dataset)
        if page is None:
            return HTMLResponse(
                f'<!DOCTYPE html><html><head><meta charset=utf-8><link rel=icon href="data:,">'
                f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}"></head><body>'
                f"<p>No callback of job {int(raw)} yet; this page reloads itself.</p></body></html>",
                status_code=404,
            )
        return HTMLResponse(page)

    return [
        Route(INDEX_PATH, index, methods=["GET"]),
        Route(JOB_PAGE_PATH, job, methods=["GET"]),
    ]
