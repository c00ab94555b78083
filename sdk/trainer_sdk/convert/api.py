"""`convert_dataset`: DICE in, YOLO / COCO / ImageFolder out, with a report of every count.

Where the output goes (when `output_dir` is not given):

- YOLO detection, segmentation, pose: the dataset folder itself, beside `images/`, because
  Ultralytics finds `labels/a/b/x.txt` by replacing `images/` in `images/a/b/x.jpg`; the
  entries written are `labels/`, `train.txt`, `val.txt`, `test.txt` and `data.yaml`.
- YOLO classification: the dataset folder, as `train/<class>/...`, `val/...`, `test/...` (the
  folder to pass to Ultralytics as `data`).
- COCO: `<dataset>/coco/`; ImageFolder: `<dataset>/imagefolder/`.

With `output_dir` elsewhere, an `images` symlink to the dataset's images is added there so the
same relative paths work, and the dataset folder is not touched (a read-only or shared cached
dataset stays as it is). Whatever the target, the output is written into a hidden temporary
folder and moved into place when complete (see `staging`); running twice gives the same bytes.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer_sdk.convert import coco, imagefolder
from trainer_sdk.convert.conversion_run import ConversionRun
from trainer_sdk.convert.dice_reader import (
    FIX,
    IMAGES_FOLDER,
    DiceDataset,
    DiceReader,
    ReadProblems,
    Regroup,
    find_annotation_file,
    missing_image_files,
)
from trainer_sdk.convert.job import ConversionJob, link_images
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.report import ConversionReport, DropReason
from trainer_sdk.convert.split import SPLITS, SplitConfig, assign_splits, parse_split_config
from trainer_sdk.convert.tally import Tally
from trainer_sdk.convert.tasks import canonical_task
from trainer_sdk.convert.yolo import publish_labels, write_yolo
from trainer_sdk.errors import ConfigError, DatasetError

__all__ = ["SOURCE_FORMATS", "TARGET_FORMATS", "ConversionResult", "convert_dataset"]

logger = logging.getLogger("trainer_sdk.convert")

SOURCE_FORMATS = ("dice",)
TARGET_FORMATS = ("yolo", "coco", "imagefolder")
_DEFAULT_FOLDER = {"coco": coco.DEFAULT_FOLDER, "imagefolder": imagefolder.DEFAULT_FOLDER}
_MISSING_EXAMPLES = 10


@dataclass(frozen=True)
class ConversionResult:
    """Where the converted dataset is, and what happened. Usable as a path (`os.fspath`)."""

    output_dir: str
    report: ConversionReport
    data_yaml: str | None = None
    annotation_file: str | None = None

    def __fspath__(self) -> str:
        return self.output_dir

    def __str__(self) -> str:
        return self.output_dir


def convert_dataset(
    dataset_dir: str | os.PathLike[str],
    source_format: str = "dice",
    target_format: str = "yolo",
    split_config: Mapping[str, Any] | None = None,
    task_type: str | None = None,
    *,
    output_dir: str | os.PathLike[str] | None = None,
) -> ConversionResult:
    """Convert the DICE dataset in `dataset_dir` for a framework.

    `target_format` is `yolo`, `coco` or `imagefolder`; `task_type` a task name, long forms
    (`object_detection`) included; without it, the annotation file's own `task_type` decides.
    `split_config` (`train_ratio`, `val_ratio`, `test_ratio`, `seed`) splits the images that
    carry no `split` of their own. Raises ConfigError for a bad argument and DatasetError for a
    bad dataset (listing every problem with its JSON path).
    """
    if source_format != "dice":
        raise ConfigError(
            f"source_format {source_format!r} is not supported: use one of "
            f"{', '.join(SOURCE_FORMATS)}."
        )
    if target_format not in TARGET_FORMATS:
        raise ConfigError(
            f"target_format {target_format!r} is not supported: use one of "
            f"{', '.join(TARGET_FORMATS)}."
        )
    split = parse_split_config(split_config)
    task = canonical_task(task_type, where="task_type") if task_type is not None else None
    root = Path(dataset_dir)
    annotation_file = find_annotation_file(root, task)

    if output_dir is None:
        out = root / _DEFAULT_FOLDER[target_format] if target_format in _DEFAULT_FOLDER else root
    else:
        out = Path(output_dir)

    gc_was_enabled = gc.isenabled()
    # A batch of the file is thousands of objects and none is in a cycle: a collection would
    # only walk them again and again; reference counting frees each batch.
    gc.disable()
    try:
        try:
            return _read_and_convert(root, annotation_file, task, target_format, split, out, True)
        except Regroup:
            # Images came first and were converted as read, then top-level annotations for them:
            # start again, grouping the file's annotations by image first.
            return _read_and_convert(root, annotation_file, task, target_format, split, out, False)
    finally:
        if gc_was_enabled:
            gc.enable()


def _read_and_convert(
    root: Path,
    annotation_file: Path,
    task: str | None,
    target_format: str,
    split: SplitConfig,
    out: Path,
    immediate: bool,
) -> ConversionResult:
    problems = ReadProblems()
    source = annotation_file.name
    images_root = root / IMAGES_FOLDER
    run = ConversionRun(target_format, task, split, images_root, out, problems)
    try:
        reader = DiceReader(annotation_file, problems, run.spill_dir)
        dataset = reader.read(run, immediate=immediate)
        problems.schema.raise_if_any(source, FIX)
        if task is None:
            if dataset.task_type is None:
                raise ConfigError(
                    f"No task given and {source} names none: pass task_type "
                    "(or set TASK_TYPE), e.g. task_type='detection'."
                )
            task = canonical_task(dataset.task_type, where=f"{source} task_type")
        if target_format == "imagefolder" and task != "classification":
            raise ConfigError(
                f"imagefolder is a classification layout, and the task is {task}: use "
                "target_format='yolo' or 'coco' for it."
            )
        run.task = task
        reader.finish(run)
        problems.raise_if_any(source, objects=False)
        if not images_root.is_dir():
            raise DatasetError(
                f"{root.name!r} has no {IMAGES_FOLDER}/ folder; the images of "
                f"{source} are expected under it. Download the dataset with its images."
            )
        if reader.images_read == 0:
            raise DatasetError(
                f"{source} lists no images ($.images is empty): there is nothing to convert. "
                "Export the dataset again, or check that this is the right annotation file."
            )
        if not run.streaming:
            dataset.images = sorted(run.collected, key=lambda image: image.index)
            run.collected = []
            return _convert(dataset, root, annotation_file, task, target_format, split, out)
        return _publish_streamed(run, dataset, root, annotation_file, out)
    finally:
        run.close()


def _publish_streamed(
    run: ConversionRun, dataset: DiceDataset, root: Path, annotation_file: Path, out: Path
) -> ConversionResult:
    """Finish a conversion whose output was made as the file was read."""
    source = annotation_file.name
    if run.images and run.missing == run.images:
        examples = ", ".join(run.sorted_missing_examples()[:3])
        raise DatasetError(
            f"None of the {run.missing} images of {source} is under "
            f"{IMAGES_FOLDER}/ (e.g. {examples}); download the images, or check that file_name "
            f"is relative to {IMAGES_FOLDER}/."
        )
    if run.missing:
        logger.warning(
            "%d image(s) of %s are missing under %s/ and are left out (e.g. %s)",
            run.missing,
            source,
            IMAGES_FOLDER,
            ", ".join(run.sorted_missing_examples()[:3]),
        )
    layout = run.pose_layout_at_end(dataset)
    run.layout_problems.raise_if_any(source, FIX)
    run.problems.raise_if_any(source)
    assert run.staging is not None
    orders = run.book.orders()
    data_yaml: Path | None = None
    if run.labels is not None:
        run.labels.flush()
        if run.labels.collided:
            raise DatasetError(
                f"Two images of {source} share the label file labels/{run.labels.collided[0]} "
                "on this file system (it does not tell upper from lower case?); rename one image."
            )
        splits = run.book.lists(orders)
        del orders
        entries = link_images(out, root, run.images_root, run.staging.root)
        data_yaml = publish_labels(run.staging, out, entries, dataset.names, splits, layout)
        counts = {name: len(rels) for name, rels in splits.items()}
    elif run.coco is not None:
        annotations = run.coco.write(run.staging.root, orders)
        entries = link_images(out, root, run.images_root, run.staging.root)
        run.staging.publish([*entries, annotations])
        counts = {name: len(order) for name, order in orders.items()}
    else:
        assert run.class_folders is not None
        entries = run.class_folders.write(run.staging.root, run.book.rels, orders)
        if entries:
            run.staging.publish(entries, remove=tuple(s for s in SPLITS if s not in entries))
        counts = {name: len(order) for name, order in orders.items()}
    tally = run.tally
    report = ConversionReport(
        source_format="dice",
        target_format=run.target,
        task_type=run.task or "",
        annotation_file=source,
        layout=dataset.layout,
        images=run.images,
        images_converted=run.images - run.missing,
        images_missing=run.missing,
        negatives=tally.negatives,
        objects=tally.objects,
        objects_kept=tally.kept,
        objects_dropped=tally.sorted_dropped(),
        adjustments=tally.sorted_adjustments(),
        classes=dataset.names,
        class_ids=[c.id for c in dataset.classes if c.index >= 0],
        splits=counts,
        missing_image_examples=run.sorted_missing_examples(),
    )
    logger.debug("%s", report.summary())
    return ConversionResult(
        output_dir=str(out),
        report=report,
        data_yaml=str(data_yaml) if data_yaml is not None else None,
        annotation_file=str(annotation_file),
    )


def _convert(
    dataset: DiceDataset,
    root: Path,
    annotation_file: Path,
    task: str,
    target_format: str,
    split: SplitConfig,
    out: Path,
) -> ConversionResult:
    """Convert a dataset read whole (COCO, ImageFolder, classification with
    `conversion_run.STREAM_EVERY_TARGET` off: the in-memory reference of the streamed output)."""
    images_root = root / IMAGES_FOLDER
    missing = missing_image_files(images_root, dataset.images)
    if dataset.images and len(missing) == len(dataset.images):
        examples = ", ".join(sorted(missing)[:3])
        raise DatasetError(
            f"None of the {len(missing)} images of {annotation_file.name} is under "
            f"{IMAGES_FOLDER}/ (e.g. {examples}); download the images, or check that file_name "
            f"is relative to {IMAGES_FOLDER}/."
        )
    tally = Tally()
    present = [image for image in dataset.images if image.rel not in missing]
    if missing:
        lost = sum(len(i.annotations) for i in dataset.images if i.rel in missing)
        tally.objects += lost
        if lost:
            tally.drop(DropReason.MISSING_IMAGE, lost)
        logger.warning(
            "%d image(s) of %s are missing under %s/ and are left out (e.g. %s)",
            len(missing),
            annotation_file.name,
            IMAGES_FOLDER,
            ", ".join(sorted(missing)[:3]),
        )
    # Sorted by path, so no output depends on the order of the file's images list.
    present.sort(key=lambda image: image.rel)
    splits = assign_splits(present, lambda image: image.id, lambda image: image.split, split)
    job = ConversionJob(
        dataset=dataset,
        task=task,
        images=present,
        splits=splits,
        dataset_dir=root,
        images_root=images_root,
        output_dir=out,
        problems=Problems(),
        tally=tally,
    )
    writers: dict[str, Callable[[ConversionJob], Path | None]] = {
        "yolo": write_yolo,
        "coco": _no_yaml(coco.write_coco),
        "imagefolder": _no_yaml(imagefolder.write_imagefolder),
    }
    data_yaml = writers[target_format](job)
    report = ConversionReport(
        source_format="dice",
        target_format=target_format,
        task_type=task,
        annotation_file=annotation_file.name,
        layout=dataset.layout,
        images=len(dataset.images),
        images_converted=len(present),
        images_missing=len(missing),
        negatives=tally.negatives,
        objects=tally.objects,
        objects_kept=tally.kept,
        objects_dropped=tally.sorted_dropped(),
        adjustments=tally.sorted_adjustments(),
        classes=dataset.names,
        class_ids=[c.id for c in dataset.classes if c.index >= 0],
        splits={name: len(images) for name, images in splits.items()},
        missing_image_examples=sorted(missing)[:_MISSING_EXAMPLES],
    )
    logger.debug("%s", report.summary())  # the SDK facade and the CLI report it
    return ConversionResult(
        output_dir=str(out),
        report=report,
        data_yaml=str(data_yaml) if data_yaml is not None else None,
        annotation_file=str(annotation_file),
    )


def _no_yaml(write: Callable[[ConversionJob], None]) -> Callable[[ConversionJob], Path | None]:
    def run(job: ConversionJob) -> Path | None:
        write(job)
        return None

    return run
