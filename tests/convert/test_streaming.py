"""The streaming reader: the JSON stream equals json.loads, every way of reading a file gives the
same bytes (nested, flat in memory, flat through temporary files, annotations after the images,
classes after the images), and problems in later batches keep their paths in the whole file."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from dice_builder import read_tree, to_flat, write_dataset
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_sdk.convert import InvalidDatasetError, convert_dataset, dice_reader, json_stream
from trainer_sdk.convert.json_stream import ArrayMember, JsonObjectStream, JsonStreamError

LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
RECORDS = st.dictionaries(st.sampled_from(["id", "file_name", "x", "annotations"]), VALUES)


def read_all(raw: bytes, keys: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for member in JsonObjectStream(io.BytesIO(raw), keys).members():
        if isinstance(member, ArrayMember):
            items: list[Any] = []
            for start, batch in member.batches():
                assert start == len(items)
                items += batch
            out[member.key] = items
        else:
            out[member.key] = member.value
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.text(max_size=8), VALUES, max_size=4),
    st.lists(RECORDS, max_size=30),
    st.sampled_from([None, 1, 2]),
    st.booleans(),
)
def test_stream_equals_json_loads(
    other: dict[str, Any], records: list[Any], indent: int | None, ascii_only: bool
) -> None:
    document = {**other, "images": records}
    raw = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()
    saved = json_stream.CHUNK
    json_stream.CHUNK = 7  # many refills, elements cut anywhere
    try:
        assert read_all(raw, frozenset({"images"})) == json.loads(raw)
    finally:
        json_stream.CHUNK = saved


@pytest.mark.parametrize(
    "raw",
    [b'{"images": [1, 2,]}', b'{"images": [1] ', b'{"a": 1} x', b'{"images": [{"id": 1]}'],
)
def test_stream_refuses_what_json_loads_refuses(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    with pytest.raises(JsonStreamError):
        read_all(raw, frozenset({"images"}))
    with pytest.raises(JsonStreamError, match="an object"):
        read_all(b"[1]", frozenset({"images"}))


def document(count: int, seed: int = 3) -> dict[str, Any]:
    rnd = random.Random(seed)
    images = []
    for n in range(count):
        anns = [
            {
                "id": n * 10 + k,
                "class_id": rnd.choice([1, 2, 7]),
                "bbox": [rnd.uniform(-5, 90), rnd.uniform(-5, 90), rnd.uniform(0, 40), 9.5],
                "iscrowd": int(rnd.random() < 0.05),
            }
            for k in range(rnd.randint(0, 4))
        ]
        split = rnd.choice([None, None, None, "val", "test"])
        image = {"id": n, "file_name": f"d{n % 5}/{n}.jpg", "width": 100, "height": 80}
        if split:
            image["split"] = split
        images.append({**image, "annotations": anns})
    return {
        "task_type": "detection",
        "classes": [{"id": 7, "name": "c"}, {"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "images": images,
    }


def convert(root: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    result = convert_dataset(root, "dice", "yolo", {"train_ratio": 0.6, "val_ratio": 0.3})
    report = result.report.to_dict()
    report.pop("layout")
    return read_tree(root), report


def test_every_way_of_reading_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_stream, "CHUNK", 512)
    nested = document(400)
    expected = convert(write_dataset(tmp_path / "nested", nested))
    assert expected[1]["objects"] > 300

    flat = to_flat(nested)
    assert convert(write_dataset(tmp_path / "flat", flat)) == expected

    # Annotations after the images, classes first: images are converted as read, then the
    # conversion starts again grouping.
    late = {
        "classes": nested["classes"],
        "task_type": "detection",
        "images": [{**i, "annotations": []} for i in nested["images"]],
        "annotations": [
            {**a, "image_id": i["id"]} for i in nested["images"] for a in i["annotations"]
        ],
    }
    assert convert(write_dataset(tmp_path / "late", late)) == expected

    # The classes and the task after the images: the images wait, grouped.
    last = {"images": nested["images"], "classes": nested["classes"], "task_type": "detection"}
    assert convert(write_dataset(tmp_path / "last", last)) == expected

    # A flat file too large for memory: grouped through temporary files.
    monkeypatch.setattr(dice_reader, "SPILL_RECORDS", 37)
    monkeypatch.setattr(dice_reader, "BUCKETS", 5)
    spilled = write_dataset(tmp_path / "spilled", flat)
    assert convert(spilled) == expected
    assert not [p for p in spilled.iterdir() if p.name.startswith(".")]


def test_problems_in_later_batches_keep_their_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_stream, "CHUNK", 256)
    doc = document(600)
    doc["images"][517]["annotations"] = [{"id": 1, "class_id": 1, "bbox": [1, 2, 3]}]
    doc["images"][598]["width"] = 0
    root = write_dataset(tmp_path / "ds", doc)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    assert [p.path for p in caught.value.problems] == [
        "$.images[517].annotations[0].bbox",
        "$.images[598].width",
    ]
    flat = to_flat(document(600))
    flat["annotations"][700]["bbox"] = "box"
    flat["annotations"][701]["image_id"] = 10_000
    write_dataset(tmp_path / "flat", flat)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(tmp_path / "flat", task_type="detection")
    assert [p.path for p in caught.value.problems] == ["$.annotations[700].bbox"]
    flat["annotations"][700]["bbox"] = [1, 1, 2, 2]
    write_dataset(tmp_path / "flat", flat)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(tmp_path / "flat", task_type="detection")
    assert [p.path for p in caught.value.problems] == ["$.annotations[701].image_id"]


def test_duplicates_are_found_without_holding_the_names(tmp_path: Path) -> None:
    doc = document(300)
    doc["images"][250]["id"] = 17
    doc["images"][280]["file_name"] = doc["images"][3]["file_name"].replace(".jpg", ".png")
    root = write_dataset(tmp_path / "ds", doc)
    with pytest.raises(InvalidDatasetError) as caught:
        convert_dataset(root, task_type="detection")
    listed = {p.path: p.message for p in caught.value.problems}
    assert set(listed) == {"$.images[250].id", "$.images[280].file_name"}
    assert "is also $.images[17]" in listed["$.images[250].id"]
    assert "$.images[3]" in listed["$.images[280].file_name"]
    assert not (root / "labels").exists()
