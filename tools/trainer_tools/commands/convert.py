"""`trainer-sdk convert`: convert a downloaded DICE dataset to YOLO, COCO or ImageFolder.

The same options as `TrainerSDK.convert_dataset`; prints the report (a summary line, or the whole
report as JSON with `--json`). Exit codes: 0 converted, 1 bad dataset or bad option (the message
says what and where).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from trainer_sdk.convert import TARGET_FORMATS, InvalidDatasetError, convert_dataset
from trainer_sdk.errors import ConfigError, DatasetError

NAME = "convert"
HELP = "Convert a DICE dataset (nested or flat COCO layout) to YOLO, COCO or ImageFolder."


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the convert options."""
    parser.add_argument("dataset_dir", help="the dataset folder (annotations_*.json and images/)")
    parser.add_argument(
        "--to",
        dest="target_format",
        choices=TARGET_FORMATS,
        default="yolo",
        help="target format (default: yolo)",
    )
    parser.add_argument(
        "--from", dest="source_format", default="dice", help="source format (only dice)"
    )
    parser.add_argument(
        "--task",
        dest="task_type",
        default=None,
        help="detection, classification, segmentation or pose (long forms accepted); "
        "default: $TASK_TYPE, then the file's task_type",
    )
    parser.add_argument("--train-ratio", type=float, default=None, help="default 0.8")
    parser.add_argument("--val-ratio", type=float, default=None, help="default 0.2")
    parser.add_argument(
        "--test-ratio", type=float, default=None, help="default: what train and val leave"
    )
    parser.add_argument("--seed", type=int, default=None, help="split seed (default 42)")
    parser.add_argument(
        "--output-dir",
        default=None,
        help="where to write (default: the dataset folder for YOLO, <dataset>/coco, "
        "<dataset>/imagefolder)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")


def run(args: argparse.Namespace) -> int:
    """Convert and print the report; 1 with the reason on stderr when it cannot."""
    split = {
        key: value
        for key, value in (
            ("train_ratio", args.train_ratio),
            ("val_ratio", args.val_ratio),
            ("test_ratio", args.test_ratio),
            ("seed", args.seed),
        )
        if value is not None
    }
    task = args.task_type or os.environ.get("TASK_TYPE") or None
    try:
        result = convert_dataset(
            args.dataset_dir,
            args.source_format,
            args.target_format,
            split or None,
            task,
            output_dir=args.output_dir,
        )
    except (ConfigError, DatasetError) as error:
        kind = "dataset" if isinstance(error, DatasetError | InvalidDatasetError) else "option"
        print(f"trainer-sdk convert: bad {kind}: {error}", file=sys.stderr)
        return 1
    if args.json:
        body = result.report.to_dict()
        body["output_dir"] = result.output_dir
        body["data_yaml"] = result.data_yaml
        print(json.dumps(body, indent=2, sort_keys=True))
    else:
        print(result.report.summary())
        print(f"output: {result.output_dir}")
        if result.data_yaml:
            print(f"data.yaml: {result.data_yaml}")
    return 0
