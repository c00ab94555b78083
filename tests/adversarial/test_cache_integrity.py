"""The node's dataset cache never serves a file changed after the fact, and a job's view cannot
write into it. Jobs are real processes against a real S3 server (SeaweedFS on loopback)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import DATASETS_BUCKET, StorageEnv

from trainer_tools.services.seaweed import SeaweedServer

pytestmark = pytest.mark.s3

FILES = {
    "annotations.json": b'{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}]}',
    "images/a.jpg": bytes(range(256)) * 40,
    "images/b.jpg": b"\x00\x01" * 3000,
}
VICTIM = "images/a.jpg"

JOB = r"""
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from trainer_sdk import TrainerSDK

with TrainerSDK() as sdk:
    sdk.download_dataset_with_cache("snap", sys.argv[1], sys.argv[2], sys.argv[3])
"""


class Node:
    """One node: a cache folder, and jobs that materialise one dataset version from it."""

    def __init__(self, root: Path, env: dict[str, str], dataset_id: str) -> None:
        self.root = root
        self.env = env
        self.dataset_id = dataset_id
        self.version = f"v-{uuid.uuid4().hex[:8]}"
        self.script = root / "job.py"
        self.script.write_text(JOB)
        self.jobs = 0

    @property
    def cache(self) -> Path:
        return Path(self.env["DATASET_CACHE_DIR"])

    def cached(self, relative: str) -> Path:
        (entry,) = [p for p in self.cache.iterdir() if not p.name.startswith(".")]
        return entry / "tree" / relative

    def job(self, dest: Path | None = None) -> tuple[str, Path]:
        """Run a job; its outcome (hit, miss, refill) and its dataset folder."""
        self.jobs += 1
        dest = dest or self.root / f"job-{self.jobs}" / "dataset"
        work = self.root / f"work-{self.jobs}"
        work.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("CONFIG", "CALLBACK_TOKEN")},
            **self.env,
            "JOB_ID": str(self.jobs),
            "CALLBACK_URL": (work / "callbacks.jsonl").as_uri(),
            "WORK_DIR": str(work),
        }
        done = subprocess.run(
            [sys.executable, str(self.script), self.dataset_id, self.version, str(dest)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        found = re.search(r"dataset cache (hit|miss|refill)", done.stderr)
        assert found, done.stderr[-3000:]
        return found.group(1), dest


@pytest.fixture
def node(seaweed: SeaweedServer, storage_env: StorageEnv, tmp_path: Path) -> Node:
    dataset_id = f"integrity_{uuid.uuid4().hex[:8]}"
    client = seaweed.client()
    for name, body in FILES.items():
        client.put_object(Bucket=DATASETS_BUCKET, Key=f"datasets/{dataset_id}/{name}", Body=body)
    return Node(tmp_path, storage_env(), dataset_id)


def _overwrite_keeping_size_and_mtime(path: Path) -> None:
    """What a careless (root) trainer or a restore tool does: same size, mtime put back."""
    before = path.stat()
    with open(path, "r+b") as handle:  # root ignores the read-only mode
        handle.write(b"POISON")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_cached_file_changed_with_size_and_mtime_restored_is_not_a_hit(node: Node) -> None:
    assert node.job()[0] == "miss"
    _overwrite_keeping_size_and_mtime(node.cached(VICTIM))
    outcome, dest = node.job()
    assert outcome == "refill"
    assert _tree(dest) == FILES


def test_a_write_through_a_jobs_hard_link_is_never_served_to_the_next_job(node: Node) -> None:
    outcome, first = node.job()
    assert outcome == "miss"
    _overwrite_keeping_size_and_mtime(first / VICTIM)
    outcome, second = node.job()
    assert outcome == "refill"
    assert _tree(second) == FILES


def test_unchanged_entries_stay_hits_when_other_jobs_views_come_and_go(node: Node) -> None:
    """Views created and deleted (pods ending) change link counts and ctimes, not content."""
    assert node.job()[0] == "miss"
    outcome, second = node.job()
    assert outcome == "hit"
    shutil.rmtree(second)  # that pod ended
    outcome, third = node.job()
    assert outcome == "hit"
    assert _tree(third) == FILES


def test_a_copied_cache_is_verified_by_digest(node: Node, tmp_path: Path) -> None:
    """A cache restored or copied elsewhere has new ctimes everywhere: the digests decide."""
    assert node.job()[0] == "miss"
    copy = tmp_path / "copied-cache"
    shutil.copytree(node.cache, copy, symlinks=True)  # copy2: mtimes kept, ctimes new
    node.env["DATASET_CACHE_DIR"] = str(copy)
    outcome, dest = node.job()
    assert outcome == "hit"
    assert _tree(dest) == FILES
    _overwrite_keeping_size_and_mtime(node.cached(VICTIM))
    assert node.job()[0] == "refill"


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder another user can reach (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="cache-integrity-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(path: Path, action: str) -> int:
    """errno of `action` on `path` done by another user (0 when it succeeded)."""
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, try, report through the exit code
        code = 0
        try:
            os.setgid(65534)
            os.setuid(65534)
            if action == "write":
                with open(path, "r+b") as handle:
                    handle.write(b"x")
            else:
                os.chmod(path, 0o644)
        except OSError as error:
            code = error.errno or 255
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_a_job_view_is_read_only(node: Node, open_folder: Path) -> None:
    outcome, dest = node.job(open_folder / "dataset")
    assert outcome == "miss"
    view = dest / VICTIM
    assert view.stat().st_mode & 0o222 == 0, oct(view.stat().st_mode)
    assert _as_nobody(view, "write") != 0  # EACCES
    assert _as_nobody(view, "chmod") != 0  # EPERM: not the owner
    assert node.cached(VICTIM).read_bytes() == FILES[VICTIM]
    assert node.job()[0] == "hit"
