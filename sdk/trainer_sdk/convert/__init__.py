"""DICE dataset conversion: YOLO, COCO and ImageFolder, exact and counted.

    from trainer_sdk.convert import convert_dataset
    result = convert_dataset("/tmp/dataset", "dice", "yolo", {"train_ratio": 0.8, "val_ratio": 0.2})
    result.data_yaml            # .../data.yaml, for Ultralytics
    result.report.to_dict()     # images, objects kept, dropped by reason, negatives, splits

Modules: `api` (convert_dataset and where each target writes), `json_stream` (a large JSON
object read member by member, its arrays in batches), `dice_reader` (locate, stream, validate each
batch, one model for both layouts), `conversion_run` (labels written as the file is read, the
split bookkeeping), `tasks`, `split`, `geometry`, `pose`, `yolo_labels` / `yolo`, `coco`,
`classification` / `imagefolder`, `job`, `staging` (safe output), `file_writer` and
`writer_process` (fast small files), `problems` (errors with JSON paths), `tally` / `report`.
"""

from trainer_sdk.convert.api import (
    SOURCE_FORMATS,
    TARGET_FORMATS,
    ConversionResult,
    convert_dataset,
)
from trainer_sdk.convert.problems import MAX_LISTED_PROBLEMS, InvalidDatasetError, Problem
from trainer_sdk.convert.report import ConversionReport, DropReason
from trainer_sdk.convert.split import SplitConfig, parse_split_config

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "SOURCE_FORMATS",
    "TARGET_FORMATS",
    "ConversionReport",
    "ConversionResult",
    "DropReason",
    "InvalidDatasetError",
    "Problem",
    "SplitConfig",
    "convert_dataset",
    "parse_split_config",
]
