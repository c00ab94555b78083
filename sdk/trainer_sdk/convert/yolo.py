"""The YOLO (Ultralytics) target.

Layout, in the output folder (by default the dataset folder itself, because Ultralytics finds a
label by replacing the last `images/` of the image path with `labels/`)::

    images/...               the dataset's images (a symlink when the output is elsewhere)
    labels/<path>.txt        one per image, mirroring images/<path>.<ext>; empty for negatives
    train.txt val.txt        image lists (./images/<path>, relative to the list), sorted
    test.txt                 only when the test split is not empty
    data.yaml                path, train, val, [test], nc, names, [kpt_shape, flip_idx]

Two kinds of image path need more than that, because Ultralytics reads the lists and finds the
labels with plain string rules:

- a `file_name` with an `images/` folder of its own (`sub/images/a.jpg`): Ultralytics replaces
  the LAST `/images/` of the path, so it looks for `images/sub/labels/a.txt`. The label is
  written to `labels/sub/images/a.txt` like every other, and `images/sub/labels` is made a
  relative symlink to `labels/sub/images`, made once the labels are published (a real file or
  folder of the dataset there is left alone and the conversion ends with a DatasetError);
- a folder whose name ends in `.` (`scan./a.jpg`): a list line `./images/scan./a.jpg` contains
  `./` twice, and Ultralytics releases that replaced every `./` with the list's folder broke
  it. Such a line is written as an absolute path instead (data.yaml's `path` is absolute too).

Classification uses the folder layout Ultralytics trains on instead (`train/<class>/...`, see
`classification`), with no data.yaml: Ultralytics takes the folder itself as `data`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from trainer_sdk.convert.classification import write_class_folders
from trainer_sdk.convert.dice_reader import IMAGES_FOLDER
from trainer_sdk.convert.job import ConversionJob
from trainer_sdk.convert.pose import PoseLayout
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging
from trainer_sdk.errors import DatasetError

__all__ = ["DATA_YAML", "LABELS", "publish_labels", "write_yolo"]

DATA_YAML = "data.yaml"
LABELS = "labels"


def write_yolo(job: ConversionJob) -> Path | None:
    """Convert and publish classification (the folder tree); the label-file tasks are written
    as the file is read (`conversion_run`) and published by `publish_labels`."""
    if job.task != "classification":
        raise ValueError(f"{job.task} labels are streamed: use publish_labels")
    with Staging(job.output_dir) as staging:
        entries = write_class_folders(job, staging)
        stale = tuple(s for s in SPLITS if s not in entries)
        if entries:
            staging.publish(entries, remove=stale)
    return None


def publish_labels(
    staging: Staging,
    output_dir: Path,
    entries: list[str],
    names: list[str],
    splits: Mapping[str, Sequence[str]],
    layout: PoseLayout | None,
) -> Path:
    """Stage the lists and data.yaml beside the staged `labels/` (and `entries`, such as the
    images link) and publish them; returns the path of data.yaml."""
    staged = [
        LABELS,
        *entries,
        *_write_lists_and_yaml(output_dir, staging.root, names, splits, layout),
    ]
    staging.publish(staged, remove=() if "test.txt" in staged else ("test.txt",))
    _make_links(_label_links(output_dir, [rel for split in SPLITS for rel in splits[split]]))
    return output_dir / DATA_YAML


# Ultralytics' rule (ultralytics.data.utils.img2label_paths): the last `/images/` of an image's
# path becomes `/labels/`.
_ULTRALYTICS_IMAGES = "/images/"


def _label_links(output_dir: Path, rels: Sequence[str]) -> dict[Path, str]:
    """Symlink -> relative target that make Ultralytics find the labels of images whose
    `file_name` has an `images/` folder inside (in the images folder as published: the
    dataset's own, or the one the output's `images` link points to)."""
    links: dict[Path, str] = {}
    images_real = (output_dir / IMAGES_FOLDER).resolve()
    labels_real = output_dir.resolve() / LABELS
    for rel in rels:
        cut = ("/" + rel).rfind(_ULTRALYTICS_IMAGES)
        if cut < 0:
            continue
        prefix = rel[:cut]  # "" or "a/b/": the folders before the inner images/
        link = images_real / prefix / LABELS
        if link in links:
            continue
        if os.path.lexists(link) and not link.is_symlink():
            raise DatasetError(
                f"images/{prefix}{LABELS} exists in the dataset; Ultralytics would look there "
                f"for the labels of images/{rel} (it replaces the last /images/ of a path "
                "with /labels/). Rename the inner images/ folder, or move that folder away."
            )
        target = labels_real / prefix / _ULTRALYTICS_IMAGES.strip("/")
        links[link] = os.path.relpath(target, link.parent)
    return links


def _make_links(links: dict[Path, str]) -> None:
    """Create (or re-point) the symlinks of `_label_links`, each atomically."""
    for link, target in sorted(links.items()):
        if link.is_symlink() and os.readlink(link) == target:
            continue
        staged = link.with_name(f".{link.name}.trainer-sdk-convert")
        if os.path.lexists(staged):
            staged.unlink()
        os.symlink(target, staged, target_is_directory=True)
        os.replace(staged, link)


def _list_line(output_dir: Path, rel: str) -> str:
    """An image's line in train.txt: relative to the list, absolute when `./` occurs inside."""
    line = f"./{IMAGES_FOLDER}/{rel}"
    if "./" in line[2:]:
        return str(output_dir.resolve() / IMAGES_FOLDER / rel)
    return line


def _write_lists_and_yaml(
    output_dir: Path,
    root: Path,
    names: list[str],
    splits: Mapping[str, Sequence[str]],
    layout: PoseLayout | None,
) -> list[str]:
    """Stage train/val/test.txt (`splits`: image paths relative to images/) and data.yaml
    (last); returns their names."""
    entries: list[str] = []
    lists: dict[str, str] = {}
    for split in SPLITS:
        if splits[split] or split != "test":
            name = f"{split}.txt"
            text = "".join(_list_line(output_dir, rel) + "\n" for rel in splits[split])
            (root / name).write_text(text, encoding="utf-8")
            lists[split] = name
            entries.append(name)
    data: dict[str, Any] = {"path": str(output_dir.resolve()), **lists}
    data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    if layout is not None:
        data["kpt_shape"] = [layout.count, 3]
        if layout.flip_idx is not None:
            data["flip_idx"] = layout.flip_idx
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
    (root / DATA_YAML).write_text(text, encoding="utf-8")
    entries.append(DATA_YAML)
    return entries
