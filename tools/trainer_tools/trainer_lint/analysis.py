"""One file, analysed once, shared by every rule: the tree, its symbols and its lifecycle trace."""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from trainer_tools.trainer_lint.contract import ContractFacts, per_facts
from trainer_tools.trainer_lint.finding import Finding
from trainer_tools.trainer_lint.literals import LiteralProblem, check_literal_arguments
from trainer_tools.trainer_lint.node_index import N
from trainer_tools.trainer_lint.source import SourceFile
from trainer_tools.trainer_lint.symbols import (
    FunctionInfo,
    Symbols,
    dotted_name,
    iter_local_nodes,
    runner_calls,
)
from trainer_tools.trainer_lint.trace import Event, Trace, build_trace

__all__ = ["Analysis", "BoundCall"]


@per_facts
def _error_type_params(facts: ContractFacts, method: str) -> frozenset[str]:
    spec = facts.methods.get(method)
    if spec is None:
        return frozenset()
    return frozenset(
        p.name
        for p in spec.params
        if str(p.schema.get("$ref", "")).split("#")[0] == facts.error_type_schema
    )


@dataclass(frozen=True)
class BoundCall:
    """An SDK call with its arguments matched to the method's parameters."""

    call: ast.Call
    method: str
    arguments: dict[str, ast.expr]
    """Parameter name -> argument expression (positional and keyword)."""
    complete: bool
    """No `*args` / `**kwargs`: the arguments given are exactly these."""


@per_facts
def _reader_last_names(facts: ContractFacts) -> frozenset[str]:
    """The last name of every environment reader (`getenv`, `get`): a reader's call ends in one."""
    return frozenset(r.rpartition(".")[2] for r in facts.path_default_readers)


class Analysis:
    """The parsed file plus everything rules ask about it; expensive parts are computed once."""

    def __init__(
        self,
        source: SourceFile,
        facts: ContractFacts,
        siblings: Sequence[tuple[str, SourceFile]] = (),
    ) -> None:
        self.source = source
        self.facts = facts
        self.index = source.index
        indexes = [(name, sibling.index) for name, sibling in siblings]
        # Nodes of the trainer's own modules report at their file, not at the entry.
        self._origin: dict[int, SourceFile] = {
            id(node): sibling
            for (_, sibling), (_, index) in zip(siblings, indexes, strict=True)
            for node in index.nodes
        }
        self.symbols = Symbols.build(source.tree, facts, self.index, indexes)
        # Rules ask for the same few methods' events again and again (once the trace is made,
        # it does not change).
        self._method_events: dict[str, list[Event]] = {}

    @functools.cached_property
    def trace(self) -> Trace:
        """The lifecycle events in run order (see `trace`)."""
        return build_trace(self.source.tree, self.symbols, self.facts, self.of(ast.Call))

    @property
    def nodes(self) -> list[ast.AST]:
        """Every node of the file, parents before children."""
        return self.index.nodes

    def of(self, kind: type[N]) -> list[N]:
        """Every node of one type (`analysis.of(ast.Call)`)."""
        return self.index.of(kind)

    @functools.cached_property
    def strings(self) -> list[tuple[ast.Constant, str]]:
        """(constant, text) of every string constant of the file (docstrings and f-string parts
        included). One pass over the constants for every rule that looks at strings: a pass
        costs about as much as a rule's whole check."""
        # `__class__ is str`: the parser makes no str subclass, and the test is the cheaper one.
        return [(c, c.value) for c in self.of(ast.Constant) if c.value.__class__ is str]

    @functools.cached_property
    def strings_text(self) -> str:
        """Every string constant of the file joined by newlines: a text found in one string is
        in it, so a rule can tell with one search that no string holds it."""
        return "\n".join([text for _, text in self.strings])

    @functools.cached_property
    def env_reads(self) -> list[ast.Call]:
        """Calls of an environment reader (`os.getenv`, `os.environ.get`, ...: the readers of
        `x-lint-vocabulary.path_default_readers`), in walk order."""
        readers = self.facts.path_default_readers
        found = []
        for call in self.index.calls_named(_reader_last_names(self.facts)):
            name = dotted_name(call.func) or ""
            if any(name == r or name.endswith("." + r) for r in readers):
                found.append(call)
        return found

    def finding(self, code: str, node: ast.AST | None, message: str) -> Finding:
        """A finding of `code` at `node` (the top of the file when None)."""
        if node is None:
            return Finding(self.source.path, 1, 1, code, message, 1, 1)
        source = self._origin.get(id(node), self.source)
        line, column, end_line, end_column = source.span(node)
        return Finding(source.path, line, column, code, message, end_line, end_column)

    # -- lifecycle ------------------------------------------------------------------------------

    def constructs(self) -> list[Event]:
        """Events where the SDK is created, in run order."""
        return self._constructs

    @functools.cached_property
    def _constructs(self) -> list[Event]:
        return self.trace.of("construct")

    def lifecycle_anchor(self) -> ast.AST | None:
        """Where lifecycle findings point when a call is missing: the SDK's construction."""
        constructs = self.constructs()
        return constructs[0].node if constructs else None

    def method_events(self, method: str) -> list[Event]:
        """Calls of an SDK method, in run order (one list per method, shared: do not change it).

        A call of a method the SDK does not have counts as a call of its closest SDK method: the
        typo is TRL013's finding, and reporting the lifecycle call as missing too would be noise.
        """
        events = self._method_events.get(method)
        if events is None:
            events = self._method_events[method] = [
                e
                for e in self.trace.of("call")
                if e.method == method
                or (e.method is not None and self.intended(e.method) == method)
            ]
        return events

    def intended(self, written: str) -> str | None:
        """The SDK method a misspelt method name most likely means (None for a real method)."""
        if written in self.facts.methods:
            return None
        close = difflib.get_close_matches(written, list(self.facts.methods), n=1, cutoff=0.8)
        return close[0] if close else None

    @functools.cached_property
    def is_training_job(self) -> bool:
        """False when every `report_started` names another operation (`'export'`, `'inference'`):
        such scripts have no epochs and complete with their own method, so the epoch and
        completion rules do not apply."""
        started = self.method_events(self.facts.started)
        if not started:
            return True
        for event in started:
            call = event.node
            if not isinstance(call, ast.Call):
                return True
            operation: ast.expr | None = call.args[0] if call.args else None
            for keyword in call.keywords:
                if keyword.arg == self._first_param(self.facts.started):
                    operation = keyword.value
            if not (isinstance(operation, ast.Constant) and isinstance(operation.value, str)):
                return True
            if operation.value == self.facts.training_operation:
                return True
        return False

    def _first_param(self, method: str) -> str | None:
        spec = self.facts.methods.get(method)
        return spec.params[0].name if spec is not None and spec.params else None

    def handler_reports(self, handler: ast.ExceptHandler) -> bool:
        """The handler calls report_failed (itself or through a function of this file)."""
        return any(e.within("handler", handler) for e in self.method_events(self.facts.failed))

    def handler_propagates(self, handler: ast.ExceptHandler) -> bool:
        """The handler re-raises, exits, or returns a failure code: the failure is not hidden."""
        for event in self.trace.events:
            if event.kind in ("raise", "exit") and event.within("handler", handler):
                return True
        for node in iter_local_nodes(handler.body):
            if isinstance(node, ast.Raise):
                return True
            if isinstance(node, ast.Return) and node.value is not None:
                value = node.value
                if isinstance(value, ast.Constant) and value.value in (None, 0, False, ""):
                    continue
                return True
        return False

    # -- SDK calls ------------------------------------------------------------------------------

    @functools.cached_property
    def sdk_calls(self) -> list[tuple[ast.Call, str]]:
        """Every call on an SDK object in the file, with its method name, in source order."""
        found = []
        attribute = ast.Attribute
        for node in self.of(ast.Call):
            if node.func.__class__ is not attribute:
                continue  # `f(...)`: no method call (what `sdk_method` tests first)
            method = self.symbols.sdk_method(node)
            if method is not None and not method.startswith("__"):
                found.append((node, method))
        found.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
        return found

    def bound_calls(self) -> Iterator[BoundCall]:
        """SDK calls of known methods with their arguments bound to parameter names."""
        return iter(self._bound_calls)

    @functools.cached_property
    def _bound_calls(self) -> list[BoundCall]:
        return list(self._bind_calls())

    def _bind_calls(self) -> Iterator[BoundCall]:
        for call, method in self.sdk_calls:
            spec = self.facts.methods.get(method)
            if spec is None:
                continue
            names = [p.name for p in spec.params]
            arguments: dict[str, ast.expr] = {}
            complete = True
            for index, arg in enumerate(call.args):
                if isinstance(arg, ast.Starred):
                    complete = False
                    break
                if index < len(names):
                    arguments[names[index]] = arg
            for keyword in call.keywords:
                if keyword.arg is None:
                    complete = False
                elif keyword.arg in names and keyword.arg not in arguments:
                    arguments[keyword.arg] = keyword.value
            yield BoundCall(call, method, arguments, complete)

    @functools.cached_property
    def literal_problems(self) -> list[tuple[BoundCall, LiteralProblem]]:
        """Schema errors of literal arguments of SDK calls (see `literals`). ErrorType
        parameters are left out: a string there is judged by the SDK's own table
        (`error_type_strings`, TRL011 and TRL025), which accepts more than the wire values."""
        found = []
        for bound in self.bound_calls():
            schema = self.facts.methods[bound.method].schema
            skip = self._error_type_params(bound.method)
            for problem in check_literal_arguments(schema, bound.arguments):
                if problem.param not in skip:
                    found.append((bound, problem))
        return found

    def _error_type_params(self, method: str) -> frozenset[str]:
        """Parameters of `method` whose schema is the ErrorType schema (`report_failed`'s
        `error_type`)."""
        return _error_type_params(self.facts, method)

    @functools.cached_property
    def error_type_strings(self) -> list[tuple[ast.Constant, str]]:
        """(string literal, method) of every string given for an ErrorType parameter."""
        found = []
        for bound in self.bound_calls():
            for name in self._error_type_params(bound.method):
                node = bound.arguments.get(name)
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.append((node, bound.method))
        return found

    # -- names ----------------------------------------------------------------------------------

    def call_name(self, call: ast.Call) -> str | None:
        """Dotted name of the called function (`sys.exit`), resolved through `from x import y`."""
        name = dotted_name(call.func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        origin = self.import_origins.get(head)
        if origin is None:
            return name
        return f"{origin}.{rest}" if rest else origin

    @functools.cached_property
    def import_origins(self) -> dict[str, str]:
        """Local name -> what it imports (`exit` -> `sys.exit` after `from sys import exit`)."""
        origins: dict[str, str] = {}
        for node in self.of(ast.ImportFrom):
            if node.module and node.level == 0:
                for alias in node.names:
                    origins[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for imported in self.of(ast.Import):
            for alias in imported.names:
                if alias.asname:
                    origins[alias.asname] = alias.name
        return origins

    @functools.cached_property
    def _exit_call_names(self) -> frozenset[str]:
        """The last name of every call `is_exit_call` can accept: an exit function's own last
        name (`exit` of `sys.exit`, also for `s.exit` after `import sys as s`), or the local name
        of an exit function imported under another (`from sys import exit as leave`)."""
        exit_calls = self.facts.exit_calls
        return frozenset(n.rpartition(".")[2] for n in exit_calls) | frozenset(
            local for local, origin in self.import_origins.items() if origin in exit_calls
        )

    def is_exit_call(self, call: ast.Call) -> bool:
        """`sys.exit(...)`, `exit(...)`, `quit(...)`, `os._exit(...)` under any import form."""
        name = self.call_name(call)
        return name is not None and name in self.facts.exit_calls

    @functools.cached_property
    def exit_calls(self) -> list[ast.Call]:
        """`sys.exit(...)`-style calls and `SystemExit(...)` constructions in the file."""
        calls = [c for c in self.index.calls_named(self._exit_call_names) if self.is_exit_call(c)]
        calls += [
            r.exc
            for r in self.of(ast.Raise)
            if isinstance(r.exc, ast.Call)
            and self.call_name(r.exc) in ("SystemExit", "builtins.SystemExit")
        ]
        return calls

    @functools.cached_property
    def exit_functions(self) -> set[str]:
        """Functions of this file whose return value becomes the exit code: `sys.exit(main())`,
        `code = main()` then `sys.exit(code)`, and `run(main)` (the SDK's entry helper)."""
        assigned: dict[str, set[str]] = {}
        for node in self.of(ast.Assign):
            if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, set()).add(node.value.func.id)
        names: set[str] = set()
        for call in self.exit_calls:
            arg = call.args[0] if call.args else None
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name):
                names.add(arg.func.id)
            elif isinstance(arg, ast.Name):
                names |= assigned.get(arg.id, set())
        names.update(entry.name for _, entry in self.runner_calls)
        return {n for n in names if self.symbols.function(n) is not None}

    @functools.cached_property
    def runner_calls(self) -> list[tuple[ast.Call, FunctionInfo]]:
        """`run(main)` calls (the SDK's entry helper), each with the function of this file it
        runs, breadth-first."""
        return runner_calls(self.symbols, self.index)

    @functools.cached_property
    def error_type_members(self) -> list[tuple[ast.Attribute, str]]:
        """(attribute, `X`) of every `ErrorType.X` in the file (any alias of ErrorType)."""
        symbols = self.symbols
        if not (symbols.error_type_names or symbols.error_type_modules or symbols.sdk_modules):
            return []  # no name in the file can be ErrorType
        # `symbols.is_error_type(n.value)`, inlined: the file's every attribute is asked.
        names = symbols.error_type_names
        modules = symbols.error_type_modules | symbols.sdk_modules
        error_type_class = self.facts.error_type_class
        found: list[tuple[ast.Attribute, str]] = []
        for node in self.of(ast.Attribute):
            value = node.value
            if isinstance(value, ast.Name):
                if value.id in names:
                    found.append((node, node.attr))
            elif (
                isinstance(value, ast.Attribute)
                and value.attr == error_type_class
                and isinstance(value.value, ast.Name)
                and value.value.id in modules
            ):
                found.append((node, node.attr))
        return found

    def error_type_member(self, node: ast.AST) -> str | None:
        """`X` for `ErrorType.X` (any alias of ErrorType), else None."""
        if isinstance(node, ast.Attribute) and self.symbols.is_error_type(node.value):
            return node.attr
        return None
