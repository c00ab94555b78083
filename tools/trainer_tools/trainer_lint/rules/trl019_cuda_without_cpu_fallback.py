"""TRL019 cuda-without-cpu-fallback.

How it is checked: the first literal CUDA device (`'cuda'`, `'cuda:0'`, an f-string starting with
`cuda:`) or `.cuda()` call, in a file that has no CPU path: no `'cpu'` literal and no GPU check
such as `torch.cuda.is_available()` or `torch.cuda.device_count()`. One finding per file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from trainer_tools.trainer_lint.analysis import Analysis
from trainer_tools.trainer_lint.finding import Finding

CODE = "TRL019"


def _is_cuda_text(text: str, prefix: str) -> bool:
    return text == prefix or text.startswith(prefix + ":")


def check(analysis: Analysis) -> Iterator[Finding]:
    """Report a hard-coded GPU in a file that cannot run on CPU."""
    facts = analysis.facts
    prefix, cpu = facts.gpu_device_prefix, facts.cpu_device
    uses: list[ast.AST] = []
    text = analysis.strings_text  # no string holds `cpu` or `cuda` when this does not
    for constant, value in analysis.strings if cpu in text or prefix in text else ():
        if value == cpu or value.startswith(cpu + ":"):
            return
        if _is_cuda_text(value, prefix):
            uses.append(constant)
    if any(a.attr in facts.gpu_availability_checks for a in analysis.of(ast.Attribute)):
        return
    for call in analysis.index.calls_named([prefix]):
        if isinstance(call.func, ast.Attribute):  # `.cuda()`, not a function named cuda
            uses.append(call)
    if not uses:
        return
    first = min(uses, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    yield analysis.finding(
        CODE,
        first,
        f"CUDA device hard-coded with no CPU path: take the device from the configuration "
        f"(`config['device']`) or fall back to '{cpu}' when torch.cuda.is_available() is false",
    )
