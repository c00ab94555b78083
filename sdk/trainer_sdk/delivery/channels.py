"""One sender per spool file per process, shared by every TrainerSDK of the job.

Trainers sometimes build a second `TrainerSDK()` inside a helper (an exporter, a framework
callback). Two senders on one spool would each compact it and send in two independent orders;
sharing one keeps a single ordered queue and a single writer. The sender is closed when the last
TrainerSDK using it closes.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trainer_sdk.delivery.sender import CallbackSender
from trainer_sdk.errors import CallbackDeliveryError

__all__ = ["acquire", "release"]


@dataclass
class _Shared:
    sender: CallbackSender
    users: int


_lock = threading.Lock()
_shared: dict[tuple[int, str], _Shared] = {}


def _key(spool: Path) -> tuple[int, str]:
    # The pid keeps a forked child from reusing its parent's sender (whose thread it lacks).
    return os.getpid(), str(spool.absolute())


def acquire(spool: Path, create: Callable[[], CallbackSender]) -> CallbackSender:
    """The live sender of `spool` in this process, created with `create` when there is none."""
    with _lock:
        entry = _shared.get(_key(spool))
        if entry is None or entry.sender.closed:
            entry = _Shared(create(), 0)
            _shared[_key(spool)] = entry
        entry.users += 1
        return entry.sender


def release(spool: Path, sender: CallbackSender, *, flush: bool) -> None:
    """Give a sender back; the last user closes it (flushing first when `flush`)."""
    with _lock:
        entry = _shared.get(_key(spool))
        last = entry is None or entry.sender is not sender or entry.users <= 1
        if entry is not None and entry.sender is sender:
            entry.users -= 1
            if entry.users <= 0:
                del _shared[_key(spool)]
    if last:
        sender.close(flush=flush)
    elif flush:
        # Others still use the sender: deliver what is queued now, but leave it running.
        with contextlib.suppress(CallbackDeliveryError):
            sender.flush()
