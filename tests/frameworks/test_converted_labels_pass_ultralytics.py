"""DICE -> YOLO output checked by Ultralytics' own code: every listed image is found the way
Ultralytics reads train.txt (`BaseDataset.get_img_files`; also with the older rule that replaced
every `./` of a line), its label where `img2label_paths` looks, and `verify_image_label` keeps it
with the objects the converter wrote: no image discarded, no label missing, no zero-size box.

The dataset is built to trip each trap: `file_name`s with an `images/` folder inside
(`sub/images/a.png`, `images/x/images/b.png`, `images/c.png`), a folder ending in `.`, and
segmentation polygons with no area at the label's precision (collinear, specks, edge slivers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from framework_env import ROOT

pytestmark = pytest.mark.frameworks

FILE_NAMES = (
    "plain/a.png",
    "sub/images/b.png",
    "images/x/images/c.png",
    "images/d.png",
    "scan./e.png",
    "deep/scan./images/f.png",
)

CHECK = r"""
import json, sys, types
from pathlib import Path

from ultralytics.data.base import BaseDataset
from ultralytics.data.utils import img2label_paths, verify_image_label

from trainer_sdk.convert import convert_dataset

root, task = Path(sys.argv[1]), sys.argv[2]
result = convert_dataset(root, "dice", "yolo", task_type=task)
data = Path(result.data_yaml)
report = result.report
keypoint = task == "pose"
nkpt = 4 if keypoint else 0
out = {"dropped": report.objects_dropped, "kept": report.objects_kept, "images": {}}
for split in ("train", "val"):
    listing = data.parent / f"{split}.txt"
    # The current rule (first "./" only) through Ultralytics' own method ...
    files = BaseDataset.get_img_files(types.SimpleNamespace(prefix="", fraction=1.0), str(listing))
    # ... and the rule of older releases: every "./" of a relative line replaced.
    parent = str(listing.parent) + "/"
    old_rule = [
        line.replace("./", parent) if line.startswith("./") else line
        for line in listing.read_text().splitlines()
    ]
    out[f"{split}_old_rule_missing"] = [p for p in old_rule if not Path(p).is_file()]
    for image, label in zip(files, img2label_paths(files)):
        im_file, lb, shape, segments, keypoints, nm, nf, ne, nc, msg = verify_image_label(
            (image, label, "", keypoint, len(report.classes), nkpt, 3, False)
        )
        boxes = [] if lb is None else lb.tolist()
        out["images"][image] = {
            "missing": nm, "found": nf, "empty": ne, "corrupt": nc, "message": msg,
            "rows": len(boxes),
            "smallest_side": min((min(b[3], b[4]) for b in boxes), default=None),
            "segments": len(segments),
        }
print(json.dumps(out))
"""


def _dataset(root: Path, task: str) -> None:
    """A DICE dataset of `task` whose images sit at FILE_NAMES (copies of the demo images)."""
    sys.path.insert(0, str(ROOT / "examples" / "data"))
    try:
        import task_dataset
    finally:
        sys.path.pop(0)
    source = ROOT / "examples" / "data"
    if task == "detection":
        document = json.loads((source / "annotations_detection.json").read_text())
        (root / "images").mkdir(parents=True)
    else:
        task_dataset.convert(task, root)
        document = json.loads((root / f"annotations_{task}.json").read_text())
        for leftover in (root / "images").iterdir():
            for image in leftover.iterdir():
                image.unlink()
            leftover.rmdir()
    document["images"] = document["images"][: len(FILE_NAMES)]
    for i, (image, name) in enumerate(zip(document["images"], FILE_NAMES, strict=True)):
        target = root / "images" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((source / "images" / image["file_name"]).read_bytes())
        image["file_name"] = name
        image["split"] = "val" if i % 2 else "train"
    (root / f"annotations_{task}.json").write_text(json.dumps(document))


@pytest.mark.parametrize("task", ["detection", "segmentation", "pose"])
def test_ultralytics_keeps_every_converted_image_and_label(
    frameworks_bin: Path, tmp_path: Path, task: str
) -> None:
    root = tmp_path / "dataset"
    _dataset(root, task)
    done = subprocess.run(
        [str(frameworks_bin / "python"), "-c", CHECK, str(root), task],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={"YOLO_CONFIG_DIR": str(tmp_path / "settings"), "YOLO_OFFLINE": "true"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    images = result["images"]
    assert len(images) == len(FILE_NAMES), sorted(images)
    for image, verdict in images.items():
        # Found, not corrupt, one object (the demo's box), with a box of non-zero size.
        assert verdict["corrupt"] == 0 and verdict["message"] == "", (image, verdict)
        assert verdict["found"] == 1 and verdict["missing"] == 0, (image, verdict)
        assert verdict["rows"] == 1 and verdict["smallest_side"] > 0, (image, verdict)
        if task == "segmentation":
            assert verdict["segments"] == 1, (image, verdict)
    assert result["train_old_rule_missing"] == [] and result["val_old_rule_missing"] == []
    assert result["kept"] == len(FILE_NAMES)
    if task == "segmentation":
        # 5 degenerate polygons on every third image (images 0 and 3 of these six).
        assert result["dropped"] == {"zero_area": 10}
