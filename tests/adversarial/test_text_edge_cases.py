"""Any text a trainer can produce is sent; invalid input is a PayloadValidationError.

A trainer runs as its own process against the reference backend with: a file name from
`os.listdir` on a non-UTF-8 name (a lone surrogate, `\\udcff`), structures nested thousands of
levels deep, and integers of thousands of digits. A failure report, a log line and a progress call
never die on them: text is sent with U+FFFD in place of what UTF-8 cannot carry, a log line keeps
its message and marks what could not be sent, and what a progress report cannot carry is a
`PayloadValidationError` naming the path, never `UnicodeEncodeError` or `RecursionError`.
"""

from __future__ import annotations

import json
from pathlib import Path

from delivery_harness import reference_backend, run_trainer, trainer_env, write_trainer

from trainer_contract.exit_codes import ExitCode

TRAINER = """
    import json
    import os
    import sys

    from trainer_sdk import PayloadValidationError, run

    def deep(levels):
        value = {}
        for _ in range(levels):
            value = {"a": value}
        return value

    def attempt(name, call):
        try:
            call()
        except PayloadValidationError as exc:
            print(json.dumps({"case": name, "raised": "PayloadValidationError", "text": str(exc)}))
        except BaseException as exc:
            print(json.dumps({"case": name, "raised": type(exc).__name__}))
        else:
            print(json.dumps({"case": name, "raised": None}))
        sys.stdout.flush()

    def main(sdk):
        folder = sys.argv[1]
        os.makedirs(folder, exist_ok=True)
        open(os.path.join(os.fsencode(folder), b"bad\\xff.jpg"), "wb").close()
        (name,) = os.listdir(folder)
        assert name == "bad\\udcff.jpg", ascii(name)
        sdk.report_started("training", total_epochs=2)
        attempt("log-surrogate", lambda: sdk.log_info(f"skipping {name}", data={"file": name}))
        attempt("log-deep", lambda: sdk.log_info("deep data", data=deep(5000)))
        attempt("log-huge-int", lambda: sdk.log_info("huge data", data={"n": 10**5000}))
        attempt(
            "progress-surrogate",
            lambda: sdk.report_progress(1, 2, {"loss": 0.5}, extra_data={"file": name}),
        )
        attempt(
            "progress-deep",
            lambda: sdk.report_progress(2, 2, {"loss": 0.4}, extra_data=deep(5000)),
        )
        attempt("progress-huge-int", lambda: sdk.report_progress(2, 2, {"loss": 10**5000}))
        sdk.flush_logs()
        raise RuntimeError(f"cannot read {name}")

    run(main)
"""


def test_surrogates_deep_nesting_and_huge_integers(tmp_path: Path) -> None:
    with reference_backend(tmp_path / "backend") as backend:
        script = write_trainer(tmp_path / "trainer", TRAINER)
        env = trainer_env(backend.url, tmp_path / "work")
        done = run_trainer(script, env, args=(str(tmp_path / "names"),))
        assert done.returncode == int(ExitCode.TRAINING_FAILURE), done.stderr
        assert "UnicodeEncodeError" not in done.stderr and "RecursionError" not in done.stderr
        cases = {c["case"]: c for c in map(json.loads, done.stdout.splitlines())}

        # Logs never raise; progress calls either go out or raise PayloadValidationError.
        for name in ("log-surrogate", "log-deep", "log-huge-int", "progress-surrogate"):
            assert cases[name]["raised"] is None, cases[name]
        for name in ("progress-deep", "progress-huge-int"):
            assert cases[name]["raised"] == "PayloadValidationError", cases[name]
        assert "$.extra_data.a.a" in cases["progress-deep"]["text"]
        assert "$.metrics.loss" in cases["progress-huge-int"]["text"]

        accepted = [e.body for e in backend.timeline(7) if e.accepted]
        messages = {b.get("message"): b for b in accepted if isinstance(b, dict)}
        # Every log line reached the backend, with what it could carry.
        assert messages["skipping bad\ufffd.jpg"]["data"] == {"file": "bad\ufffd.jpg"}
        assert "deep data" in messages and "huge data" in messages
        assert "integer" in json.dumps(messages["huge data"]["data"])
        assert "nested" in json.dumps(messages["deep data"]["data"])
        progress = [b for b in accepted if b.get("current_epoch") == 1]
        assert progress and progress[0]["extra_data"] == {"file": "bad\ufffd.jpg"}
        # The failure report with the surrogate reached the backend, with a replacement char.
        assert backend.phase(7) == "failed"
        failed = [b for b in accepted if b.get("status") == "failed"]
        assert failed and "cannot read bad\ufffd.jpg" in failed[0]["error_message"], accepted[-1]
