#!/usr/bin/env python3
"""Ultralytics YOLO trainer for the platform: the SDK around `model.train()`.

The shape of the platform's existing Ultralytics trainer, on this SDK:

1. `TrainerSDK()` reads the job from the environment; `get_basic_config()` gives the settings
   Ultralytics takes by the same names (`epochs`, `batch`, `imgsz`, `lr0`, ...), and
   `get_advanced_config()` the framework-specific ones (`mosaic`, `mixup`, ...), passed through.
2. `report_started('training', total_epochs=epochs)` before any work.
3. The DICE dataset comes from S3 through the node's cache, and `convert_dataset()` writes the
   YOLO layout and `data.yaml` (an ImageFolder tree for classification).
4. `model.add_callback("on_fit_epoch_end", ...)` reports every epoch with the training losses and
   the validation metrics (mAP50, mAP50-95, precision, recall) while Ultralytics trains.
5. The best and last weights go to S3 with `upload_checkpoint()`, the plots with `upload_file()`,
   the final validation with `report_validation()`, then `report_completed()`.
6. Any exception: `report_failed()` with an ErrorType (GPU out of memory is RESOURCE_ERROR) and
   exit code 1; `close()` always runs. Ultralytics' log lines are forwarded to the backend.

`ultralytics` (and torch) are imported inside `train()`: this file parses and lints without them.
"""

import logging
import os
import sys
import time
import traceback
from pathlib import Path

from trainer_sdk import CallbackLogHandler, ErrorType, TrainerSDK

# Scratch space comes from the platform (emptyDir volumes), never hard-coded.
TMP_DIR = Path(os.getenv("TMP_DIR", "/tmp"))
WORK_DIR = Path(os.getenv("WORK_DIR", "/workspace"))

# Platform task -> (Ultralytics task, dataset format, suffix of its metric names, primary metric).
TASKS = {
    "detection": ("detect", "yolo", "(B)", "mAP50-95"),
    "segmentation": ("segment", "yolo", "(M)", "mAP50-95"),
    "pose": ("pose", "yolo", "(P)", "mAP50-95"),
    "classification": ("classify", "imagefolder", "", "accuracy_top1"),
}
# AUGMENT=false turns Ultralytics' training augmentations off (advanced_config still wins).
NO_AUGMENTATION = {
    "mosaic": 0.0,
    "mixup": 0.0,
    "fliplr": 0.0,
    "hsv_h": 0.0,
    "hsv_s": 0.0,
    "hsv_v": 0.0,
    "degrees": 0.0,
    "translate": 0.0,
    "scale": 0.0,
}
PLOTS = ("confusion_matrix.png", "results.png", "PR_curve.png", "BoxPR_curve.png")

log = logging.getLogger("trainer")


def plain_metrics(raw, suffix):
    """Ultralytics' `metrics/mAP50-95(B)` -> `mAP50-95`: the names the platform shows."""
    metrics = {}
    for key, value in raw.items():
        name = key.split("/")[-1]
        if suffix and name.endswith(suffix):
            name = name[: -len(suffix)]
        metrics[name] = float(value)
    return metrics


def download(sdk):
    """The dataset folder: from the node's cache when the job names a version, else from S3."""
    destination = TMP_DIR / "dataset"
    if sdk.dataset_version_hash and sdk.snapshot_id:
        return sdk.download_dataset_with_cache(
            snapshot_id=sdk.snapshot_id,
            dataset_id=sdk.dataset_id,
            dataset_version_hash=sdk.dataset_version_hash,
            dest_dir=str(destination),
        )
    return sdk.download_dataset_selective(sdk.dataset_id, str(destination))


def upload_plots(sdk, save_dir):
    """Upload the plots Ultralytics drew; name -> s3 URI."""
    urls = {}
    for name in PLOTS:
        path = Path(save_dir) / name
        if path.is_file():
            urls[path.stem] = sdk.upload_file(
                str(path),
                f"job{sdk.job_id}/validation/{name}",
                content_type="image/png",
                storage_type="internal",
            )
    return urls


def train(sdk):
    """One training job; returns the exit code."""
    config = sdk.get_basic_config()
    advanced = sdk.get_advanced_config()
    if not config["augment"]:
        advanced = {**NO_AUGMENTATION, **advanced}
    epochs = config["epochs"]
    task = sdk.task_type or "detection"
    yolo_task, dataset_format, suffix, primary = TASKS[task]

    sdk.report_started("training", total_epochs=epochs)

    dataset_dir = download(sdk)
    converted = sdk.convert_dataset(dataset_dir, "dice", dataset_format, task_type=task)
    data = converted.data_yaml or converted.output_dir
    log.info("dataset ready at %s", data)

    from ultralytics import YOLO

    epoch_started = time.monotonic()

    def on_fit_epoch_end(trainer):
        """One `report_progress` per epoch: training losses and validation metrics."""
        nonlocal epoch_started
        losses = trainer.label_loss_items(trainer.tloss, prefix="train")
        metrics = {
            "loss": float(sum(losses.values())),
            "learning_rate": float(next(iter(trainer.lr.values()))),
            **{key.split("/")[-1]: float(value) for key, value in losses.items()},
            **plain_metrics(trainer.metrics, suffix),
        }
        if "accuracy_top1" in metrics:
            metrics["accuracy"] = metrics["accuracy_top1"]
        now = time.monotonic()
        sdk.report_progress(
            trainer.epoch + 1,
            epochs,
            metrics,
            extra_data={"raw_metrics": {k: float(v) for k, v in trainer.metrics.items()}},
            epoch_duration_seconds=now - epoch_started,
        )
        epoch_started = now

    # A known model name is downloaded on first use: into WORK_DIR, which the non-root user of
    # the image can write (the image's /app cannot be).
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    weights = WORK_DIR / f"{sdk.model_name or 'yolo11n'}.pt"
    model = YOLO(str(weights), task=yolo_task)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    model.train(
        data=data,
        epochs=epochs,
        batch=config["batch"],
        imgsz=config["imgsz"],
        lr0=config["lr0"],
        optimizer=config["optimizer"],
        device=config["device"],
        workers=config["workers"],
        patience=config["patience"],
        project=str(WORK_DIR),
        name="train",
        exist_ok=True,
        **advanced,
    )

    trainer = model.trainer
    best_uri = sdk.upload_checkpoint(str(trainer.best), "best")
    last_uri = sdk.upload_checkpoint(str(trainer.last), "last")
    final = plain_metrics(trainer.metrics, suffix)
    loss = trainer.label_loss_items(trainer.tloss, prefix="train")
    final["loss"] = float(sum(loss.values()))
    sdk.report_validation(
        epoch=trainer.epoch + 1,
        task_type=task,
        primary_metric=(primary, final.get(primary)),
        all_metrics=final,
        class_names=[str(name) for name in model.names.values()],
        visualization_urls=upload_plots(sdk, trainer.save_dir),
        is_best=True,
    )
    sdk.report_completed(
        final_metrics=final,
        checkpoints={"best": best_uri, "last": last_uri},
        total_epochs=trainer.epoch + 1,
    )
    return 0


def error_type_of(error):
    """The ErrorType of a failure: out of memory is a resource problem, the rest Ultralytics'."""
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return ErrorType.RESOURCE_ERROR
    if isinstance(error, FileNotFoundError):
        return ErrorType.DATASET_ERROR
    return ErrorType.FRAMEWORK_ERROR


def main():
    """Run the job and turn its outcome into the platform's exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sdk = TrainerSDK()
    # Ultralytics logs through `logging`: forward its lines (and ours) to the backend.
    for name in ("ultralytics", "trainer"):
        logging.getLogger(name).addHandler(CallbackLogHandler(sdk))
    try:
        return train(sdk)
    except Exception as error:
        sdk.report_failed(
            error_type=error_type_of(error),
            message=str(error),
            traceback=traceback.format_exc(),
            epochs_completed=sdk.last_epoch,
        )
        return 1
    finally:
        sdk.flush_logs()
        sdk.close()


if __name__ == "__main__":
    sys.exit(main())
