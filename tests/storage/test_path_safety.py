"""Path safety: properties over generated names, plus the link checks."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer_sdk.errors import DatasetError
from trainer_sdk.storage.safety import safe_relative_path, safe_relative_str
from trainer_sdk.storage.staging import StagedFolder

_ROOT = "/srv/dataset"

segments = st.one_of(
    st.sampled_from(["..", ".", "", "a", "b.jpg", "C:", "..\\x", "/"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/"), max_size=8),
)


@given(st.lists(segments, min_size=1, max_size=6), st.booleans())
def test_accepted_names_always_stay_inside_the_folder(parts: list[str], absolute: bool) -> None:
    name = ("/" if absolute else "") + "/".join(parts)
    try:
        relative = safe_relative_path(name, what="file_name")
    except DatasetError as error:
        assert "file_name" in str(error)
        return
    resolved = os.path.normpath(os.path.join(_ROOT, relative.as_posix()))
    assert resolved.startswith(_ROOT + "/")
    assert ".." not in relative.parts and not relative.is_absolute()


@given(st.lists(segments, min_size=1, max_size=6), st.booleans())
def test_the_fast_check_agrees_with_the_full_one(parts: list[str], absolute: bool) -> None:
    name = ("/" if absolute else "") + "/".join(parts)
    try:
        expected = safe_relative_path(name, what="x").as_posix()
    except DatasetError:
        with pytest.raises(DatasetError):
            safe_relative_str(name, what="x")
        return
    assert safe_relative_str(name, what="x") == expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../x.jpg", "'..'"),
        ("a/../../x.jpg", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x.jpg", "absolute"),
        ("a\\..\\x.jpg", "backslash"),
        ("a\x00b", "NUL"),
        ("./.", "names no file"),
    ],
)
def test_each_refusal_says_why(name: str, problem: str) -> None:
    with pytest.raises(DatasetError, match=problem):
        safe_relative_path(name, what="file_name of images[0]")


def test_harmless_names_are_normalised() -> None:
    assert safe_relative_path("./a//b/c.jpg", what="x") == PurePosixPath("a/b/c.jpg")
    assert safe_relative_path("..hidden.jpg", what="x") == PurePosixPath("..hidden.jpg")


def test_merging_never_follows_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    (dest / "real").mkdir(parents=True)
    (dest / "real" / "link").symlink_to(outside)
    with pytest.raises(DatasetError, match="link"), StagedFolder(dest) as stage:
        (stage / "real" / "link").mkdir(parents=True)
        (stage / "real" / "link" / "x.jpg").write_bytes(b"x")
    assert list(outside.iterdir()) == []


def test_staged_folder_appears_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "dataset"
    with pytest.raises(RuntimeError), StagedFolder(dest) as stage:
        (stage / "half.jpg").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == []
    with StagedFolder(dest) as stage:
        (stage / "a").mkdir()
        (stage / "a" / "whole.jpg").write_bytes(b"x")
    assert (dest / "a" / "whole.jpg").read_bytes() == b"x"
    assert os.listdir(tmp_path) == ["dataset"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"), StagedFolder(tmp_path / "file"):
        pass
