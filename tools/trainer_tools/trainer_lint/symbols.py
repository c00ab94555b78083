"""What the names of one trainer file stand for: the SDK class, SDK objects, ErrorType, functions.

Name resolution is deliberately flow-insensitive and scope-light: a name that is ever bound to an
SDK object anywhere in the file is an SDK object everywhere. Trainers are single files with a few
functions; binding `sdk` to two different things is rarer than aliases the linter must follow
(`from trainer_sdk import TrainerSDK as S`, `sdk = get_sdk()`, `self.sdk = sdk`, an SDK passed as
an argument to a function or class of the same file).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from trainer_tools.trainer_lint.contract import ContractFacts
from trainer_tools.trainer_lint.node_index import FIELDS, NodeIndex, node_fields

__all__ = ["FunctionInfo", "Symbols", "dotted_name", "iter_local_nodes", "runner_calls"]


# The only kinds of expression `Symbols.is_sdk` can accept.
_MAYBE_SDK = frozenset({ast.Call, ast.Name, ast.Attribute})
_COLUMN_LINE = operator.attrgetter("col_offset", "lineno")
# Nodes whose bodies a local walk does not enter (the parser makes no subclass of them).
_DEFINITIONS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})


def dotted_name(node: ast.AST) -> str | None:
    """`sys.exit` for `Attribute(Name('sys'), 'exit')`; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def terminal_name(node: ast.AST) -> str | None:
    """The last identifier of a name or attribute chain (`self._sdk` -> `_sdk`)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def iter_local_nodes(nodes: list[ast.stmt] | list[ast.expr] | ast.AST) -> Iterator[ast.AST]:
    """Every node under `nodes` without entering nested function, lambda or class bodies."""
    stack: list[ast.AST] = list(nodes) if isinstance(nodes, list) else [nodes]
    push = stack.append
    node_type = ast.AST
    # `child_nodes` inlined: rules walk every handler and main-guard body this way.
    while stack:
        node = stack.pop()
        yield node
        kind = node.__class__
        fields = FIELDS.get(kind)
        for name in node_fields(kind) if fields is None else fields:
            value = getattr(node, name, None)
            for child in value if value.__class__ is list else (value,):
                if not isinstance(child, node_type):
                    continue
                if child.__class__ in _DEFINITIONS:
                    yield child  # the definition itself, but not its body
                else:
                    push(child)


@dataclass
class FunctionInfo:
    """A function or method defined in the file."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    owner: str | None
    """The class name for a method, None for a function."""

    @property
    def name(self) -> str:
        """The function's name."""
        return self.node.name

    def params(self) -> list[str]:
        """Positional parameter names, without `self`/`cls` for methods."""
        args = self.node.args
        names = [a.arg for a in [*args.posonlyargs, *args.args]]
        if self.owner is not None and names and not _is_static(self.node):
            names = names[1:]
        return names

    def keyword_params(self) -> set[str]:
        """Every parameter name that can be given by keyword."""
        args = self.node.args
        return {a.arg for a in [*args.args, *args.kwonlyargs]}


def _sdk_named(name: str) -> bool:
    """Named like an SDK object by convention: `sdk`, `_sdk`, `*_sdk` (any case)."""
    lowered = name.lower()
    return lowered in ("sdk", "_sdk") or lowered.endswith("_sdk")


def _is_static(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(dotted_name(d) == "staticmethod" for d in node.decorator_list)


@dataclass
class Symbols:
    """Resolution tables for one module; build with `Symbols.build`."""

    facts: ContractFacts
    sdk_classes: set[str] = field(default_factory=set)
    """Local names of the SDK class (`TrainerSDK`, or its `as` alias)."""
    sdk_modules: set[str] = field(default_factory=set)
    """Local names of the SDK module (`import trainer_sdk as ts`)."""
    error_type_names: set[str] = field(default_factory=set)
    error_type_modules: set[str] = field(default_factory=set)
    module_names: set[str] = field(default_factory=set)
    """Every name bound by an import (never an SDK object)."""
    sdk_imports: list[ast.stmt] = field(default_factory=list)
    runners: set[str] = field(default_factory=set)
    """Local names of the SDK's `run(main)` helper."""
    functions: dict[str, list[FunctionInfo]] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    methods: dict[str, dict[str, FunctionInfo]] = field(default_factory=dict)
    sdk_vars: set[str] = field(default_factory=set)
    sdk_attrs: set[str] = field(default_factory=set)
    sdk_factories: set[str] = field(default_factory=set)
    instances: dict[str, str] = field(default_factory=dict)
    """Variable or attribute name -> class of the same file it was created from."""
    module_functions: dict[str, dict[str, FunctionInfo]] = field(default_factory=dict)
    """Local module name -> its top-level functions, for the trainer's own sibling modules."""

    @classmethod
    def build(
        cls,
        tree: ast.Module,
        facts: ContractFacts,
        index: NodeIndex | None = None,
        siblings: Sequence[tuple[str, NodeIndex]] = (),
    ) -> Symbols:
        """Collect imports and definitions, then follow SDK aliases to a fixed point.

        `siblings` are the trainer's own modules next to it (name, index): their functions and
        classes join the tables (the entry file's names win), so calls into them are followed.
        """
        symbols = cls(facts=facts)
        nodes = index if index is not None else NodeIndex(tree)
        symbols._collect(nodes)
        for name, sibling in siblings:
            symbols._collect(sibling, entry=False)
            symbols.module_functions[name] = {
                n.name: FunctionInfo(n, None)
                for n in sibling.nodes[0].body  # type: ignore[attr-defined]
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
        if siblings:
            symbols._bind_imported_names([nodes, *(s for _, s in siblings)])
        symbols._follow_aliases([nodes, *(s for _, s in siblings)])
        return symbols

    def _bind_imported_names(self, indexes: list[NodeIndex]) -> None:
        """`from engine import train as fit_model`: `fit_model` is engine's `train`; and
        `import engine as e` makes `e.train` resolvable."""
        for index in indexes:
            for node in index.of(ast.ImportFrom):
                table = self.module_functions.get((node.module or "").split(".")[-1])
                if table is None:
                    continue
                for alias in node.names:
                    local = alias.asname or alias.name
                    if alias.name in table and local not in self.functions:
                        self.functions[local] = [table[alias.name]]
                    elif alias.name in self.classes and local not in self.classes:
                        self.classes[local] = self.classes[alias.name]
                        self.methods[local] = self.methods.get(alias.name, {})
            for imported in index.of(ast.Import):
                for alias in imported.names:
                    table = self.module_functions.get(alias.name)
                    if table is not None and alias.asname:
                        self.module_functions.setdefault(alias.asname, table)

    # -- collection -----------------------------------------------------------------------------

    def _collect(self, index: NodeIndex, entry: bool = True) -> None:
        facts = self.facts
        for imported in index.of(ast.Import):
            for alias in imported.names:
                local = alias.asname or alias.name.split(".")[0]
                self.module_names.add(local)
                if alias.name == facts.sdk_module:
                    self.sdk_modules.add(local)
                    if entry:
                        self.sdk_imports.append(imported)
                if alias.name in facts.error_type_modules and alias.asname:
                    self.error_type_modules.add(alias.asname)
        for node in index.of(ast.ImportFrom):
            if not node.module:
                continue
            for alias in node.names:
                local = alias.asname or alias.name
                self.module_names.add(local)
                if node.module == facts.sdk_module and alias.name == facts.sdk_class:
                    self.sdk_classes.add(local)
                if node.module == facts.sdk_module and alias.name == facts.entry_runner:
                    self.runners.add(local)
                if node.module in facts.error_type_modules and alias.name == facts.error_type_class:
                    self.error_type_names.add(local)
                if f"{node.module}.{alias.name}" in facts.error_type_modules:
                    self.error_type_modules.add(local)
            if node.module == facts.sdk_module and entry:
                self.sdk_imports.append(node)
        self.sdk_imports.sort(key=lambda n: (n.lineno, n.col_offset))
        for cls_node in index.of(ast.ClassDef):
            self.classes[cls_node.name] = cls_node
            table = self.methods.setdefault(cls_node.name, {})
            for item in cls_node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    table[item.name] = FunctionInfo(item, cls_node.name)
        owned = {id(info.node) for table in self.methods.values() for info in table.values()}
        functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = [
            *index.of(ast.FunctionDef),
            *index.of(ast.AsyncFunctionDef),
        ]
        functions.sort(key=_COLUMN_LINE)  # outermost first, then in order
        for function in functions:
            if id(function) not in owned:
                self.functions.setdefault(function.name, []).append(FunctionInfo(function, None))

    def _follow_aliases(self, indexes: list[NodeIndex]) -> None:
        assignments: list[tuple[list[ast.expr], ast.expr]] = []
        calls: list[ast.Call] = []
        returns: list[tuple[str, ast.expr]] = []
        # Only calls of this file's functions and classes can bind an SDK to a parameter.
        local_names = set(self.functions) | set(self.classes)
        local_names |= {m for table in self.methods.values() for m in table}
        local_names |= {f for table in self.module_functions.values() for f in table}
        for index in indexes:
            for assign in index.of(ast.Assign):
                assignments.append((assign.targets, assign.value))
            for annotated in index.of(ast.AnnAssign):
                if annotated.value is not None:
                    assignments.append(([annotated.target], annotated.value))
            for named in index.of(ast.NamedExpr):
                assignments.append(([named.target], named.value))
            with_nodes: list[ast.With | ast.AsyncWith] = [
                *index.of(ast.With),
                *index.of(ast.AsyncWith),
            ]
            for with_node in with_nodes:
                for item in with_node.items:
                    if item.optional_vars is not None:
                        assignments.append(([item.optional_vars], item.context_expr))
            # A call binds an SDK to a parameter only through an argument that can be an SDK.
            calls += [
                c
                for c in index.calls_named(local_names)
                if any(a.__class__ in _MAYBE_SDK for a in c.args)
                or any(k.value.__class__ in _MAYBE_SDK for k in c.keywords)
            ]
            for _, entry in runner_calls(self, index):
                if entry.params():
                    # run(main) calls main(sdk) with the SDK it builds.
                    self.sdk_vars.add(entry.params()[0])
            returns += [
                (fn.name, ret.value)
                for fn, ret in index.returns
                if ret.value is not None and ret.value.__class__ in _MAYBE_SDK
            ]
        for targets, value in assignments:
            if isinstance(value, ast.Call):
                class_name = self.class_of_call(value)
                if class_name is not None:
                    for target in targets:
                        name = terminal_name(target)
                        if name is not None:
                            self.instances[name] = class_name
        # Only a call, a name or an attribute can be an SDK (`is_sdk`): the fixed point below
        # looks at nothing else.
        assignments = [a for a in assignments if a[1].__class__ in _MAYBE_SDK]
        changed = True
        while changed:
            changed = False
            for name, value in returns:
                if name not in self.sdk_factories and self.is_sdk(value):
                    self.sdk_factories.add(name)
                    changed = True
            for targets, value in assignments:
                if not self.is_sdk(value):
                    continue
                for target in targets:
                    changed |= self._mark(target)
            for call in calls:
                changed |= self._bind_arguments(call)

    def _mark(self, target: ast.expr) -> bool:
        if isinstance(target, ast.Name) and target.id not in self.sdk_vars:
            self.sdk_vars.add(target.id)
            return True
        if isinstance(target, ast.Attribute) and target.attr not in self.sdk_attrs:
            self.sdk_attrs.add(target.attr)
            return True
        return False

    def _bind_arguments(self, call: ast.Call) -> bool:
        """An SDK passed to a function or class of this file makes the parameter an SDK."""
        targets = self.resolve_call(call)
        changed = False
        for info in targets:
            params = info.params()
            for index, arg in enumerate(call.args):
                if isinstance(arg, ast.Starred):
                    break
                if index < len(params) and self.is_sdk(arg) and params[index] not in self.sdk_vars:
                    self.sdk_vars.add(params[index])
                    changed = True
            for keyword in call.keywords:
                if (
                    keyword.arg is not None
                    and keyword.arg in info.keyword_params()
                    and self.is_sdk(keyword.value)
                    and keyword.arg not in self.sdk_vars
                ):
                    self.sdk_vars.add(keyword.arg)
                    changed = True
        return changed

    # -- queries --------------------------------------------------------------------------------

    def is_sdk_construct(self, node: ast.AST) -> bool:
        """A call that creates the SDK: `TrainerSDK()`, `S()`, `trainer_sdk.TrainerSDK()`."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in self.sdk_classes
        if isinstance(func, ast.Attribute) and func.attr == self.facts.sdk_class:
            return isinstance(func.value, ast.Name) and func.value.id in self.sdk_modules
        return False

    def runner_entry(self, call: ast.Call) -> FunctionInfo | None:
        """For `run(main)` (the SDK's entry helper), the function of this file it runs."""
        func = call.func
        is_runner = (isinstance(func, ast.Name) and func.id in self.runners) or (
            isinstance(func, ast.Attribute)
            and func.attr == self.facts.entry_runner
            and isinstance(func.value, ast.Name)
            and func.value.id in self.sdk_modules
        )
        if not is_runner or not call.args or not isinstance(call.args[0], ast.Name):
            return None
        return self.function(call.args[0].id)

    def runner_builds_sdk(self, call: ast.Call) -> bool:
        """`run(main)` where `main` takes the SDK as its parameter: run constructs it."""
        entry = self.runner_entry(call)
        return entry is not None and bool(entry.params())

    def is_sdk(self, node: ast.AST) -> bool:
        """An expression whose value is an SDK object (as far as names tell)."""
        # One class test per kind (this is asked of every receiver and assigned value).
        kind = node.__class__
        if kind is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            return name in self.sdk_vars and name not in self.module_names
        if kind is ast.Attribute:
            return node.attr in self.sdk_attrs  # type: ignore[attr-defined]
        if kind is ast.Call:
            call: ast.Call = node  # type: ignore[assignment]
            return self.is_sdk_construct(call) or terminal_name(call.func) in self.sdk_factories
        return False

    def is_sdk_receiver(self, node: ast.AST) -> bool:
        """`is_sdk`, plus the conventional names `sdk`, `_sdk`, `*_sdk` for SDKs from elsewhere."""
        if isinstance(node, ast.Name):  # the commonest receiver (`sdk`, `model`, `optimizer`)
            local = node.id
            return local not in self.module_names and (local in self.sdk_vars or _sdk_named(local))
        if self.is_sdk(node):
            return True
        name = terminal_name(node)
        return name is not None and name not in self.module_names and _sdk_named(name)

    def sdk_method(self, call: ast.Call) -> str | None:
        """The method name of a call on an SDK object (`sdk.report_progress(...)`), else None."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        receiver = func.value
        if receiver.__class__ is ast.Name and receiver.id in self.module_names:
            return None  # `torch.save(...)`, `os.getenv(...)`: an import is never an SDK object
        return func.attr if self.is_sdk_receiver(receiver) else None

    def is_error_type(self, node: ast.AST) -> bool:
        """`ErrorType` (any alias) or `module.ErrorType`."""
        if isinstance(node, ast.Name):
            return node.id in self.error_type_names
        if isinstance(node, ast.Attribute) and node.attr == self.facts.error_type_class:
            return isinstance(node.value, ast.Name) and (
                node.value.id in self.error_type_modules or node.value.id in self.sdk_modules
            )
        return False

    def class_of_call(self, call: ast.Call) -> str | None:
        """The class of this file a call instantiates, if any."""
        if isinstance(call.func, ast.Name) and call.func.id in self.classes:
            return call.func.id
        return None

    def function(self, name: str) -> FunctionInfo | None:
        """A module-level function of that name (or the only nested one)."""
        candidates = self.functions.get(name)
        if not candidates:
            return None
        return candidates[0]

    def resolve_call(self, call: ast.Call, current_class: str | None = None) -> list[FunctionInfo]:
        """Functions of this file a call runs: a function, a method, or a class's `__init__`."""
        func = call.func
        if isinstance(func, ast.Name):
            if func.id in self.classes:
                init = self.methods.get(func.id, {}).get("__init__")
                return [init] if init is not None else []
            info = self.function(func.id)
            return [info] if info is not None else []
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if self.is_sdk_receiver(receiver):
                return []
            owner: str | None = None
            if isinstance(receiver, ast.Name) and receiver.id in self.module_functions:
                found = self.module_functions[receiver.id].get(func.attr)  # `engine.train(...)`
                return [found] if found is not None else []
            if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
                owner = current_class
            elif isinstance(receiver, ast.Name) and receiver.id in self.classes:
                owner = receiver.id
            elif isinstance(receiver, ast.Call):
                owner = self.class_of_call(receiver)  # `Job().run()`
            else:
                name = terminal_name(receiver)
                if name is not None:
                    owner = self.instances.get(name)
            if owner is not None:
                method = self._method(owner, func.attr)
                return [method] if method is not None else []
        return []

    def _method(self, owner: str, name: str) -> FunctionInfo | None:
        """A method looked up on the class and its same-file bases."""
        seen: set[str] = set()
        queue = [owner]
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            found = self.methods.get(current, {}).get(name)
            if found is not None:
                return found
            queue.extend(b for b in (terminal_name(b) for b in self.classes[current].bases) if b)
        return None

    def hook_methods(self, class_name: str) -> list[FunctionInfo]:
        """Methods of a class (and its same-file bases) that frameworks call as hooks."""
        found: dict[str, FunctionInfo] = {}
        seen: set[str] = set()
        queue = [class_name]
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.classes:
                continue
            seen.add(current)
            for name, info in self.methods.get(current, {}).items():
                if self.facts.hook_kind(name) is not None:
                    found.setdefault(name, info)
            queue.extend(b for b in (terminal_name(b) for b in self.classes[current].bases) if b)
        return list(found.values())


def runner_calls(symbols: Symbols, index: NodeIndex) -> list[tuple[ast.Call, FunctionInfo]]:
    """The `run(main)` calls (the SDK's entry helper) of one file, each with the function it
    runs, breadth-first. Only a call named like the helper can be one: `run(...)` under its
    imported name, or `trainer_sdk.run(...)`."""
    names = set(symbols.runners)
    if symbols.sdk_modules:
        names.add(symbols.facts.entry_runner)
    found = []
    for call in index.calls_named(names):
        entry = symbols.runner_entry(call)
        if entry is not None:
            found.append((call, entry))
    return found
