"""`TrainerSDK`: the one object a `train.py` talks to.

It reads the configuration from the environment (`config`), builds every callback body from the
generated models and validates it (`payloads`), and hands it to the ordered background sender
with its outbox (`delivery`). Storage and dataset conversion live in their own packages and are
imported only when a trainer first uses them.

The method signatures are written out for readability and typing; a test checks that names,
order and defaults match `trainer_contract.sdk_api.SDK_METHODS` exactly. Whether a call is sent
in the background or synchronously, and whether it is a no-op on ranks other than 0, is read
from the same table.
"""

from __future__ import annotations

import atexit
import errno
import functools
import importlib
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import httpx

from trainer_contract.callbacks import Endpoint, endpoints_for_body
from trainer_contract.config import TASK_TYPE_ALIASES
from trainer_contract.error_type import ErrorType, parse_error_type, suggest_error_type
from trainer_contract.models.config import BasicConfig, FullConfig
from trainer_contract.sdk_api import SDK_METHODS
from trainer_contract.validators import schema_documents
from trainer_sdk import payloads, termination
from trainer_sdk.config import Settings, load_dotenv_file, load_settings
from trainer_sdk.delivery import channels
from trainer_sdk.delivery.envelope import encode_body
from trainer_sdk.delivery.outbox import Outbox, OutboxBusyError, outbox_path
from trainer_sdk.delivery.retry import RetryPolicy
from trainer_sdk.delivery.sender import CallbackSender, SenderStats
from trainer_sdk.delivery.transport import FileTransport, open_transport
from trainer_sdk.errors import (
    CallbackDeliveryError,
    ConfigError,
    PayloadValidationError,
    TrainerSDKError,
)
from trainer_sdk.failure_types import error_type_for
from trainer_sdk.finite_metrics import finite_extra_data, finite_metrics, non_finite
from trainer_sdk.logging_bridge import CallbackLogHandler, quiet_http_loggers
from trainer_sdk.redaction import install_log_filter, redact_url, secret_values
from trainer_sdk.version import __version__

__all__ = ["TrainerSDK", "current_sdk"]

_log = logging.getLogger("trainer_sdk")

# The contract's log levels (DEBUG, INFO, ...) with their `logging` numbers, lowest first.
_LOG_PARAM = SDK_METHODS["log"].param("level")
_LOG_LEVELS: tuple[tuple[int, str], ...] = tuple(
    sorted(
        (logging.getLevelName(name), name)
        for name in (_LOG_PARAM.schema.get("enum", ()) if _LOG_PARAM else ())
        if isinstance(logging.getLevelName(name), int)
    )
)
# The event_type of plain `log()` records: the default of the log body's `event_type`.
_PLAIN_LOG_EVENT: str = schema_documents()["callbacks/log"]["properties"]["event_type"]["default"]
# The SDK's own event types (callbacks/log.json `x-sdk-events`); each fits the backend's column.
_SDK_EVENTS: dict[str, str] = schema_documents()["callbacks/log"]["x-sdk-events"]


def _sdk_event(name: str) -> str:
    """An event type the SDK sends, checked against the contract's list when the SDK loads."""
    if name not in _SDK_EVENTS:  # pragma: no cover - a schema edit without the SDK's
        raise RuntimeError(f"callbacks/log.json x-sdk-events has no {name!r}: regenerate")
    return name


_CONVERSION_EVENT = _sdk_event("convert")
_DOWNLOAD_EVENT = _sdk_event("download")
_UPLOAD_EVENT = _sdk_event("upload")
# Metrics a progress report should carry (metrics.json user_metrics `x-recommended`).
_RECOMMENDED_METRICS: tuple[str, ...] = tuple(
    schema_documents()["metrics"]["$defs"]["user_metrics"].get("x-recommended", [])
)

# Body schemas the facade builds, by the SDK method that sends them (from SDK_METHODS).
_PROGRESS_SCHEMA = SDK_METHODS["report_progress"].sends[0]
_VALIDATION_SCHEMA = SDK_METHODS["report_validation"].sends[0]
_COMPLETED_SCHEMA = SDK_METHODS["report_completed"].sends[0]
_FAILED_SCHEMA = SDK_METHODS["report_failed"].sends[0]
_LOG_SCHEMA = SDK_METHODS["log"].sends[0]
_INFERENCE_SCHEMA = SDK_METHODS["report_inference_completed"].sends[0]
_EXPORT_SCHEMA = SDK_METHODS["report_export_completed"].sends[0]
_STARTED_SCHEMAS = SDK_METHODS["report_started"].sends  # (training body, started body)
_EXPORT_METADATA_SCHEMA = f"{_EXPORT_SCHEMA}#/$defs/export_metadata"

_OPERATION_PARAM = SDK_METHODS["report_started"].param("operation_type")
assert _OPERATION_PARAM is not None  # the contract's report_started has it
# The operations that have their own endpoints (report_started's operation_type).
_OPERATIONS: tuple[str, ...] = tuple(_OPERATION_PARAM.schema["enum"])
_forwarding = threading.local()
_current: weakref.ref[TrainerSDK] | None = None


def current_sdk() -> TrainerSDK | None:
    """The most recently created `TrainerSDK` of this process, if it is still alive."""
    return _current() if _current is not None else None


def _close_at_exit(ref: weakref.ref[TrainerSDK]) -> None:
    sdk = ref()
    if sdk is not None:
        sdk.close()


class TrainerSDK:
    """Talks to the platform for one training, inference or export job.

    Configured from the environment (a `.env` file in the working directory is loaded first,
    without overriding real variables). Progress, validation results and logs are queued and
    sent in order by a background thread, so they never block training; completion and failure
    flush the queue and are then delivered synchronously. Every callback is spooled to an outbox
    under `WORK_DIR` first, so nothing is lost when the backend is down or the process dies.

    Created in the main thread of a process where nothing else handles SIGTERM, it turns the
    signal into `Terminated` (see `trainer_sdk.termination`): `close()`, in the trainer's
    `finally` or at exit, then reports the stop as the job's failure within the contract's time
    limit.

    Use it as a context manager, or call `close()` at the end (it flushes what is queued)::

        with TrainerSDK() as sdk:
            sdk.report_started('training')
            ...

    Keyword-only options (for tests and special deployments): `env` replaces `os.environ`,
    `dotenv_path` points at another `.env` file, `http_transport` injects an httpx transport,
    `all_ranks` overrides `TRAINER_SDK_ALL_RANKS`, `queue_capacity` bounds the in-memory queue
    (older progress updates are coalesced beyond it).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        dotenv_path: str | os.PathLike[str] | None = None,
        http_transport: httpx.BaseTransport | None = None,
        all_ranks: bool | None = None,
        queue_capacity: int = 1000,
    ) -> None:
        if env is None:
            load_dotenv_file(Path(dotenv_path) if dotenv_path is not None else None)
            env = os.environ
        self._env: Mapping[str, str] = env
        self._settings: Settings = load_settings(env)
        quiet_http_loggers()  # one httpx INFO line per callback is noise in the trainer's log
        self._redact = self._settings.redactor
        rank = self._settings["RANK"]
        self._rank: int = rank if isinstance(rank, int) else 0
        speak_all = self._settings["TRAINER_SDK_ALL_RANKS"] if all_ranks is None else all_ranks
        self._speaks = self._rank == 0 or bool(speak_all)
        self._http_transport = http_transport
        self._queue_capacity = queue_capacity
        self._sender: CallbackSender | None = None
        self._spool = Path()
        self._closed = False
        self._lock = threading.Lock()
        kind = self._settings.kind
        # Inference and export Jobs report to their own endpoints from the start (a failure before
        # report_started goes to the right completion path); every other kind is training.
        self._operation = kind.operation if kind.operation in _OPERATIONS else "training"
        self._missing_recommended_warned = False
        self._no_log_target_warned = False
        self._terminal: str | None = None
        # Set by run() when the process is being stopped: the final report's time limit.
        self._final_deadline: float | None = None
        self._created = time.monotonic()
        self._started: float | None = None
        self._last_mark = self._created
        self._last_epoch = 0
        self._durations: list[float] = []
        self._storage_service: Any = None
        self._log_problem_reported = False
        self._non_finite_warned: set[str] = set()
        # Data-loader workers are forked copies of this process without the sender thread;
        # what they queue would never leave, so they must not queue at all.
        self._pid = os.getpid()
        # Library loggers (httpx's request lines, botocore's headers) must not show secrets either.
        install_log_filter(secret_values(env))
        if self._speaks:
            self._sender = self._open_sender()
            # SIGTERM becomes `Terminated`, which close() reports (unless something else
            # handles the signal already, such as run() or the trainer's framework).
            termination.install_if_default()
        else:
            _log.debug(
                "rank %d of %s: callbacks and uploads are no-ops on this process "
                "(set TRAINER_SDK_ALL_RANKS=true to let every rank send)",
                self._rank,
                self._settings["WORLD_SIZE"],
            )
        global _current
        _current = weakref.ref(self)
        # Flush at interpreter exit when the trainer forgot close(); unregistered by close().
        self._at_exit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._at_exit)

    def _open_sender(self) -> CallbackSender:
        """The process's shared sender for this job's spool (see `delivery.channels`)."""
        settings = self._settings
        self._spool = outbox_path(Path(settings["WORK_DIR"]), settings.job_id, self._rank)
        return channels.acquire(self._spool, self._create_sender)

    def _create_sender(self) -> CallbackSender:
        settings = self._settings
        user_agent = f"trainer-sdk/{__version__} python-httpx/{httpx.__version__}"
        timeout = float(settings["CALLBACK_TIMEOUT"])
        delay = float(settings["CALLBACK_RETRY_DELAY"])
        try:
            transport = open_transport(
                settings.callback_url,
                user_agent=user_agent,
                timeout=timeout,
                token=settings["CALLBACK_TOKEN"],
                http_transport=self._http_transport,
            )
        except (ValueError, OSError) as exc:
            raise ConfigError(f"CALLBACK_URL cannot be used: {self._redact(str(exc))}") from exc
        policy = RetryPolicy(max_retries=int(settings["CALLBACK_MAX_RETRIES"]), base_delay=delay)
        work_dir = Path(settings["WORK_DIR"])
        outbox: Outbox | None
        try:
            outbox = Outbox(self._spool, settings.job_id)
        except OutboxBusyError as exc:
            transport.close()
            raise ConfigError(str(exc)) from exc
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            if not isinstance(transport, FileTransport) and not full:
                transport.close()
                raise ConfigError(
                    f"WORK_DIR={str(work_dir)!r} is not writable ({exc.strerror}); the callback "
                    "outbox lives there. Set WORK_DIR to a writable folder (the platform mounts "
                    "an emptyDir at /workspace)."
                ) from exc
            # A local run into a file needs no outbox: the file sink cannot be "down". A full
            # disk must not stop training either: callbacks are then sent from memory only.
            _log.warning("no callback outbox (%s is not writable): %s", work_dir, exc.strerror)
            outbox = None
        return CallbackSender(
            transport,
            policy,
            outbox,
            capacity=self._queue_capacity,
            redact=self._redact,
        )

    # ----------------------------------------------------------------------------- properties

    @property
    def job_id(self) -> int:
        """The job's id: the integer value of `JOB_ID`."""
        return self._settings.job_id

    @property
    def task_type(self) -> str | None:
        """`TASK_TYPE` in its canonical form (detection, classification, segmentation, pose)."""
        return self._settings.task_type

    @property
    def model_name(self) -> str | None:
        """`MODEL_NAME`."""
        return cast("str | None", self._settings["MODEL_NAME"])

    @property
    def dataset_id(self) -> str | None:
        """`DATASET_ID`."""
        return cast("str | None", self._settings["DATASET_ID"])

    @property
    def snapshot_id(self) -> str | None:
        """`SNAPSHOT_ID`."""
        return cast("str | None", self._settings["SNAPSHOT_ID"])

    @property
    def dataset_version_hash(self) -> str | None:
        """`DATASET_VERSION_HASH`."""
        return cast("str | None", self._settings["DATASET_VERSION_HASH"])

    @property
    def framework(self) -> str | None:
        """`FRAMEWORK`."""
        return cast("str | None", self._settings["FRAMEWORK"])

    @property
    def settings(self) -> Settings:
        """Every contract variable, typed and validated (secrets masked in its repr)."""
        return self._settings

    @property
    def rank(self) -> int:
        """This process's `RANK` (0 when not distributed)."""
        return self._rank

    @property
    def is_reporting(self) -> bool:
        """True when this process sends callbacks (rank 0, or TRAINER_SDK_ALL_RANKS)."""
        return self._speaks

    @property
    def outbox_path(self) -> Path | None:
        """The spool file of undelivered callbacks, when this process has one."""
        sender = self._sender
        return sender.outbox.path if sender is not None and sender.outbox is not None else None

    @property
    def undelivered(self) -> int:
        """Callbacks not yet delivered (queued, in flight, or left in the outbox at close)."""
        return self._sender.pending if self._sender is not None else 0

    @property
    def delivery_stats(self) -> SenderStats | None:
        """Counters of the background sender (delivered, retries, superseded, ...)."""
        return self._sender.stats if self._sender is not None else None

    @property
    def last_epoch(self) -> int:
        """The last epoch given to `report_progress` (0 before the first)."""
        return self._last_epoch

    @property
    def terminal_state(self) -> str | None:
        """`completed` or `failed` once that report was delivered, else None."""
        return self._terminal

    def __repr__(self) -> str:
        target = redact_url(self._settings.callback_url)
        return (
            f"TrainerSDK(job_id={self.job_id}, callback_url={self._redact(target)!r}, "
            f"rank={self._rank}, reporting={self._speaks})"
        )

    # ------------------------------------------------------------------------------- plumbing

    def _skip(self, method: str) -> bool:
        """True (and a debug line) when `method` is a no-op on this rank."""
        if self._speaks or not SDK_METHODS[method].rank_zero_only:
            return False
        _log.debug("%s skipped on rank %d (only rank 0 reports)", method, self._rank)
        return True

    def _live_sender(self) -> CallbackSender:
        sender = self._sender
        if sender is None or self._closed:
            raise TrainerSDKError(
                "this TrainerSDK is closed; create a new TrainerSDK() to send more callbacks"
            )
        if os.getpid() != self._pid:
            raise TrainerSDKError(
                "this TrainerSDK was created in another process (this one is a fork, e.g. a "
                "data-loader worker); report from the main process, or create a TrainerSDK here"
            )
        return sender

    def _check_args(self, method: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate a call's arguments against the contract; return them as plain JSON values
        (numpy scalars, tensors and tuples converted), which the body is then built from."""
        plain: dict[str, Any] = payloads.plain(arguments, what=f"{method}()")
        payloads.check(SDK_METHODS[method].schema, plain, f"{method}()")
        return plain

    def _endpoint(self, schema: str) -> Endpoint:
        found = endpoints_for_body(schema, self._operation) or endpoints_for_body(schema)
        if not found:
            raise TrainerSDKError(f"no endpoint of the contract accepts {schema!r} bodies")
        return found[0]

    def _emit(self, method: str, schema: str, payload: Mapping[str, Any]) -> None:
        """Mask secrets, validate a body and hand it to the sender as the method's delivery mode
        says. Masking here covers every way out: the outbox, a `file://` sink and the backend."""
        payload = self._redact.scrub(payload)
        payloads.check(schema, payload, f"{method}(): the {schema} body")
        sender = self._live_sender()
        if schema != _LOG_SCHEMA and not self._settings.kind.callbacks:
            _log.debug(
                "%s(): not sent; the callback API has no endpoint for %s Jobs",
                method,
                self._settings.kind.operation,
            )
            return
        endpoint = self._endpoint(schema)
        path = endpoint.path.format(job_id=payload["job_id"])
        content = encode_body(payload)
        if SDK_METHODS[method].delivery == "background":
            # Only a coalescable call (per-epoch progress) may be replaced by a newer one.
            sender.post(
                endpoint.name,
                endpoint.method,
                path,
                content,
                coalescable=SDK_METHODS[method].coalescable,
            )
        else:
            sender.send(
                endpoint.name, endpoint.method, path, content, deadline=self._final_deadline
            )

    def _default_epochs(self) -> int:
        return int(self._settings.basic["epochs"])

    @staticmethod
    def _canonical_task(task_type: str) -> str:
        return str(TASK_TYPE_ALIASES.get(task_type, task_type))

    # ------------------------------------------------------------------------------ lifecycle

    def report_started(
        self, operation_type: str = "training", total_epochs: int | None = None
    ) -> None:
        """Report that the operation (training, inference or export) started.

        For training, `total_epochs` defaults to the configured epochs. Delivered synchronously.
        """
        if self._skip("report_started"):
            return
        arguments = {"operation_type": operation_type, "total_epochs": total_epochs}
        args = self._check_args("report_started", arguments)
        self._operation = operation_type
        self._started = self._last_mark = time.monotonic()
        if operation_type == "training":
            given = args["total_epochs"]
            epochs = given if given is not None else self._default_epochs()
            body: Mapping[str, Any] = payloads.progress_payload(self.job_id, 0, epochs, None)
            self._emit("report_started", _STARTED_SCHEMAS[0], body)
        else:
            body = payloads.started_payload(self.job_id, operation_type)
            self._emit("report_started", _STARTED_SCHEMAS[-1], body)

    def report_progress(
        self,
        epoch: int,
        total_epochs: int,
        metrics: Mapping[str, Any],
        extra_data: Mapping[str, Any] | None = None,
        checkpoint_path: str | None = None,
        best_checkpoint_path: str | None = None,
        epoch_duration_seconds: float | None = None,
    ) -> None:
        """Report the end of an epoch; returns at once (sent in the background, in order).

        Every metric goes to `extra_metrics`; `loss`, `accuracy` and `learning_rate` (or `lr`)
        also fill their own fields. A NaN or infinite optional metric is dropped (a warning
        names it, once) and the rest is sent, so that a framework's callback never fails on
        one; inside `extra_data` such a number becomes null. A non-finite `loss` raises
        `NonFiniteMetricError` (ErrorType VALIDATION_ERROR: the training diverged). The epoch
        time and the remaining time are measured when not given.
        """
        if self._skip("report_progress"):
            return
        arguments = payloads.plain(
            {
                "epoch": epoch,
                "total_epochs": total_epochs,
                "metrics": metrics,
                "extra_data": extra_data,
                "checkpoint_path": checkpoint_path,
                "best_checkpoint_path": best_checkpoint_path,
                "epoch_duration_seconds": epoch_duration_seconds,
            }
        )
        arguments["metrics"], dropped = finite_metrics(arguments["metrics"], "report_progress()")
        arguments["extra_data"], replaced = finite_extra_data(arguments["extra_data"])
        self._warn_non_finite(f"report_progress(epoch={arguments['epoch']})", dropped, replaced)
        args = self._check_args("report_progress", arguments)
        self._warn_missing_metrics(args["metrics"])
        done, planned = int(args["epoch"]), int(args["total_epochs"])
        now = time.monotonic()
        with self._lock:
            duration = args["epoch_duration_seconds"]
            if duration is None:
                # A resumed run's first report (epoch 6, say) covers one epoch of this process,
                # not six: the earlier ones ran before a restart.
                epochs_done = max(1, done - self._last_epoch) if self._durations else 1
                duration = max(0.0, (now - self._last_mark) / epochs_done)
            self._durations.append(float(duration))
            recent = self._durations[-10:]
            remaining = max(0, planned - done) * (sum(recent) / len(recent))
            self._last_mark = now
            self._last_epoch = done
        body = payloads.progress_payload(
            self.job_id,
            done,
            planned,
            args["metrics"],
            extra_data=args["extra_data"],
            checkpoint_path=args["checkpoint_path"],
            best_checkpoint_path=args["best_checkpoint_path"],
            epoch_duration_seconds=round(float(duration), 6),
            estimated_time_remaining=round(remaining, 3),
        )
        self._emit("report_progress", _PROGRESS_SCHEMA, body)

    def _warn_non_finite(self, where: str, dropped: list[str], replaced: list[str]) -> None:
        """Warn once per method and metric name (or value path) that a non-finite value was left
        out of a report."""
        method = where.split("(", 1)[0]
        for name, what in [(n, "metric") for n in dropped] + [(p, "value") for p in replaced]:
            key = f"{method}:{name}"
            if key in self._non_finite_warned:
                continue
            self._non_finite_warned.add(key)
            action = "dropped" if what == "metric" else "sent as null"
            _log.warning(
                "%s: the %s %r is NaN or infinite and was %s (JSON cannot carry it); the rest "
                "was sent. Warned once per name.",
                where,
                what,
                name,
                action,
            )

    def _warn_missing_metrics(self, metrics: Mapping[str, Any]) -> None:
        """Warn once when a progress report lacks a recommended metric (`loss`): it is still
        sent (a missing metric never breaks training), but the job's loss curve stays empty."""
        missing = [name for name in _RECOMMENDED_METRICS if metrics.get(name) is None]
        if not missing or self._missing_recommended_warned:
            return
        self._missing_recommended_warned = True
        _log.warning(
            "report_progress(): metrics have no %s; the report is sent without it (warned once)",
            ", ".join(repr(name) for name in missing),
        )

    def report_validation(
        self,
        epoch: int,
        task_type: str,
        primary_metric: Sequence[Any],
        all_metrics: Mapping[str, Any] | None = None,
        class_names: Sequence[str] | Mapping[int, str] | None = None,
        visualization_urls: Mapping[str, str] | None = None,
        per_class_metrics: Mapping[str, Any] | None = None,
        is_best: bool = False,
        overall_loss: float | None = None,
        confusion_matrix: Sequence[Sequence[int]] | None = None,
        pr_curves: Mapping[str, Any] | None = None,
        sample_correct_images: Sequence[str] | None = None,
        sample_incorrect_images: Sequence[str] | None = None,
        image_results: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Report validation results of an epoch (sent in the background, in order).

        `primary_metric` is `(name, value)`; `task_type` accepts the long forms too.
        `class_names` may be Ultralytics' `names` mapping (`{0: 'cat', 1: 'dog'}`): it is sent
        as the list the platform stores. NaN or infinity never makes it raise (a class without
        instances has no AP): a non-finite metric of `all_metrics` is dropped, a non-finite
        primary value or `overall_loss` is sent as null, and one inside `per_class_metrics` or
        `pr_curves` becomes null; a warning names each, once.
        """
        if self._skip("report_validation"):
            return
        where = f"report_validation(epoch={epoch})"
        all_metrics, dropped = finite_metrics(payloads.plain(all_metrics), where, frozenset())
        replaced: list[str] = []
        primary = payloads.plain(primary_metric)
        if isinstance(primary, list | tuple) and len(primary) == 2 and non_finite(primary[1]):
            primary, replaced = [primary[0], None], [f"primary_metric {primary[0]!r}"]
        if non_finite(payloads.plain(overall_loss)):
            overall_loss, replaced = None, [*replaced, "overall_loss"]
        per_class_metrics, nulled = finite_extra_data(
            payloads.plain(per_class_metrics), "per_class_metrics"
        )
        pr_curves, nulled_curves = finite_extra_data(payloads.plain(pr_curves), "pr_curves")
        self._warn_non_finite(where, dropped, [*replaced, *nulled, *nulled_curves])
        optional = {
            "class_names": class_names,
            "visualization_urls": visualization_urls,
            "per_class_metrics": per_class_metrics,
            "overall_loss": overall_loss,
            "confusion_matrix": confusion_matrix,
            "pr_curves": pr_curves,
            "sample_correct_images": sample_correct_images,
            "sample_incorrect_images": sample_incorrect_images,
            "image_results": image_results,
        }
        arguments = {
            "epoch": epoch,
            "task_type": task_type,
            "primary_metric": primary,
            "all_metrics": all_metrics,
            "is_best": is_best,
            **optional,
        }
        args = self._check_args("report_validation", arguments)
        args["class_names"] = payloads.class_name_list(args["class_names"])
        body = payloads.validation_payload(
            self.job_id,
            args["epoch"],
            self._canonical_task(args["task_type"]),
            args["primary_metric"],
            all_metrics=args["all_metrics"],
            is_best=args["is_best"],
            optional={key: args[key] for key in optional},
        )
        self._emit("report_validation", _VALIDATION_SCHEMA, body)

    def report_completed(
        self,
        final_metrics: Mapping[str, Any] | None,
        checkpoints: Mapping[str, str] | None = None,
        total_epochs: int | None = None,
        extra_data: Mapping[str, Any] | None = None,
        best_metrics: Mapping[str, Any] | None = None,
        best_epoch: int | None = None,
    ) -> None:
        """Report success: flushes every queued callback, then delivers this one synchronously.

        `checkpoints['best']` / `checkpoints['last']` fill the best/last checkpoint paths.
        Raises `CallbackDeliveryError` when the backend stayed unreachable (exit code 2).
        Non-finite metrics are handled as in `report_progress`: an optional one is dropped
        (warned once), inside `extra_data` it becomes null, and a non-finite `loss` raises
        `NonFiniteMetricError`.
        """
        if self._skip("report_completed"):
            return
        where = "report_completed()"
        final, dropped = finite_metrics(payloads.plain(final_metrics), f"{where} final_metrics")
        best, dropped_best = finite_metrics(payloads.plain(best_metrics), f"{where} best_metrics")
        extra, replaced = finite_extra_data(payloads.plain(extra_data))
        self._warn_non_finite(
            where, [*dropped, *(f"best_metrics.{n}" for n in dropped_best)], replaced
        )
        arguments = {
            "final_metrics": final,
            "checkpoints": checkpoints,
            "total_epochs": total_epochs,
            "extra_data": extra,
            "best_metrics": best,
            "best_epoch": best_epoch,
        }
        args = self._check_args("report_completed", arguments)
        started = self._started if self._started is not None else self._created
        epochs = args["total_epochs"]
        body = payloads.completed_payload(
            self.job_id,
            epochs if epochs is not None else self._default_epochs(),
            final_metrics=args["final_metrics"],
            checkpoints=args["checkpoints"],
            best_metrics=args["best_metrics"],
            best_epoch=args["best_epoch"],
            total_duration_seconds=round(time.monotonic() - started, 3),
            extra_data=args["extra_data"],
        )
        self._emit("report_completed", _COMPLETED_SCHEMA, body)
        self._terminal = "completed"

    def report_failed(
        self,
        error_type: ErrorType | str,
        message: str,
        traceback: str | None = None,
        epochs_completed: int = 0,
    ) -> None:
        """Report failure: flushes every queued callback, then delivers this one synchronously.

        `error_type` is an ErrorType member, its wire value ("ResourceError") or its member
        name ("RESOURCE_ERROR"). The message and traceback are scrubbed of secrets.
        """
        if self._skip("report_failed"):
            return
        wire = _error_type_value(error_type)
        text = payloads.utf8_safe(
            self._redact(message if isinstance(message, str) else str(message))
        )
        trace = (
            payloads.utf8_safe(self._redact(traceback)) if isinstance(traceback, str) else traceback
        )
        arguments = {
            "error_type": wire,
            "message": text,
            "traceback": trace,
            "epochs_completed": epochs_completed,
        }
        args = self._check_args("report_failed", arguments)
        body = payloads.failed_payload(
            self.job_id, wire, text, traceback=trace, epochs_completed=args["epochs_completed"]
        )
        self._emit("report_failed", _FAILED_SCHEMA, body)
        self._terminal = "failed"

    def report_inference_completed(
        self,
        total_images: int,
        total_time_ms: float,
        results: Sequence[Mapping[str, Any]],
        result_urls: Sequence[Any] | Mapping[str, Any] | None = None,
    ) -> None:
        """Report a finished inference job (the average time per image is derived)."""
        if self._skip("report_inference_completed"):
            return
        arguments = {
            "total_images": total_images,
            "total_time_ms": total_time_ms,
            "results": results,
            "result_urls": result_urls,
        }
        args = self._check_args("report_inference_completed", arguments)
        body = payloads.inference_completed_payload(
            self.job_id,
            args["total_images"],
            args["total_time_ms"],
            args["results"],
            args["result_urls"],
        )
        self._emit("report_inference_completed", _INFERENCE_SCHEMA, body)
        self._terminal = "completed"

    def report_export_completed(
        self,
        export_format: str,
        output_s3_uri: str,
        file_size_bytes: int,
        metadata: Mapping[str, Any],
    ) -> None:
        """Report a finished export job; build `metadata` with `create_export_metadata`."""
        if self._skip("report_export_completed"):
            return
        arguments = {
            "export_format": export_format,
            "output_s3_uri": output_s3_uri,
            "file_size_bytes": file_size_bytes,
            "metadata": metadata,
        }
        args = self._check_args("report_export_completed", arguments)
        body = payloads.export_completed_payload(
            self.job_id,
            args["export_format"],
            args["output_s3_uri"],
            args["file_size_bytes"],
            args["metadata"],
        )
        self._emit("report_export_completed", _EXPORT_SCHEMA, body)
        self._terminal = "completed"

    @staticmethod
    def create_export_metadata(
        framework: str,
        model_name: str,
        export_format: str,
        task_type: str,
        input_shape: Sequence[int | None] | None,
        output_shape: Sequence[Any] | None,
        class_names: Sequence[str] | Mapping[int, str] | None = None,
        preprocessing: Mapping[str, Any] | None = None,
        postprocessing: Mapping[str, Any] | None = None,
        export_config: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """The validated metadata object of an exported model, as the platform's SDK builds it.

        A static method (`TrainerSDK.create_export_metadata(...)`): `input_dtype` is `float32`,
        `created_at` is now, `class_names` (a list or Ultralytics' `names` mapping) also sets
        `num_classes`, `export_config` is kept, and extra keyword arguments are added as given
        (they may override the fields above, e.g. `input_dtype='float16'`).
        """
        arguments = {
            "framework": framework,
            "model_name": model_name,
            "export_format": export_format,
            "task_type": task_type,
            "input_shape": input_shape,
            "output_shape": output_shape,
            "class_names": class_names,
            "preprocessing": preprocessing,
            "postprocessing": postprocessing,
            "export_config": export_config,
        }
        clash = sorted(set(extra) & set(arguments))
        if clash:
            raise TypeError(f"create_export_metadata() got multiple values for {clash}")
        args: dict[str, Any] = payloads.plain({**arguments, **extra})
        payloads.check(
            SDK_METHODS["create_export_metadata"].schema, args, "create_export_metadata()"
        )
        names = payloads.class_name_list(args["class_names"])
        metadata = payloads.export_metadata(
            args["framework"],
            args["model_name"],
            args["export_format"],
            args["task_type"],  # kept as given, as the platform's SDK does
            optional={
                "input_shape": args["input_shape"],
                "input_dtype": "float32",
                "output_shape": args["output_shape"],
                "class_names": names or None,
                "preprocessing": args["preprocessing"] or None,
                "postprocessing": args["postprocessing"] or None,
                "export_config": args["export_config"] or None,
            },
        )
        result: dict[str, Any] = {**metadata, **{key: args[key] for key in extra}}
        payloads.check(_EXPORT_METADATA_SCHEMA, result, "create_export_metadata()")
        return result

    # -------------------------------------------------------------------------------- logging

    def log(
        self,
        message: str,
        level: str = "INFO",
        source: str = "trainer",
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Send a log line to the backend (in the background). Never raises, never recurses.

        `level` may be any `logging` level name or number (CRITICAL maps to ERROR, WARN to
        WARNING). Secrets are scrubbed from the message.
        """
        self._forward(_PLAIN_LOG_EVENT, message, level, source, data, "log")

    def log_debug(self, message: str, data: Mapping[str, Any] | None = None) -> None:
        """`log(message, level='DEBUG')`."""
        self._forward(_PLAIN_LOG_EVENT, message, "DEBUG", "trainer", data, "log_debug")

    def log_info(self, message: str, data: Mapping[str, Any] | None = None) -> None:
        """`log(message, level='INFO')`."""
        self._forward(_PLAIN_LOG_EVENT, message, "INFO", "trainer", data, "log_info")

    def log_warning(self, message: str, data: Mapping[str, Any] | None = None) -> None:
        """`log(message, level='WARNING')`."""
        self._forward(_PLAIN_LOG_EVENT, message, "WARNING", "trainer", data, "log_warning")

    def log_error(self, message: str, data: Mapping[str, Any] | None = None) -> None:
        """`log(message, level='ERROR')`."""
        self._forward(_PLAIN_LOG_EVENT, message, "ERROR", "trainer", data, "log_error")

    def log_event(
        self,
        event_type: str,
        message: str,
        data: Mapping[str, Any] | None = None,
        level: str = "INFO",
    ) -> None:
        """Send a structured event (checkpoint saved, dataset ready, ...); never raises."""
        self._forward(event_type, message, level, "trainer", data, "log_event")

    def flush_logs(self, timeout: float | None = None) -> None:
        """Wait until every queued callback (logs included) is delivered; never raises.

        Waits at most `timeout` seconds (None: until the retry budget is spent).
        """
        sender = self._sender
        if sender is None or self._closed:
            return
        try:
            sender.flush(timeout)
        except CallbackDeliveryError as exc:
            _log.warning("logs not delivered yet (kept in the outbox): %s", exc)

    def logging_handler(
        self, level: int = logging.INFO, source: str = "trainer"
    ) -> CallbackLogHandler:
        """A `logging.Handler` forwarding records to the backend through `log`."""
        return CallbackLogHandler(self, level, source=source)

    def _forward(
        self,
        event_type: str,
        message: Any,
        level: Any,
        source: Any,
        data: Mapping[str, Any] | None,
        method: str,
    ) -> None:
        # Re-entry on this thread means a handler is logging about our own forwarding, and the
        # sender's thread logs about delivery: forwarding either would loop forever.
        sender = self._sender
        if (
            getattr(_forwarding, "active", False)
            or (sender is not None and sender.is_worker_thread())
            or os.getpid() != self._pid
        ):
            return
        # Set before anything that may log (even the rank check's debug line), so a handler
        # forwarding that record back here is cut at once.
        _forwarding.active = True
        try:
            if self._closed or self._skip(method):
                return
            text = payloads.utf8_safe(
                self._redact(message if isinstance(message, str) else str(message))
            )
            # Log data never fails the line: what no callback can carry is replaced by a note.
            extra = payloads.plain(data, lenient=True) if data is not None else None
            if extra is not None and not isinstance(extra, dict):
                extra = {"value": extra}
            log_job = self._settings.logs_job_id
            if log_job is None:
                self._warn_no_log_target()
                return
            body = payloads.log_payload(
                log_job,
                event_type if isinstance(event_type, str) and event_type else _PLAIN_LOG_EVENT,
                text,
                _contract_level(level),
                data=extra,
                source=source if isinstance(source, str) else str(source),
            )
            self._emit(method, _LOG_SCHEMA, body)
        except Exception as exc:  # logging must never raise into the trainer
            self._log_problem(exc)
        finally:
            _forwarding.active = False

    def _warn_no_log_target(self) -> None:
        """Say once, on stderr, that log lines stay local: an inference, export or evaluation Job
        sends them to its training job's log, and TRAINING_JOB_ID is not set."""
        if self._no_log_target_warned:
            return
        self._no_log_target_warned = True
        kind = self._settings.kind
        try:
            print(
                f"trainer-sdk: log lines of this {kind.operation} Job are not sent to the backend: "
                f"they go to the log of the job in {kind.logs_job}, which is not set",
                file=sys.__stderr__,
            )
        except Exception:
            return

    def _log_problem(self, exc: Exception) -> None:
        """Say once, on stderr and not through `logging` (which may forward here), that a log
        line could not be sent."""
        if self._log_problem_reported:
            return
        self._log_problem_reported = True
        try:
            print(
                f"trainer-sdk: a log line could not be sent and was dropped "
                f"({type(exc).__name__}: {self._redact(str(exc))[:300]}); further such problems "
                "are not reported",
                file=sys.__stderr__,
            )
        except Exception:
            return

    # --------------------------------------------------------------------------------- config

    def get_basic_config(self) -> BasicConfig:
        """The basic training settings as a plain dict (`config['epochs']`), validated."""
        return cast(BasicConfig, dict(self._settings.basic))

    def get_advanced_config(self) -> dict[str, Any]:
        """The framework-specific settings (`CONFIG.advanced_config`, else `ADVANCED_CONFIG`)."""
        return dict(self._settings.advanced)

    def get_full_config(self) -> FullConfig:
        """`{'basic': get_basic_config(), 'advanced': get_advanced_config()}`."""
        return self._settings.full()

    # ----------------------------------------------------------------- storage and conversion

    def _storage(self) -> Any:
        if self._storage_service is None:
            service = _optional_feature(
                "trainer_sdk.storage", "StorageService", "dataset and checkpoint storage (S3)"
            )
            environment = self._settings.environment(self._env)
            self._storage_service = service.from_env(environment, job_id=self.job_id)
        return self._storage_service

    @property
    def external_storage(self) -> Any:
        """The dataset bucket: `.bucket`, `.client` (boto3), `.download_file`, `.upload_file`."""
        return self._storage().external_storage

    @property
    def internal_storage(self) -> Any:
        """The checkpoint bucket: `.bucket`, `.client` (boto3), `.download_file`, `.upload_file`."""
        return self._storage().internal_storage

    def _step_done(self, event_type: str, message: str, started: float) -> None:
        """Log a finished step with its duration in `data.seconds` (a run report draws it as a
        phase of the job); never raises."""
        seconds = round(time.monotonic() - started, 3)
        self.log_event(event_type, f"{message} in {seconds:.2f} s", data={"seconds": seconds})

    def download_dataset(self, dataset_id: str, dest_dir: str) -> str:
        """Download a whole dataset folder; returns the local folder."""
        started = time.monotonic()
        folder = cast(str, self._storage().download_dataset(dataset_id, dest_dir))
        self._step_done(_DOWNLOAD_EVENT, f"dataset {dataset_id} downloaded", started)
        return folder

    def download_dataset_selective(self, dataset_id: str, dest_dir: str) -> str:
        """Download the annotation file(s) and only the images they list."""
        started = time.monotonic()
        folder = cast(str, self._storage().download_dataset_selective(dataset_id, dest_dir))
        self._step_done(_DOWNLOAD_EVENT, f"dataset {dataset_id} downloaded", started)
        return folder

    def download_dataset_with_cache(
        self, snapshot_id: str, dataset_id: str, dataset_version_hash: str, dest_dir: str
    ) -> str:
        """Download through the node's dataset cache, keyed by the dataset version hash."""
        started = time.monotonic()
        folder = cast(
            str,
            self._storage().download_dataset_with_cache(
                snapshot_id, dataset_id, dataset_version_hash, dest_dir
            ),
        )
        self._step_done(_DOWNLOAD_EVENT, f"dataset {dataset_id} ready", started)
        return folder

    def convert_dataset(
        self,
        dataset_dir: str,
        source_format: str = "dice",
        target_format: str = "yolo",
        split_config: Mapping[str, Any] | None = None,
        task_type: str | None = None,
        output_dir: str | None = None,
    ) -> Any:
        """Convert a DICE dataset to YOLO, COCO or ImageFolder; `task_type` defaults to
        `TASK_TYPE`, `output_dir` to the dataset folder (beside `images/`). Returns the
        conversion result (`.output_dir`, `.report`, `.data_yaml`)."""
        convert = _optional_feature("trainer_sdk.convert", "convert_dataset", "dataset conversion")
        result = convert(
            dataset_dir,
            source_format,
            target_format,
            split_config,
            task_type if task_type is not None else self.task_type,
            output_dir=output_dir,
        )
        report: Any = getattr(result, "report", None)
        summary = report.summary() if hasattr(report, "summary") else str(report)
        details = report.to_dict() if hasattr(report, "to_dict") else None
        _log.info("dataset converted to %s: %s", target_format, summary)
        # The backend's job log shows what the conversion dropped or fixed, not only the trainer's
        # stdout (log_event never raises).
        self.log_event(
            _CONVERSION_EVENT,
            f"dataset converted to {target_format}: {summary}",
            data=details if isinstance(details, dict) else None,
        )
        return result

    def upload_checkpoint(self, local_path: str, name: str) -> str:
        """Upload a checkpoint to the internal bucket; returns its `s3://` URI ('' on ranks
        other than 0, where uploads are no-ops)."""
        if self._skip("upload_checkpoint"):
            return ""
        started = time.monotonic()
        uri = cast(str, self._storage().upload_checkpoint(local_path, name))
        self._step_done(_UPLOAD_EVENT, f"checkpoint {name} uploaded", started)
        return uri

    def download_checkpoint(self, s3_uri: str, local_path: str) -> str:
        """Download a checkpoint (for fine-tuning); returns the local path."""
        return cast(str, self._storage().download_checkpoint(s3_uri, local_path))

    def upload_file(
        self,
        local_path: str,
        s3_key: str,
        content_type: str | None = None,
        storage_type: str = "internal",
    ) -> str:
        """Upload any file; returns its `s3://` URI ('' on ranks other than 0)."""
        if self._skip("upload_file"):
            return ""
        return cast(
            str, self._storage().upload_file(local_path, s3_key, content_type, storage_type)
        )

    # ------------------------------------------------------------------------------- shutdown

    def close(self) -> None:
        """Deliver what is queued (within the retry budget) and release connections.

        Never raises for delivery: what could not be delivered stays in the outbox, and a
        warning names it and the replay command. Safe to call more than once.
        """
        if self._closed:
            return
        if self._report_stop():
            return
        self._closed = True
        atexit.unregister(self._at_exit)
        sender = self._sender
        if sender is not None:
            channels.release(self._spool, sender, flush=True)
        storage, self._storage_service = self._storage_service, None
        if storage is not None:
            try:
                storage.close()
            except Exception as exc:  # closing must not mask the trainer's own outcome
                _log.warning("closing storage failed: %s", self._redact(str(exc)))

    def _report_stop(self) -> bool:
        """When the process was stopped (SIGTERM) and nothing reported the end yet, report the
        failure within the stop's time limit and release without waiting further; True then."""
        deadline = termination.report_deadline()
        if deadline is None or self._terminal is not None or not self._speaks:
            return False
        if self._sender is None or os.getpid() != self._pid:
            return False
        stopped = sys.exc_info()[1]
        if not isinstance(stopped, termination.Terminated):
            stopped = termination.Terminated("received signal SIGTERM; the job was stopped")
        self._final_deadline = deadline
        try:
            self.report_exception(stopped)
        except TrainerSDKError as exc:
            _log.error("the stop could not be reported: %s", self._redact(str(exc)))
        self.abandon()
        return True

    def abandon(self) -> None:
        """Stop without waiting for the backend (used when it is known to be unreachable);
        undelivered callbacks stay in the outbox."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._at_exit)
        if self._sender is not None:
            channels.release(self._spool, self._sender, flush=False)

    def _bound_final_report(self, deadline: float) -> None:
        """Deliver synchronous reports by `deadline` (a `time.monotonic()` value) at the latest,
        ahead of queued callbacks still stuck then (used by `run()` after SIGTERM)."""
        self._final_deadline = deadline

    def report_exception(self, exc: BaseException, traceback_text: str | None = None) -> None:
        """Report `exc` as the job's failure, with the ErrorType it maps to.

        Used by `run()` and the context manager; does nothing when a completion or failure was
        already delivered. A closed SDK is reopened for this one report. Raises
        `CallbackDeliveryError` when the backend cannot be reached.
        """
        if self._terminal is not None or not self._speaks:
            return
        if self._closed:
            self._sender = self._open_sender()
            self._closed = False
        if traceback_text is None:
            import traceback as traceback_module

            traceback_text = "".join(
                traceback_module.format_exception(type(exc), exc, exc.__traceback__)
            )
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.report_failed(error_type_for(exc), message, traceback_text, self._last_epoch)

    def __enter__(self) -> TrainerSDK:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        try:
            if exc is not None and _is_failure(exc) and not isinstance(exc, CallbackDeliveryError):
                try:
                    self.report_exception(exc)
                except TrainerSDKError as report_error:
                    _log.error("could not report the failure: %s", report_error)
        finally:
            if isinstance(exc, CallbackDeliveryError):
                self.abandon()
            else:
                self.close()
        return False


def _is_failure(exc: BaseException) -> bool:
    """Exceptions that end a job as a failure (a clean `sys.exit(0)` does not)."""
    if isinstance(exc, SystemExit):
        return exc.code not in (None, 0)
    return isinstance(exc, (Exception, KeyboardInterrupt))


def _error_type_value(value: ErrorType | str) -> str:
    """The wire value of an ErrorType given as a member, or a string the contract's table
    accepts (`parse_error_type`: a wire value, a member name in any case); trainer-lint judges
    string literals by the same table."""
    if isinstance(value, ErrorType):
        return value.value
    if isinstance(value, str):
        member = parse_error_type(value)
        if member is not None:
            return member.value
    choices = ", ".join(member.name for member in ErrorType)
    hint = suggest_error_type(value) if isinstance(value, str) else "ErrorType.UNKNOWN_ERROR"
    raise PayloadValidationError(
        f"report_failed(): error_type {value!r} is not an ErrorType; use {hint} (members: "
        f"{choices}); nothing was sent."
    )


def _contract_level(level: Any) -> str:
    """Map any `logging` level name or number onto the contract's levels (never raises)."""
    names = [name for _, name in _LOG_LEVELS]
    if isinstance(level, str):
        upper = level.strip().upper()
        if upper in names:
            return upper
        number = logging.getLevelName(upper)
    elif isinstance(level, int):
        number = level
    else:
        number = None
    if not isinstance(number, int):
        return "INFO" if "INFO" in names else names[0]
    chosen = names[0]
    for value, name in _LOG_LEVELS:
        if value <= number:
            chosen = name
    return chosen


def _optional_feature(module: str, attribute: str, feature: str) -> Any:
    """Import a feature of another SDK package, or raise a NotImplementedError naming it."""
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise NotImplementedError(
            f"{feature} is not available in this build of trainer-sdk ({module}.{attribute} "
            f"could not be imported: {exc}). It is delivered by its own package; install a "
            f"release that includes it."
        ) from exc
