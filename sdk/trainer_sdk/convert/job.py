"""What every conversion target receives: the dataset, the images to convert, their splits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trainer_sdk.convert.dice_reader import FIX, IMAGES_FOLDER, DiceDataset, DiceImage
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.tally import Tally
from trainer_sdk.errors import DatasetError

__all__ = ["ConversionJob", "link_images", "link_images_folder"]


@dataclass
class ConversionJob:
    """One conversion in progress. `images` are the images whose files exist, sorted by path;
    `splits` maps train/val/test to their images (same order)."""

    dataset: DiceDataset
    task: str
    images: list[DiceImage]
    splits: dict[str, list[DiceImage]]
    dataset_dir: Path
    images_root: Path
    output_dir: Path
    problems: Problems
    tally: Tally

    def raise_problems(self) -> None:
        """Fail with every problem found so far (nothing has been published yet)."""
        self.problems.raise_if_any(self.dataset.source, FIX)


def link_images_folder(job: ConversionJob, staging_root: Path) -> list[str]:
    """`link_images` for a job."""
    return link_images(job.output_dir, job.dataset_dir, job.images_root, staging_root)


def link_images(
    output_dir: Path, dataset_dir: Path, images_root: Path, staging_root: Path
) -> list[str]:
    """When the output is not the dataset folder, stage `images` as a relative symlink to the
    dataset's images (YOLO finds a label by replacing `images/` with `labels/` in the image
    path, COCO tools resolve `file_name` under it). Returns the staged entry names."""
    if output_dir.resolve() == dataset_dir.resolve():
        return []
    existing = output_dir / IMAGES_FOLDER
    if existing.exists() and not existing.is_symlink():
        raise DatasetError(
            f"output_dir {output_dir.name!r} already has a real images/ folder; converting "
            "there would replace it. Choose an empty output_dir or the dataset folder itself."
        )
    target = os.path.relpath(images_root.resolve(), output_dir.resolve())
    os.symlink(target, staging_root / IMAGES_FOLDER, target_is_directory=True)
    return [IMAGES_FOLDER]
