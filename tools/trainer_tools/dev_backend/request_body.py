"""Reading and parsing a callback body defensively: bounded while reading, strict JSON.

Whatever a client sends, the reference backend answers 4xx with a problem document, never 500,
and never holds more than `MAX_BODY_BYTES` of one body in memory:

- a `Content-Length` above the limit is refused before a byte of the body is read (a client
  claiming 400 MB and sending nothing gets its answer at once); a chunked body is counted while
  it arrives and refused as soon as it passes the limit;
- the JSON must be what every other JSON parser accepts too: no `NaN` / `Infinity` literals, no
  number beyond a double (`1e400` would become infinity), no lone surrogate (`"\\ud800"`, which
  no UTF-8 store can hold), no integer of more than 4,300 digits (Python's own limit) and no
  nesting deeper than `MAX_DEPTH` levels.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from starlette.requests import Request

from trainer_contract.callbacks import MAX_NESTING_DEPTH

__all__ = ["MAX_BODY_BYTES", "MAX_DEPTH", "BodyTooLarge", "parse_strict_json", "read_bounded"]

MAX_BODY_BYTES = 8 * 1024 * 1024
# The contract's nesting limit (callbacks/api.json x-api.max_nesting_depth), which the SDK enforces
# before sending: validating, storing and re-encoding a body never approach the recursion limit.
MAX_DEPTH = MAX_NESTING_DEPTH
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(Exception):
    """The body is (or claims to be) larger than allowed; `size` is what was seen or claimed."""

    def __init__(self, size: int, claimed: bool) -> None:
        super().__init__(size)
        self.size = size
        self.claimed = claimed


async def read_bounded(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, read chunk by chunk; `BodyTooLarge` as soon as it passes `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit():
        # A declared length has at most a few digits in any honest request; don't int() a huge one.
        claimed = int(declared) if len(declared) <= 18 else limit + 1
        if claimed > limit:
            raise BodyTooLarge(claimed, claimed=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(size, claimed=False)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON (send null, or a finite number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(
            f"the number {shown} is beyond the range of a double (it would be infinite)"
        )
    return value


def _check_tree(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings (or keys) with lone surrogates.

    Iterative: a body is data from the network and must not decide how deep this code recurses.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValueError(
                    f"the string at {path} holds a lone UTF-16 surrogate (an escape such as "
                    "\\ud800 without its pair), which is not Unicode text; encode such text "
                    "with replacement characters"
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"the body is nested deeper than {MAX_DEPTH} levels (at {path})")
        if isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    raise ValueError(
                        f"a key at {path} holds a lone UTF-16 surrogate (an escape such as "
                        "\\ud800 without its pair), which is not Unicode text"
                    )
                stack.append((child, depth + 1, f"{path}.{key[:40]}"))
        else:
            stack.extend((child, depth + 1, f"{path}[{i}]") for i, child in enumerate(item))


def parse_strict_json(raw: bytes) -> Any:
    """Parse `raw` as strict JSON; `ValueError` with the reason when it is not."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    _check_tree(value)
    return value
