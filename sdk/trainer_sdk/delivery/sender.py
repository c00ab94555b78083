"""The ordered background sender: callbacks leave in order, retried, without blocking training.

One worker thread owns the network. Callers append envelopes and return at once (after one
append to the outbox file); the worker sends them strictly in order, retrying the head of the
queue until it is delivered or rejected. Order matters more than speed: the backend must never
see epoch 7 after epoch 8, or a completion before the last progress.

Synchronous sends (completion, failure) and flushes are *waiters*: they wait for everything up to
their envelope to be resolved. A waiter gets a full retry budget (`max_retries` retries with
backoff) counted from its arrival; when the backend stays down for that long, the waiter fails
with `CallbackDeliveryError` and the undelivered envelopes stay in the outbox. Without waiters,
the worker keeps retrying the head forever with capped backoff: a backend that is down for a
minute in the middle of a run costs nothing but a few log lines.

When the queue holds `capacity` envelopes, older progress updates are dropped in favour of the
newest (marked `superseded` in the outbox). Completion, failure, validation results and log
lines are never dropped.

A background callback (log, progress, validation result) that the backend keeps answering with
a server error of its own (500, not 502/503/504: see `retry.is_refusal_status`) is set aside as
a *dead letter* once it has had `max_retries` retries: it is marked `dead` in the outbox (where
`trainer-sdk outbox replay` finds it), counted in `stats.dead` and in the closing summary, and
the callbacks behind it go on. A start, completion or failure is never set aside: it keeps the
waiter's budget and ends in `CallbackDeliveryError` (exit 2). Connection errors and timeouts
are outages, not refusals: the head is retried, nothing is set aside.

When the outbox cannot be written (a full disk), delivery goes on from memory; what is not on
disk is counted, and the closing summary says how many undelivered callbacks are kept in the
file (read back from the disk) and how many were lost.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from trainer_sdk.delivery.envelope import Envelope
from trainer_sdk.delivery.outbox import DEAD, Outbox, read_outbox
from trainer_sdk.delivery.retry import RetryPolicy, is_refusal_status
from trainer_sdk.delivery.transport import Outcome, SendResult, Transport
from trainer_sdk.errors import CallbackDeliveryError, CallbackRejectedError

__all__ = ["CallbackSender", "SenderStats", "SpoolAccount"]

_log = logging.getLogger("trainer_sdk.delivery")


def _identity(text: str) -> str:
    return text


@dataclass(slots=True)
class SenderStats:
    """Counters of one sender, for logs, tests and the closing summary."""

    queued: int = 0
    delivered: int = 0
    attempts: int = 0
    retries: int = 0
    superseded: int = 0
    rejected: int = 0
    recovered: int = 0
    dead: int = 0
    unspooled: int = 0
    rejections: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SpoolAccount:
    """Where the callbacks that were not delivered are: `kept` on disk (read back from the
    outbox file), `lost` (never written, or the file is unreadable), `dead` among them."""

    undelivered: int
    dead: int
    kept: int
    lost: int
    error: str

    def describe(self, path: object) -> str:
        """One sentence for logs and error messages."""
        parts = []
        if self.dead:
            parts.append(
                f"{self.dead} dead letter(s) (callbacks the backend kept refusing with a server "
                "error, set aside so that the others went on)"
            )
        if self.undelivered:
            parts.append(f"{self.undelivered} undelivered")
        text = "; ".join(parts)
        if self.kept:
            text += (
                f"; {self.kept} kept in the outbox {path} (send them with `trainer-sdk outbox "
                f"replay {path}`; a restart with the same JOB_ID sends the undelivered ones first)"
            )
        if self.lost:
            text += (
                f"; {self.lost} lost: the outbox could not be written"
                + (f" ({self.error})" if self.error else "")
                + ", so they existed only in this process"
            )
        return text


@dataclass(eq=False, slots=True)
class _Waiter:
    """Someone waiting until every envelope up to `target` is resolved."""

    target: int
    done: threading.Event = field(default_factory=threading.Event)
    failures: int = 0
    error: BaseException | None = None


class CallbackSender:
    """Sends envelopes in order from one background thread; see the module docstring."""

    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy,
        outbox: Outbox | None = None,
        *,
        capacity: int = 1000,
        redact: Callable[[str], str] = _identity,
        rng: random.Random | None = None,
        name: str = "trainer-sdk-sender",
        compact_every: int = 20_000,
        include_dead: bool = False,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._transport = transport
        self._policy = policy
        self._outbox = outbox
        self._capacity = capacity
        self._redact = redact
        self._rng = rng or random.Random()
        self._cond = threading.Condition(threading.RLock())
        self._queue: deque[Envelope] = deque()
        self._head_busy = False
        self._head_failures = 0
        self._waiters: list[_Waiter] = []
        self._kick = False
        self._stopping = False
        self._closed = False
        self._next_seq = 1
        self._last_detail = ""
        self._sync_rejections: dict[int, CallbackRejectedError] = {}
        self._sync_seqs: set[int] = set()
        self._spool_failed = False
        self._spool_error = ""
        self._unspooled: set[int] = set()
        self._dead: list[Envelope] = []
        self._spool_writes = 0
        self._compact_every = compact_every
        self.stats = SenderStats()
        if outbox is not None:
            recovered = outbox.recovered
            if include_dead:  # a replay sends the dead letters again, in their place
                recovered = tuple(sorted((*recovered, *outbox.dead_letters), key=lambda e: e.seq))
            else:
                self._dead.extend(outbox.dead_letters)
            self._queue.extend(recovered)
            self.stats.recovered = len(recovered)
            self._next_seq = outbox.next_seq
            if recovered:
                _log.info(
                    "redelivering %d callback(s) left undelivered by a previous run, first and in "
                    "order",
                    len(recovered),
                )
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------------------- public API

    @property
    def outbox(self) -> Outbox | None:
        """The spool file, when there is one."""
        return self._outbox

    @property
    def closed(self) -> bool:
        """True once `close` has run."""
        return self._closed

    @property
    def pending(self) -> int:
        """Envelopes not yet delivered (queued or being attempted)."""
        with self._cond:
            return len(self._queue)

    @property
    def dead_letters(self) -> tuple[Envelope, ...]:
        """Callbacks set aside as dead letters (by this process or found in the outbox)."""
        with self._cond:
            return tuple(self._dead)

    @property
    def spool_error(self) -> str:
        """The first error writing the outbox ('' when every write succeeded)."""
        return self._spool_error

    def account(self) -> SpoolAccount:
        """Count the undelivered callbacks and dead letters, and how many of them the outbox
        file really holds (read back from the disk, not assumed)."""
        with self._cond:
            waiting = list(self._queue)
            dead = list(self._dead)
        seqs = {e.seq for e in (*waiting, *dead)}
        on_disk: set[int] = set()
        error = self._spool_error
        if self._outbox is not None and seqs:
            try:
                state = read_outbox(self._outbox.path)
            except OSError as exc:
                error = error or f"cannot read it: {exc.strerror or exc}"
            else:
                on_disk = {e.seq for e in (*state.pending, *state.dead)}
        elif self._outbox is None and seqs:
            error = error or "there is no outbox"
        kept = len(seqs & on_disk)
        return SpoolAccount(len(waiting), len(dead), kept, len(seqs) - kept, error)

    def is_worker_thread(self) -> bool:
        """True when called from the sender's own thread (log forwarding must not loop back)."""
        return threading.current_thread() is self._thread

    def post(
        self,
        endpoint: str,
        method: str,
        path: str,
        content: bytes,
        *,
        coalescable: bool = False,
    ) -> Envelope:
        """Queue a callback for the background worker and return at once."""
        with self._cond:
            envelope = self._enqueue(endpoint, method, path, content, coalescable, deferrable=True)
            self._cond.notify_all()
        return envelope

    def send(
        self,
        endpoint: str,
        method: str,
        path: str,
        content: bytes,
        *,
        deadline: float | None = None,
    ) -> Envelope:
        """Deliver a callback after everything queued before it, and wait for it.

        Raises `CallbackDeliveryError` when the backend stayed unreachable through the retry
        budget (the callback stays in the outbox) and `CallbackRejectedError` when the backend
        answered with a non-retryable 4xx.

        With `deadline` (a `time.monotonic()` value: the pod is being stopped), the wait is
        bounded: the queue may drain for half of the time left; then this callback is sent
        ahead of whatever is still stuck (which stays in the outbox), from the calling thread,
        each attempt's timeout cut to the time left, until the deadline.
        """
        with self._cond:
            envelope = self._enqueue(endpoint, method, path, content, False)
            self._sync_seqs.add(envelope.seq)
            waiter = self._add_waiter(envelope.seq)
        try:
            if deadline is None:
                self._wait(waiter, None)
            else:
                self._wait_until(envelope, waiter, deadline)
        finally:
            with self._cond:
                self._sync_seqs.discard(envelope.seq)
                rejection = self._sync_rejections.pop(envelope.seq, None)
        if rejection is not None:
            raise rejection
        return envelope

    def _wait_until(self, envelope: Envelope, waiter: _Waiter, deadline: float) -> None:
        """`send` with a deadline; see there."""
        try:
            if self._wait(waiter, max(0.0, (deadline - time.monotonic()) / 2)):
                return
        except CallbackDeliveryError:
            pass  # the retry budget is spent but the deadline is not: keep trying until it
        with self._cond:
            queued = any(e is envelope for e in self._queue)
            in_flight = bool(self._queue) and self._queue[0] is envelope and self._head_busy
            if queued and not in_flight:
                self._queue.remove(envelope)
            elif in_flight:
                waiter = self._add_waiter(envelope.seq)
        if not queued:
            return  # resolved meanwhile (a rejection is raised by `send`)
        if in_flight:
            if not self._wait(waiter, max(0.0, deadline - time.monotonic())):
                raise self._late_error(envelope, "no answer")
            return
        if self._head_failures or self._queue:
            _log.warning(
                "sending %s ahead of %d callback(s) still waiting (the process is being "
                "stopped); they stay in the outbox",
                envelope.describe(),
                len(self._queue),
            )
        self._deliver_now(envelope, deadline)

    def _deliver_now(self, envelope: Envelope, deadline: float) -> None:
        """Attempt `envelope` from the calling thread until it is resolved or `deadline`."""
        failures = 0
        detail = "no attempt was possible in the time left"
        while True:
            left = deadline - time.monotonic()
            if left <= 0.05:
                break
            self.stats.attempts += 1
            try:
                result = self._transport.send(envelope, timeout=left)
            except Exception as exc:  # a transport bug must not hide the outcome
                result = SendResult(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}")
            if result.outcome is not Outcome.RETRY:
                with self._cond:
                    self._resolve(envelope, result)
                return
            failures += 1
            detail = result.detail
            pause = self._policy.delay(failures - 1, result.retry_after, self._rng)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic() - 0.05)))
        with self._cond:
            # Back in its place, so that a later flush or replay keeps the order.
            self._queue = deque(sorted((*self._queue, envelope), key=lambda e: e.seq))
        raise self._late_error(envelope, detail)

    def _late_error(self, envelope: Envelope, detail: str) -> CallbackDeliveryError:
        where = self._outbox.path if self._outbox is not None else "(no outbox)"
        return CallbackDeliveryError(
            self._redact(
                f"could not deliver the {envelope.endpoint} callback ({envelope.method} "
                f"{envelope.path}) to {self._transport.describe()} before the process has to "
                f"stop ({detail}); it is kept in the outbox {where}"
            )
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is resolved.

        Returns False when `timeout` seconds passed first; raises `CallbackDeliveryError` when
        the backend stayed unreachable through the retry budget.
        """
        with self._cond:
            if not self._queue:
                return True
            waiter = self._add_waiter(self._queue[-1].seq)
        return self._wait(waiter, timeout)

    def close(self, *, flush: bool = True, timeout: float | None = None) -> None:
        """Stop the worker, after flushing when `flush` is true; never raises for delivery.

        Undelivered callbacks stay in the outbox; a warning names it and the replay command.
        """
        if self._closed:
            return
        if flush:
            # A delivery failure is reported below, together with the pending count.
            with contextlib.suppress(CallbackDeliveryError):
                self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        self._closed = True
        with self._cond:
            for waiter in self._waiters:
                waiter.error = CallbackDeliveryError(
                    "the callback sender was closed before this callback was delivered; it is "
                    "kept in the outbox"
                )
                waiter.done.set()
            self._waiters.clear()
        account = self.account()
        if account.undelivered or account.dead:
            where = self._outbox.path if self._outbox is not None else "(none)"
            _log.warning(
                "callbacks: %d delivered; %s",
                self.stats.delivered,
                account.describe(where),
            )
        # Closed even when the worker is still inside a slow request: its last attempt then
        # fails or its outbox mark is skipped, and the envelope stays pending in the spool.
        self._transport.close()
        if self._outbox is not None:
            self._outbox.close()

    # ------------------------------------------------------------------------------ internals

    def _enqueue(
        self,
        endpoint: str,
        method: str,
        path: str,
        content: bytes,
        coalescable: bool,
        *,
        deferrable: bool = False,
    ) -> Envelope:
        """Create, spool and queue an envelope; the caller holds the condition."""
        if self._stopping:
            raise RuntimeError("the callback sender is closed; create a new TrainerSDK to send")
        envelope = Envelope(
            seq=self._next_seq,
            key=str(uuid.uuid4()),
            endpoint=endpoint,
            method=method,
            path=path,
            content=content,
            coalescable=coalescable,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            deferrable=deferrable,
        )
        self._next_seq += 1
        if len(self._queue) >= self._capacity:
            self._coalesce(coalescable)
        # Queued before it is spooled so that a compaction triggered by this very write keeps
        # it; the worker cannot see it before we release the condition, so it is still spooled
        # before its first attempt (a process dying from here on leaves it on disk).
        self._queue.append(envelope)
        if self._outbox is not None and not self._spool(self._outbox.put, envelope):
            # Not on disk: it is still sent from memory, and the summary counts it if it is not.
            self._unspooled.add(envelope.seq)
            self.stats.unspooled += 1
        self.stats.queued += 1
        return envelope

    def _coalesce(self, incoming_is_progress: bool) -> None:
        """Drop queued progress updates to make room, keeping the newest one.

        The envelope being sent is never dropped. When the incoming envelope is itself a
        progress update it becomes the newest, so every queued one may go; otherwise the newest
        queued progress update stays.
        """
        survivor = -1
        if not incoming_is_progress:
            for index in range(len(self._queue) - 1, -1, -1):
                if self._queue[index].coalescable:
                    survivor = index
                    break
        keep: deque[Envelope] = deque()
        dropped = 0
        for index, envelope in enumerate(self._queue):
            busy = index == 0 and self._head_busy
            if envelope.coalescable and not busy and index != survivor:
                dropped += 1
                if self._outbox is not None:
                    self._spool(self._outbox.mark, envelope.seq, "superseded")
            else:
                keep.append(envelope)
        if dropped:
            self._queue = keep
            self.stats.superseded += dropped
            _log.debug("queue full: %d older progress update(s) superseded by newer ones", dropped)

    def _spool(self, write: Callable[..., None], *args: object) -> bool:
        """Write to the outbox; a full or broken disk costs the spool, never the training run.

        Returns False when the record is not on disk (the writer leaves no partial record).
        """
        try:
            write(*args)
        except (OSError, ValueError) as exc:
            if not self._spool_failed:
                self._spool_failed = True
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                self._spool_error = reason
                _log.warning(
                    "could not write the callback outbox (%s); callbacks are still sent from "
                    "memory, but those not written would not survive a crash (the closing "
                    "summary counts them)",
                    reason,
                )
            return False
        self._spool_writes += 1
        if self._spool_writes >= self._compact_every and self._outbox is not None:
            # A long run with chatty logs must not grow the spool without bound: rewrite it
            # with only what is still queued.
            self._spool_writes = 0
            try:
                self._outbox.compact(tuple(self._queue), tuple(self._dead))
            except OSError as exc:
                _log.warning("cannot compact the callback outbox (it is kept as it is): %s", exc)
                return True
            # Everything queued is on disk now.
            self._unspooled.clear()
        return True

    def _add_waiter(self, target: int) -> _Waiter:
        waiter = _Waiter(target)
        self._waiters.append(waiter)
        # Wake the worker from a long background backoff: someone is waiting now, so the
        # waiter's own retry budget starts immediately.
        self._kick = True
        self._cond.notify_all()
        return waiter

    def _wait(self, waiter: _Waiter, timeout: float | None) -> bool:
        finished = waiter.done.wait(timeout)
        with self._cond:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        if waiter.error is not None:
            raise waiter.error
        return finished

    def _resolved(self, target: int) -> bool:
        return not self._queue or self._queue[0].seq > target

    def _settle_waiters(self) -> None:
        """Release the waiters whose envelopes are all resolved; the caller holds the condition."""
        for waiter in list(self._waiters):
            if self._resolved(waiter.target):
                self._waiters.remove(waiter)
                waiter.done.set()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                envelope = self._queue[0]
                self._head_busy = True
            result = self._attempt(envelope)
            with self._cond:
                self._head_busy = False
                try:
                    self._after_attempt(envelope, result)
                except Exception:  # a bug here must not stop the only sending thread
                    _log.exception("callback sender: unexpected error after an attempt")

    def _attempt(self, envelope: Envelope) -> SendResult:
        self.stats.attempts += 1
        try:
            return self._transport.send(envelope)
        except Exception as exc:  # a transport bug must not kill the only sending thread
            return SendResult(Outcome.RETRY, detail=f"{type(exc).__name__}: {exc}")

    def _after_attempt(self, envelope: Envelope, result: SendResult) -> None:
        """Book-keep one attempt; the caller holds the condition."""
        if result.outcome is Outcome.RETRY:
            if (
                envelope.deferrable
                and is_refusal_status(result.status)
                and self._head_failures >= self._policy.max_retries
            ):
                self._set_aside(envelope, result)
                return
            self._retry_later(envelope, result)
            return
        self._take(envelope)
        if self._head_failures:
            _log.info(
                "callback %s went through after %d failed attempt(s)",
                envelope.describe(),
                self._head_failures,
            )
        self._head_failures = 0
        for waiter in self._waiters:
            waiter.failures = 0  # progress was made: the backend is back
        self._resolve(envelope, result)
        self._settle_waiters()

    def _resolve(self, envelope: Envelope, result: SendResult) -> None:
        """Book-keep a delivered or rejected envelope; the caller holds the condition."""
        if result.outcome is Outcome.DELIVERED:
            self.stats.delivered += 1
            if self._outbox is not None:
                self._spool(self._outbox.mark, envelope.seq, "delivered")
        else:
            self.stats.rejected += 1
            if self._outbox is not None:
                self._spool(self._outbox.mark, envelope.seq, "rejected")
            error = CallbackRejectedError(
                self._redact(
                    f"the backend rejected the {envelope.endpoint} callback "
                    f"({envelope.method} {envelope.path}) with {result.detail}. A 4xx answer "
                    f"means the payload or the URL is wrong, so it is not retried; check "
                    f"CALLBACK_URL and JOB_ID, and that this SDK matches the backend's contract."
                )
            )
            self.stats.rejections.append(str(error))
            if envelope.seq in self._sync_seqs:
                self._sync_rejections[envelope.seq] = error
            else:
                _log.error("%s", error)

    def _take(self, envelope: Envelope) -> None:
        """Remove the envelope just attempted from the queue (normally its head)."""
        if self._queue and self._queue[0] is envelope:
            self._queue.popleft()
        else:  # a final report sent ahead of it may have changed the queue meanwhile
            self._queue = deque(e for e in self._queue if e is not envelope)

    def _set_aside(self, envelope: Envelope, result: SendResult) -> None:
        """Make the refused head a dead letter and go on with the next callback."""
        self._take(envelope)
        attempts = self._head_failures + 1
        self._head_failures = 0
        for waiter in self._waiters:
            waiter.failures = 0  # the backend answers: it is not an outage
        self._dead.append(envelope)
        self.stats.dead += 1
        if self._outbox is not None:
            self._spool(self._outbox.mark, envelope.seq, DEAD)
        _log.warning(
            "callback %s set aside as a dead letter after %d attempt(s) (%s); the callbacks "
            "behind it go on, and `trainer-sdk outbox replay` can send it later",
            envelope.describe(),
            attempts,
            self._redact(result.detail),
        )
        self._settle_waiters()

    def _retry_later(self, envelope: Envelope, result: SendResult) -> None:
        self._head_failures += 1
        self._last_detail = result.detail
        for waiter in list(self._waiters):
            waiter.failures += 1
            if waiter.failures > self._policy.max_retries:
                self._waiters.remove(waiter)
                waiter.error = self._delivery_error(envelope, waiter.failures, result)
                waiter.done.set()
        if self._waiters:
            retry_index = min(w.failures for w in self._waiters) - 1
        else:
            retry_index = self._head_failures - 1
        delay = self._policy.delay(retry_index, result.retry_after, self._rng)
        self.stats.retries += 1
        level = logging.WARNING if self._head_failures == 1 else logging.DEBUG
        _log.log(
            level,
            "callback %s failed (%s); retrying in %.2f s",
            envelope.describe(),
            self._redact(result.detail),
            delay,
        )
        self._kick = False
        deadline = time.monotonic() + delay
        while not self._kick and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)

    def _delivery_error(
        self, envelope: Envelope, attempts: int, result: SendResult
    ) -> CallbackDeliveryError:
        where = self._transport.describe()
        spool = ""
        if self._outbox is not None:
            # The caller holds the condition, a re-entrant lock: account() may take it again.
            spool = f" Callbacks: {self.account().describe(self._outbox.path)}."
        return CallbackDeliveryError(
            self._redact(
                f"could not deliver the {envelope.endpoint} callback ({envelope.method} "
                f"{envelope.path}) to {where} after {attempts} attempt(s): {result.detail}. "
                f"Check that the backend is up and that CALLBACK_URL is right; raise "
                f"CALLBACK_MAX_RETRIES / CALLBACK_RETRY_DELAY to ride out longer outages.{spool}"
            )
        )
