"""Benchmark: how long `report_progress` blocks its caller when the backend is slow.

Run: python benchmarks/bench_progress.py

A real HTTP server on loopback answers every callback after 200 ms. In the same run we time
(a) `TrainerSDK.report_progress` (validated, spooled to the outbox, queued for the background
sender) and (b) the baseline a hand-written client does: a synchronous httpx POST of the same
body. Printed: p50 / p99 / max of the caller's blocking time for both, and their ratio.
Target: report_progress p99 under 1 ms.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from trainer_sdk import TrainerSDK

BACKEND_LATENCY_S = 0.200
CALLS = 400
STEP_S = 0.005  # the "training" between two reports
SYNC_CALLS = 15
TARGET_P99_MS = 1.0


class SlowHandler(BaseHTTPRequestHandler):
    """Answers 200 after BACKEND_LATENCY_S, like a loaded backend."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        time.sleep(BACKEND_LATENCY_S)
        body = b'{"success": true, "message": "ok", "job_status": "running"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    metrics = {
        "loss": 0.234,
        "accuracy": 0.85,
        "learning_rate": 0.001,
        "mAP50": 0.75,
        "mAP50-95": 0.52,
        "precision": 0.80,
        "recall": 0.78,
    }
    with tempfile.TemporaryDirectory() as work:
        env = {
            "JOB_ID": "42",
            "CALLBACK_URL": base,
            "WORK_DIR": work,
            "CALLBACK_TIMEOUT": "5",
            "CALLBACK_RETRY_DELAY": "0.1",
        }
        # A small queue, so the run also shows coalescing: the newest progress always wins.
        sdk = TrainerSDK(env=env, queue_capacity=32)
        blocked: list[float] = []
        for epoch in range(1, CALLS + 1):
            time.sleep(STEP_S)
            start = time.perf_counter()
            sdk.report_progress(epoch, CALLS, metrics)
            blocked.append((time.perf_counter() - start) * 1e3)
        started_close = time.perf_counter()
        sdk.close()
        close_s = time.perf_counter() - started_close
        stats = sdk.delivery_stats
        assert stats is not None and Path(work).exists()

    body = json.dumps(
        {
            "job_id": 42,
            "status": "running",
            "current_epoch": 1,
            "total_epochs": CALLS,
            "progress_percent": 0.25,
            "metrics": {"loss": 0.234, "extra_metrics": metrics},
        }
    ).encode()
    sync: list[float] = []
    with httpx.Client(timeout=5.0) as client:
        for _ in range(SYNC_CALLS):
            start = time.perf_counter()
            client.post(
                base + "/training/jobs/42/callback/progress",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            sync.append((time.perf_counter() - start) * 1e3)
    server.shutdown()

    print(
        f"backend latency {BACKEND_LATENCY_S * 1e3:.0f} ms per request; "
        f"{CALLS} report_progress calls {STEP_S * 1e3:.0f} ms apart; {SYNC_CALLS} sync posts"
    )
    print(f"{'caller blocked (ms)':28} {'p50':>9} {'p99':>9} {'max':>9}")
    for name, values in (("TrainerSDK.report_progress", blocked), ("synchronous httpx POST", sync)):
        print(
            f"{name:28} {statistics.median(values):9.3f} {percentile(values, 99):9.3f} "
            f"{max(values):9.3f}"
        )
    p99 = percentile(blocked, 99)
    print(
        f"p50 ratio sync/report_progress: {statistics.median(sync) / statistics.median(blocked):,.0f}x;"
        f" p99 ratio: {percentile(sync, 99) / p99:,.0f}x"
    )
    print(
        f"sender: {stats.delivered} delivered, {stats.superseded} older progress updates "
        f"coalesced (queue of 32), close() flushed the rest in {close_s:.2f} s"
    )
    verdict = "meets" if p99 < TARGET_P99_MS else "MISSES"
    print(f"report_progress p99 {p99:.3f} ms {verdict} the target of < {TARGET_P99_MS:.0f} ms")
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    raise SystemExit(main())
