"""A trainer for the report tests: real SDK calls, scripted numbers.

REPORT_SCENARIO picks the story: `healthy` (loss going down), `diverging` (loss 0.93 -> 46, and a
metric that turns null, as a NaN does), `failed` (an exception at epoch 3, reported). The task
type comes from TASK_TYPE; the dataset is downloaded and converted as a real trainer does, when
the job names one.
"""

import os
import sys
import tempfile
import traceback
from pathlib import Path

from trainer_sdk import ErrorType, TrainerSDK

LOSSES = {
    "healthy": [0.93, 0.71, 0.55, 0.44, 0.37, 0.33],
    "diverging": [0.93, 0.62, 0.48, 3.9, 17.0, 46.0],
    "failed": [0.93, 0.71, 0.55, 0.44, 0.37, 0.33],
}
PRIMARY = {
    "classification": "accuracy",
    "detection": "mAP50-95",
    "segmentation": "mAP50-95(M)",
    "pose": "mAP50-95(P)",
}


def main():
    scenario = os.environ.get("REPORT_SCENARIO", "healthy")
    sdk = TrainerSDK()
    try:
        task = sdk.task_type or "detection"
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        class_names = ["circle", "square", "triangle"]
        if sdk.dataset_id:
            folder = sdk.download_dataset(sdk.dataset_id, tempfile.mkdtemp(prefix="report-ds-"))
            sdk.convert_dataset(folder, "dice", "coco")
        primary = PRIMARY[task]
        losses = LOSSES[scenario]
        value = 0.0
        for epoch in range(1, epochs + 1):
            if scenario == "failed" and epoch == 3:
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            loss = losses[min(epoch - 1, len(losses) - 1)]
            value = min(0.95, 0.2 + 0.12 * epoch)
            metrics = {
                "loss": loss,
                "val_loss": loss * 1.1,
                "learning_rate": 0.01 * (0.8**epoch),
                primary: value,
                "precision": value + 0.02,
                "recall": value - 0.03,
            }
            if scenario == "diverging" and epoch == epochs:
                metrics["val_loss"] = None
            sdk.report_progress(epoch=epoch, total_epochs=epochs, metrics=metrics)
        checkpoints = {}
        if sdk.dataset_id:  # a dry-run: there is an S3 server to upload to
            best = Path(tempfile.mkdtemp()) / "best.pt"
            best.write_bytes(b"weights")
            checkpoints["best"] = sdk.upload_checkpoint(str(best), "best")
        sdk.report_validation(
            epoch=epochs,
            task_type=task,
            primary_metric=(primary, value),
            all_metrics={primary: value, "precision": value + 0.02, "recall": value - 0.03},
            class_names=class_names,
            confusion_matrix=[[7, 1, 0], [2, 5, 1], [0, 1, 6]],
            pr_curves={
                name: {
                    "recall": [0.0, 0.25, 0.5, 0.75, 1.0],
                    "precision": [1.0, 0.95 - k * 0.05, 0.85 - k * 0.1, 0.7 - k * 0.1, 0.4],
                }
                for k, name in enumerate(class_names)
            },
            per_class_metrics={
                name: {"precision": 0.9 - k * 0.1, "recall": 0.8 - k * 0.05, "ap50": 0.85 - k * 0.1}
                for k, name in enumerate(class_names)
            },
            is_best=True,
        )
        sdk.report_completed(
            final_metrics={"loss": losses[-1], primary: value},
            checkpoints=checkpoints or None,
            total_epochs=epochs,
        )
        return 0
    except Exception as exc:
        sdk.report_failed(
            error_type=ErrorType.UNKNOWN_ERROR, message=str(exc), traceback=traceback.format_exc()
        )
        return 1
    finally:
        sdk.close()


if __name__ == "__main__":
    sys.exit(main())
