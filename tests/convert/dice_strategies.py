"""Hypothesis strategies for DICE documents, aimed at the edge cases converters get wrong:
boxes past every edge or of zero size, crowd and background objects, class ids with gaps,
equal stems in different folders, string and integer image ids, preset splits, several polygons
per object, keypoints outside the image."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

FOLDERS = ("", "a/", "b/", "a/deep/")
STEMS = ("x", "y", "0001", "img.v2")


@st.composite
def classes(draw: st.DrawFn, *, keypoints: int = 0) -> list[dict[str, Any]]:
    """1-5 real classes with distinct, gappy ids, sometimes a `__background__` class too."""
    ids = draw(st.lists(st.integers(0, 60), min_size=1, max_size=6, unique=True))
    out = []
    background = draw(st.booleans()) and len(ids) > 1
    for n, class_id in enumerate(ids):
        name = "__background__" if background and n == 0 else f"class_{class_id}"
        entry: dict[str, Any] = {"id": class_id, "name": name}
        if keypoints and name != "__background__":
            entry["keypoints"] = [f"k{i}" for i in range(keypoints)]
        out.append(entry)
    return out


def _coord(size: int) -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(-0.5 * size, 1.5 * size, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, float(size), -1.0, float(size) + 1]),
    )


@st.composite
def annotation(
    draw: st.DrawFn, class_ids: list[int], width: int, height: int, task: str, keypoints: int
) -> dict[str, Any]:
    """One object of `task` on a width x height image."""
    ann: dict[str, Any] = {
        "id": draw(st.integers(1, 10**6)),
        "class_id": draw(st.sampled_from(class_ids)),
    }
    if task == "classification":
        return ann
    x, y = draw(_coord(width)), draw(_coord(height))
    w = draw(st.one_of(st.just(0.0), st.floats(0, 1.5 * width, allow_nan=False)))
    h = draw(st.one_of(st.just(0.0), st.floats(0, 1.5 * height, allow_nan=False)))
    ann["bbox"] = [x, y, w, h]
    ann["iscrowd"] = draw(st.sampled_from([0, 0, 0, 1]))
    if task == "segmentation":
        polygons = draw(
            st.lists(
                st.lists(st.tuples(_coord(width), _coord(height)), min_size=3, max_size=6),
                min_size=1,
                max_size=3,
            )
        )
        ann["segmentation"] = [[v for point in poly for v in point] for poly in polygons]
    if task == "pose":
        triples = draw(
            st.lists(
                st.tuples(_coord(width), _coord(height), st.sampled_from([0, 1, 2])),
                min_size=keypoints,
                max_size=keypoints,
            )
        )
        ann["keypoints"] = [v for triple in triples for v in triple]
        ann["num_keypoints"] = sum(1 for t in triples if t[2])
    return ann


@st.composite
def dice_documents(draw: st.DrawFn, task: str = "detection", keypoints: int = 3) -> dict[str, Any]:
    """A valid nested DICE document of `task` with 1-8 images."""
    class_list = draw(classes(keypoints=keypoints if task == "pose" else 0))
    class_ids = [c["id"] for c in class_list]
    places = draw(
        st.lists(
            st.tuples(st.sampled_from(FOLDERS), st.sampled_from(STEMS)),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    use_strings = draw(st.booleans())
    images = []
    for n, (folder, stem) in enumerate(places):
        width = draw(st.integers(1, 2000))
        height = draw(st.integers(1, 2000))
        image: dict[str, Any] = {
            "id": f"img-{n}" if use_strings else n * 7 + 3,
            "file_name": f"{folder}{stem}.{draw(st.sampled_from(['jpg', 'png']))}",
            "width": width,
            "height": height,
            "annotations": draw(
                st.lists(annotation(class_ids, width, height, task, keypoints), max_size=5)
            ),
        }
        split = draw(st.sampled_from([None, None, None, "train", "val", "test"]))
        if split is not None:
            image["split"] = split
        images.append(image)
    return {"format_version": "1.0", "task_type": task, "classes": class_list, "images": images}
