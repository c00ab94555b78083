#!/usr/bin/env python3
"""Broken on purpose: reports a checkpoint URI it never uploaded.

The URI is built by hand instead of being the return value of upload_checkpoint(), and the
upload itself was forgotten, so the platform would offer a model that does not exist. Expected
dry-run verdict: `checkpoints_exist` fails ("... best.pt does not exist; it was reported but
never uploaded").
"""

import os
import sys
import traceback

from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK


def main():
    sdk = TrainerSDK()
    try:
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        for epoch in range(1, epochs + 1):
            sdk.report_progress(epoch=epoch, total_epochs=epochs, metrics={"loss": 1.0 / epoch})
        bucket = os.getenv("INTERNAL_BUCKET_CHECKPOINTS", "training-checkpoints")
        best_uri = f"s3://{bucket}/checkpoints/{sdk.job_id}/best.pt"  # never uploaded
        sdk.report_completed(
            final_metrics={"loss": 1.0 / epochs},
            checkpoints={"best": best_uri},
            total_epochs=epochs,
        )
        return 0
    except Exception as e:
        sdk.report_failed(ErrorType.UNKNOWN_ERROR, str(e), traceback.format_exc())
        return 1
    finally:
        sdk.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CallbackDeliveryError:
        sys.exit(2)  # the backend could not be reached: exit code 2 by contract
