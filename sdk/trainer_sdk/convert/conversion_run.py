"""One conversion as the annotation file is read: the consumer the DICE reader hands images to.

Every target is made as the images come, in bounded memory. Each batch is checked for its image
files and noted for the split (`SplitBook`: the image's path, its own split and an 8-byte key,
~100 bytes an image); what else happens depends on the target:

- YOLO detection, segmentation, pose: the label files are made and written every
  `LabelBuffer.FLUSH_FILES` files;
- COCO: each image is converted and its JSON text goes to a records file (`coco.CocoStream`),
  from which each split's file is written once the splits are known;
- ImageFolder and YOLO classification: each image's classes are kept as small integers
  (`classification.ClassFolders`), and the images linked once the splits are known.

Beside that, a bounded cache of folder listings (`Presence`), so a file of millions of images
converts in bounded memory. With `STREAM_EVERY_TARGET` off, COCO, ImageFolder and
classification collect their images (`collect` mode) and convert them all at once, in memory,
as they did before: the reference that the streamed output is tested against.
"""

from __future__ import annotations

import heapq
import os
from array import array
from pathlib import Path

from trainer_sdk.convert import writer_process
from trainer_sdk.convert.classification import ClassFolders
from trainer_sdk.convert.coco import CocoStream
from trainer_sdk.convert.dice_reader import DiceDataset, DiceImage, ReadProblems
from trainer_sdk.convert.file_writer import make_folders
from trainer_sdk.convert.job import ConversionJob
from trainer_sdk.convert.pose import PoseLayout, pose_layout
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.report import DropReason
from trainer_sdk.convert.split import SPLITS, SplitConfig, free_order_key, split_cuts
from trainer_sdk.convert.staging import Staging
from trainer_sdk.convert.tally import Tally
from trainer_sdk.convert.tasks import canonical_task
from trainer_sdk.convert.writer_process import FileSink
from trainer_sdk.convert.yolo_labels import LabelFile, build_labels
from trainer_sdk.errors import ConfigError

__all__ = [
    "STREAMED_TASKS",
    "STREAM_EVERY_TARGET",
    "ConversionRun",
    "LabelBuffer",
    "Presence",
    "SplitBook",
]

STREAMED_TASKS = ("detection", "segmentation", "pose")
STREAM_EVERY_TARGET = True
"""COCO, ImageFolder and YOLO classification stream too. False: their images are collected and
converted all at once in memory (`coco.write_coco`, `classification.write_class_folders`), the
reference the tests compare the streamed bytes with."""
_MISSING_EXAMPLES = 10
_SPLIT_CODE = {None: 0, "train": 1, "val": 2, "test": 3}


class Presence:
    """Which image files exist: one directory listing per folder, cached up to `budget` names in
    all; past that, one `lstat` per image of a folder not cached."""

    def __init__(self, images_root: Path, budget: int = 1_000_000) -> None:
        self.root = images_root
        self.budget = budget
        self._listings: dict[str, frozenset[str]] = {}
        self._cached = 0

    def missing(self, rel: str) -> bool:
        """True when `images/<rel>` does not exist."""
        folder, _, name = rel.rpartition("/")
        listing = self._listings.get(folder)
        if listing is None:
            if self._cached >= self.budget:
                return not os.path.lexists(self.root / rel)
            try:
                listing = frozenset(os.listdir(self.root / folder if folder else self.root))
            except (FileNotFoundError, NotADirectoryError):
                listing = frozenset()
            self._listings[folder] = listing
            self._cached += len(listing)
        return name not in listing


class SplitBook:
    """The split bookkeeping of every converted image: path, own split, seeded-order key."""

    def __init__(self, config: SplitConfig) -> None:
        self.config = config
        self.rels: list[str] = []
        self._codes = bytearray()
        self._keys = array("Q")

    def add(self, image: DiceImage) -> None:
        """Note one image (its `split` must be None or a split name: the schema says so)."""
        code = _SPLIT_CODE[image.split]
        self.rels.append(image.rel)
        self._codes.append(code)
        key = 0 if code else int.from_bytes(free_order_key(self.config.seed, image.id), "big")
        self._keys.append(key)

    def orders(self) -> dict[str, array[int]]:
        """The positions (in `rels`) of each split's images, sorted by path: the same as
        `assign_splits` over the images sorted by path (ties of the 8-byte key keep the path
        order)."""
        order = sorted(range(len(self.rels)), key=self.rels.__getitem__)
        free = [i for i in order if not self._codes[i]]
        free.sort(key=self._keys.__getitem__)  # stable: equal keys stay in path order
        cut_train, cut_val = split_cuts(len(free), self.config)
        codes = bytearray(self._codes)
        for rank, i in enumerate(free):
            codes[i] = 1 if rank < cut_train else 2 if rank < cut_val else 3
        del free
        out: dict[str, array[int]] = {name: array("Q") for name in SPLITS}
        by_code = [out[name] for name in SPLITS]
        for i in order:
            by_code[codes[i] - 1].append(i)
        return out

    def lists(self, orders: dict[str, array[int]] | None = None) -> dict[str, list[str]]:
        """The image paths of each split, sorted by path (of `orders`, by default the book's)."""
        rels = self.rels
        return {name: [rels[i] for i in order] for name, order in (orders or self.orders()).items()}


class LabelBuffer:
    """Label files, written every `FLUSH_FILES` files (or `FLUSH_BYTES`) into `root` by threads,
    or, with `writer_process.USE_PROCESS` on, by a helper process as they come once there are
    more than `STREAM_AFTER` (the helper creates files on the second core while this process
    parses and formats; a slow disk makes `send` wait, so memory stays bounded)."""

    FLUSH_FILES = 100_000
    FLUSH_BYTES = 64 << 20
    STREAM_AFTER = 4096

    def __init__(self, root: Path) -> None:
        self.root = root
        self.collided: list[str] = []
        """Set when a label file already existed (two images with one label path, or a file
        system that folds case): the conversion fails, naming them."""
        self._files: list[LabelFile] = []
        self._bytes = 0
        self._sink: FileSink | None = None
        self._folders: set[str] = set()

    def send(self, files: list[LabelFile]) -> None:
        """Take a batch; write when enough is buffered (or at once, to the helper)."""
        if self._sink is not None:
            self._stream(files)
            return
        if self.collided:
            return  # the conversion fails: nothing more is written
        self._files += files
        self._bytes += sum(len(content) for _, content in files)
        if writer_process.USE_PROCESS and len(self._files) > self.STREAM_AFTER:
            sink = FileSink(str(self.root), [], helper=True)
            if sink.has_helper:
                self._sink = sink
                files, self._files, self._bytes = self._files, [], 0
                self._stream(files)
                return
        if len(self._files) >= self.FLUSH_FILES or self._bytes >= self.FLUSH_BYTES:
            self.flush()

    def _stream(self, files: list[LabelFile]) -> None:
        assert self._sink is not None
        new = {rel.rpartition("/")[0] for rel, _ in files} - self._folders
        if new:
            make_folders(str(self.root), [f"{folder}/_" for folder in new])
            self._folders |= new
        try:
            self._sink.send(files)
        except FileExistsError as error:
            self._collide(error)

    def flush(self) -> None:
        """Write everything buffered (and wait for the helper, if one writes)."""
        if self._sink is not None:
            sink, self._sink = self._sink, None
            with sink:
                try:
                    sink.close()
                except FileExistsError as error:
                    self._collide(error)
            return
        files, self._files, self._bytes = self._files, [], 0
        if not files:
            return
        try:
            with FileSink(str(self.root), [rel for rel, _ in files]) as sink:
                sink.send(files)
                sink.close()
        except FileExistsError as error:
            self._collide(error)

    def abort(self) -> None:
        """Stop the helper, if one runs (the conversion stops before `flush`)."""
        if self._sink is not None:
            sink, self._sink = self._sink, None
            sink.__exit__(None, None, None)

    def _collide(self, error: FileExistsError) -> None:
        self._sink = None
        self.collided.append(os.path.relpath(str(error.filename or "?"), self.root))


class ConversionRun:
    """Takes the images the reader hands out (see the module docstring)."""

    def __init__(
        self,
        target: str,
        task: str | None,
        split: SplitConfig,
        images_root: Path,
        output_dir: Path,
        problems: ReadProblems,
    ) -> None:
        self.target = target
        self.task = task
        self.images_root = images_root
        self.output_dir = output_dir
        self.problems = problems
        self.tally = Tally()
        self.book = SplitBook(split)
        self.collected: list[DiceImage] = []
        self.images = 0
        self.missing = 0
        self.missing_examples: list[_Reversed] = []  # a heap of the smallest paths
        self.layout: PoseLayout | None = None
        self.staging: Staging | None = None
        self.labels: LabelBuffer | None = None
        self.coco: CocoStream | None = None
        self.class_folders: ClassFolders | None = None
        self.layout_problems = problems.objects
        """Where a pose layout's problems go (COCO: a tier of their own, reported first, as
        `write_coco` does)."""
        self._dataset: DiceDataset | None = None
        self._presence = Presence(images_root)
        self._mode: str | None = None

    @property
    def streaming(self) -> bool:
        """True when the output is made as the images come (decided at `ready`)."""
        return self._mode not in (None, "collect")

    @property
    def mode(self) -> str | None:
        """labels (YOLO label files), coco, classes (a class folder tree) or collect (all
        images kept for a conversion in memory); None before `ready`."""
        return self._mode

    def ready(self, dataset: DiceDataset) -> bool:
        """Images can come as soon as the task is known."""
        if self.task is None:
            if dataset.task_type is None:
                return False
            try:
                self.task = canonical_task(dataset.task_type, where="task_type")
            except ConfigError:
                return False  # said once the whole file is checked
        self._dataset = dataset
        if self._mode is not None:
            for holder in (self.coco, self.class_folders):
                if holder is not None:
                    holder.job.dataset = dataset
            if self.layout is not None:
                dataset.kpt_count = self.layout.count
            return True
        if self.target == "yolo" and self.task in STREAMED_TASKS:
            self._mode = "labels"
        elif not STREAM_EVERY_TARGET:
            self._mode = "collect"
        elif self.target == "coco":
            self._mode = "coco"
        elif self.task == "classification":
            self._mode = "classes"
        else:
            self._mode = "collect"  # ImageFolder of another task: refused once the file is read
        if self._mode == "collect":
            return True
        if self.staging is None:
            self.staging = Staging(self.output_dir)
        if self._mode == "labels":
            self.labels = LabelBuffer(self.staging.root / "labels")
        elif self._mode == "coco":
            self.layout_problems = Problems()
            self.coco = CocoStream(self._job(dataset), self.staging.root)
        else:
            self.class_folders = ClassFolders(self._job(dataset))
        if self.task == "pose" and any(c.keypoints for c in dataset.classes if c.index >= 0):
            self.layout = pose_layout(dataset, self.layout_problems)
            dataset.kpt_count = self.layout.count
        return True

    def _job(self, dataset: DiceDataset) -> ConversionJob:
        assert self.task is not None
        return ConversionJob(
            dataset=dataset,
            task=self.task,
            images=[],
            splits={},
            dataset_dir=self.images_root.parent,
            images_root=self.images_root,
            output_dir=self.output_dir,
            problems=self.problems.objects,
            tally=self.tally,
        )

    def spill_dir(self) -> Path:
        """Where the reader may group a large flat file (inside the staging folder)."""
        if self.staging is None:
            self.staging = Staging(self.output_dir)
        return self.staging.root / ".group"

    def take(self, images: list[DiceImage]) -> None:
        """A batch of checked images (file order for a nested file, by group for a flat one)."""
        self.images += len(images)
        if not self.streaming:
            self.collected += images
            return
        dataset = self._dataset
        assert dataset is not None and self.task is not None
        present: list[DiceImage] = []
        tally = self.tally
        for image in images:
            if self._presence.missing(image.rel):
                self._note_missing(image)
            else:
                present.append(image)
                self.book.add(image)
        if self.task == "pose" and self.layout is None:
            # COCO as `write_coco`: the first object with keypoints, its image's file there or not.
            self._find_pose_layout(dataset, images if self.coco is not None else present)
        if self.labels is not None:
            build_labels(
                dataset, present, self.task, self.problems.objects, tally, self.labels.send
            )
        elif self.coco is not None:
            for image in present:
                self.coco.add(image)
        else:
            assert self.class_folders is not None
            for image in present:
                self.class_folders.add(image)

    def _note_missing(self, image: DiceImage) -> None:
        self.missing += 1
        lost = len(image.annotations)
        if lost:
            self.tally.objects += lost
            self.tally.drop(DropReason.MISSING_IMAGE, lost)
        examples = self.missing_examples
        if len(examples) < _MISSING_EXAMPLES:
            heapq.heappush(examples, _Reversed(image.rel))
        elif image.rel < examples[0].text:
            heapq.heapreplace(examples, _Reversed(image.rel))

    def sorted_missing_examples(self) -> list[str]:
        """The first (by path) missing images, at most 10."""
        return sorted(e.text for e in self.missing_examples)

    def _find_pose_layout(self, dataset: DiceDataset, images: list[DiceImage]) -> None:
        # The first object with keypoints, in reading order, sets the layout (as pose_layout).
        for image in images:
            for k, ann in enumerate(image.annotations):
                keypoints = ann.get("keypoints")
                if keypoints:
                    if len(keypoints) % 3:
                        self.layout_problems.add(
                            f"{dataset.annotation_path(image, k)}.keypoints",
                            f"has {len(keypoints)} numbers; keypoints are x, y, v triples",
                        )
                        self.layout = PoseLayout(0, None, None)
                    else:
                        self.layout = PoseLayout(len(keypoints) // 3, None, None)
                    dataset.kpt_count = self.layout.count
                    return

    def pose_layout_at_end(self, dataset: DiceDataset) -> PoseLayout | None:
        """The pose layout, or None (and the problem noted) when nothing gave one."""
        if self.task != "pose":
            return None
        if self.layout is None:
            empty = Problems()
            pose_layout(dataset, empty)  # no images: adds the "needs keypoints" problem
            for problem in empty.items():
                self.layout_problems.add(problem.path, problem.message)
        return self.layout

    def close(self) -> None:
        """Remove the staging folder (whatever was not published)."""
        if self.labels is not None:
            self.labels.abort()
        if self.coco is not None:
            self.coco.close()
        if self.staging is not None:
            self.staging.__exit__(None, None, None)
            self.staging = None


class _Reversed:
    """Orders strings backwards, so that a min-heap keeps the smallest ones."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Reversed) -> bool:
        return self.text > other.text
