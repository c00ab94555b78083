#!/usr/bin/env python3
"""Turn the demo detection dataset (examples/data) into a DICE classification dataset.

`python examples/timm/classification_dataset.py OUT` writes OUT/annotations_classification.json
(each image labelled with the class of its box), metadata.json and a copy of images/, so that the
timm trainer can be dry-run: `trainer-sdk dry-run examples/timm/train.py --dataset OUT`.
"""

import json
import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "data"
CLASSIFICATION_FIELDS = ("id", "image_id", "class_id", "class_name", "attributes")


def convert(source, out):
    """Write the classification dataset of `source` (a DICE detection dataset) into `out`."""
    document = json.loads((source / "annotations_detection.json").read_text())
    document["task_type"] = "classification"
    for image in document["images"]:
        image["annotations"] = [
            {key: annotation[key] for key in CLASSIFICATION_FIELDS if key in annotation}
            for annotation in image["annotations"][:1]
        ]
    document.pop("statistics", None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "annotations_classification.json").write_text(json.dumps(document, indent=2) + "\n")
    shutil.copy(source / "metadata.json", out / "metadata.json")
    shutil.copytree(source / "images", out / "images", dirs_exist_ok=True)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {Path(sys.argv[0]).name} OUTPUT_FOLDER")
    print(convert(SOURCE, Path(sys.argv[1])))
