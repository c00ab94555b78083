"""Configuration: precedence, validation with named variables and paths, .env, secrets."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from trainer_contract.config import BASIC_CONFIG_KEYS, CONFIG_DEFAULTS
from trainer_sdk import ConfigError, TrainerSDK
from trainer_sdk.config import load_settings

BASE = {"JOB_ID": "7", "CALLBACK_URL": "http://backend.test/api/v1"}


def test_defaults_fill_every_basic_key_in_order() -> None:
    basic = load_settings(BASE).basic
    assert tuple(basic) == BASIC_CONFIG_KEYS
    assert basic["epochs"] == CONFIG_DEFAULTS["epochs"]
    assert basic["lr0"] == CONFIG_DEFAULTS["learning_rate"]
    assert isinstance(basic["epochs"], int) and isinstance(basic["augment"], bool)


def test_precedence_env_then_config_then_default() -> None:
    settings = load_settings(
        {
            **BASE,
            "EPOCHS": "5",
            "AUGMENT": "off",
            "CONFIG": '{"epochs": 50, "batch": 8, "learning_rate": 0.001, "device": "cpu"}',
            "LEARNING_RATE": "0.02",
        }
    )
    basic = settings.basic
    assert basic["epochs"] == 5  # the variable beats CONFIG
    assert basic["batch"] == 8  # CONFIG beats the default
    assert basic["lr0"] == 0.02
    assert basic["augment"] is False
    assert basic["device"] == "cpu"
    assert basic["imgsz"] == CONFIG_DEFAULTS["imgsz"]


def test_advanced_config_from_config_then_fallback_variable() -> None:
    both = load_settings(
        {**BASE, "CONFIG": '{"advanced_config": {"mosaic": 1.0}}', "ADVANCED_CONFIG": '{"x": 1}'}
    )
    assert both.advanced == {"mosaic": 1.0}
    fallback = load_settings({**BASE, "ADVANCED_CONFIG": '{"mixup": 0.1, "warmup_epochs": 3}'})
    assert fallback.advanced == {"mixup": 0.1, "warmup_epochs": 3}
    assert fallback.full() == {"basic": dict(fallback.basic), "advanced": fallback.advanced}


def test_missing_required_variables_are_listed_together() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({"EPOCHS": "3"})
    message = str(info.value)
    assert "JOB_ID" in message and "CALLBACK_URL" in message
    assert message.count("missing") == 1  # one line naming both


def test_empty_values_count_as_unset() -> None:
    with pytest.raises(ConfigError, match="JOB_ID"):
        load_settings({"JOB_ID": "", "CALLBACK_URL": "http://x"})
    assert load_settings({**BASE, "EPOCHS": ""}).basic["epochs"] == CONFIG_DEFAULTS["epochs"]


def test_config_that_is_not_json_names_the_variable_and_position() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "CONFIG": '{"epochs": 10,\n "batch": }'})
    message = str(info.value)
    assert "CONFIG is not valid JSON" in message and "line 2" in message


def test_config_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match="CONFIG must be a JSON object"):
        load_settings({**BASE, "CONFIG": "[1, 2]"})


def test_every_bad_value_is_reported_with_variable_path_and_expected_type() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                **BASE,
                "EPOCHS": "ten",
                "AUGMENT": "maybe",
                "CONFIG": '{"imgsz": "big", "batch": 0, "device": "gpu", "workers": -1}',
            }
        )
    message = str(info.value)
    assert "EPOCHS='ten': expected an integer" in message
    assert "AUGMENT='maybe': expected a boolean" in message
    assert "CONFIG $.imgsz: expected an integer" in message
    assert "CONFIG $.batch" in message and "[not]" in message
    assert "CONFIG $.device" in message and "[pattern]" in message
    assert "CONFIG $.workers" in message and "minimum" in message
    assert "6 problem(s)" in message


def test_out_of_range_variable_names_the_variable_not_config() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "EPOCHS": "0", "CONFIG": '{"epochs": 10}'})
    message = str(info.value)
    assert "EPOCHS='0'" in message and "minimum" in message
    assert "CONFIG $.epochs" not in message


def test_unknown_config_keys_are_kept_and_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trainer_sdk.config"):
        settings = load_settings({**BASE, "CONFIG": '{"mosaic_typo": 1, "epochs": 3}'})
    assert "mosaic_typo" in caplog.text
    assert settings.config["mosaic_typo"] == 1


def test_task_type_long_forms_become_canonical() -> None:
    assert load_settings({**BASE, "TASK_TYPE": "object_detection"}).task_type == "detection"
    assert load_settings({**BASE, "TASK_TYPE": "pose"}).task_type == "pose"
    with pytest.raises(ConfigError, match="TASK_TYPE"):
        load_settings({**BASE, "TASK_TYPE": "captioning"})


def test_secrets_never_appear_in_repr_or_errors() -> None:
    secret = "s3cr3t-Value-42"
    settings = load_settings(
        {**BASE, "EXTERNAL_STORAGE_SECRET_KEY": secret, "CALLBACK_TOKEN": secret}
    )
    assert secret not in repr(settings)
    with pytest.raises(ConfigError) as info:
        load_settings(
            {**BASE, "CALLBACK_TOKEN": secret, "CONFIG": f'{{"optimizer": 1, "note": "{secret}"}}'}
        )
    assert secret not in str(info.value)


def test_dotenv_fills_gaps_without_overriding_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"JOB_ID=99\nCALLBACK_URL=file:///dev/null\nEPOCHS=12\nWORK_DIR={tmp_path / 'work'}\n"
    )
    fake_environ = {"JOB_ID": "5"}
    monkeypatch.setattr(os, "environ", fake_environ)
    sdk = TrainerSDK(dotenv_path=dotenv)
    try:
        assert sdk.job_id == 5  # the real environment wins
        assert sdk.get_basic_config()["epochs"] == 12  # the .env filled the gap
    finally:
        sdk.close()


def test_get_config_returns_fresh_plain_dicts(make_sdk) -> None:  # type: ignore[no-untyped-def]
    sdk = make_sdk(extra_env={"CONFIG": '{"advanced_config": {"mosaic": 1.0}}'})
    basic = sdk.get_basic_config()
    basic["epochs"] = -5
    assert sdk.get_basic_config()["epochs"] == CONFIG_DEFAULTS["epochs"]
    assert type(basic) is dict
    assert sdk.get_full_config() == {"basic": sdk.get_basic_config(), "advanced": {"mosaic": 1.0}}


def test_ranges_of_plain_variables_come_from_the_env_schema() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                **BASE,
                "CALLBACK_TIMEOUT": "0",
                "CALLBACK_RETRY_DELAY": "-1",
                "DATASET_CACHE_MAX_GB": "-5",
            }
        )
    message = str(info.value)
    assert "CALLBACK_TIMEOUT='0': expected > 0" in message
    assert "CALLBACK_RETRY_DELAY='-1': expected >= 0" in message
    assert "DATASET_CACHE_MAX_GB='-5': expected >= 0" in message
    settings = load_settings({**BASE, "CALLBACK_TIMEOUT": "0.5", "CALLBACK_RETRY_DELAY": "0"})
    assert settings["CALLBACK_TIMEOUT"] == 0.5 and settings["CALLBACK_RETRY_DELAY"] == 0.0
