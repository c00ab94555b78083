"""The keypoint layout of a pose dataset: `kpt_shape` and, when the names allow, `flip_idx`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trainer_sdk.convert.dice_reader import DiceDataset
from trainer_sdk.convert.problems import Problems

__all__ = ["PoseLayout", "pose_layout"]

_SIDES = re.compile(r"(left|right|Left|Right|LEFT|RIGHT)")
_SWAP = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
_SWAP |= {"LEFT": "RIGHT", "RIGHT": "LEFT"}


@dataclass(frozen=True)
class PoseLayout:
    """`count` keypoints per object, their names (when the classes list them) and the index
    permutation of a horizontal flip (`flip_idx` in Ultralytics' data.yaml), when derivable."""

    count: int
    names: tuple[str, ...] | None
    flip_idx: list[int] | None


def pose_layout(dataset: DiceDataset, problems: Problems) -> PoseLayout:
    """One keypoint layout for the whole dataset, from the classes' `keypoints` names (they must
    agree) or else from the objects themselves."""
    declared = [c for c in dataset.classes if c.index >= 0 and c.keypoints]
    if declared:
        first = declared[0]
        assert first.keypoints is not None
        for other in declared[1:]:
            if other.keypoints is not None and len(other.keypoints) != len(first.keypoints):
                problems.add(
                    f"{other.path}.keypoints",
                    f"has {len(other.keypoints)} keypoints but {first.path} has "
                    f"{len(first.keypoints)}: YOLO pose needs one kpt_shape for every class",
                )
        names = first.keypoints
        return PoseLayout(len(names), names, _flip_index(names))
    for image in dataset.images:
        for k, ann in enumerate(image.annotations):
            keypoints = ann.get("keypoints")
            if keypoints:
                if len(keypoints) % 3:
                    problems.add(
                        f"{dataset.annotation_path(image, k)}.keypoints",
                        f"has {len(keypoints)} numbers; keypoints are x, y, v triples",
                    )
                    return PoseLayout(0, None, None)
                return PoseLayout(len(keypoints) // 3, None, None)
    problems.add(
        "$.classes",
        "no class lists keypoint names and no object has keypoints: a pose dataset needs them",
    )
    return PoseLayout(0, None, None)


def _flip_index(names: tuple[str, ...]) -> list[int] | None:
    # left_eye <-> right_eye and so on; names without a side map to themselves.
    position = {name: i for i, name in enumerate(names)}
    flip: list[int] = []
    paired = False
    for name in names:
        mirrored = _SIDES.sub(lambda m: _SWAP[m.group(0)], name)
        if mirrored == name:
            flip.append(position[name])
        elif mirrored in position:
            flip.append(position[mirrored])
            paired = True
        else:
            return None
    return flip if paired else None
