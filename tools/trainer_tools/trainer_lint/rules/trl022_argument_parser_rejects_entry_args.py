"""TRL022 argument-parser-rejects-entry-args.

How it is checked: each `argparse.ArgumentParser(...)` assigned to a name, without `parents=`,
whose `parse_args()` reads the command line (no argument, `None`, or `sys.argv[1:]`), must have
an `add_argument` call defining each option of the platform's command line (`ENTRY_ARGS` of
`trainer_contract.lint_rules`: `--log-level`) as an option that takes a value: the exact option
string, or a longer one it abbreviates when the parser allows abbreviations. An `add_argument`
with `*` arguments makes the parser unknown and it is not judged; so is `parse_known_args()`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.symbols import dotted_name

CODE = "TRL022"
_PARSER = "ArgumentParser"
_FLAG_ACTIONS = frozenset({"store_true", "store_false", "store_const", "count", "help", "version"})


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _reads_command_line(call: ast.Call) -> bool:
    """`parse_args()`, `parse_args(None)`, `parse_args(sys.argv[1:])`."""
    given = [*call.args, *(k.value for k in call.keywords if k.arg == "args")]
    if not given:
        return True
    if len(given) != 1:
        return False
    value = given[0]
    if isinstance(value, ast.Constant) and value.value is None:
        return True
    return isinstance(value, ast.Subscript) and dotted_name(value.value) in ("sys.argv", "argv")


def _options(call: ast.Call) -> list[str] | None:
    """The option strings an add_argument call defines, or None when it cannot be known."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return None
    names = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    action = _keyword(call, "action")
    nargs = _keyword(call, "nargs")
    if isinstance(action, ast.Constant) and action.value in _FLAG_ACTIONS:
        return []  # takes no value: `--log-level INFO` would leave INFO unrecognized
    if isinstance(nargs, ast.Constant) and nargs.value == 0:
        return []
    return names


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report parsers that would reject the platform's command line."""
    wanted = [arg for arg in analysis.facts.entry_args if arg.startswith("--")]
    if not wanted:
        return
    if not analysis.index.calls_named([_PARSER]):
        return  # no `ArgumentParser(...)` call, so no parser to check
    parsers: dict[str, ast.Call] = {}
    for assign in analysis.of(ast.Assign):
        value = assign.value
        if (
            isinstance(value, ast.Call)
            and (dotted_name(value.func) or "").split(".")[-1] == _PARSER
            and _keyword(value, "parents") is None
            and len(assign.targets) == 1
            and isinstance(assign.targets[0], ast.Name)
        ):
            parsers[assign.targets[0].id] = value
    if not parsers:
        return
    defined: dict[str, list[str] | None] = {name: [] for name in parsers}
    reads: list[tuple[str, ast.Call]] = []
    for call in analysis.of(ast.Call):
        func = call.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            continue
        owner = func.value.id
        if owner not in parsers:
            continue
        if func.attr == "add_argument":
            found = _options(call)
            known = defined[owner]
            defined[owner] = None if found is None or known is None else [*known, *found]
        elif func.attr == "parse_args" and _reads_command_line(call):
            reads.append((owner, call))
    for owner, call in reads:
        options = defined[owner]
        if options is None:
            continue
        abbreviations = _keyword(parsers[owner], "allow_abbrev")
        abbrev = not (isinstance(abbreviations, ast.Constant) and abbreviations.value is False)
        missing = [
            arg
            for arg in wanted
            if not any(o == arg or (abbrev and o.startswith(arg)) for o in options)
        ]
        if missing:
            command = " ".join(analysis.facts.entry_args)
            yield analysis.finding(
                CODE,
                call,
                f"`{owner}` has no {', '.join(missing)} option, and the platform starts the "
                f"trainer as `python {analysis.facts.entry_script} {command}`: parse_args() would "
                f"exit with 'unrecognized arguments'; add `{owner}.add_argument('{missing[0]}', "
                "default='INFO')` or use parse_known_args()",
            )
