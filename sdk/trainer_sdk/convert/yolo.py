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

from pathlib import Path
from typing import Any

import yaml

from trainer_sdk.convert.classification import write_class_folders
from trainer_sdk.convert.dice_reader import IMAGES_FOLDER
from trainer_sdk.convert.job import ConversionJob, link_images_folder
from trainer_sdk.convert.pose import PoseLayout, pose_layout
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging
from trainer_sdk.convert.writer_process import FileSink
from trainer_sdk.convert.yolo_labels import build_labels

__all__ = ["DATA_YAML", "write_yolo"]

DATA_YAML = "data.yaml"
LABELS = "labels"


def write_yolo(job: ConversionJob) -> Path | None:
    """Convert and publish; returns the path of data.yaml (None for classification)."""
    if job.task == "classification":
        with Staging(job.output_dir) as staging:
            entries = write_class_folders(job, staging)
            stale = tuple(s for s in SPLITS if s not in entries)
            if entries:
                staging.publish(entries, remove=stale)
        return None
    layout = None
    if job.task == "pose":
        layout = pose_layout(job.dataset, job.problems)
        job.raise_problems()
        job.dataset.kpt_count = layout.count
    with Staging(job.output_dir) as staging:
        paths = [image.stem + ".txt" for image in job.images]
        with FileSink(str(staging.root / LABELS), paths) as sink:
            build_labels(job.dataset, job.images, job.task, job.problems, job.tally, sink.send)
            job.raise_problems()
            # The parsed file is no longer needed: free it while the label files are written.
            for image in job.dataset.images:
                image.annotations = []
            entries = [LABELS, *link_images_folder(job, staging.root)]
            entries += _write_lists_and_yaml(job, staging.root, layout)
            sink.close()
        staging.publish(entries, remove=() if "test.txt" in entries else ("test.txt",))
    return job.output_dir / DATA_YAML


def _write_lists_and_yaml(job: ConversionJob, root: Path, layout: PoseLayout | None) -> list[str]:
    """Stage train/val/test.txt and data.yaml (last); returns their names."""
    entries: list[str] = []
    lists: dict[str, str] = {}
    for split in SPLITS:
        if job.splits[split] or split != "test":
            name = f"{split}.txt"
            text = "".join(f"./{IMAGES_FOLDER}/{image.rel}\n" for image in job.splits[split])
            (root / name).write_text(text, encoding="utf-8")
            lists[split] = name
            entries.append(name)
    data: dict[str, Any] = {"path": str(job.output_dir.resolve()), **lists}
    names = job.dataset.names
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
