#!/usr/bin/env python3
"""Broken on purpose: trains and reports progress, but never calls report_completed().

The job ends with exit code 0 and no final callback, so the platform cannot tell whether it
succeeded. Expected dry-run verdict: `lifecycle_in_order` fails ("no final callback") and
`exit_code_agrees` fails ("exited 0 ... without a final callback").
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
            sdk.report_progress(epoch=epoch, total_epochs=epochs, metrics={"loss": 1.0 / epoch})
        # The bug: report_completed(...) is missing here.
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
