#!/usr/bin/env python3
"""timm image classifier for the platform: a plain PyTorch loop reporting through the SDK.

1. `TrainerSDK()` reads the job; `get_basic_config()` gives epochs, batch size, image size,
   learning rate, optimizer, device, workers and patience; `get_advanced_config()` the rest
   (`pretrained`, `weight_decay`, `label_smoothing`, `warmup_epochs`).
2. `report_started('training', total_epochs=epochs)` before any work.
3. The DICE dataset is downloaded (only the labelled images) and converted to an ImageFolder tree
   (`train/<class>/...`, `val/<class>/...`) that torchvision reads as is.
4. Every epoch: train, validate, `report_progress()` with loss, accuracy and learning rate; the
   best and the last weights are saved under WORK_DIR; early stopping after `patience` epochs.
5. The checkpoints go to S3 with `upload_checkpoint()`; the best epoch's validation (per-class
   accuracy, confusion matrix) with `report_validation()`; then `report_completed()`.
6. Any exception: `report_failed()` with an ErrorType (CUDA out of memory is RESOURCE_ERROR) and
   exit code 1; `close()` always runs. `DEVICE=cpu` (or no GPU) trains on the CPU.

torch, torchvision and timm are imported inside functions: this file parses and lints without
them.
"""

import argparse
import logging
import math
import os
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

TMP_DIR = Path(os.getenv("TMP_DIR", "/tmp"))
WORK_DIR = Path(os.getenv("WORK_DIR", "/workspace"))
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet statistics
DEFAULT_MODEL = "resnet18"

log = logging.getLogger("trainer")


def pick_device(requested):
    """The torch device for DEVICE ("0", "0,1", "cuda:1", "mps", "cpu"); the CPU when no GPU."""
    import torch

    if requested == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    if requested.startswith("cuda"):
        return torch.device(requested)
    return torch.device(f"cuda:{requested.split(',')[0]}")


def loaders(root, image_size, batch_size, workers, augment):
    """Train and val data loaders over the ImageFolder tree, and the class names."""
    import torch
    from torchvision import datasets, transforms

    resize = [transforms.Resize((image_size, image_size))]
    finish = [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    jitter = [transforms.RandomHorizontalFlip(), transforms.ColorJitter(0.2, 0.2, 0.2)]
    train_set = datasets.ImageFolder(
        Path(root) / "train", transforms.Compose(resize + (jitter if augment else []) + finish)
    )
    val_set = datasets.ImageFolder(Path(root) / "val", transforms.Compose(resize + finish))
    # Both splits must number the classes alike, whatever images each happens to hold.
    if val_set.classes != train_set.classes:
        val_set.class_to_idx = train_set.class_to_idx
        val_set.samples = [
            (path, train_set.class_to_idx[Path(path).parent.name]) for path, _ in val_set.samples
        ]
    train = torch.utils.data.DataLoader(
        train_set, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=False
    )
    val = torch.utils.data.DataLoader(val_set, batch_size=batch_size, num_workers=workers)
    return train, val, train_set.classes


def train_one_epoch(model, loader, criterion, optimizer, device):
    """Mean training loss of one pass over the data."""
    model.train()
    total, count = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / max(count, 1)


def evaluate(model, loader, criterion, device, num_classes):
    """Validation loss, accuracy and the confusion matrix (rows: truth, columns: prediction)."""
    import torch

    model.eval()
    matrix = [[0] * num_classes for _ in range(num_classes)]
    total, count = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total += criterion(outputs, labels).item() * len(labels)
            count += len(labels)
            for truth, guess in zip(labels.tolist(), outputs.argmax(1).tolist(), strict=True):
                matrix[truth][guess] += 1
    correct = sum(matrix[i][i] for i in range(num_classes))
    return total / max(count, 1), correct / max(count, 1), matrix


def train(sdk):
    """One training job; returns the exit code."""
    import timm
    import torch

    config = sdk.get_basic_config()
    advanced = sdk.get_advanced_config()
    epochs = config["epochs"]
    sdk.report_started("training", total_epochs=epochs)

    dataset_dir = sdk.download_dataset_selective(sdk.dataset_id, str(TMP_DIR / "dataset"))
    tree = sdk.convert_dataset(dataset_dir, "dice", "imagefolder", task_type="classification")
    train_loader, val_loader, classes = loaders(
        tree.output_dir, config["imgsz"], config["batch"], config["workers"], config["augment"]
    )
    log.info("%d classes, %d training batches", len(classes), len(train_loader))

    device = pick_device(config["device"])
    name = sdk.model_name or DEFAULT_MODEL
    pretrained = bool(advanced.get("pretrained", False))
    try:
        # pretrained=False (the default) builds the architecture with random weights: nothing is
        # downloaded. `advanced_config: {"pretrained": true}` fetches the weights from the hub.
        model = timm.create_model(name, pretrained=pretrained, num_classes=len(classes))
    except Exception as error:
        raise CheckpointError(
            f"cannot create the timm model {name!r} (pretrained={pretrained}): "
            f"{type(error).__name__}: {error}"
        ) from error
    model = model.to(device)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=advanced.get("label_smoothing", 0.0))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config["lr0"], weight_decay=advanced.get("weight_decay", 0.05)
    )
    warmup = int(advanced.get("warmup_epochs", 0))

    def learning_rate_factor(epoch_index):
        """Linear warm-up, then cosine decay to zero."""
        if epoch_index < warmup:
            return (epoch_index + 1) / (warmup + 1)
        progress = (epoch_index - warmup) / max(epochs - warmup, 1)
        return 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)

    checkpoints = WORK_DIR / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    best_path, last_path = checkpoints / "best.pt", checkpoints / "last.pt"
    best = {"epoch": 0, "accuracy": -1.0, "loss": None, "matrix": None}
    epoch = 0
    for epoch in range(1, epochs + 1):
        started = time.monotonic()
        learning_rate = optimizer.param_groups[0]["lr"]
        train_loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"the training loss is {train_loss} at epoch {epoch}")
        val_loss, accuracy, matrix = evaluate(model, val_loader, criterion, device, len(classes))
        scheduler.step()
        torch.save(model.state_dict(), last_path)
        if accuracy > best["accuracy"]:
            best = {"epoch": epoch, "accuracy": accuracy, "loss": val_loss, "matrix": matrix}
            torch.save(model.state_dict(), best_path)
        sdk.report_progress(
            epoch,
            epochs,
            {
                "loss": train_loss,
                "accuracy": accuracy,
                "learning_rate": learning_rate,
                "val_loss": val_loss,
            },
            epoch_duration_seconds=time.monotonic() - started,
        )
        if epoch - best["epoch"] >= config["patience"]:
            log.info(
                "no improvement for %d epochs: stopping at epoch %d", config["patience"], epoch
            )
            break

    best_uri = sdk.upload_checkpoint(str(best_path), "best")
    last_uri = sdk.upload_checkpoint(str(last_path), "last")
    matrix = best["matrix"]
    per_class = {name: matrix[i][i] / max(sum(matrix[i]), 1) for i, name in enumerate(classes)}
    sdk.report_validation(
        epoch=best["epoch"],
        task_type="classification",
        primary_metric=("accuracy", best["accuracy"]),
        all_metrics={"accuracy": best["accuracy"], "val_loss": best["loss"]},
        class_names=list(classes),
        per_class_metrics=per_class,
        overall_loss=best["loss"],
        confusion_matrix=matrix,
        is_best=True,
    )
    sdk.report_completed(
        final_metrics={"accuracy": best["accuracy"], "loss": best["loss"]},
        checkpoints={"best": best_uri, "last": last_uri},
        total_epochs=epoch,
        best_epoch=best["epoch"],
    )
    return 0


def error_type_of(error):
    """The ErrorType of a failure: the SDK's errors carry theirs (dataset, checkpoint), out of
    memory is a resource problem, a NaN loss a validation error, the rest the framework's."""
    if isinstance(error, TrainerSDKError):
        return error.error_type
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return ErrorType.RESOURCE_ERROR
    if isinstance(error, FloatingPointError):
        return ErrorType.VALIDATION_ERROR
    return ErrorType.FRAMEWORK_ERROR


def parse_args(argv=None):
    """Command-line options: only the log level (the job itself comes from the environment)."""
    parser = argparse.ArgumentParser(description="timm image classifier for the platform.")
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
    logging.getLogger("trainer").addHandler(CallbackLogHandler(sdk))
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
