"""Storage settings read from the environment contract (`trainer_contract.env.ENV_VARS`).

Names, defaults and secrecy of the variables come from the generated table; this module only
groups them into the two endpoints and the cache, and parses them with errors that name the
variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainer_contract.env import ENV_VARS
from trainer_sdk.errors import ConfigError

__all__ = ["DEFAULT_TRANSFER_WORKERS", "CacheSettings", "EndpointSettings", "StorageSettings"]

# Parallel transfers per job. Two-core nodes peak at about 8 small-object GETs in flight
# (DEPENDENCY_NOTES.md, "Small objects from S3"); the S3 connection pool is sized to match.
DEFAULT_TRANSFER_WORKERS = 8
_BYTES_PER_GB = 1024**3


def _contract_var(name: str) -> Any:
    try:
        return ENV_VARS[name]
    except KeyError:  # the schema renamed or dropped it: fail loudly, never guess
        raise ConfigError(
            f"the environment contract has no variable {name}; the storage settings need it "
            "(regenerate trainer_contract with `make generate` or update the storage settings)"
        ) from None


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is not None and value.strip() != "":
        return value.strip()
    default = _contract_var(name).default
    return None if default is None else str(default)


def _text(env: Mapping[str, str], name: str) -> str:
    value = _raw(env, name)
    if value is None:
        raise ConfigError(f"{name} is not set and has no default; set it in the job's environment")
    pattern = getattr(_contract_var(name), "pattern", None)
    if pattern and not re.search(pattern, value):
        shown = "***" if _contract_var(name).secret else repr(value)
        raise ConfigError(f"{name}={shown} does not match {pattern}; fix the variable's value")
    return value


def _number(env: Mapping[str, str], name: str) -> float:
    value = _text(env, name)
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number; use e.g. {name}=50") from None


@dataclass(frozen=True)
class EndpointSettings:
    """One S3 endpoint: URL, credentials and bucket, plus the variable names behind them.

    The variable names let error messages say which setting to fix. The credentials are kept out
    of `repr`.
    """

    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    bucket: str
    endpoint_var: str = ""
    credential_vars: tuple[str, str] = ("", "")
    bucket_var: str = ""
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/\s]+", self.endpoint):
            name = self.endpoint_var or "the endpoint"
            raise ConfigError(
                f"{name}={self.endpoint!r} is not an http(s) URL; use e.g. http://minio:9000"
            )
        if not self.bucket:
            raise ConfigError(f"{self.bucket_var or 'the bucket'} is empty; set the bucket name")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, endpoint: str, access_key: str, secret_key: str, bucket: str
    ) -> EndpointSettings:
        """Read one endpoint from `env`, given the names of its four variables."""
        return cls(
            endpoint=_text(env, endpoint).rstrip("/"),
            access_key=_text(env, access_key),
            secret_key=_text(env, secret_key),
            bucket=_text(env, bucket),
            endpoint_var=endpoint,
            credential_vars=(access_key, secret_key),
            bucket_var=bucket,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be shown (both credentials)."""
        return (self.access_key, self.secret_key)


@dataclass(frozen=True)
class CacheSettings:
    """The node-wide dataset cache: its folder and the size above which LRU eviction runs."""

    directory: Path
    max_bytes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CacheSettings:
        """Read `DATASET_CACHE_DIR` and `DATASET_CACHE_MAX_GB` (GiB) from `env`."""
        max_gb = _number(env, "DATASET_CACHE_MAX_GB")
        if max_gb < 0:
            raise ConfigError(
                f"DATASET_CACHE_MAX_GB={max_gb:g} is negative; use a size in GiB such as 50 "
                "(0 keeps only the datasets in use)"
            )
        return cls(
            directory=Path(_text(env, "DATASET_CACHE_DIR")), max_bytes=int(max_gb * _BYTES_PER_GB)
        )


@dataclass(frozen=True)
class StorageSettings:
    """Everything storage needs: both endpoints, the cache, and the transfer parallelism."""

    external: EndpointSettings
    internal: EndpointSettings
    cache: CacheSettings
    workers: int = DEFAULT_TRANSFER_WORKERS

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"storage workers must be at least 1, got {self.workers}")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, workers: int = DEFAULT_TRANSFER_WORKERS
    ) -> StorageSettings:
        """Read the storage and cache variables of the contract from `env` (defaults applied)."""
        return cls(
            external=EndpointSettings.from_env(
                env,
                endpoint="EXTERNAL_STORAGE_ENDPOINT",
                access_key="EXTERNAL_STORAGE_ACCESS_KEY",
                secret_key="EXTERNAL_STORAGE_SECRET_KEY",
                bucket="EXTERNAL_BUCKET_DATASETS",
            ),
            internal=EndpointSettings.from_env(
                env,
                endpoint="INTERNAL_STORAGE_ENDPOINT",
                access_key="INTERNAL_STORAGE_ACCESS_KEY",
                secret_key="INTERNAL_STORAGE_SECRET_KEY",
                bucket="INTERNAL_BUCKET_CHECKPOINTS",
            ),
            cache=CacheSettings.from_env(env),
            workers=workers,
        )
