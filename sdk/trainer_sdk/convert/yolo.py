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
  relative symlink to `labels/sub/images` (a real file or folder there stops the conversion
  with a DatasetError instead);
- a folder whose name ends in `.` (`scan./a.jpg`): a list line `./images/scan./a.jpg` contains
  `./` twice, and Ultralytics releases that replaced every `./` with the list's folder broke
  it. Such a line is written as an absolute path instead (data.yaml's `path` is absolute too).

Classification uses the folder layout Ultralytics trains on instead (`train/<class>/...`, see
`classification`), with no data.yaml: Ultralytics takes the folder itself as `data`.
"""

from __future__ import annotations

import os
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
from trainer_sdk.errors import DatasetError

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
    links = _label_links(job)
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
    _make_links(links)
    return job.output_dir / DATA_YAML


# Ultralytics' rule (ultralytics.data.utils.img2label_paths): the last `/images/` of an image's
# path becomes `/labels/`.
_ULTRALYTICS_IMAGES = "/images/"


def _label_links(job: ConversionJob) -> dict[Path, str]:
    """Symlink -> relative target that make Ultralytics find the labels of images whose
    `file_name` has an `images/` folder inside; checked before anything is written."""
    links: dict[Path, str] = {}
    images_real = job.images_root.resolve()
    labels_real = job.output_dir.resolve() / LABELS
    for image in job.images:
        cut = ("/" + image.rel).rfind(_ULTRALYTICS_IMAGES)
        if cut < 0:
            continue
        prefix = image.rel[:cut]  # "" or "a/b/": the folders before the inner images/
        link = images_real / prefix / LABELS
        if link in links:
            continue
        if os.path.lexists(link) and not link.is_symlink():
            raise DatasetError(
                f"images/{prefix}{LABELS} exists in the dataset; Ultralytics would look there "
                f"for the labels of images/{image.rel} (it replaces the last /images/ of a path "
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


def _list_line(job: ConversionJob, rel: str) -> str:
    """An image's line in train.txt: relative to the list, absolute when `./` occurs inside."""
    line = f"./{IMAGES_FOLDER}/{rel}"
    if "./" in line[2:]:
        return str(job.output_dir.resolve() / IMAGES_FOLDER / rel)
    return line


def _write_lists_and_yaml(job: ConversionJob, root: Path, layout: PoseLayout | None) -> list[str]:
    """Stage train/val/test.txt and data.yaml (last); returns their names."""
    entries: list[str] = []
    lists: dict[str, str] = {}
    for split in SPLITS:
        if job.splits[split] or split != "test":
            name = f"{split}.txt"
            text = "".join(_list_line(job, image.rel) + "\n" for image in job.splits[split])
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
