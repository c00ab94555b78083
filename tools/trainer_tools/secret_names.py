"""Whether an environment variable's name says it holds a secret (`WANDB_API_KEY`, `HF_TOKEN`).

The words come from the contract's lint vocabulary (`secret_name_parts`: `SECRET*`, `TOKEN`,
`API_KEY`, ...), matched against the name's `_`-separated words; the contract's own secret
variables count too. trainer-lint (TRL104, secrets in an image) and `k8s-job --env` (which sends
such variables to the Secret) share this one test.
"""

from __future__ import annotations

import fnmatch

from trainer_contract.env import SECRET_ENV_VARS
from trainer_contract.lint_rules import SECRET_NAME_PARTS

__all__ = ["looks_secret"]


def looks_secret(name: str) -> bool:
    """True when `name` is a contract secret or contains one of the secret words."""
    upper = name.upper()
    if upper in SECRET_ENV_VARS:
        return True
    words = upper.split("_")
    for part in SECRET_NAME_PARTS:
        wanted = part.split("_")
        for start in range(len(words) - len(wanted) + 1):
            window = words[start : start + len(wanted)]
            if all(fnmatch.fnmatchcase(w, p) for w, p in zip(window, wanted, strict=True)):
                return True
    return False
