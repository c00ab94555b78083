"""Run a train.py in a subprocess, stream its output with a prefix, and always stop it.

The trainer gets its own process group, so that stopping it also stops whatever it started
(dataloader workers, torchrun children). On Ctrl-C (or any error in the dry-run) the group gets
SIGINT first, so that a trainer can still report its failure, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from trainer_contract.lint_rules import ENTRY_ARGS

__all__ = ["TrainerRun", "run_trainer", "stop_process_group"]


@dataclass(frozen=True)
class TrainerRun:
    """How the trainer ended."""

    exit_code: int
    duration_seconds: float
    timed_out: bool
    output_tail: tuple[str, ...]  # the last lines, for the JSON verdict


def stop_process_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop `proc` and its process group: SIGINT, then SIGTERM, then SIGKILL, `grace` s apart."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    # Children that outlived the leader still belong to the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _pump(
    stream: IO[bytes], out: Callable[[str], None], prefix: str, tail: list[str], keep: int
) -> None:
    """Copy the trainer's output line by line (runs in its own thread)."""
    for raw in stream:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        tail.append(line)
        if len(tail) > keep:
            del tail[0]
        out(prefix + line)


def run_trainer(
    train_py: Path,
    env: Mapping[str, str],
    *,
    prefix: str = "train | ",
    write: Callable[[str], None] | None = None,
    timeout: float | None = None,
    python: Sequence[str] | None = None,
    tail_lines: int = 40,
    drain_seconds: float = 2.0,
) -> TrainerRun:
    """Run `python TRAIN_PY` in its folder with exactly `env`; stream each output line to `write`.

    Stops the whole process group when the timeout passes or when the caller is interrupted
    (the `KeyboardInterrupt` is re-raised after the stop). When the trainer exits but leaves
    processes behind (workers still holding its output), they get `drain_seconds` to finish
    writing and are then stopped: the dry-run never waits on orphans.
    """
    out = write if write is not None else _stderr_line
    # The platform starts `python train.py --log-level INFO` (lifecycle.json `entry_args`).
    command = [*(python or [sys.executable, "-u"]), str(train_py), *ENTRY_ARGS]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=str(train_py.parent),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None  # PIPE was requested
    tail: list[str] = []
    pump = threading.Thread(
        target=_pump, args=(proc.stdout, out, prefix, tail, tail_lines), daemon=True
    )
    pump.start()
    timed_out = False
    try:
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_process_group(proc)
            code = proc.wait()
        pump.join(drain_seconds)
        if pump.is_alive():
            # Something the trainer started still holds its output: stop the whole group.
            stop_process_group(proc, grace=1.0)
            pump.join(drain_seconds)
    except BaseException:
        stop_process_group(proc)
        raise
    finally:
        if not pump.is_alive():
            proc.stdout.close()
    return TrainerRun(
        exit_code=code,
        duration_seconds=time.monotonic() - started,
        timed_out=timed_out,
        output_tail=tuple(tail),
    )


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
