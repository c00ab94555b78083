"""The node-wide dataset cache under `DATASET_CACHE_DIR`, shared by the jobs of one node.

Layout, one entry per dataset version (`DATASET_VERSION_HASH`)::

    DATASET_CACHE_DIR/
        .locks/<entry>.fill   exclusive while an entry is checked or filled (one download per
                              version, however many jobs ask at once)
        .locks/<entry>.use    shared by every job using the entry; eviction needs it exclusive
        .locks/.evict         one evictor at a time
        .trash/               entries being deleted
        <entry>/tree/...      the dataset files (read-only, 0444)
        <entry>/manifest.json every file with its size, ETag, mtime and SHA-256
        <entry>/COMPLETE      written last: the SHA-256 of manifest.json
        <entry>/verified.json each file's inode change time and link count when last verified

An entry counts only when COMPLETE exists and matches the manifest and every file is intact;
otherwise it is downloaded again. Jobs get a tree of hard links into the entry (instant, no extra
space), or copies when links are impossible (another filesystem).

Integrity. A job's view shares the cache's inodes, and the files are read-only (0444): a job
running as an ordinary user can neither write them nor make them writable (chmod needs the
owner). What a job running as root (or as the owner) can still do is caught before the next job
is served: every hit checks, for every file, what one `lstat` gives (type, size, mtime, and the
inode change time and link count recorded at the last verification). Nothing writes or chmods a
file, or puts its mtime back with `utime`, without moving its ctime, so an unchanged ctime proves
the file unchanged. A changed ctime cannot tell a write from a harmless link or unlink (another
job's view created or deleted), and a copied cache has new ctimes everywhere: such files are read
again and compared with their SHA-256 in the sealed manifest; a mismatch means a refill. Locks are `flock`s: the kernel drops them when a job dies, so a crashed job can
neither block the node nor pin an entry forever. Above `DATASET_CACHE_MAX_GB`, the least recently
used entries that no job holds are evicted.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from trainer_sdk.errors import ConfigError, DatasetError
from trainer_sdk.storage.datasets import ManifestEntry
from trainer_sdk.storage.progress import format_bytes
from trainer_sdk.storage.safety import safe_relative_str
from trainer_sdk.storage.settings import CacheSettings
from trainer_sdk.storage.staging import StagedFolder

__all__ = ["CacheEntry", "CacheResult", "DatasetCache", "entry_name"]

logger = logging.getLogger("trainer_sdk.storage")

_MANIFEST = "manifest.json"
_COMPLETE = "COMPLETE"
_TREE = "tree"
_LAST_USED = "last_used"
_VERIFIED = "verified.json"
_MANIFEST_FORMAT = 2  # 2: every file's SHA-256
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
# Version hashes that are safe folder names are used as they are (readable on the node);
# anything else is hashed.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Errors of os.link that mean "links are impossible here", not "something is wrong".
_NO_LINK_ERRNOS = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES})

Outcome = Literal["hit", "miss", "refill"]
Fill = Callable[[Path], list[ManifestEntry]]


def entry_name(version_hash: str) -> str:
    """The entry folder name of a version hash (the hash itself when it is a safe name)."""
    if not isinstance(version_hash, str) or not version_hash.strip():
        raise ConfigError(
            f"dataset_version_hash is {version_hash!r}; pass the job's DATASET_VERSION_HASH "
            "(the cache key of the dataset version)"
        )
    if _SAFE_NAME.match(version_hash):
        return version_hash
    return "h-" + hashlib.sha256(version_hash.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class CacheResult:
    """What `materialise` did: the destination, and whether the entry was a hit, a first
    download (miss) or replaced a damaged one (refill)."""

    path: str
    outcome: Outcome
    entry: str


@dataclass(frozen=True)
class CacheEntry:
    """One complete entry as seen by eviction: name, bytes, last use (epoch seconds)."""

    name: str
    total_bytes: int
    last_used: float


class _Flock:
    """An `flock` on a file under `.locks/`; the file itself is never deleted (that would race)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, mode: int, *, blocking: bool = True) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, mode | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock

    @property
    def held(self) -> bool:
        return self._fd is not None


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # other jobs of the node read it
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class DatasetCache:
    """The dataset cache of one node; one instance per job (it holds the job's use locks).

    `close()` releases the entries this job uses (they become evictable); process exit does too.
    """

    def __init__(self, settings: CacheSettings) -> None:
        self.settings = settings
        self.root = Path(settings.directory)
        self._held: dict[str, _Flock] = {}

    # -- public ---------------------------------------------------------------------------------

    def materialise(
        self,
        version_hash: str,
        dest_dir: str | os.PathLike[str],
        fill: Fill,
        *,
        dataset_id: str,
        snapshot_id: str | None = None,
    ) -> CacheResult:
        """Give `dest_dir` the tree of `version_hash`, calling `fill(folder)` on a miss.

        `fill` downloads the dataset into the folder it is given and returns its manifest.
        """
        name = entry_name(version_hash)
        self._prepare_root()
        entry = self.root / name
        fill_lock = _Flock(self._lock_path(name, "fill"))
        if not fill_lock.acquire(fcntl.LOCK_EX, blocking=False):
            logger.info("dataset cache: waiting for another job to finish version %s", version_hash)
            fill_lock.acquire(fcntl.LOCK_EX)
        try:
            manifest, problem = self._verified(entry)
            outcome: Outcome = "hit"
            if manifest is None:
                outcome = "refill" if entry.exists() else "miss"
                if outcome == "refill":
                    logger.warning(
                        "dataset cache: entry %s is damaged (%s); downloading it again",
                        name,
                        problem,
                    )
                self._discard(entry)
                manifest = self._fill(entry, fill, version_hash, dataset_id, snapshot_id)
            self._hold(name)
            (entry / _LAST_USED).touch()  # the LRU clock
            files = manifest["files"]
            # Under the lock: the links move the files' ctimes, recorded as verified right after.
            self._link_tree(entry / _TREE, files, Path(dest_dir))
            self._record_verified(entry, files)
        finally:
            fill_lock.release()
        logger.info(
            "dataset cache %s: version %s (%d files, %s) at %s",
            outcome,
            version_hash,
            len(files),
            format_bytes(manifest["total_bytes"]),
            dest_dir,
        )
        if outcome != "hit":
            try:
                self.evict()
            except OSError as error:
                # The job has its dataset; a cache that cannot shrink is the node's problem.
                logger.warning("dataset cache: eviction failed (%s); the cache may grow", error)
        return CacheResult(path=str(Path(dest_dir)), outcome=outcome, entry=name)

    def entries(self) -> list[CacheEntry]:
        """The complete entries, least recently used first."""
        found: list[CacheEntry] = []
        if not self.root.is_dir():
            return found
        for child in self.root.iterdir():
            if child.name.startswith(".") or not (child / _COMPLETE).exists():
                continue
            manifest = self._read_manifest(child)
            if manifest is None:
                continue
            try:
                last_used = (child / _LAST_USED).stat().st_mtime
            except OSError:
                last_used = 0.0
            found.append(CacheEntry(child.name, int(manifest["total_bytes"]), last_used))
        return sorted(found, key=lambda e: (e.last_used, e.name))

    def evict(self) -> list[str]:
        """Delete least recently used entries no job uses until the cache fits its limit.

        Returns the evicted entry names. Entries in use (by any job, this one included) and
        entries being filled are never touched.
        """
        self._prepare_root()
        evict_lock = _Flock(self._lock_path("", "evict"))
        evict_lock.acquire(fcntl.LOCK_EX)
        try:
            self._sweep_leftovers()
            entries = self.entries()
            total = sum(e.total_bytes for e in entries)
            evicted: list[str] = []
            for candidate in entries:
                if total <= self.settings.max_bytes:
                    break
                if self._delete_if_unused(candidate.name):
                    evicted.append(candidate.name)
                    total -= candidate.total_bytes
            if total > self.settings.max_bytes:
                logger.warning(
                    "dataset cache holds %s, above its limit of %s, but the rest is in use; raise "
                    "DATASET_CACHE_MAX_GB or free space on the node",
                    format_bytes(total),
                    format_bytes(self.settings.max_bytes),
                )
            for name in evicted:
                logger.info("dataset cache: evicted %s", name)
            return evicted
        finally:
            evict_lock.release()

    def release(self, version_hash: str) -> None:
        """Stop using one version (it becomes evictable)."""
        held = self._held.pop(entry_name(version_hash), None)
        if held is not None:
            held.release()

    def close(self) -> None:
        """Release every entry this job uses."""
        for held in self._held.values():
            held.release()
        self._held.clear()

    def __repr__(self) -> str:
        return f"DatasetCache({str(self.root)!r}, max={format_bytes(self.settings.max_bytes)})"

    # -- entry state ----------------------------------------------------------------------------

    def _prepare_root(self) -> None:
        try:
            (self.root / ".locks").mkdir(parents=True, exist_ok=True)
            (self.root / ".trash").mkdir(exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"cannot create the dataset cache at {self.root} ({error.strerror}); point "
                "DATASET_CACHE_DIR at a writable folder"
            ) from None

    def _lock_path(self, name: str, kind: str) -> Path:
        return self.root / ".locks" / (f"{name}.{kind}" if name else f".{kind}")

    def _read_manifest(self, entry: Path) -> dict[str, Any] | None:
        try:
            raw = (entry / _MANIFEST).read_bytes()
            seal = (entry / _COMPLETE).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if hashlib.sha256(raw).hexdigest() != seal:
            return None
        try:
            manifest = json.loads(raw)
        except json.JSONDecodeError:
            return None
        if not isinstance(manifest, dict) or manifest.get("format") != _MANIFEST_FORMAT:
            return None
        return manifest

    def _verified(self, entry: Path) -> tuple[dict[str, Any] | None, str]:
        """The manifest if the entry is complete and intact, else None and the reason."""
        if not (entry / _COMPLETE).exists():
            return None, "no completion marker"
        manifest = self._read_manifest(entry)
        if manifest is None:
            return None, "manifest missing or not matching its completion marker"
        files = manifest["files"]
        ctimes, links = self._read_verified(entry, len(files))
        tree = str(entry / _TREE)
        for index, record in enumerate(files):
            # Strings, not Paths: a hit checks thousands of files and must stay fast.
            relative = safe_relative_str(record["path"], what="a path in the cache manifest")
            path = os.path.join(tree, relative)
            try:
                info = os.lstat(path)
            except OSError:
                return None, f"{relative} is missing"
            if not stat.S_ISREG(info.st_mode):
                return None, f"{relative} is not a regular file"
            if info.st_size != record["size"] or info.st_mtime_ns != record["mtime_ns"]:
                return None, f"{relative} was modified (size or mtime differs)"
            if info.st_mode & 0o222:
                return None, f"{relative} was made writable"
            if info.st_ctime_ns == ctimes[index] and info.st_nlink == links[index]:
                continue  # untouched since it was last verified
            try:
                with open(path, "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError:
                return None, f"{relative} cannot be read"
            if digest != record["sha256"]:
                return None, f"{relative} was modified (its content differs from its SHA-256)"
        return manifest, ""

    @staticmethod
    def _read_verified(entry: Path, count: int) -> tuple[list[int], list[int]]:
        """Each file's ctime and link count when last verified (-1: unknown, verify by digest)."""
        unknown = [-1] * count
        try:
            state = json.loads((entry / _VERIFIED).read_bytes())
            ctimes, links = state["ctime_ns"], state["nlink"]
        except (OSError, ValueError, TypeError, KeyError):
            return unknown, unknown
        if not (isinstance(ctimes, list) and isinstance(links, list)):
            return unknown, unknown
        if len(ctimes) != count or len(links) != count:
            return unknown, unknown
        return ctimes, links

    @staticmethod
    def _record_verified(entry: Path, files: list[dict[str, Any]]) -> None:
        """Record each file's ctime and link count as verified now (under the fill lock).

        A hint, not a seal: lost or damaged, it only costs the next hit a digest of each file.
        """
        tree = str(entry / _TREE)
        ctimes: list[int] = []
        links: list[int] = []
        for record in files:
            info = os.lstat(os.path.join(tree, record["path"]))
            ctimes.append(info.st_ctime_ns)
            links.append(info.st_nlink)
        data = json.dumps({"ctime_ns": ctimes, "nlink": links}, separators=(",", ":"))
        fd, temporary = tempfile.mkstemp(prefix=f".{_VERIFIED}.", dir=entry)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(data)
            os.replace(temporary, entry / _VERIFIED)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _fill(
        self,
        entry: Path,
        fill: Fill,
        version_hash: str,
        dataset_id: str,
        snapshot_id: str | None,
    ) -> dict[str, Any]:
        entry.mkdir(parents=True)
        partial = entry / f"{_TREE}.partial"
        partial.mkdir()
        try:
            files = fill(partial)
            records: list[dict[str, Any]] = []
            for file in files:
                path = partial / file.path
                # Read-only, so a trainer writing into its (linked) dataset cannot edit the cache.
                os.chmod(path, _READ_ONLY)
                info = path.lstat()
                with open(path, "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
                if info.st_size != file.size:
                    raise DatasetError(
                        f"{file.path} has {info.st_size} bytes on disk but {file.size} were "
                        "downloaded; the dataset was not cached"
                    )
                records.append(
                    {
                        "path": file.path,
                        "size": file.size,
                        "etag": file.etag,
                        "mtime_ns": info.st_mtime_ns,
                        "sha256": digest,
                    }
                )
            os.rename(partial, entry / _TREE)
            manifest = {
                "format": _MANIFEST_FORMAT,
                "version_hash": version_hash,
                "dataset_id": dataset_id,
                "snapshot_id": snapshot_id,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "file_count": len(records),
                "total_bytes": sum(file.size for file in files),
                "files": records,
            }
            raw = json.dumps(manifest, indent=None, separators=(",", ":")).encode("utf-8")
            _write_atomically(entry / _MANIFEST, raw)
            # Written last: an entry without it, whatever else it holds, is not a cache entry.
            _write_atomically(entry / _COMPLETE, hashlib.sha256(raw).hexdigest().encode("ascii"))
        except BaseException:
            self._discard(entry)
            raise
        return manifest

    def _discard(self, entry: Path) -> None:
        """Move an entry folder to the trash (one rename), then delete it."""
        if not os.path.lexists(entry):
            return
        trash = Path(tempfile.mkdtemp(prefix=f"{entry.name}-", dir=self.root / ".trash"))
        os.rename(entry, trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)

    def _hold(self, name: str) -> None:
        if name in self._held:
            return
        use = _Flock(self._lock_path(name, "use"))
        use.acquire(fcntl.LOCK_SH)
        self._held[name] = use

    def _delete_if_unused(self, name: str) -> bool:
        fill_lock = _Flock(self._lock_path(name, "fill"))
        if not fill_lock.acquire(fcntl.LOCK_EX, blocking=False):
            return False  # being filled or checked right now
        try:
            use_lock = _Flock(self._lock_path(name, "use"))
            if not use_lock.acquire(fcntl.LOCK_EX, blocking=False):
                return False  # some job uses it
            try:
                self._discard(self.root / name)
            finally:
                use_lock.release()
        finally:
            fill_lock.release()
        return True

    def _sweep_leftovers(self) -> None:
        """Delete trash and half-filled entries left by jobs that died."""
        for leftover in (self.root / ".trash").iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        for child in self.root.iterdir():
            if child.name.startswith(".") or (child / _COMPLETE).exists():
                continue
            fill_lock = _Flock(self._lock_path(child.name, "fill"))
            if fill_lock.acquire(fcntl.LOCK_EX, blocking=False):
                try:
                    if not (child / _COMPLETE).exists():
                        self._discard(child)
                finally:
                    fill_lock.release()

    # -- the job's view -------------------------------------------------------------------------

    def _link_tree(self, tree: Path, files: list[dict[str, Any]], dest: Path) -> None:
        source_root = str(tree)
        with StagedFolder(dest) as stage:
            target_root = str(stage)
            made: set[str] = set()
            link = True
            for record in files:
                # Checked again here: the manifest lives in a folder other jobs can write.
                relative = safe_relative_str(record["path"], what="a path in the cache manifest")
                target = os.path.join(target_root, relative)
                parent = os.path.dirname(target)
                if parent not in made:
                    os.makedirs(parent, exist_ok=True)
                    made.add(parent)
                source = os.path.join(source_root, relative)
                if link:
                    try:
                        os.link(source, target)
                        continue
                    except OSError as error:
                        if error.errno not in _NO_LINK_ERRNOS:
                            raise
                        link = False
                        logger.info(
                            "dataset cache: cannot hard-link into %s (%s); copying instead",
                            dest,
                            error.strerror,
                        )
                shutil.copyfile(source, target)
