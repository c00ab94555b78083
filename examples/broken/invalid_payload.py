#!/usr/bin/env python3
"""Broken on purpose: one progress callback is built by hand and posted with httpx.

Hand-kept clients do this; the SDK would have refused the payload before sending it. The body
has a negative epoch and a loss that is a string, so the backend answers 422 and the epoch is
lost. Expected dry-run verdict: `payloads_valid` fails, naming `$.current_epoch` and
`$.metrics.loss`.
"""

import os
import sys
import traceback

import httpx

from trainer_contract.callbacks import ENDPOINTS
from trainer_sdk import CallbackDeliveryError, ErrorType, TrainerSDK


def post_progress_by_hand(job_id, epochs):
    """What a hand-written client sends: the wrong types, no validation."""
    headers = {}
    if os.getenv("CALLBACK_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['CALLBACK_TOKEN']}"
    # The URL is the real progress endpoint (from the contract tables): only the body is wrong.
    url = ENDPOINTS["training_progress"].url(os.environ["CALLBACK_URL"], job_id)
    body = {
        "job_id": job_id,
        "status": "running",
        "current_epoch": -1,
        "total_epochs": epochs,
        "metrics": {"loss": "0.5"},
    }
    answer = httpx.post(url, json=body, headers=headers, timeout=10.0)
    print(f"hand-built progress callback: HTTP {answer.status_code}")


def main():
    sdk = TrainerSDK()
    try:
        epochs = sdk.get_basic_config()["epochs"]
        sdk.report_started("training", total_epochs=epochs)
        post_progress_by_hand(sdk.job_id, epochs)
        for epoch in range(1, epochs + 1):
            sdk.report_progress(epoch=epoch, total_epochs=epochs, metrics={"loss": 1.0 / epoch})
        sdk.report_completed(
            final_metrics={"loss": 1.0 / epochs}, checkpoints={}, total_epochs=epochs
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
