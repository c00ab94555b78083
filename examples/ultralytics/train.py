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
6. Any exception: `report_failed()` with an ErrorType (GPU out of memory is RESOURCE_ERROR, a
   model that cannot be loaded CHECKPOINT_ERROR) and exit code 1; `close()` always runs.
   Ultralytics' log lines are forwarded to the backend (as plain text).

Offline by default: with no MODEL_NAME the model is built from Ultralytics' own config
(`yolo11n.yaml`, `yolo11n-seg.yaml`, ...: random weights, nothing downloaded); Ultralytics'
settings, fonts and online checks are kept in TMP_DIR and switched off (`offline_ultralytics`).
A job that names weights (`MODEL_NAME=yolo11n`) downloads them once into WORK_DIR.

`ultralytics` (and torch) are imported inside `train()`: this file parses and lints without them.
"""

import argparse
import logging
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from trainer_sdk import (
    CallbackDeliveryError,
    CallbackLogHandler,
    CheckpointError,
    ErrorType,
    TrainerSDK,
    TrainerSDKError,
)

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
# The suffix of Ultralytics' model names per task: yolo11n.yaml, yolo11n-seg.yaml, ...
MODEL_SUFFIX = {"detect": "", "segment": "-seg", "pose": "-pose", "classify": "-cls"}
DEFAULT_MODEL = "yolo11n"

log = logging.getLogger("trainer")


def plain_metrics(raw, suffix):
    """Ultralytics' `metrics/mAP50-95(B)` -> `mAP50-95`, `val/box_loss` -> `val_box_loss`."""
    metrics = {}
    for key, value in raw.items():
        group, _, name = key.rpartition("/")
        if suffix and name.endswith(suffix):
            name = name[: -len(suffix)]
        if group == "val":
            name = f"val_{name}"
        metrics[name] = float(value)
    val_losses = [v for k, v in metrics.items() if k.startswith("val_") and k.endswith("_loss")]
    if val_losses:
        metrics["val_loss"] = sum(val_losses)
    return metrics


def training_losses(trainer):
    """The epoch's mean training losses by Ultralytics' names (`box_loss`, ...) and their sum."""
    losses = {
        key.rpartition("/")[2]: float(value)
        for key, value in trainer.label_loss_items(trainer.tloss, prefix="train").items()
    }
    return {"loss": sum(losses.values()), **losses}


def model_source(name, yolo_task):
    """What `YOLO()` loads for MODEL_NAME: a config trains from scratch, a name means weights.

    unset -> `yolo11n-seg.yaml` (the task's config, random weights, no download); `*.yaml` ->
    that config; `*.pt` or a path -> those weights; another name (`yolo11n`) -> its pretrained
    weights for the task (`yolo11n-seg.pt`), downloaded into WORK_DIR on first use.
    """
    suffix = MODEL_SUFFIX[yolo_task]
    if not name:
        return f"{DEFAULT_MODEL}{suffix}.yaml"
    if name.endswith((".yaml", ".yml", ".pt")) or "/" in name:
        return name
    if suffix and not name.endswith(suffix):
        name += suffix
    return str(WORK_DIR / f"{name}.pt")


def offline_ultralytics():
    """Keep Ultralytics off the network and out of $HOME, before it is imported.

    Its settings file goes to TMP_DIR (the image's $HOME may not be writable, and a job must not
    share state through it); YOLO_OFFLINE skips the online check, the update check and the
    usage events; YOLO_AUTOINSTALL=false stops it from pip-installing packages at run time. A
    job that asks for pretrained weights still downloads them: that is not one of these checks.
    """
    settings = TMP_DIR / "ultralytics"
    settings.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(settings))
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("MPLCONFIGDIR", str(settings / "matplotlib"))  # matplotlib's cache
    # Ultralytics downloads Arial.ttf into its settings folder for its plots when no font of
    # that name is installed; matplotlib (one of its dependencies) ships DejaVu Sans: use it.
    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = Path(os.environ["YOLO_CONFIG_DIR"]) / name
        if font.is_file() and not target.exists():
            shutil.copyfile(font, target)


def load_model(source, yolo_task):
    """The YOLO model; a model that cannot be loaded is the job's checkpoint problem."""
    from ultralytics import YOLO

    try:
        return YOLO(source, task=yolo_task)
    except Exception as error:
        raise CheckpointError(
            f"cannot load the model {source!r} (MODEL_NAME={os.getenv('MODEL_NAME', '')!r}): "
            f"{type(error).__name__}: {error}"
        ) from error


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


def epoch_hooks(sdk, epochs, suffix):
    """Ultralytics' `on_train_epoch_end` and `on_fit_epoch_end` callbacks for this job.

    Ultralytics calls on_fit_epoch_end once per epoch after on_train_epoch_end, and once more
    after training for its final evaluation of best.pt (numbered one epoch past the last, with no
    on_train_epoch_end before it). That call is no training epoch: it must not become a progress
    report (the backend refuses an epoch past total_epochs); its metrics are the final
    validation, reported once training has returned. A resumed training (`resume=True`) starts
    at its saved epoch: the reports carry Ultralytics' own epoch numbers.
    """
    state = {"trained_epoch": False, "started": time.monotonic()}

    def on_train_epoch_end(trainer):
        state["trained_epoch"] = True

    def on_fit_epoch_end(trainer):
        """One `report_progress` per epoch: training losses, validation losses and metrics."""
        if not state["trained_epoch"]:
            return  # the final evaluation of best.pt
        state["trained_epoch"] = False
        metrics = {
            **training_losses(trainer),
            "learning_rate": float(next(iter(trainer.lr.values()))),
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
            epoch_duration_seconds=now - state["started"],
        )
        state["started"] = now

    return on_train_epoch_end, on_fit_epoch_end


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

    offline_ultralytics()
    source = model_source(sdk.model_name, yolo_task)
    log.info("model %s (task %s)", source, yolo_task)
    model = load_model(source, yolo_task)

    on_train_epoch_end, on_fit_epoch_end = epoch_hooks(sdk, epochs, suffix)
    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
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
    # After training, trainer.metrics are those of the final evaluation of best.pt.
    final = plain_metrics(trainer.metrics, suffix)
    if "accuracy_top1" in final:
        final["accuracy"] = final["accuracy_top1"]
    epochs_run = trainer.epoch + 1
    best_epoch = max(1, min(int(trainer.stopper.best_epoch or epochs_run), epochs_run))
    sdk.report_validation(
        epoch=best_epoch,
        task_type=task,
        primary_metric=(primary, final.get(primary)),
        all_metrics=final,
        class_names=[str(name) for name in model.names.values()],
        visualization_urls=upload_plots(sdk, trainer.save_dir),
        overall_loss=final.get("val_loss"),
        is_best=True,
    )
    sdk.report_completed(
        final_metrics=final,
        checkpoints={"best": best_uri, "last": last_uri},
        total_epochs=epochs_run,
        best_epoch=best_epoch,
    )
    return 0


def error_type_of(error):
    """The ErrorType of a failure: the SDK's errors carry theirs (dataset, checkpoint, a NaN
    loss), out of memory is a resource problem, the rest is Ultralytics'."""
    if isinstance(error, TrainerSDKError):
        return error.error_type
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return ErrorType.RESOURCE_ERROR
    return ErrorType.FRAMEWORK_ERROR


def parse_args(argv=None):
    """Command-line options: only the log level (the job itself comes from the environment)."""
    parser = argparse.ArgumentParser(description="Ultralytics YOLO trainer for the platform.")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="level of the trainer's log (default: INFO)",
    )
    return parser.parse_args(argv)


def main():
    """Run the job and turn its outcome into the platform's exit code."""
    args = parse_args()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(message)s")
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
    try:
        sys.exit(main())
    except CallbackDeliveryError:
        sys.exit(2)  # the backend could not be reached: exit code 2 by contract
