"""Every node of a tree, walked once and bucketed by type, for the rules to share.

A lint run asks about the tree some twenty times (symbols, each rule); walking it once and handing
out per-type lists keeps the cost above parsing small. The walk also records the function each
`return` belongs to, which factories and exit codes need.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["FIELDS", "N", "NodeIndex", "child_nodes", "node_fields"]

N = TypeVar("N", bound=ast.AST)
Function = ast.FunctionDef | ast.AsyncFunctionDef


# Fields that never hold a node (names, numbers, flags; `ctx` holds the shared Load/Store/Del
# singletons no rule asks about): skipped by the walk without a getattr. `op` and `ops` hold the
# operator singletons (`Add`, `Eq`, ...), a tenth of a file's nodes: no rule asks for them by
# type (a rule that cares reads `compare.ops` itself), so the walk leaves them out too.
_NOT_NODES = frozenset(
    {"id", "ctx", "attr", "kind", "type_comment", "module", "level", "asname", "name", "arg"}
    | {"conversion", "is_async", "simple", "tag", "kwd_attrs", "op", "ops"}
)
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}
FIELDS = _NODE_FIELDS
"""`node_fields`' cache, for hot loops: `FIELDS.get(kind)` costs no call (None: not cached yet)."""
_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})
# Nodes whose scope the walk records as it goes: returns (for `returns`) and except handlers
# (for `scope_of`, which the rules ask of handlers only).
_TRACKED = frozenset({ast.Return, ast.ExceptHandler})


def node_fields(kind: type) -> tuple[str, ...]:
    """The fields of an AST class that can hold nodes, in field order (cached per class)."""
    fields = _NODE_FIELDS.get(kind)
    if fields is None:
        fields = tuple(
            name
            for name in getattr(kind, "_fields", ())
            if name not in _NOT_NODES
            and not (kind is ast.Constant and name == "value")
            and not (kind in (ast.Global, ast.Nonlocal) and name == "names")
        )
        _NODE_FIELDS[kind] = fields
    return fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The direct children of `node` as `ast.iter_child_nodes` yields them, less the expression
    contexts and operator singletons (`Load`, `Add`: nothing a rule looks for), as a list (no
    generator per field: the lifecycle trace and the local walks call this per node)."""
    out: list[ast.AST] = []
    node_type = ast.AST
    kind = node.__class__
    fields = _NODE_FIELDS.get(kind)
    for name in node_fields(kind) if fields is None else fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            out += [item for item in value if isinstance(item, node_type)]
        elif isinstance(value, node_type):
            out.append(value)
    return out


class NodeIndex:
    """The nodes of a tree in breadth-first order (parents before children), by type; the
    operator singletons (`Add`, `Eq`) are left out."""

    def __init__(self, tree: ast.AST) -> None:
        nodes: list[ast.AST] = [tree]
        owners: list[ast.AST | None] = [None]
        # Import and ImportFrom share one bucket during the walk (split below), so the module
        # search gets the import statements in walk order without a pass over every node.
        imports: list[ast.Import | ast.ImportFrom] = []
        by_type: dict[type, list[ast.AST]] = {
            ast.Import: imports,  # type: ignore[dict-item]
            ast.ImportFrom: imports,  # type: ignore[dict-item]
        }
        returns: list[tuple[Function, ast.Return]] = []
        handler_scopes: dict[int, ast.AST | None] = {}
        tracked = _TRACKED
        # The loop is the linter's hottest code: locals instead of globals, only the fields that
        # can hold nodes (`ctx`, the shared Load/Store/Del singletons no rule asks about, is not
        # one), leaves (names, constants, operators) skipped after bucketing, and the lists
        # iterated while they grow (breadth-first without index arithmetic).
        node_type = ast.AST
        return_type = ast.Return
        functions = (ast.FunctionDef, ast.AsyncFunctionDef)
        scopes = _SCOPES
        append, owner_append = nodes.append, owners.append
        field_cache = _NODE_FIELDS
        for node, owner in zip(nodes, owners, strict=False):
            kind = node.__class__
            try:
                by_type[kind].append(node)
            except KeyError:
                by_type[kind] = [node]
            fields = field_cache.get(kind)
            if fields is None:
                fields = node_fields(kind)
            if not fields:
                continue
            if kind in tracked:
                if kind is return_type:
                    if owner.__class__ in functions:
                        returns.append((owner, node))  # type: ignore[arg-type]
                else:
                    handler_scopes[id(node)] = owner
            inner = node if kind in scopes else owner
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    for item in value:
                        if isinstance(item, node_type):
                            append(item)
                            owner_append(inner)
                elif isinstance(value, node_type):
                    append(value)
                    owner_append(inner)
        self.imports = imports
        """The `import` and `from ... import` statements, breadth-first."""
        del by_type[ast.Import], by_type[ast.ImportFrom]
        for import_kind in (ast.Import, ast.ImportFrom):
            of_kind: list[ast.AST] = [n for n in imports if n.__class__ is import_kind]
            if of_kind:
                by_type[import_kind] = of_kind
        self.nodes = nodes
        self._owners = owners
        self._scopes: dict[int, ast.AST | None] | None = None
        self._handler_scopes = handler_scopes
        self._calls_by_name: dict[str | None, list[ast.Call]] | None = None
        self.returns = returns
        """(function, return statement) for every `return` directly in a function's body."""
        self._by_type = by_type

    def of(self, kind: type[N]) -> list[N]:
        """Nodes of exactly this type (ast classes are not subclassed), breadth-first."""
        return self._by_type.get(kind, [])  # type: ignore[return-value]

    def calls_named(self, names: Iterable[str]) -> list[ast.Call]:
        """The calls whose callee's last name (`exit` of `sys.exit(...)`, `f` of `f(...)`) is one
        of `names`, breadth-first: a rule about a few functions tests a handful of calls, not
        every call of the file (the table is made once, on the first question)."""
        table = self._calls_by_name
        if table is None:
            table = self._calls_by_name = _calls_by_name(self.of(ast.Call))
        found = [table[name] for name in names if name in table]
        if len(found) <= 1:
            return list(found[0]) if found else []
        wanted = {id(call) for calls in found for call in calls}
        return [call for call in self.of(ast.Call) if id(call) in wanted]

    def scope_of(self, node: ast.AST) -> ast.AST | None:
        """The innermost function, lambda or class whose body holds `node` (None at module
        level or for a node not in this tree): the one whose local walk (`iter_local_nodes`)
        reaches it."""
        if node.__class__ is ast.ExceptHandler:
            return self._handler_scopes.get(id(node))
        if self._scopes is None:
            self._scopes = dict(zip(map(id, self.nodes), self._owners, strict=True))
        return self._scopes.get(id(node))

    def returns_of(self, function: ast.AST) -> list[ast.Return]:
        """The `return` statements of one function (not of functions nested in it)."""
        return [ret for owner, ret in self.returns if owner is function]


def _calls_by_name(calls: list[ast.Call]) -> dict[str | None, list[ast.Call]]:
    """Calls by their callee's last name (None when the callee is no name or attribute)."""
    table: dict[str | None, list[ast.Call]] = {}
    name_type, attribute_type = ast.Name, ast.Attribute
    for call in calls:
        func = call.func
        kind = func.__class__
        if kind is name_type:
            name: str | None = func.id  # type: ignore[attr-defined]
        elif kind is attribute_type:
            name = func.attr  # type: ignore[attr-defined]
        else:
            name = None
        bucket = table.get(name)  # not try/except: most names are new, and raising costs
        if bucket is None:
            table[name] = [call]
        else:
            bucket.append(call)
    return table
