"""The COCO target: flat COCO files, one per split, with the DICE class ids as category ids.

Layout (the output defaults to `<dataset>/coco`)::

    images -> ../images          symlink to the dataset's images (file_name is relative to it)
    annotations/train.json       images, annotations, categories of the split
    annotations/val.json
    annotations/test.json        only when the test split is not empty

Geometry is cleaned as for YOLO (boxes and polygon points clipped to the image, objects with
nothing left dropped, keypoints outside the image made absent) but nothing COCO can express is
dropped: crowd objects keep their RLE masks. Each image keeps its `split`, so the files are
valid DICE (flat layout) again and convert to the same YOLO labels as the original.
Annotation ids are renumbered 1..N in output order; image and category ids are kept.
"""

from __future__ import annotations

import codecs
import json
import json.encoder as json_encoder
import os
import shutil
from array import array
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from trainer_sdk.convert.dice_reader import DiceImage
from trainer_sdk.convert.geometry import (
    clip_box,
    clip_keypoints,
    clip_polygon,
    polygon_area,
)
from trainer_sdk.convert.job import ConversionJob, link_images_folder
from trainer_sdk.convert.pose import pose_layout
from trainer_sdk.convert.report import Adjustment, DropReason
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging
from trainer_sdk.convert.yolo_labels import class_of

__all__ = ["ANNOTATIONS", "DEFAULT_FOLDER", "CocoStream", "write_coco"]

DEFAULT_FOLDER = "coco"
ANNOTATIONS = "annotations"


def write_coco(job: ConversionJob) -> None:
    """Convert and publish the per-split COCO files (all images in memory: `CocoStream` is the
    streamed form, with the same bytes)."""
    if job.task == "pose":
        job.dataset.kpt_count = pose_layout(job.dataset, job.problems).count
        job.raise_problems()
    categories = _categories(job)
    info_block = _info(job)
    documents: dict[str, dict[str, Any]] = {}
    next_id = 1  # annotation ids run across the splits: unique over the whole dataset
    for split in SPLITS:
        images = job.splits[split]
        if not images and split == "test":
            continue
        out_images: list[dict[str, Any]] = []
        out_annotations: list[dict[str, Any]] = []
        for image in images:
            out_images.append(
                {
                    "id": image.id,
                    "file_name": image.rel,
                    "width": image.width,
                    "height": image.height,
                    "split": split,
                }
            )
            for ann in _kept(job, image):
                out_annotations.append({"id": next_id, "image_id": image.id, **ann})
                next_id += 1
        documents[split] = {
            "info": info_block,
            "images": out_images,
            "annotations": out_annotations,
            "categories": categories,
        }
    job.raise_problems()
    with Staging(job.output_dir) as staging:
        folder = staging.root / ANNOTATIONS
        folder.mkdir()
        for split, document in documents.items():
            (folder / f"{split}.json").write_bytes(
                _utf8(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
            )
        entries = [*link_images_folder(job, staging.root), ANNOTATIONS]
        staging.publish(entries)


class CocoStream:
    """The COCO files made as the images come, in bounded memory.

    Each image is converted when it is read (its split is not known yet: that takes every image)
    and its JSON text, without the split and the annotation ids, goes to a records file in the
    staging folder; memory keeps 16 bytes an image (where its record is). Once the splits are
    known, `write` reads the records back in output order and writes each split's file from
    them, the annotations through a second file, so the text is the same, byte for byte, as
    `write_coco` makes of the whole document.
    """

    def __init__(self, job: ConversionJob, folder: Path) -> None:
        self.job = job
        self._path = folder / ".coco-records"
        self._records = open(self._path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in write
        self._offsets = array("Q")
        self._sizes = array("Q")
        self._position = 0

    def add(self, image: DiceImage) -> None:
        """Convert one image (the next in the split book)."""
        head = _dumps(
            {"id": image.id, "file_name": image.rel, "width": image.width, "height": image.height}
        )
        image_id = _dumps(image.id)
        # JSON text never holds a raw newline: it separates the image from its annotations.
        lines = [head[:-1] + ',"split":']
        kept = _kept(self.job, image, _sort_key)
        lines += [f',"image_id":{image_id},{_dumps(ann)[1:]}' for ann in kept]
        data = _utf8("\n".join(lines))
        self._offsets.append(self._position)
        self._sizes.append(len(data))
        self._records.write(data)
        self._position += len(data)

    def write(self, staging_root: Path, orders: Mapping[str, Sequence[int]]) -> str:
        """Write every split's file into `staging_root/annotations` (`orders`: each split's
        record numbers, in output order); returns the folder's name."""
        self._records.close()
        folder = staging_root / ANNOTATIONS
        folder.mkdir()
        head = _utf8(f'{{"info":{_dumps(_info(self.job))},"images":[')
        tail = _utf8(f'],"categories":{_dumps(_categories(self.job))}}}')
        part = staging_root / ".coco-annotations"
        next_id = 1
        with open(self._path, "rb") as records:
            fd = records.fileno()
            for split in SPLITS:
                order = orders[split]
                if not order and split == "test":
                    continue
                split_text = f"{_dumps(split)}}}".encode()
                with (
                    open(folder / f"{split}.json", "wb", buffering=1 << 20) as out,
                    open(part, "w+b", buffering=1 << 20) as annotations,
                ):
                    out.write(head)
                    separator = b""
                    ann_separator = b""
                    for i in order:
                        lines = os.pread(fd, self._sizes[i], self._offsets[i]).split(b"\n")
                        out.write(separator + lines[0] + split_text)
                        separator = b","
                        for line in lines[1:]:
                            annotations.write(b'%s{"id":%d%s' % (ann_separator, next_id, line))
                            ann_separator = b","
                            next_id += 1
                    out.write(b'],"annotations":[')
                    annotations.seek(0)
                    shutil.copyfileobj(annotations, out, 1 << 20)
                    out.write(tail)
        part.unlink()
        self._path.unlink()
        return ANNOTATIONS

    def close(self) -> None:
        """Close the records file (when the conversion stops before `write`)."""
        self._records.close()


def _encoder(**options: Any) -> Callable[[Any], str]:
    """`json.dumps(value, **options)` with its encoder made once instead of at every call (a
    third of the time of a million small objects): the same C encoder, so the same text."""
    encoder = json.JSONEncoder(**options)
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return encoder.encode
    quote = (
        json_encoder.encode_basestring_ascii
        if encoder.ensure_ascii
        else json_encoder.encode_basestring
    )
    iterencode = make(
        None,  # no cycle check: values parsed from JSON have no cycles
        encoder.default,
        quote,
        encoder.indent,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda value: "".join(iterencode(value, 0))


def _escape_surrogates(error: UnicodeError) -> tuple[str, int]:
    """A lone surrogate (JSON's `"\\ud800"` reads as one) as the JSON escape it came from: it
    can only stand inside a string, where the escape means the same, and UTF-8 cannot hold it."""
    assert isinstance(error, UnicodeEncodeError)
    bad = error.object[error.start : error.end]
    return "".join(f"\\u{ord(c):04x}" for c in bad), error.end


_SURROGATE_ESCAPE = "trainer_sdk.json_surrogate_escape"
codecs.register_error(_SURROGATE_ESCAPE, _escape_surrogates)


def _utf8(text: str) -> bytes:
    """JSON text as UTF-8, lone surrogates written as their `\\uXXXX` escapes."""
    return text.encode("utf-8", _SURROGATE_ESCAPE)


_dumps = _encoder(ensure_ascii=False, separators=(",", ":"))
"""The text `write_coco` writes (`json.dumps` with those options)."""
_sort_key = _encoder(sort_keys=True)
"""`json.dumps(value, sort_keys=True)`: the order of an image's annotations."""


def _info(job: ConversionJob) -> dict[str, Any]:
    return {**job.dataset.metadata, "task_type": job.task}


def _categories(job: ConversionJob) -> list[dict[str, Any]]:
    categories = []
    for info in job.dataset.classes:
        if info.index < 0:
            continue
        category: dict[str, Any] = {"id": info.id, "name": info.name}
        if info.supercategory is not None:
            category["supercategory"] = info.supercategory
        if info.keypoints is not None:
            category["keypoints"] = list(info.keypoints)
        if info.skeleton is not None:
            category["skeleton"] = [list(pair) for pair in info.skeleton]
        categories.append(category)
    return categories


def _kept(
    job: ConversionJob,
    image: DiceImage,
    sort_key: Callable[[Any], str] = lambda c: json.dumps(c, sort_keys=True),
) -> list[dict[str, Any]]:
    """The image's converted annotations, in output order (`sort_key` of each; counted in the
    tally)."""
    converted = [_convert(job, image, k, ann) for k, ann in enumerate(image.annotations)]
    kept = sorted(
        (c for c in converted if c is not None),
        key=sort_key,
    )
    job.tally.kept += len(kept)
    if not kept:
        job.tally.negatives += 1
    return kept


def _convert(
    job: ConversionJob, image: DiceImage, k: int, ann: dict[str, Any]
) -> dict[str, Any] | None:
    tally = job.tally
    tally.objects += 1
    index = class_of(job.dataset, image, k, ann, job.problems)
    if index is None:
        return None
    if index < 0:
        tally.drop(DropReason.BACKGROUND_CLASS)
        return None
    class_id = ann.get("class_id", ann.get("category_id"))
    out: dict[str, Any] = {"category_id": class_id}
    if job.task == "classification":
        return out
    width, height = image.width, image.height
    crowd = 1 if ann.get("iscrowd") else 0
    box = ann.get("bbox")
    clipped_box = None
    if box is not None:
        clipped_box = clip_box(box, width, height)
        # Segmentation goes by its polygons (as the YOLO rows do); its box is only a summary.
        if clipped_box is None and job.task != "segmentation":
            tally.drop(DropReason.ZERO_AREA)
            return None
        if clipped_box is not None and clipped_box[4]:
            tally.adjust(Adjustment.BOXES_CLIPPED)
    area: float | None = None
    if job.task == "segmentation":
        segmentation = ann.get("segmentation")
        if segmentation is None or segmentation == []:
            tally.drop(DropReason.MISSING_SEGMENTATION)
            return None
        if isinstance(segmentation, dict):
            out["segmentation"] = segmentation
            area = ann.get("area")
        else:
            polygons = []
            moved = False
            for p, polygon in enumerate(segmentation):
                if len(polygon) % 2:
                    job.problems.add(
                        f"{job.dataset.annotation_path(image, k)}.segmentation[{p}]",
                        f"has {len(polygon)} numbers; a polygon is x, y pairs",
                    )
                    return None
                points, was_clipped = clip_polygon(polygon, width, height)
                moved = moved or was_clipped
                if polygon_area(points) > 0.0:
                    polygons.append(points)
            if not polygons:
                tally.drop(DropReason.ZERO_AREA)
                return None
            if moved:
                tally.adjust(Adjustment.POINTS_CLIPPED)
            out["segmentation"] = polygons
            area = sum(polygon_area(p) for p in polygons)
            if clipped_box is None:
                xs = [v for p in polygons for v in p[0::2]]
                ys = [v for p in polygons for v in p[1::2]]
                clipped_box = (min(xs), min(ys), max(xs), max(ys), False)
    if clipped_box is None:
        tally.drop(DropReason.MISSING_BBOX)
        return None
    x1, y1, x2, y2, _ = clipped_box
    out["bbox"] = [x1, y1, x2 - x1, y2 - y1]
    out["area"] = area if area is not None else (x2 - x1) * (y2 - y1)
    out["iscrowd"] = crowd
    if job.task == "pose":
        keypoints = ann.get("keypoints")
        if keypoints is None:
            tally.drop(DropReason.MISSING_KEYPOINTS)
            return None
        expected = job.dataset.kpt_count
        if len(keypoints) != 3 * expected:
            job.problems.add(
                f"{job.dataset.annotation_path(image, k)}.keypoints",
                f"has {len(keypoints)} numbers; the dataset's pose has {expected} keypoints",
            )
            return None
        triples, outside = clip_keypoints(keypoints, width, height)
        tally.adjust(Adjustment.KEYPOINTS_OUTSIDE_IMAGE, outside)
        out["keypoints"] = [v for triple in triples for v in triple]
        out["num_keypoints"] = sum(1 for triple in triples if triple[2] > 0)
    return out
