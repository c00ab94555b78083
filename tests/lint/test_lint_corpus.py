"""Framework-style trainers are clean; each seeded mistake gives exactly its code at its line.

Every mutation edits a compliant fixture (remove, misplace or corrupt one thing) and names the
line the finding must point at by a piece of text of the mutated file, so the expectation is
computed from the file, never typed in as a number.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_mutations import Mutation, line_of, mutation_maker

from trainer_tools.trainer_lint import lint_source

TRAINERS = Path(__file__).parent / "fixtures" / "trainers"
FRAMEWORK_FIXTURES = [
    "plain_pytorch.py",
    "ultralytics_callbacks.py",
    "huggingface_callback.py",
    "lightning_callback.py",
    "mmengine_hook.py",
    "keras_callback.py",
    "sdk_runner.py",
]


def read(name: str) -> str:
    return (TRAINERS / name).read_text(encoding="utf-8")


m = mutation_maker(TRAINERS)


PT = "plain_pytorch.py"
PT_PROGRESS = """            sdk.report_progress(
                epoch=epoch,
                total_epochs=epochs,
                metrics={"loss": loss, "accuracy": accuracy, "learning_rate": config["lr0"]},
            )
"""
PT_COMPLETED = """        sdk.report_completed(
            final_metrics={"loss": loss, "accuracy": accuracy},
            checkpoints={"last": last_uri},
            total_epochs=epochs,
        )
"""
PT_STARTED = '        sdk.report_started("training", total_epochs=epochs)\n'
PT_FAILED = """        sdk.report_failed(
            error_type=ErrorType.UNKNOWN_ERROR,
            message=str(exc),
            traceback=traceback.format_exc(),
        )
"""
PT_FINALLY = "    finally:\n        sdk.close()\n"
PT_DEVICE = """    if requested != "cpu" and torch.cuda.is_available():
        return torch.device(f"cuda:{requested}")
    return torch.device("cpu")
"""

UL = "ultralytics_callbacks.py"
HF = "huggingface_callback.py"
LI = "lightning_callback.py"
MM = "mmengine_hook.py"
KE = "keras_callback.py"
RU = "sdk_runner.py"

MUTATIONS = [
    # -- plain PyTorch loop ------------------------------------------------------------------------
    m(
        PT,
        "no-sdk",
        [("    sdk = TrainerSDK()\n", "    sdk = None\n")],
        "TRL001",
        "from trainer_sdk import",
    ),
    m(PT, "started-removed", [(PT_STARTED, "")], "TRL002", "sdk = TrainerSDK()"),
    m(
        PT,
        "started-after-loop",
        [(PT_STARTED, ""), ("        torch.save(", PT_STARTED + "        torch.save(")],
        "TRL003",
        "sdk.report_started(",
    ),
    m(PT, "progress-removed", [(PT_PROGRESS, "")], "TRL004", "for epoch in range"),
    m(
        PT,
        "progress-once",
        [
            (PT_PROGRESS, ""),
            (
                "        torch.save(",
                '        sdk.report_progress(epochs, epochs, {"loss": loss})\n        torch.save(',
            ),
        ],
        "TRL005",
        "sdk.report_progress(",
    ),
    m(PT, "completed-removed", [(PT_COMPLETED, "")], "TRL006", "sdk = TrainerSDK()"),
    m(
        PT,
        "completed-in-handler",
        [(PT_COMPLETED, ""), (PT_FAILED, PT_FAILED + "        sdk.report_completed(None)\n")],
        "TRL006",
        "sdk.report_completed(",
    ),
    m(
        PT,
        "completed-in-loop",
        [
            (PT_COMPLETED, ""),
            (PT_PROGRESS, PT_PROGRESS + "            sdk.report_completed(None)\n"),
        ],
        "TRL006",
        "sdk.report_completed(",
    ),
    m(PT, "failed-removed", [(PT_FAILED, "")], "TRL007", "except Exception as exc:"),
    m(
        PT,
        "handler-swallows",
        [(PT_FAILED + "        return 1\n", "        pass\n")],
        "TRL020",
        "except Exception as exc:",
    ),
    m(
        PT,
        "swallow-in-loop",
        [
            (
                "            loss = train_one_epoch(model, train_loader, optimizer, device)\n",
                "            try:\n                loss = train_one_epoch(model, train_loader, optimizer, device)\n"
                "            except Exception:\n                continue\n",
            )
        ],
        "TRL020",
        "except Exception:\n",
    ),
    m(PT, "finally-removed", [(PT_FINALLY, "")], "TRL008", "sdk = TrainerSDK()"),
    m(
        PT,
        "close-not-in-finally",
        [(PT_FINALLY, ""), ("        return 0\n", "        sdk.close()\n        return 0\n")],
        "TRL008",
        "sdk.close()",
    ),
    m(PT, "exit-discarded", [("    sys.exit(main())\n", "    main()\n")], "TRL010", "    main()\n"),
    m(
        PT,
        "bad-return-code",
        [(PT_FAILED + "        return 1\n", PT_FAILED + "        return 3\n")],
        "TRL009",
        "return 3",
    ),
    m(
        PT,
        "unknown-error-type",
        [("ErrorType.UNKNOWN_ERROR", "ErrorType.UNKNOWN")],
        "TRL011",
        "ErrorType.UNKNOWN",
    ),
    m(
        PT,
        "deprecated-error-type",
        [("ErrorType.UNKNOWN_ERROR", "ErrorType.TRAINING_ERROR")],
        "TRL012",
        "ErrorType.TRAINING_ERROR",
    ),
    m(
        PT,
        "oom-wrong-type",
        [("ErrorType.RESOURCE_ERROR", "ErrorType.FRAMEWORK_ERROR")],
        "TRL018",
        "ErrorType.FRAMEWORK_ERROR",
    ),
    m(
        PT,
        "keyword-typo",
        [("                total_epochs=epochs,\n", "                total_epoch=epochs,\n")],
        "TRL014",
        "total_epoch=epochs",
    ),
    m(
        PT,
        "method-typo",
        [("sdk.report_progress(\n", "sdk.report_progres(\n")],
        "TRL013",
        "sdk.report_progres(",
    ),
    m(
        PT,
        "metrics-without-loss",
        [
            (
                '                metrics={"loss": loss, "accuracy"',
                '                metrics={"accuracy"',
            )
        ],
        "TRL023",
        'metrics={"accuracy"',
    ),
    m(
        PT,
        "bad-operation-type",
        [('report_started("training"', 'report_started("train"')],
        "TRL016",
        '"train"',
    ),
    m(
        PT,
        "hard-coded-tmp",
        [('os.path.join(TMP_DIR, "dataset")', '"/tmp/dataset"')],
        "TRL017",
        '"/tmp/dataset"',
    ),
    m(PT, "cuda-only", [(PT_DEVICE, '    return torch.device("cuda:0")\n')], "TRL019", '"cuda:0"'),
    m(
        PT,
        "failure-exits-success",
        [(PT_FAILED + "        return 1\n", PT_FAILED + "        return 0\n")],
        "TRL021",
        "return 0\n    finally",
    ),
    # -- Ultralytics: nested function registered with add_callback ---------------------------------
    m(
        UL,
        "callback-not-registered",
        [('        model.add_callback("on_fit_epoch_end", on_fit_epoch_end)\n', "")],
        "TRL004",
        "model.train(",
    ),
    m(
        UL,
        "callback-on-start-event",
        [('add_callback("on_fit_epoch_end"', 'add_callback("on_train_start"')],
        "TRL005",
        "sdk.report_progress(",
    ),
    m(
        UL,
        "started-removed",
        [('        sdk.report_started("training", epochs)\n', "")],
        "TRL002",
        "sdk = get_sdk()",
    ),
    m(
        UL,
        "started-in-callback",
        [
            ('        sdk.report_started("training", epochs)\n', ""),
            (
                "            sdk.report_progress(",
                '            sdk.report_started("training", epochs)\n            sdk.report_progress(',
            ),
        ],
        "TRL003",
        "sdk.report_started(",
    ),
    m(
        UL,
        "completed-removed",
        [
            (
                '        sdk.report_completed({"mAP50-95": model.metrics.box.map}, {"best": best_uri}, epochs)\n',
                "",
            )
        ],
        "TRL006",
        "sdk = get_sdk()",
    ),
    m(
        UL,
        "factory-returns-nothing",
        [("    return SDK()\n", "    return None\n")],
        "TRL001",
        "from trainer_sdk import CallbackDeliveryError, ErrorType",
    ),
    m(
        UL,
        "oom-wrong-type",
        [
            (
                "    except MemoryError as exc:\n        sdk.report_failed(ErrorType.RESOURCE_ERROR",
                "    except MemoryError as exc:\n        sdk.report_failed(ErrorType.CONFIG_ERROR",
            )
        ],
        "TRL018",
        "ErrorType.CONFIG_ERROR",
    ),
    m(
        UL,
        "failed-removed",
        [("        sdk.report_failed(error_type, str(exc), traceback.format_exc())\n", "")],
        "TRL007",
        "except Exception as exc:",
    ),
    m(
        UL,
        "finally-removed",
        [("    finally:\n        sdk.close()\n", "")],
        "TRL008",
        "sdk = get_sdk()",
    ),
    m(
        UL,
        "metrics-literal-without-loss",
        [("metrics_of(trainer))", '{"mAP50": 0.5})')],
        "TRL023",
        '{"mAP50": 0.5}',
    ),
    m(
        UL,
        "too-many-positional",
        [('report_started("training", epochs)', 'report_started("training", epochs, 5)')],
        "TRL014",
        "5)",
    ),
    m(
        UL,
        "bad-task-type",
        [('task_type="detection"', 'task_type="detections"')],
        "TRL016",
        '"detections"',
    ),
    m(
        UL,
        "failure-exits-success",
        [
            (
                "        sdk.report_failed(error_type, str(exc), traceback.format_exc())\n        return 1\n",
                "        sdk.report_failed(error_type, str(exc), traceback.format_exc())\n        sys.exit(0)\n",
            )
        ],
        "TRL021",
        "sys.exit(0)",
    ),
    # -- Hugging Face: TrainerCallback subclass with self.sdk --------------------------------------
    m(
        HF,
        "callback-not-passed",
        [("        callbacks=[PlatformCallback(sdk, epochs)],\n", "")],
        "TRL004",
        "trainer.train()",
    ),
    m(HF, "hook-renamed", [("def on_epoch_end(", "def on_step_end(")], "TRL004", "trainer.train()"),
    m(
        HF,
        "no-with",
        [
            (
                "    with trainer_sdk.TrainerSDK() as sdk:\n",
                "    sdk = trainer_sdk.TrainerSDK()\n    if sdk:\n",
            )
        ],
        "TRL008",
        "trainer_sdk.TrainerSDK()",
    ),
    m(
        HF,
        "bad-task-type",
        [('task_type="classification"', 'task_type="classify"')],
        "TRL016",
        '"classify"',
    ),
    m(
        HF,
        "unknown-error-type",
        [("ErrorType.FRAMEWORK_ERROR", "ErrorType.FRAMEWORK")],
        "TRL011",
        "ErrorType.FRAMEWORK",
    ),
    m(HF, "exit-discarded", [("    sys.exit(main())\n", "    main()\n")], "TRL010", "    main()\n"),
    m(
        HF,
        "started-after-train",
        [
            ('    sdk.report_started(operation_type="training", total_epochs=epochs)\n', ""),
            (
                "    result = trainer.train()\n",
                '    result = trainer.train()\n    sdk.report_started("training")\n',
            ),
        ],
        "TRL003",
        "sdk.report_started(",
    ),
    m(
        HF,
        "completed-before-train",
        [
            (
                "    result = trainer.train()\n",
                "    sdk.report_completed(None)\n    result = trainer.train()\n",
            ),
            ("    sdk.report_completed(\n", "    dict(\n"),
        ],
        "TRL006",
        "sdk.report_completed(None)",
    ),
    # -- Lightning: Callback with self._sdk, training behind Job().run() ---------------------------
    m(
        LI,
        "callback-not-passed",
        [("            callbacks=[SDKProgress(self.sdk, epochs)],\n", "")],
        "TRL004",
        "trainer.fit(",
    ),
    m(
        LI,
        "hook-renamed",
        [("def on_train_epoch_end(", "def on_train_batch_end(")],
        "TRL004",
        "trainer.fit(",
    ),
    m(
        LI,
        "failure-helper-not-called",
        [("            self.report_failure(exc)\n", "            print(exc)\n")],
        "TRL007",
        "except Exception as exc:",
    ),
    m(
        LI,
        "started-after-fit",
        [
            ('        self.sdk.report_started("training", total_epochs=epochs)\n', ""),
            (
                "        return float(",
                '        self.sdk.report_started("training", total_epochs=epochs)\n        return float(',
            ),
        ],
        "TRL003",
        "self.sdk.report_started(",
    ),
    m(
        LI,
        "finally-removed",
        [("        finally:\n            self.sdk.close()\n", "")],
        "TRL008",
        "self.sdk = TrainerSDK()",
    ),
    m(LI, "keyword-typo", [("extra_data={", "extras={")], "TRL014", "extras="),
    # -- mmengine: registry-decorated Hook, module-level SDK ---------------------------------------
    m(MM, "hook-not-registered", [("@HOOKS.register_module()\n", "")], "TRL004", "runner.train()"),
    m(
        MM,
        "progress-removed",
        [
            (
                '        sdk.report_progress(runner.epoch + 1, runner.max_epochs, {"loss": loss})\n',
                "        pass\n",
            )
        ],
        "TRL004",
        "runner.train()",
    ),
    m(MM, "bad-task-type", [('"detection",', '"detect",')], "TRL016", '"detect"'),
    m(MM, "bad-exit-code", [("    return 0\n", "    return 4\n")], "TRL009", "return 4"),
    m(
        MM,
        "started-after-train",
        [
            ('        sdk.report_started("training", total_epochs=config["epochs"])\n', ""),
            (
                "        runner.train()\n",
                '        runner.train()\n        sdk.report_started("training", total_epochs=config["epochs"])\n',
            ),
        ],
        "TRL003",
        "sdk.report_started(",
    ),
    m(
        MM,
        "narrow-handler",
        [("    except Exception as exc:\n", "    except ValueError as exc:\n")],
        "TRL007",
        "runner.train()",
    ),
    # -- Keras: LambdaCallback keyword hook and a class end hook -----------------------------------
    m(
        KE,
        "lambda-hook-removed",
        [("LambdaCallback(on_epoch_end=report_epoch)", "LambdaCallback()")],
        "TRL004",
        "model.fit(",
    ),
    m(
        KE,
        "end-hook-renamed",
        [("def on_train_end(", "def on_predict_end(")],
        "TRL006",
        "sdk = TrainerSDK()",
    ),
    m(
        KE,
        "metrics-without-loss",
        [
            (
                '{"loss": logs["loss"], "accuracy": logs["accuracy"]}',
                '{"accuracy": logs["accuracy"]}',
            )
        ],
        "TRL023",
        '{"accuracy": logs["accuracy"]}',
    ),
    m(
        KE,
        "negative-epochs-completed",
        [("epochs_completed=0", "epochs_completed=-1")],
        "TRL016",
        "-1",
    ),
    m(
        KE,
        "swallowing-handler",
        [
            (
                "        sdk.report_failed(ErrorType.UNKNOWN_ERROR, repr(exc), traceback.format_exc(), epochs_completed=0)\n        return 1\n",
                "        print(exc)\n        return 0\n",
            )
        ],
        "TRL020",
        "except Exception as exc:",
    ),
    # -- the SDK's run(main): it builds the SDK, reports failures, closes and exits -----------------
    m(RU, "bad-return-code", [("    return 0\n", "    return 5\n")], "TRL009", "return 5"),
    m(
        RU,
        "completed-removed",
        [('    sdk.report_completed({"loss": loss}, {}, epochs)\n', "")],
        "TRL006",
        "    run(main)",
    ),
    m(
        RU,
        "progress-removed",
        [('        sdk.report_progress(epoch, epochs, {"loss": loss})\n', "")],
        "TRL004",
        "for epoch in range",
    ),
    m(
        RU,
        "swallowing-loop",
        [
            (
                "        loss = train_one_epoch(model, epoch)\n",
                "        try:\n            loss = train_one_epoch(model, epoch)\n"
                "        except Exception:\n            pass\n",
            )
        ],
        "TRL020",
        "except Exception:",
    ),
    m(
        RU,
        "runner-not-used",
        [("    run(main)\n", "    raise SystemExit(main(None))\n")],
        "TRL001",
        "from trainer_sdk import run",
    ),
]


@pytest.mark.parametrize("fixture", FRAMEWORK_FIXTURES)
def test_framework_trainer_is_clean(fixture: str) -> None:
    assert lint_source(read(fixture), fixture) == []


def test_every_framework_fixture_has_mutations() -> None:
    covered = {mutation.fixture for mutation in MUTATIONS}
    assert covered == set(FRAMEWORK_FIXTURES)


@pytest.mark.parametrize(
    "mutation", MUTATIONS, ids=lambda mu: f"{mu.fixture.removesuffix('.py')}-{mu.name}"
)
def test_mutation_gives_exactly_its_code_at_its_line(mutation: Mutation) -> None:
    text = mutation.apply()
    found = [(f.code, f.line) for f in lint_source(text, mutation.fixture)]
    assert found == [(mutation.code, line_of(text, mutation.anchor, mutation.occurrence))], (
        "\n".join(f"{f.line}: {f.code} {f.message}" for f in lint_source(text, mutation.fixture))
    )


def test_guide_minimal_example_parses_the_uri_hard_codes_tmp_and_exits_1_when_backend_down() -> (
    None
):
    text = read("guide_minimal.py")
    found = [(f.code, f.line) for f in lint_source(text, "train.py")]
    # The commented-out '/tmp/best.pt' lines are comments, not code. The guide's `except` handler
    # reports the failure and returns 1: with the backend down, report_failed raises and the
    # process exits 1, not the 2 the guide's own exit-code table promises.
    # And it parses DATASET_S3_URI by hand, which raises IndexError on the bare dataset id the
    # platform passes for jobs created through its API.
    assert found == [
        ("TRL029", line_of(text, "os.getenv('DATASET_S3_URI'")),
        ("TRL017", line_of(text, "'/tmp/dataset'")),
        ("TRL028", line_of(text, "sdk.report_failed(")),
    ]


def test_guide_basic_pattern_uses_a_deprecated_alias_and_tmp_paths() -> None:
    text = read("guide_basic.py")
    found = [(f.code, f.line) for f in lint_source(text, "train.py")]
    assert found == [
        ("TRL017", line_of(text, "'/tmp/dataset'")),
        ("TRL017", line_of(text, "'/tmp/best.pt'")),
        ("TRL017", line_of(text, "'/tmp/last.pt'")),
        ("TRL028", line_of(text, "sdk.report_failed(")),
        ("TRL012", line_of(text, "ErrorType.TRAINING_ERROR")),
    ]
