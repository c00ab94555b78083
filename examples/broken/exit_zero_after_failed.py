#!/usr/bin/env python3
"""Broken on purpose: reports the failure correctly, then exits 0 as if training had succeeded.

Training fails at epoch 2 (run it with at least 2 epochs). The backend is told "failed" while
Kubernetes sees a successful pod. Expected dry-run verdict: `exit_code_agrees` fails ("exited 0
(SUCCESS) but the final callback ... reported 'failed' with exit code 1"). trainer-lint sees
this one statically too (TRL021).
"""

import sys
import traceback

from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK


def main():
    sdk = TrainerSDK()
    try:
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        for epoch in range(1, epochs + 1):
            if epoch == 2:
                raise RuntimeError("the loss became NaN at epoch 2")
            sdk.report_progress(epoch=epoch, total_epochs=epochs, metrics={"loss": 0.9})
        sdk.report_completed(final_metrics={"loss": 0.9}, checkpoints={}, total_epochs=epochs)
        return 0
    except Exception as e:
        sdk.report_failed(ErrorType.VALIDATION_ERROR, str(e), traceback.format_exc(), 1)
        return 0  # The bug: a failure must exit 1.
    finally:
        sdk.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CallbackDeliveryError:
        sys.exit(2)  # the backend could not be reached: exit code 2 by contract
