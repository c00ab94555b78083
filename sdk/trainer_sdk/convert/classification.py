"""Classification as a folder tree: `<split>/<class name>/<image path>`, one link per image.

This is the ImageFolder layout of torchvision and the classification layout of Ultralytics
(both walk the class folders recursively, so the image's own sub-folders are kept and equal
file names in different folders never collide). Images are hard links (symlinks across file
systems), so the tree costs no image copies. An image with several classes is linked into each;
an image without a class is a negative and is left out (a folder tree has no place for it).
"""

from __future__ import annotations

from trainer_sdk.convert.file_writer import link_files
from trainer_sdk.convert.job import ConversionJob
from trainer_sdk.convert.report import DropReason
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging
from trainer_sdk.convert.yolo_labels import class_of

__all__ = ["write_class_folders"]


def _folder_names(job: ConversionJob) -> dict[int, str]:
    names: dict[int, str] = {}
    seen: dict[str, str] = {}
    for info in job.dataset.classes:
        if info.index < 0:
            continue
        name = info.name
        if name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            job.problems.add(
                f"{info.path}.name",
                f"{name!r} cannot be a folder name; rename the class without / or \\",
            )
        elif name in seen:
            job.problems.add(
                f"{info.path}.name",
                f"{name!r} is also the name of {seen[name]}: two classes cannot share a folder",
            )
        seen.setdefault(name, info.path)
        names[info.index] = name
    return names


def write_class_folders(job: ConversionJob, staging: Staging) -> list[str]:
    """Stage the link tree of every split with images; returns the staged entry names."""
    folders = _folder_names(job)
    links: list[tuple[str, str]] = []
    entries: list[str] = []
    tally = job.tally
    root = str(job.images_root)
    for split in SPLITS:
        before = len(links)
        for image in job.splits[split]:
            chosen: set[int] = set()
            for k, ann in enumerate(image.annotations):
                tally.objects += 1
                index = class_of(job.dataset, image, k, ann, job.problems)
                if index is None:
                    continue
                if index < 0:
                    tally.drop(DropReason.BACKGROUND_CLASS)
                elif index in chosen:
                    tally.drop(DropReason.DUPLICATE_LABEL)
                else:
                    chosen.add(index)
            if not chosen:
                tally.negatives += 1
            tally.kept += len(chosen)
            for index in sorted(chosen):
                if index in folders:
                    links.append((f"{split}/{folders[index]}/{image.rel}", f"{root}/{image.rel}"))
        if len(links) > before:
            entries.append(split)
    job.raise_problems()
    link_files(str(staging.root), links)
    return entries
