"""Reading a DICE annotation file into one layout-independent model.

Both layouts become the same `DiceDataset`: nested (`classes`, images carrying `annotations` with
`class_id`) and flat COCO (`categories`, top-level `annotations` with `image_id` and
`category_id`); a file may even mix them. The document is validated against the `dice/annotations`
schema (the compiled jsonschema-rs validator: milliseconds where a pure-Python validator takes
seconds), then checked for what a schema cannot say: unique ids, known references, file names
that stay inside the dataset and label paths that do not collide. Every problem is collected and
raised together, each with its JSON path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer_contract.validators import validator
from trainer_sdk.convert.problems import Problems
from trainer_sdk.convert.tasks import task_file_names
from trainer_sdk.errors import DatasetError
from trainer_sdk.storage.layout import local_image_folder

__all__ = [
    "BACKGROUND_CLASS",
    "IMAGES_FOLDER",
    "ClassInfo",
    "DiceDataset",
    "DiceImage",
    "find_annotation_file",
    "load_document",
    "missing_image_files",
    "read_dataset",
]

SCHEMA = "dice/annotations"
BACKGROUND_CLASS = "__background__"
IMAGES_FOLDER = local_image_folder().as_posix()
"""Where the images of a downloaded dataset are, relative to its folder (`file_name` is relative
to it); the storage layout decides it, the downloader and the converter both ask it."""
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
    _flat_positions: dict[int, int] | None = None
    _flat: list[dict[str, Any]] | None = None

    @property
    def names(self) -> list[str]:
        """Names of the real classes, in output index order (0..nc-1)."""
        return [c.name for c in self.classes if c.index >= 0]

    def annotation_path(self, image: DiceImage, k: int) -> str:
        """JSON path of the k-th annotation of `image` (nested or flat)."""
        if k < image.nested_count:
            return f"$.images[{image.index}].annotations[{k}]"
        if self._flat_positions is None:
            self._flat_positions = {id(a): i for i, a in enumerate(self._flat or [])}
        return f"$.annotations[{self._flat_positions[id(image.annotations[k])]}]"


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


class _NonFinite:
    """Notes that the file spelled NaN or Infinity (Python's json accepts both, JSON does not)."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, token: str) -> float:
        self.seen = True
        return float(token)


def load_document(path: Path) -> tuple[Any, bool]:
    """Parse the file; returns the document and whether it spelled NaN/Infinity anywhere.

    The caller keeps the garbage collector off while this runs: a parse builds millions of
    objects, none of them in a cycle, and each collection would walk all of them again.
    """
    non_finite = _NonFinite()
    try:
        with path.open("rb") as handle:
            raw = handle.read()
        return json.loads(raw, parse_constant=non_finite), non_finite.seen
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(
            f"{path.name} is not valid JSON ({error}); download it again, it may be truncated."
        ) from None
    except OSError as error:
        raise DatasetError(f"{path.name} cannot be read: {error.strerror}.") from None


def _safe_relative(name: str) -> str | None:
    """`file_name` as a clean relative path, or None when it is absolute or climbs out."""
    if (
        name
        and name[0] not in "/."
        and "\\" not in name
        and "\x00" not in name
        and "//" not in name
        and "/." not in name
    ):
        return name  # the common case, checked without splitting
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_dataset(document: Any, source: str, non_finite: bool) -> DiceDataset:
    """Validate `document` and build the dataset model; raises InvalidDatasetError listing every
    problem found (schema first; the other checks only run on a schema-valid document)."""
    problems = Problems()
    check = validator(SCHEMA)
    if non_finite or not check.is_valid(document, check_finite=False):
        for error in check.errors(document, check_finite=non_finite):
            problems.add(error.path, error.message)
        if not problems:  # pragma: no cover - is_valid and errors disagree
            problems.add("$", "is not valid DICE")
        problems.raise_if_any(source, FIX)

    layout_classes = "classes" if "classes" in document else "categories"
    if "classes" in document and "categories" in document:
        problems.add(
            "$.categories", "a file has `classes` (nested) or `categories` (flat), not both"
        )
    if "classes" not in document and "categories" not in document:
        problems.add("$", "has no `classes` (nested layout) or `categories` (flat layout)")
    classes, class_index = _read_classes(
        document.get(layout_classes) or [], layout_classes, problems
    )

    images: list[DiceImage] = []
    by_id: dict[Any, DiceImage] = {}
    by_stem: dict[str, DiceImage] = {}
    for i, raw in enumerate(document["images"]):
        name = raw["file_name"]
        rel = _safe_relative(name)
        if rel is None:
            problems.add(
                f"$.images[{i}].file_name",
                f"{name!r} is not a path inside the dataset's images/ folder: use a relative "
                "path with / between folders, without .. or a leading /",
            )
            continue
        slash = rel.rfind("/")
        dot = rel.rfind(".")
        stem = rel[:dot] if dot > slash + 1 else rel
        nested = raw.get("annotations") or []
        image = DiceImage(
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
        other = by_id.get(image.id)
        if other is not None:
            problems.add(f"$.images[{i}].id", f"id {image.id!r} is also $.images[{other.index}]")
            continue
        other = by_stem.get(stem)
        if other is not None:
            same = "is the same file as" if other.rel == rel else "has the same label file as"
            problems.add(
                f"$.images[{i}].file_name",
                f"{name!r} {same} $.images[{other.index}] ({other.rel!r}): labels/{stem}.txt "
                "cannot hold both; rename one image",
            )
            continue
        by_id[image.id] = image
        by_stem[stem] = image
        images.append(image)

    flat = document.get("annotations")
    if flat:
        grouped: dict[Any, list[dict[str, Any]]] = {}
        for k, ann in enumerate(flat):
            image_id = ann.get("image_id")
            if image_id is None:
                problems.add(f"$.annotations[{k}]", "has no image_id (flat layout)")
            elif image_id not in by_id:
                problems.add(f"$.annotations[{k}].image_id", f"no image has id {image_id!r}")
            else:
                grouped.setdefault(image_id, []).append(ann)
        for image_id, anns in grouped.items():
            image = by_id[image_id]
            image.annotations = image.annotations + anns if image.nested_count else anns

    problems.raise_if_any(source, FIX)
    layout = "flat" if flat and not any(img.nested_count for img in images) else "nested"
    if flat and any(img.nested_count for img in images):
        layout = "mixed"
    meta_keys = ("format_version", "dataset_id", "dataset_name", "version")
    return DiceDataset(
        source=source,
        layout=layout,
        task_type=document.get("task_type"),
        classes=classes,
        class_index=class_index,
        images=images,
        metadata={k: document[k] for k in meta_keys if document.get(k) is not None},
        _flat=flat or None,
    )


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
