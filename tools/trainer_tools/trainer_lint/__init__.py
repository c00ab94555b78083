"""trainer-lint: a static check that a `train.py` keeps the platform's lifecycle contract.

Pure standard-library `ast`; it reads the contract (rules, SDK signatures, ErrorType, exit codes,
environment defaults) from the generated `trainer_contract` package and never imports the SDK
runtime, so it runs where the SDK is not installed. Command line: `trainer-lint` (see `cli`).
"""

from trainer_tools.trainer_lint.engine import FileResult, lint_file, lint_source
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.source import TrainerSyntaxError

__all__ = ["FileResult", "Finding", "TrainerSyntaxError", "lint_file", "lint_source"]
