"""Writing small files in a helper process, so that writing overlaps the caller's own work.

Threads cannot overlap file creation with the formatting of the labels: every `open`, `write`
and `close` hands the GIL back and forth, and a thread that wants it back while the main thread
computes waits for the whole switch interval (5 ms) each time. A helper process has its own
interpreter: the caller streams `(relative path, content)` batches to it through a pipe and goes
on formatting (and freeing the parsed file) while the helper creates the files with a few
threads of its own. The helper is plain standard library (`python -I -S`), needs nothing from
this package, and reports a failure (disk full, permission) on its standard error and exit code.
When no helper can be started (no usable `sys.executable`), or `USE_PROCESS` is off (the
default, see there), `write_files` in threads does the job once every batch is in.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from trainer_sdk.convert.file_writer import make_folders, write_files, writer_threads

__all__ = ["USE_PROCESS", "FileSink"]

USE_PROCESS = False
"""Off by default. The helper now gets the label files batch by batch as they are made (see
`conversion_run.LabelBuffer`), but on the shared 2-core machine this was measured on it does not
pay: 50,000 images on disk, median of 3, 5.00 s against 4.45 s for threads (load 0.9-1.7); on
tmpfs 3.93 s against 4.04 s (load 1.4-1.6); it saves ~10 MB of peak memory
(`python benchmarks/bench_convert.py --only convert --only convert-helper [--workdir /dev/shm]`).
File creation on that disk is kernel time that competes for the same two cores. Set it to True
where cores are idle, and measure."""

_HELPER = r"""
import os, pickle, sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
root, threads = sys.argv[1], int(sys.argv[2])
fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
def write(files):
    for rel, content in files:
        handle = os.open(rel, flags, 0o644, dir_fd=fd)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(handle, view):]
        finally:
            os.close(handle)
try:
    source = sys.stdin.buffer
    with ThreadPoolExecutor(threads) as pool:
        pending = deque()
        while True:
            head = source.read(8)
            if len(head) < 8:
                break
            batch = pickle.loads(source.read(int.from_bytes(head, "little")))
            step = max(1, -(-len(batch) // threads))
            pending += [pool.submit(write, batch[i:i + step]) for i in range(0, len(batch), step)]
            # At most a few batches in hand: a slow disk makes the caller wait (bounded memory).
            while pending and (len(pending) > 4 * threads or pending[0].done()):
                pending.popleft().result()
        for f in pending:
            f.result()
except FileExistsError as error:
    sys.stderr.write(f"EXISTS {error.filename}")
    sys.exit(3)
except BaseException as error:
    sys.stderr.write(f"{type(error).__name__}: {error}")
    sys.exit(1)
try:  # the helper's own peak memory (VmHWM starts afresh at exec, unlike ru_maxrss)
    with open("/proc/self/status") as status:
        sys.stderr.write(next((l.split()[1] for l in status if l.startswith("VmHWM:")), ""))
except OSError:
    pass
"""


class FileSink:
    """Takes batches of files to create under `root` (folders made up front by the caller's list
    of all relative paths) and guarantees, when `close()` returns, that all exist."""

    def __init__(
        self, root: str, relative_paths: Sequence[str], *, helper: bool | None = None
    ) -> None:
        make_folders(root, relative_paths)
        self.root = root
        self._buffered: list[tuple[str, bytes]] = []
        self.helper_peak_kb: int | None = None
        """Peak memory of the helper process (when one ran and could tell), after close()."""
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: IO[bytes] | None = None
        if helper is None:
            helper = USE_PROCESS and len(relative_paths) > 1024
        if helper and sys.executable:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _HELPER, root, str(writer_threads())],
                    stdin=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    close_fds=True,
                )
                self._pipe = self._process.stdin
            except OSError:
                self._process = None

    @property
    def has_helper(self) -> bool:
        """True when a helper process writes the files as they are sent."""
        return self._process is not None

    def __enter__(self) -> FileSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def send(self, files: list[tuple[str, bytes]]) -> None:
        """Hand over a batch (written now by the helper, or at `close()` by threads)."""
        if self._pipe is None:
            self._buffered += files
            return
        frame = pickle.dumps(files, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._pipe.write(len(frame).to_bytes(8, "little") + frame)
        except BrokenPipeError:
            self.close()  # raises with the helper's reason

    def close(self) -> None:
        """Wait until every file exists; raise OSError when they could not all be written."""
        if self._process is None:
            write_files(self.root, self._buffered)
            self._buffered = []
            return
        assert self._pipe is not None and self._process.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            self._pipe.close()
        reason = self._process.stderr.read().decode("utf-8", "replace").strip()
        code = self._process.wait()
        self._process.stderr.close()
        if code == 3 and reason.startswith("EXISTS "):
            rel = reason[len("EXISTS ") :]
            raise FileExistsError(errno.EEXIST, "the file exists", os.path.join(self.root, rel))
        if code != 0:
            raise OSError(f"writing the label files failed: {reason or f'exit code {code}'}")
        self.helper_peak_kb = int(reason) if reason.isdigit() else None
