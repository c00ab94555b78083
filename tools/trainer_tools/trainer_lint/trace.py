"""The lifecycle events of a trainer in the order its entry point would run them.

The walk starts at the module body (so the `if __name__ == "__main__":` block is the entry), runs
statements in source order and steps into functions, methods and `__init__`s of the same file (and
of the trainer's own modules next to it, see `modules`) when they are called, keeping the stack of enclosing `try` parts and loops. Framework hooks (a function
given to `add_callback("on_fit_epoch_end", fn)`, a hook keyword such as `on_epoch_end=fn`, or the
`on_train_epoch_end`/`after_train_epoch`/... methods of a callback class that is instantiated)
run during training, so their bodies are walked as if called from the first training call, inside
the same `try` parts. Both branches of an `if` are walked: the analysis asks "is there a path that
does X", and a trainer's branches are configuration, not control flow the linter can decide.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, cast

from trainer_tools.trainer_lint.contract import ContractFacts, per_facts
from trainer_tools.trainer_lint.node_index import FIELDS, child_nodes, node_fields
from trainer_tools.trainer_lint.symbols import (
    FunctionInfo,
    Symbols,
    dotted_name,
    iter_local_nodes,
    terminal_name,
)

__all__ = ["Event", "Frame", "Trace", "TryInfo", "build_trace", "is_broad_handler"]

FrameKind = Literal["try", "handler", "else", "finally", "loop", "with", "runner"]
EventKind = Literal["construct", "call", "training", "raise", "exit"]

# Deep enough for any real trainer's helper chain; bounds the walk on pathological files.
_MAX_DEPTH = 40
# Expression kinds the walk looks inside: every kind the parser makes, but names and constants
# (nothing inside) and lambdas (their body runs when called, not here).
_INNER_EXPRS = frozenset(ast.expr.__subclasses__()) - {ast.Name, ast.Constant, ast.Lambda}
# Each function is walked at most this many times (once per call site on the path): a helper
# that calls two helpers that call two helpers... would otherwise cost 2**depth walks.
_MAX_ENTRIES_PER_FUNCTION = 24


@dataclass(frozen=True)
class Frame:
    """One enclosing construct on the walked path."""

    kind: FrameKind
    node: ast.AST
    epoch: bool = False
    """For loops: the loop runs once per epoch."""


@dataclass(frozen=True)
class Event:
    """Something lifecycle-relevant the program does, with where it happens."""

    seq: int
    kind: EventKind
    node: ast.AST
    method: str | None
    frames: tuple[Frame, ...]
    hook: str | None
    """None on the main path; `epoch`, `start`, `end` or `callback` inside a framework hook."""

    def within(self, kind: FrameKind, node: ast.AST | None = None) -> bool:
        """Inside a frame of that kind (and that node, when given)."""
        return any(f.kind == kind and (node is None or f.node is node) for f in self.frames)

    @property
    def in_loop(self) -> bool:
        """Inside any loop."""
        return self.within("loop")

    @property
    def in_epoch_loop(self) -> bool:
        """Inside a loop that runs once per epoch."""
        return any(f.kind == "loop" and f.epoch for f in self.frames)

    @property
    def on_failure_path(self) -> bool:
        """Inside an except handler or a finally clause."""
        return self.within("handler") or self.within("finally")


@dataclass
class TryInfo:
    """A `try` statement the walk entered, and whether its body is training work."""

    node: ast.Try | ast.TryStar
    frames: tuple[Frame, ...]
    hook: str | None
    covers_training: bool = False


@dataclass
class Trace:
    """The events in walk order, the `try` statements met, and how the SDK is closed."""

    events: list[Event] = field(default_factory=list)
    tries: list[TryInfo] = field(default_factory=list)
    with_managed: set[int] = field(default_factory=set)
    """ids of SDK-constructing calls used as a `with` context manager (closed on exit)."""
    runner_calls: set[int] = field(default_factory=set)
    """ids of `run(main)` calls met on the walk."""

    def of(self, kind: EventKind, method: str | None = None) -> list[Event]:
        """Events of a kind (and SDK method)."""
        return [e for e in self.events if e.kind == kind and (method is None or e.method == method)]

    @property
    def uses_runner(self) -> bool:
        """The program runs through the SDK's `run(main)` (which reports, closes and exits)."""
        return any(e.within("runner") for e in self.events) or any(
            e.kind == "construct"
            and isinstance(e.node, ast.Call)
            and id(e.node) in self.runner_calls
            for e in self.events
        )

    def training_anchor(self) -> Event | None:
        """The first training event on the main path: where training starts."""
        return next((e for e in self.events if e.kind == "training" and e.hook is None), None)


def is_broad_handler(handler: ast.ExceptHandler) -> bool:
    """`except:`, `except Exception`, `except BaseException`, or a tuple holding one of them."""
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(terminal_name(t) in ("Exception", "BaseException") for t in types)


@dataclass
class _Pending:
    target: FunctionInfo | ast.Lambda
    kind: str
    owner: str | None
    frames: tuple[Frame, ...]


class _Walker:
    def __init__(self, symbols: Symbols, facts: ContractFacts, calls: list[ast.Call]) -> None:
        self.symbols = symbols
        self.facts = facts
        self.calls = calls
        self._paired: dict[str, frozenset[str]] = {}
        self.trace = Trace()
        self.active: list[ast.AST] = []
        self.pending: list[_Pending] = []
        self.hooked: set[int] = set()
        self.entries: dict[int, int] = {}
        self.seq = 0
        # The only names whose plain call (`name(...)`, no keywords) `call` can act on: the SDK
        # class, `run`, an exit function, an SDK factory, a callback registrar, or a function or
        # class of the file. Any other (`len(x)`, `range(n)`) is skipped with one set test.
        self.acting_names = (
            symbols.sdk_classes
            | symbols.runners
            | symbols.sdk_factories
            | symbols.functions.keys()
            | symbols.classes.keys()
            | _exit_names(facts)
            | facts.callback_registrars
        )

    # -- events ---------------------------------------------------------------------------------

    def emit(
        self,
        kind: EventKind,
        node: ast.AST,
        frames: tuple[Frame, ...],
        hook: str | None,
        method: str | None = None,
    ) -> None:
        self.seq += 1
        self.trace.events.append(Event(self.seq, kind, node, method, frames, hook))

    # -- statements -----------------------------------------------------------------------------

    def body(
        self,
        stmts: Iterable[ast.stmt],
        frames: tuple[Frame, ...],
        hook: str | None,
        cls: str | None,
    ) -> None:
        for stmt in stmts:
            self.stmt(stmt, frames, hook, cls)

    def stmt(
        self, node: ast.stmt, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        kind = node.__class__
        compound = _COMPOUND.get(kind)
        if compound is not None:
            compound(self, node, frames, hook, cls)
            return
        # A simple statement (`x = f(y)`, `return f(x)`, an expression): its expressions, in
        # field order; names and constants hold nothing to walk.
        fields = FIELDS.get(kind)
        for name in node_fields(kind) if fields is None else fields:
            value = getattr(node, name, None)
            for child in value if value.__class__ is list else (value,):
                if child.__class__ in _INNER_EXPRS:
                    self.expr(child, frames, hook, cls)

    def definition(
        self, node: ast.stmt, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        """A function runs when called, not where it is defined."""

    def class_def(
        self, node: ast.ClassDef, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        if node.decorator_list:
            # A decorated class (`@HOOKS.register_module()`) is instantiated by the framework
            # from its config, so its hook methods run without a call in this file.
            self.register_class_hooks(node.name, frames)

    def for_loop(
        self,
        node: ast.For | ast.AsyncFor,
        frames: tuple[Frame, ...],
        hook: str | None,
        cls: str | None,
    ) -> None:
        self.expr(node.iter, frames, hook, cls)
        epoch = self.is_epoch_loop(node.target, node.iter)
        if epoch and hook is None:
            self.emit("training", node, frames, hook)
        inner = (*frames, Frame("loop", node, epoch))
        self.body(node.body, inner, hook, cls)
        self.body(node.orelse, frames, hook, cls)

    def while_loop(
        self, node: ast.While, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        self.expr(node.test, frames, hook, cls)
        epoch = self.is_epoch_loop(None, node.test)
        if epoch and hook is None:
            self.emit("training", node, frames, hook)
        self.body(node.body, (*frames, Frame("loop", node, epoch)), hook, cls)
        self.body(node.orelse, frames, hook, cls)

    def try_stmt(
        self,
        node: ast.Try | ast.TryStar,
        frames: tuple[Frame, ...],
        hook: str | None,
        cls: str | None,
    ) -> None:
        info = TryInfo(node, frames, hook)
        info.covers_training = (
            hook is None and self.in_epoch_loop(frames) and self.does_work(node.body)
        )
        self.trace.tries.append(info)
        self.body(node.body, (*frames, Frame("try", node)), hook, cls)
        for handler in node.handlers:
            self.body(handler.body, (*frames, Frame("handler", handler)), hook, cls)
        self.body(node.orelse, (*frames, Frame("else", node)), hook, cls)
        self.body(node.finalbody, (*frames, Frame("finally", node)), hook, cls)

    def with_stmt(
        self,
        node: ast.With | ast.AsyncWith,
        frames: tuple[Frame, ...],
        hook: str | None,
        cls: str | None,
    ) -> None:
        for item in node.items:
            self.expr(item.context_expr, frames, hook, cls)
            self.note_context_manager(item.context_expr)
        self.body(node.body, (*frames, Frame("with", node)), hook, cls)

    def if_stmt(
        self, node: ast.If, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        self.expr(node.test, frames, hook, cls)
        self.body(node.body, frames, hook, cls)
        self.body(node.orelse, frames, hook, cls)

    def match_stmt(
        self, node: ast.Match, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        self.expr(node.subject, frames, hook, cls)
        for case in node.cases:
            self.body(case.body, frames, hook, cls)

    def raise_stmt(
        self, node: ast.Raise, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        self.expr(node.exc, frames, hook, cls)
        self.emit("raise", node, frames, hook)

    # -- expressions ----------------------------------------------------------------------------

    def expr(
        self, node: ast.expr | None, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        kind = node.__class__
        if kind not in _INNER_EXPRS:
            return  # None, a name, a constant (nothing inside), or a lambda (not run here)
        if kind is ast.Attribute:  # the commonest: `sdk.report_progress`, `self.model.fc`
            value = node.value  # type: ignore[union-attr]
            if value.__class__ in _INNER_EXPRS:
                self.expr(value, frames, hook, cls)
            return
        if kind is ast.Call:
            call = cast(ast.Call, node)  # the class test above, which mypy does not follow
            if call.func.__class__ in _INNER_EXPRS:
                self.expr(call.func, frames, hook, cls)
            for arg in call.args:
                if arg.__class__ in _INNER_EXPRS:
                    self.expr(arg, frames, hook, cls)
            for keyword in call.keywords:
                if keyword.value.__class__ in _INNER_EXPRS:
                    self.expr(keyword.value, frames, hook, cls)
            self.call(call, frames, hook, cls)
            return
        # The children in field order: expressions, the iterables and conditions of
        # comprehensions (not their targets), and keyword values.
        fields = FIELDS.get(kind)
        for name in node_fields(kind) if fields is None else fields:
            value = getattr(node, name, None)
            for child in value if value.__class__ is list else (value,):
                child_kind = child.__class__
                if child_kind in _INNER_EXPRS:
                    self.expr(child, frames, hook, cls)
                elif child_kind is ast.comprehension or child_kind is ast.keyword:
                    self.part(child, frames, hook, cls)  # type: ignore[arg-type]

    def part(
        self,
        node: ast.comprehension | ast.keyword,
        frames: tuple[Frame, ...],
        hook: str | None,
        cls: str | None,
    ) -> None:
        """A comprehension's iterable and conditions (not its target), or a keyword's value."""
        if isinstance(node, ast.comprehension):
            self.expr(node.iter, frames, hook, cls)
            for cond in node.ifs:
                self.expr(cond, frames, hook, cls)
        else:
            self.expr(node.value, frames, hook, cls)

    def call(
        self, node: ast.Call, frames: tuple[Frame, ...], hook: str | None, cls: str | None
    ) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in self.acting_names and not node.keywords:
            return
        symbols, facts = self.symbols, self.facts
        if symbols.is_sdk_construct(node):
            self.emit("construct", node, frames, hook)
            return
        entry = symbols.runner_entry(node)
        if entry is not None:
            self.trace.runner_calls.add(id(node))
            # run(main): builds the SDK for main(sdk), reports what escapes main, closes, exits.
            if entry.params():
                self.emit("construct", node, frames, hook)
            self.enter(entry, (*frames, Frame("runner", node)), hook)
            return
        method = symbols.sdk_method(node)
        if method is not None:
            self.emit("call", node, frames, hook, method)
            return
        callee = terminal_name(node.func)
        # An exit call's dotted name ends in an exit function's last name: test that first.
        if callee in _exit_names(facts) and dotted_name(node.func) in facts.exit_calls:
            self.emit("exit", node, frames, hook)
            return
        if isinstance(node.func, ast.Name) and node.func.id in symbols.sdk_factories:
            # A factory (`get_sdk()`) constructs the SDK; record it where it is called.
            self.emit("construct", node, frames, hook)
        if callee is not None and callee in facts.callback_registrars:
            event = next(
                (
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ),
                None,
            )
            kind = (facts.hook_kind(event) if event else None) or "callback"
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                self.register_hook(arg, kind, cls, frames)
        for keyword in node.keywords:
            kind_of = facts.hook_kind(keyword.arg) if keyword.arg else None
            if kind_of is not None:
                self.register_hook(keyword.value, kind_of, cls, frames)
        class_name = symbols.class_of_call(node)
        if class_name is not None:
            self.register_class_hooks(class_name, frames)
        targets = symbols.resolve_call(node, cls)
        for info in targets:
            self.enter(info, frames, hook)
        if (
            not targets
            and hook is None
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in facts.training_calls
            and not self.is_mode_switch(node.func, node)
        ):
            self.emit("training", node, frames, hook)

    def is_mode_switch(self, func: ast.Attribute, node: ast.Call) -> bool:
        """`model.train()` of PyTorch sets a module's mode and trains nothing; a framework's
        `trainer.train()` trains. Told apart by the arguments (none, or one flag: `train(False)`,
        `train(mode=True)`) and by the same object's paired call (`model.eval()`) in the file."""
        paired = self.facts.mode_switches.get(func.attr)
        if paired is None or len(node.args) + len(node.keywords) > 1:
            return False
        if node.keywords and node.keywords[0].arg != "mode":
            return False
        if node.args and not (
            isinstance(node.args[0], ast.Constant) and node.args[0].value.__class__ is bool
        ):
            return False
        if node.args or node.keywords:
            return True  # `train(False)` / `train(mode=...)`: a flag is a mode switch
        receiver = dotted_name(func.value)
        return receiver is not None and receiver in self.paired_receivers(paired)

    def paired_receivers(self, method: str) -> frozenset[str]:
        """Dotted names of the objects on which the file calls `method()` without arguments."""
        known = self._paired.get(method)
        if known is None:
            known = frozenset(
                name
                for call in self.calls
                if isinstance(call.func, ast.Attribute)
                and call.func.attr == method
                and not call.args
                and not call.keywords
                and (name := dotted_name(call.func.value)) is not None
            )
            self._paired[method] = known
        return known

    def enter(self, info: FunctionInfo, frames: tuple[Frame, ...], hook: str | None) -> None:
        if info.node in self.active or len(self.active) >= _MAX_DEPTH:
            return
        seen = self.entries.get(id(info.node), 0)
        if seen >= _MAX_ENTRIES_PER_FUNCTION:
            return
        self.entries[id(info.node)] = seen + 1
        self.active.append(info.node)
        try:
            self.body(info.node.body, frames, hook, info.owner)
        finally:
            self.active.pop()

    # -- hooks ----------------------------------------------------------------------------------

    def register_hook(
        self, node: ast.expr, kind: str, cls: str | None, frames: tuple[Frame, ...]
    ) -> None:
        target: FunctionInfo | ast.Lambda | None = None
        owner = cls
        if isinstance(node, ast.Lambda):
            target = node
        elif isinstance(node, ast.Name):
            target = self.symbols.function(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in ("self", "cls") and cls is not None:
                target = self.symbols.methods.get(cls, {}).get(node.attr)
            else:
                owner = self.symbols.instances.get(node.value.id)
                if owner is not None:
                    target = self.symbols.methods.get(owner, {}).get(node.attr)
        if target is None:
            return
        key = id(target) if isinstance(target, ast.Lambda) else id(target.node)
        if key in self.hooked:
            return
        self.hooked.add(key)
        if isinstance(target, FunctionInfo):
            owner = target.owner
        self.pending.append(_Pending(target, kind, owner, frames))

    def register_class_hooks(self, class_name: str, frames: tuple[Frame, ...]) -> None:
        for info in self.symbols.hook_methods(class_name):
            if id(info.node) in self.hooked:
                continue
            self.hooked.add(id(info.node))
            kind = self.facts.hook_kind(info.name) or "callback"
            self.pending.append(_Pending(info, kind, info.owner, frames))

    def run_hooks(self) -> None:
        anchor = self.trace.training_anchor()
        while self.pending:
            item = self.pending.pop(0)
            # Hooks run inside the training call, so the try parts around it cover them too.
            frames = anchor.frames if anchor is not None else item.frames
            if isinstance(item.target, ast.Lambda):
                self.expr(item.target.body, frames, item.kind, item.owner)
            else:
                self.enter(item.target, frames, item.kind)

    # -- classification -------------------------------------------------------------------------

    def note_context_manager(self, expr: ast.expr) -> None:
        if not isinstance(expr, ast.Call):
            return
        closing = terminal_name(expr.func) == "closing" and any(
            self.symbols.is_sdk_receiver(a) for a in expr.args
        )
        if closing or self.symbols.is_sdk(expr):
            self.trace.with_managed.add(id(expr))

    @staticmethod
    def is_epoch_loop(target: ast.expr | None, driver: ast.expr) -> bool:
        # Every node of both (as ast.walk gives them; the order does not matter for "any").
        stack: list[ast.AST] = [driver] if target is None else [target, driver]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if "epoch" in node.id.lower():
                    return True
            elif isinstance(node, ast.Attribute) and "epoch" in node.attr.lower():
                return True
            stack += child_nodes(node)
        return False

    @staticmethod
    def in_epoch_loop(frames: tuple[Frame, ...]) -> bool:
        return any(f.kind == "loop" and f.epoch for f in frames)

    def does_work(self, stmts: list[ast.stmt]) -> bool:
        """Any call that is not an SDK report or logging: the body does training work."""
        for node in iter_local_nodes(stmts):
            if not isinstance(node, ast.Call):
                continue
            if self.symbols.sdk_method(node) is not None:
                continue
            name = dotted_name(node.func) or ""
            head = name.split(".")[0]
            if name == "print" or head in ("logger", "logging", "log", "LOGGER"):
                continue
            return True
        return False


# Statements with a body or other special handling in the walk, by class; the rest are walked
# for their expressions alone.
_COMPOUND: dict[type, Callable[..., None]] = {
    ast.FunctionDef: _Walker.definition,
    ast.AsyncFunctionDef: _Walker.definition,
    ast.ClassDef: _Walker.class_def,
    ast.For: _Walker.for_loop,
    ast.AsyncFor: _Walker.for_loop,
    ast.While: _Walker.while_loop,
    ast.Try: _Walker.try_stmt,
    ast.TryStar: _Walker.try_stmt,
    ast.With: _Walker.with_stmt,
    ast.AsyncWith: _Walker.with_stmt,
    ast.If: _Walker.if_stmt,
    ast.Match: _Walker.match_stmt,
    ast.Raise: _Walker.raise_stmt,
}


@per_facts
def _exit_names(facts: ContractFacts) -> frozenset[str]:
    """The last name of every exit function (`exit` of `sys.exit`)."""
    return frozenset(name.rpartition(".")[2] for name in facts.exit_calls)


def _roots(symbols: Symbols, tree: ast.Module, calls: list[ast.Call]) -> Iterator[FunctionInfo]:
    """Module-level functions no other code calls, in source order (a fallback entry point)."""
    called = {terminal_name(n.func) for n in calls}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name not in called:
            info = symbols.function(stmt.name)
            if info is not None:
                yield info


def build_trace(
    tree: ast.Module, symbols: Symbols, facts: ContractFacts, calls: list[ast.Call]
) -> Trace:
    """Walk the module from its entry point; see the module docstring."""
    walker = _Walker(symbols, facts, calls)
    walker.body(tree.body, (), None, None)
    if not walker.trace.of("construct"):
        # No entry point reaches the SDK (a library-style file, or a main() nobody calls):
        # walk the functions nothing calls, so the lifecycle is still checked.
        walker.trace = Trace()
        walker.pending.clear()
        walker.hooked.clear()
        for info in _roots(symbols, tree, calls):
            walker.enter(info, (), None)
    walker.run_hooks()
    anchor_frames = {
        id(f.node)
        for e in walker.trace.events
        if e.kind == "training" and e.hook is None
        for f in e.frames
    }
    for try_info in walker.trace.tries:
        if id(try_info.node) in anchor_frames:
            try_info.covers_training = True
    return walker.trace
