"""Many small objects, fast: SigV4-signed httpx GETs on a small thread pool.

With client and server on two cores, boto3's per-request CPU cost (and `download_file`'s extra
HEAD) caps small-object throughput near 150-500 files/s; a plain GET signed with botocore's
`S3SigV4Auth` over a pooled httpx client reaches ~1,000 (DEPENDENCY_NOTES.md). Each object's size
(and, for a plain MD5 ETag, its checksum) is checked before it counts as fetched. Objects go to a
temporary name renamed into place, or, inside a staged folder that is itself revealed only when
complete, straight to their final name.

Per-file retries cover connection errors, timeouts, 5xx, 429 and 503 SlowDown, with exponential
backoff and jitter. A 404 is not retried: the key is reported as missing, and the caller decides.
Rejected credentials stop the whole batch at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from trainer_sdk.errors import NetworkError, TrainerSDKError
from trainer_sdk.storage.failures import auth_error, unreachable_error
from trainer_sdk.storage.progress import TransferProgress
from trainer_sdk.storage.s3 import S3Storage

__all__ = ["FetchItem", "FetchReport", "FetchedFile", "ObjectFetcher"]

_THREAD_PREFIX = "s3-fetch"
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_PLAIN_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 256 * 1024
# Bodies up to this size are read in one piece (images); larger ones are streamed.
_WHOLE_BODY_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class FetchItem:
    """One object to fetch: its bucket and key, and the local file to create."""

    bucket: str
    key: str
    path: Path


@dataclass(frozen=True)
class FetchedFile:
    """One fetched object: where it went, its size and ETag."""

    item: FetchItem
    size: int
    etag: str


@dataclass
class FetchReport:
    """What a batch did: files fetched, and keys the bucket does not have (404)."""

    fetched: list[FetchedFile] = field(default_factory=list)
    missing: list[FetchItem] = field(default_factory=list)


class _QuietFetchThreads(logging.Filter):
    """Drops httpx's INFO line per request when it comes from a fetch thread.

    A dataset is thousands of GETs; one log line each would flood the job's log (and the
    backend, when a handler forwards records). Other httpx users keep their lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno <= logging.INFO and (record.threadName or "").startswith(_THREAD_PREFIX)
        )


logging.getLogger("httpx").addFilter(_QuietFetchThreads())


class _Missing(Exception):
    """The object does not exist (404)."""


class ObjectFetcher:
    """Fetches batches of objects of one storage with `workers` parallel signed GETs.

    `in_staged_folder=True` promises that every target lies in a folder that is discarded on
    failure and revealed only once complete (`staging.StagedFolder`, a cache entry's partial
    tree); files are then written under their final name directly.
    """

    def __init__(
        self,
        storage: S3Storage,
        *,
        workers: int | None = None,
        max_attempts: int = 5,
        backoff: float = 0.2,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        in_staged_folder: bool = False,
    ) -> None:
        self.storage = storage
        self.in_staged_folder = in_staged_folder
        self.workers = workers or storage.workers
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._timeout = timeout or httpx.Timeout(
            storage.read_timeout, connect=storage.connect_timeout
        )
        self._transport = transport
        self._signer = S3SigV4Auth(storage.credentials(), "s3", storage.settings.region)

    def fetch(
        self, items: Sequence[FetchItem], progress: TransferProgress | None = None
    ) -> FetchReport:
        """Fetch every item; returns the report. Raises NetworkError when S3 keeps failing.

        On any exception every worker stops at its next file and no partial file is left behind.
        """
        report = FetchReport()
        if not items:
            return report
        # Create every folder once up front, not once per file.
        for folder in {item.path.parent for item in items}:
            folder.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        lock = threading.Lock()
        limits = httpx.Limits(max_connections=self.workers, max_keepalive_connections=self.workers)
        with (
            httpx.Client(timeout=self._timeout, limits=limits, transport=self._transport) as client,
            ThreadPoolExecutor(
                max_workers=min(self.workers, len(items)), thread_name_prefix=_THREAD_PREFIX
            ) as pool,
        ):

            def run(item: FetchItem) -> None:
                if stop.is_set():
                    return
                try:
                    fetched = self._fetch_one(client, item, stop)
                except _Missing:
                    with lock:
                        report.missing.append(item)
                    return
                with lock:
                    report.fetched.append(fetched)
                if progress is not None:
                    progress.file_done(fetched.size)

            futures: list[Future[None]] = [pool.submit(run, item) for item in items]
            try:
                done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
                for future in done:
                    error = future.exception()
                    if error is not None:
                        raise error
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
        return report

    # -- one object -----------------------------------------------------------------------------

    def _url(self, item: FetchItem) -> str:
        # Path-style addressing; the key is percent-encoded once, as S3's SigV4 expects.
        return f"{self.storage.endpoint}/{item.bucket}/{quote(item.key, safe='/~')}"

    def _signed_headers(self, url: str) -> dict[str, str]:
        request = AWSRequest(method="GET", url=url)
        self._signer.add_auth(request)
        return dict(request.headers.items())

    def _fetch_one(
        self, client: httpx.Client, item: FetchItem, stop: threading.Event
    ) -> FetchedFile:
        url = self._url(item)
        action = f"downloading s3://{item.bucket}/{item.key}"
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            if stop.is_set():
                raise NetworkError(f"stopped before {action}: another file failed")
            try:
                return self._get(client, url, item)
            except _Missing:
                raise
            except _Retryable as problem:
                last_problem = str(problem)
            except httpx.TransportError as error:
                last_problem = f"{type(error).__name__}: {error}"
            if attempt < self.max_attempts:
                # Full jitter: parallel workers that failed together do not retry together.
                time.sleep(random.uniform(0, self.backoff * 2 ** (attempt - 1)))
        raise unreachable_error(
            self.storage.settings, f"{last_problem} (after {self.max_attempts} attempts)", action
        )

    def _get(self, client: httpx.Client, url: str, item: FetchItem) -> FetchedFile:
        # str paths and one write per small object: per-file overhead is what limits throughput.
        target = str(item.path)
        # Inside a staged folder the folder is the unit that appears whole, so a file can be
        # written in place; elsewhere it goes to a temporary name first. Creating a directory
        # entry is the costly part on a busy ext4 (DEPENDENCY_NOTES.md): one per file, not two.
        partial = target if self.in_staged_folder else f"{target}.{threading.get_ident()}.part"
        try:
            with client.stream("GET", url, headers=self._signed_headers(url)) as response:
                status = response.status_code
                if status != 200:
                    response.read()
                    self._raise_for_status(status, response.text, item)
                etag = response.headers.get("etag", "").strip('"')
                expected = response.headers.get("content-length")
                digest = hashlib.md5(usedforsecurity=False) if _PLAIN_MD5_ETAG.match(etag) else None
                size = 0
                with open(partial, "wb") as out:
                    if expected is not None and int(expected) <= _WHOLE_BODY_LIMIT:
                        chunks: Iterable[bytes] = (response.read(),)
                    else:
                        chunks = response.iter_bytes(_CHUNK)
                    for chunk in chunks:
                        out.write(chunk)
                        size += len(chunk)
                        if digest is not None:
                            digest.update(chunk)
            if expected is not None and int(expected) != size:
                raise _Retryable(f"short read: {size} of {expected} bytes")
            if digest is not None and digest.hexdigest() != etag:
                raise _Retryable(f"checksum mismatch: MD5 {digest.hexdigest()} != ETag {etag}")
            if partial != target:
                os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        return FetchedFile(item=item, size=size, etag=etag)

    def _raise_for_status(self, status: int, body: str, item: FetchItem) -> None:
        code_match = re.search(r"<Code>([^<]+)</Code>", body)
        code = code_match.group(1) if code_match else f"HTTP {status}"
        if status == 404 and code in ("NoSuchKey", "HTTP 404"):
            raise _Missing(item.key)
        if status == 404 and code == "NoSuchBucket":
            # Reuse the boto error translation: it knows which variable names the bucket.
            missing_bucket = ClientError({"Error": {"Code": code, "Message": code}}, "GetObject")
            raise self.storage.error(
                missing_bucket, action=f"downloading {item.key}", bucket=item.bucket
            )
        if status in (401, 403):
            raise auth_error(
                self.storage.settings, code, f"downloading s3://{item.bucket}/{item.key}"
            )
        if status in _RETRY_STATUSES:
            raise _Retryable(f"{code} (HTTP {status})")
        raise TrainerSDKError(
            f"S3 at {self.storage.endpoint} answered {code} (HTTP {status}) for "
            f"s3://{item.bucket}/{item.key}"
        )


class _Retryable(Exception):
    """A failure worth another attempt (5xx, throttling, short read, checksum mismatch)."""
