"""The contract facts trainer-lint checks against, read once from the generated package.

Nothing here is a fact of its own: every name, value and rule comes from `trainer_contract`
(`lint_rules`, `sdk_api`, `error_type`, `exit_codes`, `env`), so a schema change reaches the linter
through `make generate` alone. Only `trainer_contract` is imported, never the SDK runtime: the
linter runs where the SDK is not installed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from trainer_contract import lint_rules
from trainer_contract.config import BASIC_CONFIG_KEYS, BASIC_KEY_SYNONYMS
from trainer_contract.env import ENV_VARS, SECRET_ENV_VARS
from trainer_contract.error_type import ERROR_TYPE_ALIASES, ErrorType
from trainer_contract.exit_codes import ExitCode
from trainer_contract.lint_rules import LINT_RULES, LintRule
from trainer_contract.sdk_api import SDK_METHODS, Method
from trainer_contract.validators import schema_documents

__all__ = ["ContractFacts", "facts", "per_facts"]


@dataclass(frozen=True)
class ContractFacts:
    """Everything the rules compare a trainer with."""

    rules: Mapping[str, LintRule]
    methods: Mapping[str, Method]
    error_members: tuple[str, ...]
    """Canonical ErrorType member names, in schema order."""
    error_aliases: Mapping[str, str]
    """Deprecated alias -> canonical member name."""
    error_values: Mapping[str, str]
    """Member or alias name -> wire value."""
    error_attributes: frozenset[str]
    """Every attribute of the ErrorType class (enum API included), to tell typos from API."""
    exit_codes: Mapping[int, str]
    """Exit code -> its ExitCode name."""
    success_exit: int
    failure_exit: int
    scratch_dirs: Mapping[str, str]
    """Default path of a scratch directory -> its environment variable (`/tmp` -> `TMP_DIR`)."""
    sdk_module: str
    sdk_class: str
    error_type_class: str
    error_type_modules: tuple[str, ...]
    error_type_schema: str
    """The file name of the ErrorType schema, as SDK parameters `$ref` it."""
    entry_runner: str
    """The SDK's `run(main)` helper: builds the SDK for `main(sdk)`, reports, closes, exits."""
    started: str
    progress: str
    completed: str
    failed: str
    close: str
    training_operation: str
    training_calls: frozenset[str]
    mode_switches: Mapping[str, str]
    """A training call that, with no argument or one flag, only switches a module's mode when the
    same object also calls the paired method (PyTorch's `model.train()` with `model.eval()`)."""
    epoch_hooks: frozenset[str]
    start_hooks: frozenset[str]
    end_hooks: frozenset[str]
    callback_registrars: frozenset[str]
    oom_exceptions: frozenset[str]
    oom_messages: tuple[str, ...]
    oom_error_type: str
    exit_calls: frozenset[str]
    path_default_readers: tuple[str, ...]
    sdk_env_properties: Mapping[str, str]
    """Job variables the SDK normalizes -> the SDK property to read (`TASK_TYPE` -> `task_type`)."""
    gpu_device_prefix: str
    cpu_device: str
    gpu_availability_checks: frozenset[str]
    # -- Dockerfiles
    entry_script: str
    """The file the container runs (`python train.py`)."""
    entry_args: tuple[str, ...]
    """The arguments the platform passes it (`--log-level INFO`)."""
    recommended_metrics: tuple[str, ...]
    """Metrics a progress report should carry (metrics.json `x-recommended`: `loss`)."""
    sdk_bundle: str
    """The single-file SDK a Dockerfile copies (`trainer_sdk.py`: the SDK module's file)."""
    sdk_distribution: str
    dockerfile_names: tuple[str, ...]
    dockerfile_name_exclusions: tuple[str, ...]
    """Names that match `dockerfile_names` but are not Dockerfiles (`Dockerfile.dockerignore`)."""
    python_executables: tuple[str, ...]
    entry_wrappers: frozenset[str]
    package_installers: tuple[tuple[str, ...], ...]
    site_packages_dirs: tuple[str, ...]
    root_users: frozenset[str]
    secret_env_vars: frozenset[str]
    basic_config_method: str
    """`get_basic_config`: returns the dict of `basic_config_keys`."""
    basic_config_keys: tuple[str, ...]
    basic_key_synonyms: Mapping[str, str]
    """Names trainers write for a basic config key -> the key (`learning_rate` -> `lr0`)."""
    known_metrics: tuple[str, ...]
    """Metric names the platform knows (metrics.json `x-known-metrics`)."""
    delivery_errors: frozenset[str]
    """The SDK's exceptions for an unreachable backend (a handler for one exits 2 itself)."""
    apt_installers: tuple[tuple[str, ...], ...]
    retired_apt_packages: Mapping[str, str]
    """Debian package the base image's release dropped -> the package that replaces it."""
    retired_apt_release: str

    def hook_kind(self, name: str) -> str | None:
        """`epoch`, `start` or `end` for a framework hook name, else None."""
        if name in self.epoch_hooks:
            return "epoch"
        if name in self.start_hooks:
            return "start"
        if name in self.end_hooks:
            return "end"
        return None


_T = TypeVar("_T")


def per_facts(compute: Callable[..., _T]) -> Callable[..., _T]:
    """Memoize `compute(facts, *key)` for the facts object last asked about.

    What a rule derives from the contract alone (a method's parameter names, the metric
    parameters) is the same for every file of a run, which checks them all against one facts
    object; deriving it per file was a measurable part of a lint. The facts are compared by
    identity (they hold dicts, so they cannot be hashed), and a new facts object starts anew.
    """
    last: list[object] = [None]
    table: dict[tuple[Hashable, ...], _T] = {}

    @functools.wraps(compute)
    def memoized(known: ContractFacts, *key: Hashable) -> _T:
        if last[0] is not known:
            last[0] = known
            table.clear()
        try:
            return table[key]
        except KeyError:
            value = table[key] = compute(known, *key)
            return value

    return memoized


# The ErrorType schema's file, from its `$id` (https://.../schemas/error-type.json).
_ERROR_TYPE_SCHEMA = str(schema_documents()["error-type"]["$id"]).rsplit("/", 1)[-1]


@functools.cache
def facts() -> ContractFacts:
    """The facts of the installed `trainer_contract` (built once per process)."""
    aliases = {alias: member.name for alias, member in ERROR_TYPE_ALIASES.items()}
    members = tuple(name for name in ErrorType.__members__ if name not in aliases)
    values = {name: member.value for name, member in ErrorType.__members__.items()}
    scratch = {}
    for var in lint_rules.SCRATCH_DIR_ENV_VARS:
        default = ENV_VARS[var].default
        if isinstance(default, str) and default:
            scratch[default.rstrip("/") or "/"] = var
    methods = lint_rules.LIFECYCLE_METHODS
    return ContractFacts(
        rules=LINT_RULES,
        methods=SDK_METHODS,
        error_members=members,
        error_aliases=aliases,
        error_values=values,
        error_attributes=frozenset(dir(ErrorType)),
        exit_codes={int(code): code.name for code in ExitCode},
        success_exit=int(ExitCode.SUCCESS),
        failure_exit=int(ExitCode.TRAINING_FAILURE),
        scratch_dirs=scratch,
        sdk_module=lint_rules.SDK_MODULE,
        sdk_class=lint_rules.SDK_CLASS,
        error_type_class=lint_rules.ERROR_TYPE_CLASS,
        error_type_modules=lint_rules.ERROR_TYPE_MODULES,
        error_type_schema=_ERROR_TYPE_SCHEMA,
        entry_runner=lint_rules.ENTRY_RUNNER,
        started=methods.started,
        progress=methods.progress,
        completed=methods.completed,
        failed=methods.failed,
        close=methods.close,
        training_operation=lint_rules.TRAINING_OPERATION,
        training_calls=frozenset(lint_rules.TRAINING_CALLS),
        mode_switches=dict(
            pair.split("=", 1)
            for pair in lint_rules.MODE_SWITCHES  # "training call=its paired switch"
        ),
        epoch_hooks=frozenset(lint_rules.EPOCH_HOOKS),
        start_hooks=frozenset(lint_rules.START_HOOKS),
        end_hooks=frozenset(lint_rules.END_HOOKS),
        callback_registrars=frozenset(lint_rules.CALLBACK_REGISTRARS),
        oom_exceptions=frozenset(lint_rules.OOM_EXCEPTIONS),
        oom_messages=tuple(m.lower() for m in lint_rules.OOM_MESSAGES),
        oom_error_type=lint_rules.OOM_ERROR_TYPE,
        exit_calls=frozenset(lint_rules.EXIT_CALLS),
        path_default_readers=lint_rules.PATH_DEFAULT_READERS,
        sdk_env_properties=dict(
            pair.split("=", 1)
            for pair in lint_rules.SDK_ENV_PROPERTIES  # "VARIABLE=property"
        ),
        gpu_device_prefix=lint_rules.GPU_DEVICE_PREFIX,
        cpu_device=lint_rules.CPU_DEVICE,
        gpu_availability_checks=frozenset(lint_rules.GPU_AVAILABILITY_CHECKS),
        entry_script=lint_rules.ENTRY_SCRIPT,
        entry_args=tuple(lint_rules.ENTRY_ARGS),
        recommended_metrics=tuple(
            schema_documents()["metrics"]["$defs"]["user_metrics"].get("x-recommended", [])
        ),
        sdk_bundle=f"{lint_rules.SDK_MODULE}.py",
        sdk_distribution=lint_rules.SDK_DISTRIBUTION,
        dockerfile_names=lint_rules.DOCKERFILE_NAMES,
        dockerfile_name_exclusions=lint_rules.DOCKERFILE_NAME_EXCLUSIONS,
        python_executables=lint_rules.PYTHON_EXECUTABLES,
        entry_wrappers=frozenset(lint_rules.ENTRY_WRAPPERS),
        package_installers=tuple(tuple(i.split()) for i in lint_rules.PACKAGE_INSTALLERS),
        site_packages_dirs=lint_rules.SITE_PACKAGES_DIRS,
        root_users=frozenset(lint_rules.ROOT_USERS),
        secret_env_vars=frozenset(SECRET_ENV_VARS),
        basic_config_method=lint_rules.BASIC_CONFIG_METHOD,
        basic_config_keys=BASIC_CONFIG_KEYS,
        basic_key_synonyms=BASIC_KEY_SYNONYMS,
        known_metrics=tuple(schema_documents()["metrics"].get("x-known-metrics", ())),
        delivery_errors=frozenset(lint_rules.DELIVERY_ERRORS),
        apt_installers=tuple(tuple(i.split()) for i in lint_rules.APT_INSTALLERS),
        retired_apt_packages=dict(
            pair.split("=", 1)
            for pair in lint_rules.RETIRED_APT_PACKAGES  # "old=new"
        ),
        retired_apt_release=lint_rules.RETIRED_APT_RELEASE,
    )
