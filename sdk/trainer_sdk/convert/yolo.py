"""The YOLO (Ultralytics) target.

Layout, in the output folder (by default the dataset folder itself, because Ultralytics finds a
label by replacing the last `images/` of the image path with `labels/`)::

    images/...               the dataset's images (a symlink when the output is elsewhere)
    labels/<path>.txt        one per image, mirroring images/<path>.<ext>; empty for negatives
    train.txt val.txt        image lists (./images/<path>, relative to the list), sorted
    test.txt                 only when the test split is not empty
    data.yaml                path, train, val, [test], nc, names, [kpt_shape, flip_idx]

Classification uses the folder layout Ultralytics trains on instead (`train/<class>/...`, see
`classification`), with no data.yaml: Ultralytics takes the folder itself as `data`.
"""

from __future__ import annotations

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
    return output_dir / DATA_YAML


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
            text = "".join(f"./{IMAGES_FOLDER}/{rel}\n" for rel in splits[split])
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
