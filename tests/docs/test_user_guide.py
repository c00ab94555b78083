"""docs/user-guide.md: its trainer passes trainer-lint, and its links lead somewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "user-guide.md"
# Pages other tools write (the linter's rule page); their generators own their existence.
WRITTEN_ELSEWHERE = {"rules.md"}


def test_the_guide_trainer_passes_trainer_lint(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    assert blocks, "the guide lost its train.py"
    train = tmp_path / "train.py"
    train.write_text(blocks[0])
    done = subprocess.run(
        [sys.executable, "-m", "trainer_tools.trainer_lint.cli", "--isolated", str(train)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_guide_links_resolve() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", GUIDE.read_text())
    assert links
    for link in links:
        if link.startswith("http") or Path(link).name in WRITTEN_ELSEWHERE:
            continue
        assert (GUIDE.parent / link).exists(), link


def test_the_guides_train_py_is_what_trainer_sdk_init_writes(tmp_path: Path) -> None:
    from trainer_tools.starter import write_starter

    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)
    write_starter(tmp_path)
    assert blocks[0] == (tmp_path / "train.py").read_text()
