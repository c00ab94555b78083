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


# The one test of a secret's name, for the SDK's redaction, k8s-job and trainer-lint (which
# must not import the SDK), rendered beside the tables it reads.
_IS_SECRET_NAME = [
    "_CAMEL_HUMP = re.compile(r'([a-z0-9])([A-Z])')",
    "_WORD_PATTERNS = tuple(tuple(pattern.split('_')) for pattern in SECRET_NAME_WORDS)",
    "",
    "",
    "@functools.lru_cache(maxsize=4096)",
    "def is_secret_name(name: str) -> bool:",
    '    """True when a name says its value is a credential: an environment variable',
    "    (`HF_TOKEN`), a Dockerfile `ENV`/`ARG`, a JSON key (`wandbApiKey`, `db-password`).",
    "",
    "    x-secret-names: the name's upper-case words (split at non-alphanumerics and camelCase",
    "    humps) hold one of SECRET_NAME_WORDS as consecutive whole words (`API_KEY`,",
    "    `PASSWORD*`: `max_tokens` and `tokenizer` are not secrets), unless its last word is one",
    "    of SECRET_NAME_REFERENCE_ENDINGS (`PASSWORD_FILE` names where a secret is); the",
    '    contract\'s own secret variables (`x-secret`) are secrets."""',
    "    words = [w for w in re.split(r'[^A-Z0-9]+', _CAMEL_HUMP.sub(r'\\1_\\2', name).upper()) if w]",
    "    if '_'.join(words) in SECRET_ENV_VARS:",
    "        return True",
    "    if len(words) > 1 and words[-1] in SECRET_NAME_REFERENCE_ENDINGS:",
    "        return False",
    "    for wanted in _WORD_PATTERNS:",
    "        for start in range(len(words) - len(wanted) + 1):",
    "            window = words[start : start + len(wanted)]",
    "            if all(fnmatch.fnmatchcase(w, p) for w, p in zip(window, wanted, strict=True)):",
    "                return True",
    "    return False",
    "",
]


def _secret_names(schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`x-secret-names`: upper-case word patterns, and upper-case last words."""
    table = schema.get("x-secret-names")
    if not isinstance(table, dict) or set(table) != {"words", "reference_endings"}:
        raise SystemExit("env.json x-secret-names: an object of `words` and `reference_endings`")
    found: list[list[str]] = []
    for key in ("words", "reference_endings"):
        values = table[key]
        bad = [
            v
            for v in values
            if not isinstance(v, str) or not re.fullmatch(r"[A-Z0-9*?]+(?:_[A-Z0-9*?]+)*", v)
        ]
        if not values or bad or len(set(values)) != len(values):
            raise SystemExit(
                f"env.json x-secret-names.{key}: a non-empty list of distinct upper-case "
                f"`_`-separated words (fnmatch patterns); wrong: {bad!r}"
            )
        found.append(sorted(values))
    if any("_" in e for e in found[1]):
        raise SystemExit("env.json x-secret-names.reference_endings: single words only")
    return found[0], found[1]


def _env_module(ctx: GenContext) -> str:
    schema = ctx.schemas["env"]
    rows = _env_rows(ctx)
    kinds = _job_kinds(schema)
    derivations = _derivations(schema)
    secret_words, endings = _secret_names(schema)
    lines = [
        ctx.header(),
        f'"""{schema["title"]}: {schema["description"]}"""',
        "",
        "from __future__ import annotations",
        "",
        "import fnmatch",
        "import functools",
        "import re",
        "from dataclasses import dataclass",
        "from typing import Any",
        "",
        '__all__ = ["BOOLEAN_FALSE_WORDS", "BOOLEAN_TRUE_WORDS", "ENV_DERIVATIONS", "ENV_VARS", '
        '"JOB_KINDS", "REQUIRED_ENV_VARS", "SECRET_ENV_VARS", "SECRET_NAME_REFERENCE_ENDINGS", '
        '"SECRET_NAME_WORDS", "Derivation", "EnvVar", "JobKind", "is_secret_name"]',
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
        "# When a name says its value is a secret (x-secret-names): `_`-separated fnmatch patterns",
        "# of its upper-case words, and the last words that make it a reference to one instead.",
        f"SECRET_NAME_WORDS: tuple[str, ...] = {tuple(secret_words)!r}",
        f"SECRET_NAME_REFERENCE_ENDINGS: frozenset[str] = frozenset({sorted(endings)!r})",
        *_IS_SECRET_NAME,
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
