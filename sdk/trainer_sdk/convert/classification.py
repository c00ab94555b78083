"""Classification as a folder tree: `<split>/<class name>/<image path>`, one link per image.

This is the ImageFolder layout of torchvision and the classification layout of Ultralytics
(both walk the class folders recursively, so the image's own sub-folders are kept and equal
file names in different folders never collide). Images are hard links (symlinks across file
systems), so the tree costs no image copies. An image with several classes is linked into each;
an image without a class is a negative and is left out (a folder tree has no place for it).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path

from trainer_sdk.convert.dice_reader import DiceImage
from trainer_sdk.convert.file_writer import link_files
from trainer_sdk.convert.job import ConversionJob
from trainer_sdk.convert.report import DropReason
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging
from trainer_sdk.convert.yolo_labels import class_of

__all__ = ["ClassFolders", "write_class_folders"]


def _is_text(name: str) -> bool:
    """True when `name` is Unicode text a file system can name (no lone surrogate)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
        elif not _is_text(name):
            job.problems.add(
                f"{info.path}.name",
                f"{name!r} holds a lone surrogate (a \\uD800-\\uDFFF escape without its pair), "
                "which no folder name can; rename the class",
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
    """Stage the link tree of every split with images; returns the staged entry names (all
    images in memory: `ClassFolders` is the streamed form, with the same tree)."""
    folders = _folder_names(job)
    links: list[tuple[str, str]] = []
    entries: list[str] = []
    root = str(job.images_root)
    for split in SPLITS:
        before = len(links)
        for image in job.splits[split]:
            for index in _chosen(job, image):
                if index in folders:
                    links.append((f"{split}/{folders[index]}/{image.rel}", f"{root}/{image.rel}"))
        if len(links) > before:
            entries.append(split)
    job.raise_problems()
    link_files(str(staging.root), links)
    return entries


class ClassFolders:
    """The link tree made as the images come, in bounded memory: each image's classes are
    found when it is read and kept as small integers (4 bytes a class and 8 an image, beside the
    split book's path); `write` links the images once the splits are known, `LINK_BATCH` links
    at a time."""

    LINK_BATCH = 100_000

    def __init__(self, job: ConversionJob) -> None:
        self.job = job
        self.folders = _folder_names(job)
        self._classes = array("i")
        self._ends = array("Q")

    def add(self, image: DiceImage) -> None:
        """Note the classes of one image (the next in the split book)."""
        self._classes.extend(_chosen(self.job, image))
        self._ends.append(len(self._classes))

    def write(
        self, staging_root: Path, rels: Sequence[str], orders: Mapping[str, Sequence[int]]
    ) -> list[str]:
        """Link every image of every split (`orders`: each split's book positions, sorted by
        path); returns the names of the split folders made."""
        root = str(self.job.images_root)
        folders = self.folders
        classes = self._classes
        ends = self._ends
        entries: list[str] = []
        for split in SPLITS:
            links: list[tuple[str, str]] = []
            made = 0
            for i in orders[split]:
                rel = rels[i]
                for index in classes[ends[i - 1] if i else 0 : ends[i]]:
                    if index in folders:
                        links.append((f"{split}/{folders[index]}/{rel}", f"{root}/{rel}"))
                if len(links) >= self.LINK_BATCH:
                    link_files(str(staging_root), links)
                    made += len(links)
                    links = []
            if links:
                link_files(str(staging_root), links)
                made += len(links)
            if made:
                entries.append(split)
        return entries


def _chosen(job: ConversionJob, image: DiceImage) -> list[int]:
    """The image's classes (output indexes, sorted), counted in the tally."""
    tally = job.tally
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
    return sorted(chosen)
