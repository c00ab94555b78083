"""`env.py` (the environment-variable table) and `config.py` (CONFIG keys, task names)."""

from __future__ import annotations

import json
import re
from typing import Any

from trainer_tools.codegen.context import GenContext


def _typed(raw: str, xtype: str, true_words: list[str]) -> Any:
    """An env default written as a string, parsed the way the SDK parses the variable."""
    if xtype == "integer":
        return int(raw)
    if xtype == "number":
        return float(raw)
    if xtype == "boolean":
        return raw.lower() in true_words
    if xtype == "json":
        return json.loads(raw)
    return raw


def _env_rows(ctx: GenContext) -> list[dict[str, Any]]:
    env = ctx.schemas["env"]
    config_props: dict[str, Any] = ctx.schemas["config"]["properties"]
    required = set(env.get("required", []))
    rows = []
    words = [*env["x-boolean-words"]["true"], *env["x-boolean-words"]["false"]]
    for name, prop in env["properties"].items():
        xtype = prop["x-type"]
        if xtype == "boolean" and "pattern" in prop:
            for word in words:
                for form in (word, word.upper(), word.capitalize()):
                    if not re.match(prop["pattern"], form):
                        raise SystemExit(
                            f"env.json {name}: pattern rejects the boolean word {form!r}"
                        )
        config_key = prop.get("x-config-key")
        if config_key is not None:
            if config_key not in config_props:
                raise SystemExit(f"env.json {name}: x-config-key {config_key!r} not in config.json")
            if "default" in prop:
                raise SystemExit(
                    f"env.json {name}: the default of a config key lives in config.json"
                )
            default = config_props[config_key].get("default")
        else:
            words = env["x-boolean-words"]["true"]
            default = _typed(prop["default"], xtype, words) if "default" in prop else None
        rows.append(
            {
                "name": name,
                "type": xtype,
                "default": default,
                "required": name in required,
                "secret": bool(prop.get("x-secret", False)),
                "group": prop["x-group"],
                "config_key": config_key,
                "basic_key": prop.get("x-basic-key"),
                "pattern": prop.get("pattern"),
                "minimum": prop.get("x-minimum"),
                "exclusive_minimum": prop.get("x-exclusive-minimum"),
                "description": prop["description"],
            }
        )
    return rows


def _job_kinds(env: dict[str, Any]) -> list[dict[str, Any]]:
    """`x-job-kinds`, checked: every variable named exists and is an integer variable, and the
    `anyOf` of the schema requires exactly these variables (one of them must be set)."""
    props = env["properties"]
    kinds: list[dict[str, Any]] = env["x-job-kinds"]
    for kind in kinds:
        for key in ("variable", "logs_job"):
            name = kind[key]
            if name not in props or props[name]["x-type"] != "integer":
                raise SystemExit(f"env.json x-job-kinds: {key} {name!r} is not an integer variable")
    required = sorted(alt["required"][0] for alt in env.get("anyOf", []))
    if required != sorted(kind["variable"] for kind in kinds):
        raise SystemExit("env.json: anyOf must require exactly the x-job-kinds variables")
    return kinds


def _derivations(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`x-derive` of each variable, checked: the regex compiles, its named groups are the keys of
    `groups`, and every target variable exists."""
    found: dict[str, dict[str, Any]] = {}
    for name, prop in env["properties"].items():
        derive = prop.get("x-derive")
        if derive is None:
            continue
        groups = set(re.compile(derive["regex"]).groupindex)
        if groups != set(derive["groups"]):
            raise SystemExit(
                f"env.json {name}: x-derive groups {sorted(derive['groups'])} != regex groups"
            )
        for group, target in derive["groups"].items():
            if target["variable"] not in env["properties"]:
                raise SystemExit(
                    f"env.json {name}: x-derive {group} fills unknown {target['variable']}"
                )
        found[name] = derive
    return found


def _env_module(ctx: GenContext) -> str:
    schema = ctx.schemas["env"]
    rows = _env_rows(ctx)
    kinds = _job_kinds(schema)
    derivations = _derivations(schema)
    lines = [
        ctx.header(),
        f'"""{schema["title"]}: {schema["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Any",
        "",
        '__all__ = ["BOOLEAN_FALSE_WORDS", "BOOLEAN_TRUE_WORDS", "ENV_DERIVATIONS", "ENV_VARS", '
        '"JOB_KINDS", "REQUIRED_ENV_VARS", "SECRET_ENV_VARS", "Derivation", "EnvVar", "JobKind"]',
        "",
        "",
        "@dataclass(frozen=True)",
        "class EnvVar:",
        '    """One environment variable of the contract."""',
        "",
        "    name: str",
        "    type: str  # string, integer, number, boolean, json, url, s3_uri or path",
        "    default: Any  # typed; for a config key, the default of config.json",
        "    required: bool",
        "    secret: bool  # never in logs, reprs or messages",
        "    group: str",
        "    config_key: str | None  # the key in CONFIG it overrides",
        "    basic_key: str | None  # the key in get_basic_config()",
        "    pattern: str | None  # what the raw string must match",
        "    minimum: float | None  # the typed value must be >= this",
        "    exclusive_minimum: float | None  # the typed value must be > this",
        "    description: str",
        "",
        "",
        "@dataclass(frozen=True)",
        "class JobKind:",
        '    """A kind of Job, recognised by the id variable it gets (env.json `x-job-kinds`)."""',
        "",
        "    variable: str  # the variable holding the job's id",
        "    operation: str  # training, inference, export or evaluation",
        "    callbacks: bool  # False: the callback API has no endpoints for it (logs aside)",
        "    logs_job: str  # the variable holding the id of the job whose log gets its log lines",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Derivation:",
        '    """What the SDK takes from a variable\'s value (env.json `x-derive`)."""',
        "",
        "    regex: str  # Python syntax, with named groups",
        "    # group -> (variable it fills, whether it overrides a value that is set)",
        "    groups: dict[str, tuple[str, bool]]",
        "",
        "",
        "ENV_VARS: dict[str, EnvVar] = {",
    ]
    for r in rows:
        args = ", ".join(f"{k}={v!r}" for k, v in r.items())
        lines.append(f"    {r['name']!r}: EnvVar({args}),")
    lines += [
        "}",
        "",
        "# The kinds of Job, in precedence order: the first whose variable is set decides.",
        "JOB_KINDS: tuple[JobKind, ...] = ("
        + "".join(
            f"JobKind({k['variable']!r}, {k['operation']!r}, {k['callbacks']!r}, {k['logs_job']!r}), "
            for k in kinds
        )
        + ")",
        "# Variable -> what the SDK derives from its value.",
        "ENV_DERIVATIONS: dict[str, Derivation] = {"
        + ", ".join(
            f"{name!r}: Derivation({d['regex']!r}, "
            + repr({g: (t["variable"], t["overrides"]) for g, t in d["groups"].items()})
            + ")"
            for name, d in derivations.items()
        )
        + "}",
        "REQUIRED_ENV_VARS: tuple[str, ...] = "
        + repr(tuple(r["name"] for r in rows if r["required"])),
        "SECRET_ENV_VARS: frozenset[str] = frozenset("
        + repr(sorted(r["name"] for r in rows if r["secret"]))
        + ")",
        "# What a boolean variable accepts, compared case-insensitively.",
        f"BOOLEAN_TRUE_WORDS: frozenset[str] = frozenset({sorted(schema['x-boolean-words']['true'])!r})",
        f"BOOLEAN_FALSE_WORDS: frozenset[str] = frozenset({sorted(schema['x-boolean-words']['false'])!r})",
        "",
    ]
    return "\n".join(lines)


def _config_module(ctx: GenContext) -> str:
    config = ctx.schemas["config"]
    basic = config["$defs"]["basic_config"]
    rows = _env_rows(ctx)
    basic_to_config = {r["basic_key"]: r["config_key"] for r in rows if r["basic_key"]}
    basic_to_env = {r["basic_key"]: r["name"] for r in rows if r["basic_key"]}
    keys = list(basic["properties"])
    if sorted(keys) != sorted(basic_to_config):
        raise SystemExit(
            f"config.json basic_config keys {sorted(keys)} != env.json x-basic-key {sorted(basic_to_config)}"
        )
    defaults = {k: v.get("default") for k, v in config["properties"].items()}
    synonyms = {
        word: key for key in keys for word in basic["properties"][key].get("x-synonyms", [])
    }
    clash = sorted(set(synonyms) & set(keys))
    if clash:
        raise SystemExit(f"config.json basic_config x-synonyms {clash} are keys themselves")
    tasks = ctx.schemas["task-type"]
    canonical = tasks["$defs"]["canonical"]["enum"]
    aliases = tasks["x-aliases"]
    dice_tasks = tasks["x-dice-tasks"]
    if not set(dice_tasks) <= set(canonical):
        raise SystemExit("task-type.json: x-dice-tasks must be canonical task names")
    lines = [
        ctx.header(),
        '"""CONFIG keys and task names (config.json, env.json, task-type.json)."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "__all__ = [",
        '    "ADVANCED_CONFIG_KEY",',
        '    "BASIC_CONFIG_KEYS",',
        '    "BASIC_KEY_TO_CONFIG_KEY",',
        '    "BASIC_KEY_SYNONYMS",',
        '    "BASIC_KEY_TO_ENV_VAR",',
        '    "CONFIG_DEFAULTS",',
        '    "DICE_TASKS",',
        '    "TASK_NAMES",',
        '    "TASK_TYPES",',
        '    "TASK_TYPE_ALIASES",',
        "]",
        "",
        "# The keys of get_basic_config(), in order.",
        f"BASIC_CONFIG_KEYS: tuple[str, ...] = {tuple(keys)!r}",
        "# get_basic_config() key -> CONFIG key (e.g. lr0 -> learning_rate).",
        f"BASIC_KEY_TO_CONFIG_KEY: dict[str, str] = {dict((k, basic_to_config[k]) for k in keys)!r}",
        "# Names trainers write for a get_basic_config() key (x-synonyms) -> the key (lr -> lr0).",
        f"BASIC_KEY_SYNONYMS: dict[str, str] = {synonyms!r}",
        "# get_basic_config() key -> the environment variable that overrides it.",
        f"BASIC_KEY_TO_ENV_VAR: dict[str, str] = {dict((k, basic_to_env[k]) for k in keys)!r}",
        "# CONFIG key -> default.",
        f"CONFIG_DEFAULTS: dict[str, Any] = {defaults!r}",
        "# The CONFIG key holding framework-specific settings.",
        'ADVANCED_CONFIG_KEY = "advanced_config"',
        "# Canonical task names, as callbacks carry them.",
        f"TASK_TYPES: tuple[str, ...] = {tuple(canonical)!r}",
        "# Long task names -> canonical names.",
        f"TASK_TYPE_ALIASES: dict[str, str] = {aliases!r}",
        "# The canonical tasks a DICE dataset is annotated for (what convert_dataset converts).",
        f"DICE_TASKS: tuple[str, ...] = {tuple(dice_tasks)!r}",
        "# Every accepted task name.",
        f"TASK_NAMES: tuple[str, ...] = {tuple(tasks['enum'])!r}",
        "",
    ]
    if "advanced_config" not in config["properties"]:
        raise SystemExit("config.json must define advanced_config")
    return "\n".join(lines)


def generate(ctx: GenContext) -> dict[str, str]:
    """Write the env and config tables."""
    return {"env.py": _env_module(ctx), "config.py": _config_module(ctx)}
