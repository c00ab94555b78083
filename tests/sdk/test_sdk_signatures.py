"""The hand-written TrainerSDK signatures match the contract's SDK_METHODS exactly."""

from __future__ import annotations

import inspect

import pytest

import trainer_sdk
from trainer_contract.sdk_api import SDK_METHODS
from trainer_sdk import TrainerSDK


@pytest.mark.parametrize("name", sorted(SDK_METHODS))
def test_signature_matches_the_contract(name: str) -> None:
    method = SDK_METHODS[name]
    assert hasattr(TrainerSDK, name), f"TrainerSDK lacks the contract method {name}"
    raw = inspect.getattr_static(TrainerSDK, name)
    assert isinstance(raw, staticmethod) is method.static, (name, "x-static")
    signature = inspect.signature(getattr(TrainerSDK, name))
    params = [p for p in signature.parameters.values() if p.name != "self"]
    var_keyword = [p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    assert var_keyword == ([method.var_keyword] if method.var_keyword else []), name
    params = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    # Names and positional order, exactly.
    assert [p.name for p in params] == [p.name for p in method.params]
    for actual, expected in zip(params, method.params, strict=True):
        assert actual.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (name, actual.name)
        if expected.required:
            assert actual.default is inspect.Parameter.empty, (name, actual.name)
        else:
            assert actual.default is not inspect.Parameter.empty, (name, actual.name)
            assert actual.default == expected.default, (name, actual.name)
            assert type(actual.default) is type(expected.default), (name, actual.name)


def test_public_api_exports() -> None:
    for name in (
        "TrainerSDK",
        "ErrorType",
        "run",
        "ConfigError",
        "PayloadValidationError",
        "CallbackDeliveryError",
        "__version__",
    ):
        assert name in trainer_sdk.__all__
        assert getattr(trainer_sdk, name) is not None
    assert trainer_sdk.ErrorType.DATASET_ERROR == "DatasetError"
