"""Assigning images to train / val / test.

An image's own `split` wins. The others are ordered by a keyed hash of (seed, image id), which does
not depend on the order of the images list, and cut at the configured ratios, so that each split
gets its share of them to within one image. The defaults and the accepted keys of `split_config`
come from the `dice/split-config` schema.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from trainer_contract.validators import schema_documents, validator
from trainer_sdk.errors import ConfigError

__all__ = [
    "SPLITS",
    "SplitConfig",
    "assign_splits",
    "free_order_key",
    "parse_split_config",
    "split_cuts",
]

SCHEMA = "dice/split-config"
SPLITS: tuple[str, ...] = ("train", "val", "test")

T = TypeVar("T")


@dataclass(frozen=True)
class SplitConfig:
    """Ratios (shares of the images without a split of their own) and the seed."""

    train_ratio: float
    val_ratio: float
    test_ratio: float
    seed: int


def parse_split_config(config: Mapping[str, Any] | None) -> SplitConfig:
    """Check `split_config` against its schema and fill in the defaults.

    Raises ConfigError naming every bad key, or ratios that do not add up to 1.
    """
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(
            "split_config must be a dict such as {'train_ratio': 0.8, 'val_ratio': 0.2, "
            f"'seed': 42}} or None, not {type(config).__name__}."
        )
    given: dict[str, Any] = {} if config is None else dict(config)
    errors = validator(SCHEMA).errors(given)
    if errors:
        listed = "; ".join(f"split_config{e.path[1:]}: {e.message}" for e in errors)
        raise ConfigError(
            f"split_config is invalid: {listed}. Accepted keys: "
            f"{', '.join(_properties())}, ratios between 0 and 1."
        )
    defaults = {k: v["default"] for k, v in _properties().items() if "default" in v}
    train = float(given.get("train_ratio", defaults["train_ratio"]))
    if "val_ratio" in given:
        val = float(given["val_ratio"])
    elif "train_ratio" in given:
        # Only train (and maybe test) given: val takes what is left.
        val = max(0.0, 1.0 - train - float(given.get("test_ratio", 0.0)))
    else:
        val = float(defaults["val_ratio"])
    test = float(given["test_ratio"]) if "test_ratio" in given else max(0.0, 1.0 - train - val)
    if not math.isclose(train + val + test, 1.0, abs_tol=1e-6):
        raise ConfigError(
            f"split_config ratios add up to {train + val + test:g} (train {train:g}, val {val:g}, "
            f"test {test:g}); they must add up to 1, e.g. train_ratio 0.8 and val_ratio 0.2."
        )
    return SplitConfig(train, val, test, int(given.get("seed", defaults["seed"])))


def _properties() -> dict[str, Any]:
    props: dict[str, Any] = schema_documents()[SCHEMA]["properties"]
    return props


def split_cuts(n: int, config: SplitConfig) -> tuple[int, int]:
    """Of `n` images in seeded order, the first `cut_train` go to train, those before `cut_val`
    to val, the rest to test."""
    cut_train = round(n * config.train_ratio)
    return cut_train, max(cut_train, min(n, round(n * (config.train_ratio + config.val_ratio))))


def free_order_key(seed: int, ident: object) -> bytes:
    """Where an image without a split of its own stands in the seeded order: a keyed hash of the
    seed and the image id (the type name keeps the integer 1 and the string "1" apart)."""
    key = f"{seed}\x00{type(ident).__name__}\x00{ident}".encode()
    return hashlib.blake2b(key, digest_size=8).digest()


def assign_splits(
    items: Iterable[T],
    image_id: Callable[[T], object],
    preset: Callable[[T], str | None],
    config: SplitConfig,
) -> dict[str, list[T]]:
    """Group `items` by split: `preset(item)` (train/val/test or None) wins, the rest are cut by
    the ratios in hash order. `image_id(item)` must be unique. Each list keeps the input order."""
    chosen: list[tuple[str | None, T]] = []
    free: list[tuple[bytes, int]] = []
    for position, item in enumerate(items):
        split = preset(item)
        chosen.append((split, item))
        if split is None:
            # Equal 8-byte digests (never seen) fall back on the input position.
            free.append((free_order_key(config.seed, image_id(item)), position))
    free.sort()
    cut_train, cut_val = split_cuts(len(free), config)
    for index, (_, position) in enumerate(free):
        split = "train" if index < cut_train else "val" if index < cut_val else "test"
        chosen[position] = (split, chosen[position][1])
    groups: dict[str, list[T]] = {name: [] for name in SPLITS}
    for split, item in chosen:
        groups[split or "train"].append(item)
    return groups
