"""The environment a dry-run gives the trainer: the whole env contract, as the platform would.

Every variable of `trainer_contract.env.ENV_VARS` is set: the ones the dry-run knows (job, backend,
storage, scratch folders, CPU) to their dry-run values, the others to their contract defaults.
Nothing leaks in from the caller's shell except what a process needs to run at all (PATH, HOME,
locale, the virtual environment), so that a stray `EPOCHS` or `CONFIG` in your shell cannot make a
dry-run pass that the platform would fail. `--env K=V` overrides come last.

`MODEL_NAME` is left unset unless `--model NAME` (or `--env MODEL_NAME=...`) names one: the
trainer then uses its own default model, as for a platform job that names none. (A made-up name
would make every real trainer fail to load its model.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trainer_contract.env import ENV_VARS, SECRET_ENV_VARS

__all__ = ["DryRunSettings", "build_env", "describe_env", "env_text", "var"]

# What a process needs to start, taken from the caller; never a contract variable.
_PASSTHROUGH = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TERM",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "SYSTEMROOT",
)


def var(name: str) -> str:
    """`name`, checked against the env contract: a variable the contract lost fails loudly here."""
    if name not in ENV_VARS:
        raise KeyError(
            f"the env contract (trainer_contract.env.ENV_VARS) has no variable {name!r}; the "
            "dry-run must follow the schema: regenerate and update trainer_tools.dry_run"
        )
    return name


@dataclass(frozen=True)
class DryRunSettings:
    """The values the dry-run decides; everything else comes from the contract's defaults."""

    job_id: int
    callback_url: str
    callback_token: str | None
    s3_endpoint: str
    access_key: str
    secret_key: str
    datasets_bucket: str
    checkpoints_bucket: str
    dataset_id: str | None
    dataset_uri: str | None
    task_type: str | None
    version_hash: str | None
    tmp_dir: Path
    work_dir: Path
    cache_dir: Path
    epochs: int | None


def build_env(
    settings: DryRunSettings,
    overrides: Mapping[str, str],
    caller: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The trainer's complete environment."""
    source = os.environ if caller is None else caller
    env = {k: source[k] for k in _PASSTHROUGH if k in source and k not in ENV_VARS}
    env["PYTHONUNBUFFERED"] = "1"  # so that the streamed output keeps its order and timing
    for name, spec in ENV_VARS.items():
        # A variable behind a CONFIG key is left unset: set to its default it would override the
        # CONFIG the user passes (the direct variable wins), and the SDK applies the same default.
        if spec.default is not None and spec.config_key is None:
            env[name] = env_text(spec.type, spec.default)
    known: dict[str, str | None] = {
        var("JOB_ID"): str(settings.job_id),
        var("CALLBACK_URL"): settings.callback_url,
        var("CALLBACK_TOKEN"): settings.callback_token,
        var("DEVICE"): "cpu",
        var("TMP_DIR"): str(settings.tmp_dir),
        var("WORK_DIR"): str(settings.work_dir),
        var("DATASET_CACHE_DIR"): str(settings.cache_dir),
        var("EXTERNAL_STORAGE_ENDPOINT"): settings.s3_endpoint,
        var("EXTERNAL_STORAGE_ACCESS_KEY"): settings.access_key,
        var("EXTERNAL_STORAGE_SECRET_KEY"): settings.secret_key,
        var("EXTERNAL_BUCKET_DATASETS"): settings.datasets_bucket,
        var("INTERNAL_STORAGE_ENDPOINT"): settings.s3_endpoint,
        var("INTERNAL_STORAGE_ACCESS_KEY"): settings.access_key,
        var("INTERNAL_STORAGE_SECRET_KEY"): settings.secret_key,
        var("INTERNAL_BUCKET_CHECKPOINTS"): settings.checkpoints_bucket,
        var("DATASET_S3_URI"): settings.dataset_uri,
        var("DATASET_ID"): settings.dataset_id,
        var("SNAPSHOT_ID"): f"dryrun-{settings.dataset_id}" if settings.dataset_id else None,
        var("DATASET_VERSION_HASH"): settings.version_hash,
        var("TASK_TYPE"): settings.task_type,
        var("EPOCHS"): None if settings.epochs is None else str(settings.epochs),
    }
    env.update({k: v for k, v in known.items() if v is not None})
    env.update(overrides)
    return env


def env_text(kind: str, value: object) -> str:
    """A contract default as the string an environment variable carries."""
    if kind == "json":
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_env(env: Mapping[str, str]) -> list[str]:
    """`NAME=value` for each contract variable set, secrets masked, in contract order."""
    lines = []
    for name in ENV_VARS:
        if name in env:
            shown = "***" if name in SECRET_ENV_VARS and env[name] else env[name]
            lines.append(f"{name}={shown}")
    return lines
