"""Contract variables as a Job sets them: checked, typed, written as strings, secrets excluded."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from trainer_contract.env import BOOLEAN_TRUE_WORDS, ENV_VARS, EnvVar
from trainer_contract.validators import validator
from trainer_sdk.redaction import credential_paths


def hidden_credentials(name: str, raw: str) -> list[str]:
    """Where a plain variable's value holds credentials (URL user info, a secret-named CONFIG
    key): such a value belongs in the Secret, never in the manifest. Empty when it holds none."""
    var = ENV_VARS.get(name)
    value: Any = raw
    if var is not None and var.type == "json":
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
    return [f"{name}{path[1:]}" for path in credential_paths(value)]


def _shown(name: str, raw: str) -> str:
    """How a given value may appear in a message: not at all when it holds credentials."""
    return "(value hidden: it holds credentials)" if hidden_credentials(name, raw) else repr(raw)


class ContractValueError(ValueError):
    """A value given for a contract variable is not acceptable; the message says why and how."""


def launcher_set(var: EnvVar) -> bool:
    """Variables a launcher (torchrun) sets inside the pod, never the manifest: RANK and co."""
    return var.group == "distributed" and var.default is None and not var.required


def as_env_string(var: EnvVar, value: Any) -> str:
    """A typed value as the environment string the SDK parses back (`true`, `0.01`, `{}`)."""
    if var.type == "json":
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if var.type == "boolean":
        return "true" if value else "false"
    return str(value)


def _parsed(var: EnvVar, raw: str) -> Any:
    """The typed value of a raw string, for checking it against the config schema."""
    if var.type == "integer":
        return int(raw)
    if var.type == "number":
        return float(raw)
    if var.type == "boolean":
        return raw.lower() in BOOLEAN_TRUE_WORDS
    if var.type == "json":
        return json.loads(raw)
    return raw


def check_value(name: str, raw: str) -> str:
    """`raw` if it is a valid value of contract variable `name`, else a ContractValueError."""
    var = ENV_VARS.get(name)
    if var is None:
        close = difflib.get_close_matches(name, list(ENV_VARS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ContractValueError(f"{name} is not a contract environment variable{hint}")
    if var.secret:
        raise ContractValueError(
            f"{name} is a secret: the manifest takes it from the Secret (secretKeyRef), never "
            f"inline; put it in the Secret instead of passing it here"
        )
    if launcher_set(var):
        raise ContractValueError(
            f"{name} is set by torchrun inside the pod, not by the manifest; use --nodes and "
            f"--gpus to shape a multi-process job"
        )
    if var.pattern and not re.search(var.pattern, raw):
        raise ContractValueError(
            f"{name}={_shown(name, raw)} must match {var.pattern} ({var.description})"
        )
    try:
        value = _parsed(var, raw)
    except ValueError as error:
        raise ContractValueError(
            f"{name}={_shown(name, raw)} is not a valid {var.type}: {error}"
        ) from error
    if var.type == "json" and not isinstance(value, dict):
        raise ContractValueError(f"{name} must be a JSON object, got {_shown(name, raw)}")
    # Keys of CONFIG have their type and range in config.json: check them there, by the key.
    config = value if name == "CONFIG" else ({var.config_key: value} if var.config_key else None)
    if config is not None:
        errors = validator("config").errors(config)
        if errors:
            shown = "; ".join(str(e) for e in errors[:3])
            raise ContractValueError(
                f"{name}={_shown(name, raw)} breaks the CONFIG schema: {shown}"
            )
    return raw


def contract_values(given: Mapping[str, str]) -> dict[str, str]:
    """Every non-secret contract variable the manifest sets, in schema order.

    Given values are checked; the others get their schema default, except the variables that
    override a CONFIG key (EPOCHS, BATCH_SIZE, ...): a direct variable wins over CONFIG, so
    writing its default would silently defeat the job's CONFIG. Variables without a value or a
    default (MODEL_NAME, say) are left out, since an empty string is not "unset" to a trainer.
    """
    checked = {name: check_value(name, raw) for name, raw in given.items()}
    values: dict[str, str] = {}
    for name, var in ENV_VARS.items():
        if var.secret or launcher_set(var):
            continue
        if name in checked:
            values[name] = checked[name]
        elif var.default is not None and var.config_key is None:
            values[name] = as_env_string(var, var.default)
    return values


def left_to_config(values: Mapping[str, str]) -> list[str]:
    """Variables of CONFIG keys the manifest does not set: CONFIG, then the default, decides."""
    return [
        name
        for name, var in ENV_VARS.items()
        if name not in values and var.config_key is not None and not var.secret
    ]


def unset_variables(values: Mapping[str, str]) -> list[str]:
    """Contract variables the manifest leaves unset (no value given, no default)."""
    return [
        name
        for name, var in ENV_VARS.items()
        if name not in values
        and not var.secret
        and not launcher_set(var)
        and var.config_key is None
    ]
