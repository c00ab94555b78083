#!/usr/bin/env python3
"""Broken on purpose: reports the failure correctly, then exits 0 as if training had succeeded.

The backend is told "failed" while Kubernetes sees a successful pod. Expected dry-run verdict:
`exit_code_agrees` fails ("exited 0 (SUCCESS) but the final callback ... reported 'failed'
with exit code 1").
"""

import sys
import traceback

from trainer_sdk import ErrorType, TrainerSDK


def main():
    sdk = TrainerSDK()
    try:
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        sdk.report_progress(epoch=1, total_epochs=epochs, metrics={"loss": 0.9})
        raise RuntimeError("the loss became NaN at epoch 2")
    except Exception as e:
        sdk.report_failed(ErrorType.VALIDATION_ERROR, str(e), traceback.format_exc(), 1)
        return 0  # The bug: a failure must exit 1.
    finally:
        sdk.close()


if __name__ == "__main__":
    sys.exit(main())
