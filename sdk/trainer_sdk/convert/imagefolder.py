"""The ImageFolder target (classification only): `<output>/{train,val,test}/<class>/<image path>`.

The output defaults to `<dataset>/imagefolder`, so it never mixes with the dataset's own files;
`torchvision.datasets.ImageFolder(<output>/train)` reads it as is.
"""

from __future__ import annotations

from trainer_sdk.convert.classification import write_class_folders
from trainer_sdk.convert.job import ConversionJob
from trainer_sdk.convert.split import SPLITS
from trainer_sdk.convert.staging import Staging

__all__ = ["DEFAULT_FOLDER", "write_imagefolder"]

DEFAULT_FOLDER = "imagefolder"


def write_imagefolder(job: ConversionJob) -> None:
    """Convert and publish the link tree of every non-empty split."""
    with Staging(job.output_dir) as staging:
        entries = write_class_folders(job, staging)
        if entries:
            staging.publish(entries, remove=tuple(s for s in SPLITS if s not in entries))
