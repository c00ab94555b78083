"""Configuration from the environment, by the contract's rules.

Every variable, its type, default, secrecy and the `CONFIG` key behind it come from
`trainer_contract.env` / `trainer_contract.config`; this module only applies them:

1. The raw environment (contract variables only) is validated against `env.json`: a missing
   `JOB_ID` and `CALLBACK_URL` are reported together, a malformed `EPOCHS` names itself.
2. `CONFIG` (and `ADVANCED_CONFIG`) are parsed as JSON; a syntax error names the variable,
   the line and the column.
3. Precedence: the direct variable, then the `CONFIG` key, then the default. The merged object is
   validated against `config.json` once; each error names where the bad value came from (the
   variable, or `CONFIG` and the JSON path) and the rule it broke.

Every problem is collected and raised in one `ConfigError`, so a user fixes them in one go.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from trainer_contract.config import (
    ADVANCED_CONFIG_KEY,
    BASIC_CONFIG_KEYS,
    BASIC_KEY_TO_CONFIG_KEY,
    CONFIG_DEFAULTS,
    TASK_TYPE_ALIASES,
)
from trainer_contract.env import (
    BOOLEAN_FALSE_WORDS,
    BOOLEAN_TRUE_WORDS,
    ENV_DERIVATIONS,
    ENV_VARS,
    JOB_KINDS,
    SECRET_ENV_VARS,
    EnvVar,
    JobKind,
)
from trainer_contract.models.config import BasicConfig, FullConfig
from trainer_contract.validators import SchemaError, validator
from trainer_sdk.errors import ConfigError
from trainer_sdk.redaction import MASK, Redactor

__all__ = ["Settings", "load_dotenv_file", "load_settings"]

_log = logging.getLogger("trainer_sdk.config")

# Variables the SDK reads by name. Looking them up here makes a renamed or removed variable in the
# schema fail at import time, loudly, instead of silently reading nothing.
JOB_ID, CALLBACK_URL, CALLBACK_TOKEN = (
    ENV_VARS["JOB_ID"],
    ENV_VARS["CALLBACK_URL"],
    ENV_VARS["CALLBACK_TOKEN"],
)
CONFIG, ADVANCED_CONFIG = ENV_VARS["CONFIG"], ENV_VARS["ADVANCED_CONFIG"]
# The job-id variables, one of which is required (env.json `x-job-kinds`, its `anyOf`).
_JOB_ID_VARS = frozenset(kind.variable for kind in JOB_KINDS)

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false, 1/0, yes/no, on/off)",
    "json": "a JSON object",
    "url": "a URL",
    "s3_uri": "an s3:// URI",
    "path": "a path",
    "string": "a string",
}


def load_dotenv_file(path: Path | None = None) -> bool:
    """Load a `.env` file (default: `./.env`) into `os.environ` without overriding real variables.

    Returns True when a file was loaded. python-dotenv is a runtime dependency of the SDK; it is
    imported here so that a trainer that never has a `.env` does not pay for the import.
    """
    target = path if path is not None else Path.cwd() / ".env"
    if not target.is_file():
        return False
    from dotenv import load_dotenv

    return bool(load_dotenv(dotenv_path=target, override=False))


def _parse(var: EnvVar, raw: str) -> Any:
    """Turn a raw string that already matched the variable's pattern into its typed value."""
    if var.type == "integer":
        return int(raw)
    if var.type == "number":
        return float(raw)
    if var.type == "boolean":
        lowered = raw.strip().lower()
        if lowered in BOOLEAN_TRUE_WORDS:
            return True
        if lowered in BOOLEAN_FALSE_WORDS:
            return False
        raise ValueError(raw)
    if var.type == "json":
        return json.loads(raw)
    return raw


def _show(var: EnvVar, raw: str) -> str:
    """How a value may appear in a message: secrets never do, long values are cut."""
    if var.secret:
        return MASK
    return repr(raw if len(raw) <= 80 else raw[:77] + "...")


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one trainer process.

    `values` holds the typed value of every contract variable (None when unset and without a
    default); `basic` / `advanced` are what `get_basic_config()` / `get_advanced_config()`
    return. `repr` never shows a secret.
    """

    values: Mapping[str, Any]
    present: frozenset[str]
    basic: BasicConfig
    advanced: dict[str, Any]
    config: dict[str, Any]
    redactor: Redactor = field(repr=False, compare=False)
    kind: JobKind = JOB_KINDS[-1]
    derived: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        """The typed value of a contract variable (`settings["EPOCHS"]`)."""
        if name not in ENV_VARS:
            raise KeyError(f"{name} is not a variable of the contract")
        return self.values.get(name)

    @property
    def job_id(self) -> int:
        """The job's id: the integer value of the variable of its kind (`JOB_ID` for training,
        `INFERENCE_JOB_ID`, `EXPORT_JOB_ID` or `TEST_RUN_ID` for the other kinds)."""
        return cast(int, self.values[self.kind.variable])

    @property
    def logs_job_id(self) -> int | None:
        """The id of the job whose log gets this job's log lines (env.json `x-job-kinds`):
        the job itself for training, `TRAINING_JOB_ID` for the other kinds; None when unset."""
        return cast("int | None", self.values.get(self.kind.logs_job))

    @property
    def callback_url(self) -> str:
        """`CALLBACK_URL` (may hold credentials: never log it unredacted)."""
        return cast(str, self.values[CALLBACK_URL.name])

    @property
    def task_type(self) -> str | None:
        """`TASK_TYPE` in its canonical form (`object_detection` -> `detection`)."""
        raw = self.values.get("TASK_TYPE")
        if raw is None:
            return None
        return str(TASK_TYPE_ALIASES.get(raw, raw))

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` with the derived values applied (`x-derive`: DATASET_ID and the dataset bucket
        from DATASET_S3_URI), for components that read the environment themselves (storage)."""
        return {**env, **self.derived}

    def full(self) -> FullConfig:
        """`{'basic': ..., 'advanced': ...}` as fresh dicts the caller may modify."""
        return {"basic": cast(BasicConfig, dict(self.basic)), "advanced": dict(self.advanced)}

    def __repr__(self) -> str:
        shown = {
            name: (MASK if name in SECRET_ENV_VARS else self.redactor(str(value)))
            for name, value in self.values.items()
            if name in self.present
        }
        return f"Settings({shown})"


def _env_problems(
    errors: list[SchemaError], raw: Mapping[str, str], job_ids: Sequence[str] = ()
) -> list[str]:
    """One line per problem; missing variables on one line. `job_ids`: the job-id variables
    when none of them is set (one of them is required, env.json `x-job-kinds`)."""
    missing: list[str] = [f"one of {'/'.join(job_ids)}"] if job_ids else []
    problems: list[str] = []
    for error in errors:
        name = error.path[2:] if error.path.startswith("$.") else error.path
        var = ENV_VARS.get(name)
        if error.keyword == "required" or var is None:
            if error.keyword == "required" and name not in _JOB_ID_VARS:
                missing.append(name)
            continue
        expected = _TYPE_WORDS.get(var.type, var.type)
        detail = (
            f"does not match {var.pattern}"
            if error.keyword == "pattern" and var.pattern
            else ("is not valid" if var.secret else error.message)
        )
        problems.append(f"{name}={_show(var, raw[name])}: expected {expected}; the value {detail}.")
    if missing:
        problems.insert(
            0,
            "missing required environment variable(s): "
            + ", ".join(missing)
            + " (the platform sets them; for a local run export them or put them in .env, e.g. "
            "JOB_ID=1 and CALLBACK_URL=file:///tmp/callbacks.jsonl).",
        )
    return problems


def _json_variable(var: EnvVar, raw: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        value = _parse(var, raw)
    except json.JSONDecodeError as exc:
        problems.append(
            f"{var.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            f"It must be a JSON object such as '{{\"epochs\": 10}}'."
        )
        return None
    if not isinstance(value, dict):
        problems.append(
            f"{var.name} must be a JSON object ({{...}}), got a JSON {type(value).__name__}."
        )
        return None
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read, validate and merge the configuration; raise `ConfigError` listing every problem."""
    source = os.environ if env is None else env
    # An empty value is how templated manifests say "unset" (EPOCHS=""); treat it so.
    raw = {name: source[name] for name in ENV_VARS if source.get(name, "") != ""}
    redactor = Redactor(raw[name] for name in SECRET_ENV_VARS if name in raw)
    kind = next((k for k in JOB_KINDS if k.variable in raw), None)
    job_ids = [k.variable for k in reversed(JOB_KINDS)] if kind is None else []
    problems = _env_problems(validator("env").errors(raw), raw, job_ids)
    broken = {p.split("=", 1)[0] for p in problems}

    values: dict[str, Any] = {}
    for name, var in ENV_VARS.items():
        if name in raw and name not in broken and var.type != "json":
            try:
                values[name] = _parse(var, raw[name])
            except ValueError:
                problems.append(
                    f"{name}={_show(var, raw[name])}: expected {_TYPE_WORDS[var.type]}."
                )
                continue
            if var.minimum is not None and values[name] < var.minimum:
                problems.append(f"{name}={_show(var, raw[name])}: expected >= {var.minimum}.")
            if var.exclusive_minimum is not None and values[name] <= var.exclusive_minimum:
                problems.append(
                    f"{name}={_show(var, raw[name])}: expected > {var.exclusive_minimum}."
                )
        else:
            values[name] = None if name in raw else var.default
    derived = _derive(raw, values, broken)

    config: dict[str, Any] = {}
    if CONFIG.name in raw:
        config = _json_variable(CONFIG, raw[CONFIG.name], problems) or {}
    values[CONFIG.name] = config
    fallback_advanced: dict[str, Any] | None = None
    if ADVANCED_CONFIG.name in raw:
        fallback_advanced = _json_variable(ADVANCED_CONFIG, raw[ADVANCED_CONFIG.name], problems)
        values[ADVANCED_CONFIG.name] = fallback_advanced

    unknown = sorted(set(config) - set(CONFIG_DEFAULTS))
    if unknown:
        _log.warning(
            "CONFIG has key(s) the contract does not define, passed through unchanged: %s",
            ", ".join(unknown),
        )

    # Precedence: the direct variable, then the CONFIG key, then the default.
    merged: dict[str, Any] = {**CONFIG_DEFAULTS, **config}
    origin: dict[str, str] = {key: f"CONFIG $.{key}" for key in config}
    for name, var in ENV_VARS.items():
        if var.config_key and name in raw and name not in broken and values[name] is not None:
            merged[var.config_key] = values[name]
            origin[var.config_key] = f"{name}={_show(var, raw[name])}"
    if ADVANCED_CONFIG_KEY not in config and fallback_advanced is not None:
        merged[ADVANCED_CONFIG_KEY] = fallback_advanced
        origin[ADVANCED_CONFIG_KEY] = ADVANCED_CONFIG.name

    expected_by_key = {
        var.config_key: _TYPE_WORDS.get(var.type, var.type)
        for var in ENV_VARS.values()
        if var.config_key
    }
    expected_by_key[ADVANCED_CONFIG_KEY] = _TYPE_WORDS["json"]
    for error in validator("config").errors(merged):
        key = error.path[2:].split(".", 1)[0].split("[", 1)[0] if error.path != "$" else ""
        where = origin.get(key, "")
        if not where or where.startswith("CONFIG"):
            where = f"CONFIG {error.path}"
        elif error.path != f"$.{key}":
            where += f" at {error.path}"
        expected = f"expected {expected_by_key[key]}; " if key in expected_by_key else ""
        problems.append(f"{where}: {expected}{error.message} [{error.keyword}].")

    if problems:
        lines = "\n".join(f"  - {redactor(p)}" for p in problems)
        raise ConfigError(
            f"invalid trainer configuration ({len(problems)} problem(s)):\n{lines}\n"
            "Fix the variables above; precedence is the direct variable, then the CONFIG key, "
            "then the default."
        )

    basic = cast(
        BasicConfig, {key: merged[BASIC_KEY_TO_CONFIG_KEY[key]] for key in BASIC_CONFIG_KEYS}
    )
    advanced = dict(merged.get(ADVANCED_CONFIG_KEY) or {})
    return Settings(
        values=values,
        present=frozenset(raw),
        basic=basic,
        advanced=advanced,
        config=merged,
        redactor=redactor,
        kind=kind if kind is not None else JOB_KINDS[-1],
        derived=derived,
    )


def _derive(raw: Mapping[str, str], values: dict[str, Any], broken: set[str]) -> dict[str, str]:
    """Apply env.json `x-derive`: fill variables from another variable's value (the dataset id
    and bucket from DATASET_S3_URI). A value that does not match is kept and nothing is derived.
    Returns the derived variables as strings."""
    derived: dict[str, str] = {}
    for name, derivation in ENV_DERIVATIONS.items():
        if name not in raw or name in broken:
            continue
        found = re.match(derivation.regex, raw[name])
        if found is None:
            _log.debug("%s=%r: nothing derived from it", name, raw[name])
            continue
        for group, (target, overrides) in derivation.groups.items():
            value = found.group(group)
            if value is None or (target in raw and not overrides):
                continue
            if target in raw and raw[target] != value:
                _log.info("%s=%r is taken from %s (not %r)", target, value, name, raw[target])
            values[target] = derived[target] = value
    return derived
