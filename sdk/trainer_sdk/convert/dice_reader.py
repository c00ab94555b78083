"""Reading a DICE annotation file as a stream, into one layout-independent model.

Both layouts give the same images: nested (`classes`, images carrying `annotations` with
`class_id`) and flat COCO (`categories`, top-level `annotations` with `image_id` and
`category_id`); a file may even mix them. The file is read member by member and its `images`
and `annotations` a batch at a time (`json_stream`); each batch is validated against its part
of the `dice/annotations` schema as it comes (the compiled jsonschema-rs validator), every error
named by its JSON path in the whole file (`$.images[123].annotations[4].bbox`). Then what a
schema cannot say: unique ids, known references, file names that stay inside the dataset and
label paths that do not collide. Every problem is collected and raised together.

Nested images go to the consumer as they are read (when the classes come before them, as in
every export). A flat file's annotations come apart from their images, so they are grouped by
image id first: in memory for up to `SPILL_RECORDS` records, through `BUCKETS` temporary files
beyond (an external hash partition: measured, it keeps 5 million images in bounded memory,
where an index of offsets would still hold 16 bytes per object and read the file twice).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from trainer_contract.validators import validator
from trainer_sdk.convert.json_stream import (
    ArrayMember,
    JsonObjectStream,
    JsonStreamError,
    ValueMember,
)
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.tasks import task_file_names
from trainer_sdk.errors import DatasetError
from trainer_sdk.storage.layout import local_image_folder

__all__ = [
    "BACKGROUND_CLASS",
    "BUCKETS",
    "IMAGES_FOLDER",
    "SPILL_RECORDS",
    "ClassInfo",
    "DiceDataset",
    "DiceImage",
    "DiceReader",
    "ImageConsumer",
    "ReadProblems",
    "Regroup",
    "find_annotation_file",
    "missing_image_files",
    "quote",
]

SCHEMA = "dice/annotations"
BACKGROUND_CLASS = "__background__"
IMAGES_FOLDER = local_image_folder().as_posix()
"""Where the images of a downloaded dataset are, relative to its folder (`file_name` is relative
to it); the storage layout decides it, the downloader and the converter both ask it."""
SPILL_RECORDS = 1_000_000
"""Images and flat annotations grouped in memory; past this many, they go to temporary files."""
BUCKETS = 256
"""Temporary files (by hash of the image id) a large flat file is grouped through."""
FIX = (
    "Fix the annotation file (or export it again from the platform); each line names the JSON "
    "path of a wrong value."
)


@dataclass(slots=True)
class DiceImage:
    """One image: where it is (`rel`, relative to `images/`), its size, split and objects."""

    index: int
    id: Any
    rel: str
    stem: str
    width: int
    height: int
    split: str | None
    annotations: list[dict[str, Any]]
    nested_count: int
    flat_index: list[int] | None = None
    """`$.annotations` index of each annotation after the `nested_count` nested ones."""


@dataclass(frozen=True)
class ClassInfo:
    """One class of the file, with its output index (-1 for `__background__`)."""

    id: int
    name: str
    index: int
    path: str
    keypoints: tuple[str, ...] | None
    skeleton: tuple[tuple[int, int], ...] | None
    supercategory: str | None


@dataclass
class DiceDataset:
    """The validated content of one annotation file, layout-independent."""

    source: str
    layout: str
    task_type: str | None
    classes: list[ClassInfo]
    class_index: dict[int, int]
    images: list[DiceImage]
    metadata: dict[str, Any] = field(default_factory=dict)
    kpt_count: int = 0

    @property
    def names(self) -> list[str]:
        """Names of the real classes, in output index order (0..nc-1)."""
        return [c.name for c in self.classes if c.index >= 0]

    def annotation_path(self, image: DiceImage, k: int) -> str:
        """JSON path of the k-th annotation of `image` (nested or flat)."""
        if k < image.nested_count or image.flat_index is None:
            return f"$.images[{image.index}].annotations[{k}]"
        return f"$.annotations[{image.flat_index[k - image.nested_count]}]"


def find_annotation_file(dataset_dir: Path, task: str | None) -> Path:
    """The task's annotation file (`annotations_{task}.json`, then `annotations.json`); without a
    task, `annotations.json` or the only `annotations_*.json`. Raises DatasetError saying what
    was looked for and what is there."""
    if not dataset_dir.is_dir():
        raise DatasetError(
            f"Dataset folder {dataset_dir.name!r} does not exist or is not a folder: download the "
            "dataset first (sdk.download_dataset) and pass the folder it returns."
        )
    present = sorted(p.name for p in dataset_dir.glob("annotations*.json"))
    if task is not None:
        for name in task_file_names(task):
            if (dataset_dir / name).is_file():
                return dataset_dir / name
        wanted = " or ".join([*task_file_names(task)[:1], "annotations.json"])
    else:
        if (dataset_dir / "annotations.json").is_file():
            return dataset_dir / "annotations.json"
        if len(present) == 1:
            return dataset_dir / present[0]
        wanted = (
            "a task (task_type or TASK_TYPE) to choose among them"
            if present
            else ("annotations_{task}.json or annotations.json")
        )
    found = ", ".join(present) or "no annotation file"
    raise DatasetError(
        f"No DICE annotation file for this conversion in {dataset_dir.name!r}: needed {wanted}; "
        f"found {found}. Pass the right task_type or download the dataset's annotations."
    )


_STREAMED = frozenset({"images", "annotations"})
_IMAGES_CHECK = "dice/annotations#/properties/images"
_ANNOTATIONS_CHECK = "dice/annotations#/properties/annotations"
_ELEMENT = re.compile(r"\$\[(\d+)\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
QUOTE_LIMIT = 120
"""A value of the input is quoted in a message with at most this many characters."""


def quote(value: object) -> str:
    """`repr(value)`, cut to `QUOTE_LIMIT` characters: an error message never carries a
    megabyte of the input."""
    text = repr(value)
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[: QUOTE_LIMIT - 20]}...({len(text):,} characters)"


def _safe_relative(name: str) -> str | None:
    """`file_name` as a clean relative path, or None when it is absolute, climbs out or holds a
    control character (a newline would split a line of train.txt in two)."""
    if (
        name
        and name[0] not in "/."
        and "\\" not in name
        and "//" not in name
        and "/." not in name
        and not _CONTROL.search(name)
    ):
        return name  # the common case, checked without splitting
    if not name or name.startswith("/") or "\\" in name or _CONTROL.search(name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


class ReadProblems:
    """The problems of one file in three tiers, reported one tier at a time (the first that has
    any): the schema, then the file's structure (ids, names, references), then the objects
    (classes of annotations, geometry), because a fix of the earlier ones changes the later."""

    def __init__(self) -> None:
        self.schema = Problems()
        self.structure = Problems()
        self.objects = Problems()

    def raise_if_any(self, source: str, *, objects: bool = True) -> None:
        """Raise InvalidDatasetError for the first tier with problems (objects only when asked)."""
        self.schema.raise_if_any(source, FIX)
        self.structure.raise_if_any(source, FIX)
        if objects:
            self.objects.raise_if_any(source, FIX)


class ImageConsumer(Protocol):
    """Where the reader hands the images: `ready` once the classes (and what else comes before
    the images) are known, then `take` with batches of checked images."""

    def ready(self, dataset: DiceDataset) -> bool:
        """True when images can be taken as they are read (False: the reader groups them first
        and calls `ready` again, with the whole header, at the end of the file)."""

    def take(self, images: list[DiceImage]) -> None:
        """A batch of images, each with all its annotations."""


class Regroup(Exception):
    """Images were handed out as they came, and then the file turned out to have top-level
    annotations for them: the conversion starts again, grouping (`immediate=False`)."""


class _IdentityBook:
    """Hashes of every image's id and label stem, to find duplicates at the end without a set of
    millions of strings; a duplicate hash sends the reader back to the file for the real values."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.stems = array("q")

    def add(self, image: DiceImage) -> None:
        self.ids.append(hash(image.id))
        self.stems.append(hash(image.stem))

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def _repeated(values: array[int]) -> set[int]:
        ordered = sorted(values)
        return {a for a, b in pairwise(ordered) if a == b}

    def suspects(self) -> tuple[set[int], set[int]]:
        """Hashes of ids and of stems that occur more than once."""
        return self._repeated(self.ids), self._repeated(self.stems)


_ImageRecord = tuple[int, Any, str, str, int, int, "str | None", list[dict[str, Any]]]


class _GroupStore:
    """Images and flat annotations of a file, to be grouped by image id once the file is read.

    Held in memory up to `SPILL_RECORDS` records; past that, everything goes to `BUCKETS` temporary
    files by the hash of the image id (marshal frames, appended in file order), so that one
    bucket at a time is grouped: memory is bounded by a bucket, not by the file."""

    def __init__(self, spill_dir: Callable[[], Path]) -> None:
        self._make_spill_dir = spill_dir
        self._spill_dir = Path()
        self._images: list[_ImageRecord] = []
        self._annotations: list[tuple[int, dict[str, Any]]] = []
        self._spilled = False
        self.flat_count = 0

    def add_image(self, image: DiceImage) -> None:
        self._images.append(
            (
                image.index,
                image.id,
                image.rel,
                image.stem,
                image.width,
                image.height,
                image.split,
                image.annotations,
            )
        )
        self._maybe_spill()

    def add_annotation(self, k: int, annotation: dict[str, Any]) -> None:
        self._annotations.append((k, annotation))
        self.flat_count += 1
        self._maybe_spill()

    def _maybe_spill(self) -> None:
        if len(self._images) + len(self._annotations) >= SPILL_RECORDS:
            self._spill()

    def _spill(self) -> None:
        if not self._spilled:
            self._spill_dir = self._make_spill_dir()
            self._spill_dir.mkdir(parents=True, exist_ok=True)
            self._spilled = True
        images: list[list[_ImageRecord]] = [[] for _ in range(BUCKETS)]
        for record in self._images:
            images[hash(record[1]) % BUCKETS].append(record)
        annotations: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(BUCKETS)]
        for k, annotation in self._annotations:
            annotations[hash(annotation["image_id"]) % BUCKETS].append((k, annotation))
        self._images = []
        self._annotations = []
        for b in range(BUCKETS):
            for suffix, records in (("i", images[b]), ("a", annotations[b])):
                if records:
                    with open(self._spill_dir / f"{b}.{suffix}", "ab") as handle:
                        marshal.dump(records, handle)

    def _load(self, b: int, suffix: str) -> list[Any]:
        out: list[Any] = []
        path = self._spill_dir / f"{b}.{suffix}"
        if not path.exists():
            return out
        with open(path, "rb") as handle:
            while True:
                try:
                    out += marshal.load(handle)
                except EOFError:
                    break
        path.unlink()
        return out

    def buckets(
        self,
    ) -> Iterator[tuple[list[_ImageRecord], list[tuple[int, dict[str, Any]]]]]:
        """(images, annotations) of each bucket, each in file order."""
        if not self._spilled:
            images, annotations = self._images, self._annotations
            self._images, self._annotations = [], []
            yield images, annotations
            return
        self._spill()
        for b in range(BUCKETS):
            yield self._load(b, "i"), self._load(b, "a")


class DiceReader:
    """Reads one annotation file as a stream and hands its images to a consumer.

    Memory: one batch of the file's text and objects, the classes, and 16 bytes per image (the
    hashes that find duplicate ids and label files); a flat file is grouped in memory up to
    `SPILL_RECORDS` records and through temporary files in `spill_dir` beyond."""

    def __init__(self, path: Path, problems: ReadProblems, spill_dir: Callable[[], Path]) -> None:
        self.path = path
        self.source = path.name
        self.problems = problems
        self.spill_dir = spill_dir
        self.header: dict[str, Any] = {}
        self.nested_any = False
        self.flat_any = False
        self.images_read = 0
        self._stream: JsonObjectStream | None = None
        self._members: set[str] = set()
        self._book = _IdentityBook()
        self._store = _GroupStore(spill_dir)
        self._immediate: bool | None = None
        self._dataset: DiceDataset | None = None

    def read(self, consumer: ImageConsumer, *, immediate: bool = True) -> DiceDataset:
        """Read the whole file, handing every valid image to `consumer`; returns the header model
        (no images in `.images`); `finish` comes next. Problems are left in `self.problems`
        for the caller to raise; raises DatasetError when the file is not JSON, `Regroup` when reading
        must start again grouping."""
        try:
            with self.path.open("rb") as handle:
                self._stream = JsonObjectStream(handle, _STREAMED)
                for member in self._stream.members():
                    self._members.add(member.key)
                    if isinstance(member, ValueMember):
                        self.header[member.key] = member.value
                    elif member.key == "images":
                        self._images_member(member, consumer, immediate)
                    else:
                        self._annotations_member(member)
        except JsonStreamError as error:
            raise DatasetError(
                f"{self.source} is not valid JSON ({error}); download it again, it may be "
                "truncated."
            ) from None
        except OSError as error:
            raise DatasetError(f"{self.source} cannot be read: {error.strerror}.") from None
        self._check_header()
        dataset = self._model()
        dataset.layout = self._layout()
        return dataset

    def finish(self, consumer: ImageConsumer) -> None:
        """After `read` (and a schema-valid file): check the classes and that ids and label
        paths are unique, then hand out the images that were grouped (the consumer must be
        ready now: the whole header is known)."""
        key = "classes" if "classes" in self.header else "categories"
        _read_classes(self.header.get(key) or [], key, self.problems.structure)
        self._check_duplicates()
        if self._immediate is True:
            return
        deliver = not self.problems.structure
        if deliver and not consumer.ready(self._model()):
            raise DatasetError(f"{self.source}: no task to convert the images for")
        self._hand_out_groups(consumer if deliver else None)

    # --- members ----------------------------------------------------------------------------

    def _images_member(self, member: ArrayMember, consumer: ImageConsumer, immediate: bool) -> None:
        check = validator(_IMAGES_CHECK)
        assert self._stream is not None
        for start, batch in member.batches():
            if self._immediate is None:
                first = batch[0] if batch else None
                self._immediate = (
                    immediate
                    and "classes" in self.header
                    and isinstance(first, dict)
                    and "annotations" in first
                    and consumer.ready(self._model())
                )
            finite = self._stream.non_finite
            bad: set[int] = set()
            if not check.is_valid(batch, check_finite=finite):
                for error in check.errors(batch, check_finite=finite):
                    bad.add(self._schema_problem("images", start, error.path, error.message))
            images: list[DiceImage] = []
            for i, raw in enumerate(batch):
                if i in bad:
                    continue
                image = self._image(start + i, raw)
                if image is None:
                    continue
                self._book.add(image)
                if image.nested_count:
                    self.nested_any = True
                if self._immediate:
                    images.append(image)
                else:
                    self._store.add_image(image)
            self.images_read += len(batch)
            if images:
                consumer.take(images)

    def _annotations_member(self, member: ArrayMember) -> None:
        check = validator(_ANNOTATIONS_CHECK)
        assert self._stream is not None
        for start, batch in member.batches():
            if not batch:
                continue
            if self._immediate:
                raise Regroup
            self._immediate = False
            finite = self._stream.non_finite
            bad: set[int] = set()
            if not check.is_valid(batch, check_finite=finite):
                for error in check.errors(batch, check_finite=finite):
                    bad.add(self._schema_problem("annotations", start, error.path, error.message))
            for i, annotation in enumerate(batch):
                if i in bad:
                    continue
                k = start + i
                if annotation.get("image_id") is None:
                    self.problems.structure.add(
                        f"$.annotations[{k}]", "has no image_id (flat layout)"
                    )
                else:
                    self._store.add_annotation(k, annotation)
                    self.flat_any = True

    def _schema_problem(self, key: str, start: int, path: str, message: str) -> int:
        """Record a schema error of a batch element; returns the element's index in the batch."""
        match = _ELEMENT.match(path)
        if match is None:  # pragma: no cover - the batch is an array: paths start at an element
            self.problems.schema.add(f"$.{key}", message)
            return -1
        i = int(match.group(1))
        self.problems.schema.add(f"$.{key}[{start + i}]{path[match.end() :]}", message)
        return i

    def _image(self, i: int, raw: dict[str, Any]) -> DiceImage | None:
        name = raw["file_name"]
        rel = _safe_relative(name)
        if rel is None:
            self.problems.structure.add(
                f"$.images[{i}].file_name",
                f"{quote(name)} is not a path inside the dataset's images/ folder: use a "
                "relative path with / between folders, without .., a leading / or control "
                "characters (such as a newline)",
            )
            return None
        slash = rel.rfind("/")
        dot = rel.rfind(".")
        stem = rel[:dot] if dot > slash + 1 else rel
        nested = raw.get("annotations") or []
        return DiceImage(
            i,
            raw["id"],
            rel,
            stem,
            raw["width"],
            raw["height"],
            raw.get("split"),
            nested,
            len(nested),
        )

    # --- after the last member --------------------------------------------------------------

    def _check_header(self) -> None:
        assert self._stream is not None
        header = dict(self.header)
        for key in _STREAMED:
            if key in self._members:
                header.setdefault(key, [])
        check = validator(SCHEMA)
        finite = self._stream.non_finite
        if not check.is_valid(header, check_finite=finite):
            for error in check.errors(header, check_finite=finite):
                self.problems.schema.add(error.path, error.message)
        if self.problems.schema:
            return
        if "classes" in header and "categories" in header:
            self.problems.structure.add(
                "$.categories", "a file has `classes` (nested) or `categories` (flat), not both"
            )
        if "classes" not in header and "categories" not in header:
            self.problems.structure.add(
                "$", "has no `classes` (nested layout) or `categories` (flat layout)"
            )

    def _model(self) -> DiceDataset:
        """The dataset model of what the header says so far."""
        header = self.header
        key = "classes" if "classes" in header else "categories"
        raw_classes = header.get(key)
        classes: list[ClassInfo] = []
        class_index: dict[int, int] = {}
        if isinstance(raw_classes, list):
            # Not valid: the schema check at the end says where.
            with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
                classes, class_index = _read_classes(raw_classes, key, Problems())
        if self._dataset is None or self._dataset.classes != classes:
            meta_keys = ("format_version", "dataset_id", "dataset_name", "version")
            self._dataset = DiceDataset(
                source=self.source,
                layout="nested",
                task_type=header.get("task_type"),
                classes=classes,
                class_index=class_index,
                images=[],
                metadata={k: header[k] for k in meta_keys if header.get(k) is not None},
            )
        else:
            self._dataset.task_type = header.get("task_type")
        return self._dataset

    def _layout(self) -> str:
        if self.flat_any:
            return "mixed" if self.nested_any else "flat"
        return "nested"

    def _check_duplicates(self) -> None:
        ids, stems = self._book.suspects()
        self._book = _IdentityBook()  # the hashes are not needed any more
        if not ids and not stems:
            return
        # Back to the file for the images whose id or stem hash occurs twice.
        seen_ids: dict[Any, int] = {}
        seen_stems: dict[str, tuple[int, str]] = {}
        with self.path.open("rb") as handle:
            for member in JsonObjectStream(handle, _STREAMED).members():
                if not isinstance(member, ArrayMember) or member.key != "images":
                    continue
                for start, batch in member.batches():
                    for i, raw in enumerate(batch):
                        image = self._image_quietly(start + i, raw)
                        if image is None:
                            continue
                        if hash(image.id) not in ids and hash(image.stem) not in stems:
                            continue
                        self._duplicate(image, seen_ids, seen_stems)

    def _image_quietly(self, i: int, raw: Any) -> DiceImage | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("file_name"), str):
            return None
        rel = _safe_relative(raw["file_name"])
        if rel is None:
            return None
        slash = rel.rfind("/")
        dot = rel.rfind(".")
        return DiceImage(
            i, raw.get("id"), rel, rel[:dot] if dot > slash + 1 else rel, 0, 0, None, [], 0
        )

    def _duplicate(
        self,
        image: DiceImage,
        seen_ids: dict[Any, int],
        seen_stems: dict[str, tuple[int, str]],
    ) -> None:
        i = image.index
        other = seen_ids.get(image.id)
        if other is not None:
            self.problems.structure.add(
                f"$.images[{i}].id", f"id {quote(image.id)} is also $.images[{other}]"
            )
            return
        seen = seen_stems.get(image.stem)
        if seen is not None:
            other_index, other_rel = seen
            same = "is the same file as" if other_rel == image.rel else "has the same label file as"
            self.problems.structure.add(
                f"$.images[{i}].file_name",
                f"{quote(image.rel)} {same} $.images[{other_index}] ({quote(other_rel)}): "
                f"labels/{quote(image.stem)[1:-1]}.txt cannot hold both; rename one image",
            )
            return
        seen_ids[image.id] = i
        seen_stems[image.stem] = (i, image.rel)

    def _hand_out_groups(self, consumer: ImageConsumer | None) -> None:
        """Group each bucket; hand its images to `consumer` (None: only check references)."""
        for records, flat in self._store.buckets():
            by_id: dict[Any, DiceImage] = {}
            for index, ident, rel, stem, width, height, split, nested in records:
                image = DiceImage(
                    index, ident, rel, stem, width, height, split, nested, len(nested)
                )
                by_id.setdefault(ident, image)
            for k, annotation in flat:
                image_id = annotation["image_id"]
                target = by_id.get(image_id)
                if target is None:
                    self.problems.structure.add(
                        f"$.annotations[{k}].image_id", f"no image has id {quote(image_id)}"
                    )
                    continue
                if target.flat_index is None:
                    target.annotations = list(target.annotations)
                    target.flat_index = []
                target.annotations.append(annotation)
                target.flat_index.append(k)
            if consumer is None:
                continue
            images = sorted(by_id.values(), key=lambda image: image.index)
            del by_id, records, flat
            for start in range(0, len(images), _HAND_OUT):
                consumer.take(images[start : start + _HAND_OUT])


_HAND_OUT = 1024


def _read_classes(
    raw_classes: list[dict[str, Any]], key: str, problems: Problems
) -> tuple[list[ClassInfo], dict[int, int]]:
    seen: dict[int, int] = {}
    for i, raw in enumerate(raw_classes):
        if raw["id"] in seen:
            problems.add(
                f"$.{key}[{i}].id", f"class id {raw['id']} is also $.{key}[{seen[raw['id']]}]"
            )
        else:
            seen[raw["id"]] = i
    ordered = sorted(seen.items())
    classes: list[ClassInfo] = []
    index: dict[int, int] = {}
    next_index = 0
    for class_id, i in ordered:
        raw = raw_classes[i]
        if raw["name"] == BACKGROUND_CLASS:
            out = -1
        else:
            out = next_index
            next_index += 1
        index[class_id] = out
        kps = raw.get("keypoints")
        skeleton = raw.get("skeleton")
        classes.append(
            ClassInfo(
                id=int(class_id),
                name=raw["name"],
                index=out,
                path=f"$.{key}[{i}]",
                keypoints=tuple(kps) if kps is not None else None,
                skeleton=tuple((int(a), int(b)) for a, b in skeleton) if skeleton else None,
                supercategory=raw.get("supercategory"),
            )
        )
    return classes, index


def missing_image_files(images_root: Path, images: list[DiceImage]) -> set[str]:
    """The `rel` paths of `images` whose file is missing under `images_root`.

    One directory listing per folder instead of one `stat` per image: a 50,000-image dataset in
    a few hundred folders costs a few hundred system calls.
    """
    by_dir: dict[str, list[str]] = {}
    for image in images:
        folder, _, _ = image.rel.rpartition("/")
        by_dir.setdefault(folder, []).append(image.rel)
    missing: set[str] = set()
    for folder, rels in by_dir.items():
        try:
            present = set(os.listdir(images_root / folder if folder else images_root))
        except (FileNotFoundError, NotADirectoryError):
            missing.update(rels)
            continue
        cut = len(folder) + 1 if folder else 0
        missing.update(rel for rel in rels if rel[cut:] not in present)
    return missing
