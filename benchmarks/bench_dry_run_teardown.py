"""Benchmark: how long the dry-run takes to stop its servers after the verdict.

    python benchmarks/bench_dry_run_teardown.py            # 3 rounds

Each round starts what a dry-run starts (SeaweedFS with a bucket, the reference backend on
uvicorn with a keep-alive client connection), then stops it two ways, timed in this process:

- baseline: SeaweedFS's orderly shutdown (SIGTERM, wait), then the backend;
- dry-run: what the dry-run does now: SIGKILL to SeaweedFS (its data is a temporary folder
  thrown away anyway), then the backend.

Printed: the median of each, and the ratio baseline / dry-run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from trainer_tools.dev_backend import Store, create_app
from trainer_tools.dry_run.services import AsgiServer
from trainer_tools.services.seaweed import SeaweedServer


def one_round(root: Path, grace: float) -> float:
    """Start both servers, then time stopping them with SeaweedFS's `grace`."""
    s3 = SeaweedServer(root / "s3")
    s3.start()
    s3.create_bucket("bench-bucket")
    store = Store(root / "backend.sqlite3")
    backend = AsgiServer(create_app(store)).start()
    with httpx.Client() as client:
        client.get(backend.url + "/")  # leaves a keep-alive connection open, as the SDK does
        started = time.perf_counter()
        s3.stop(grace=grace)
        backend.stop()
        store.close()
        return time.perf_counter() - started


def main() -> int:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    graceful, killed = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            graceful.append(one_round(Path(folder) / "a", grace=10.0))
            killed.append(one_round(Path(folder) / "b", grace=0))
    base, now = statistics.median(graceful), statistics.median(killed)
    print(f"teardown, orderly SeaweedFS shutdown (baseline): {base * 1000:8.1f} ms")
    print(f"teardown, as the dry-run does it:                {now * 1000:8.1f} ms")
    print(f"ratio baseline / dry-run: {base / now:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
