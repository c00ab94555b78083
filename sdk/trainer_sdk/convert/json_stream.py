"""Reading a large JSON object member by member, its big arrays a batch of elements at a time.

`JsonObjectStream` walks a document whose top level is an object. A member whose name is in
`stream_keys` and whose value is an array is handed out as batches of elements
(`ArrayMember.batches()`); every other member is decoded whole (`ValueMember.value`). Memory stays
at one buffer of text (`CHUNK` characters and the element being read) plus one batch of objects,
whatever the size of the file.

The decoding is the standard library's C scanner (`json.JSONDecoder`), so every value is parsed
exactly as `json.loads` would (NaN and Infinity included: `non_finite` tells whether the file
spelled them). Elements are decoded many at a time: the buffer is cut after the last `},` that
is followed by the same first keys as the array's first element (`{"id": 7, "file_name"`), and
the slice is parsed as one array. A wrong guess (a cut inside a string or a nested object) cannot
parse, and that slice is then read one element at a time, so the result never depends on the
guess; the guess only makes it fast (one C call per ~1 MB instead of one per element).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["CHUNK", "ArrayMember", "JsonObjectStream", "JsonStreamError", "ValueMember"]

CHUNK = 1 << 20
"""Characters read at a time."""
MAX_ELEMENT = 256 << 20
"""An element longer than this (in characters) is refused instead of growing the buffer."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]+\Z")


class JsonStreamError(ValueError):
    """The text is not valid JSON (or not an object at the top); `.position` is the character
    offset in the file where the problem was found."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position}")
        self.position = position


@dataclass
class ValueMember:
    """A member decoded whole."""

    key: str
    value: Any


class ArrayMember:
    """A member whose array is read in batches; consume `batches()` before the next member (the
    stream skips what is left otherwise)."""

    def __init__(self, key: str, stream: JsonObjectStream) -> None:
        self.key = key
        self._stream = stream
        self._done = False

    def batches(self) -> Iterator[tuple[int, list[Any]]]:
        """(index of the first element, elements) in file order."""
        if self._done:
            return
        self._done = True
        yield from self._stream._array_batches()

    def skip(self) -> None:
        """Read past the rest of the array."""
        for _ in self.batches():
            pass


Member = ValueMember | ArrayMember


class JsonObjectStream:
    """The members of the top-level object of `handle` (a binary file), in file order."""

    def __init__(self, handle: IO[bytes], stream_keys: frozenset[str]) -> None:
        self._handle = handle
        self._stream_keys = stream_keys
        self.non_finite = False
        self._decoder = json.JSONDecoder(parse_constant=self._constant)
        self._scan = self._decoder.scan_once  # type: ignore[attr-defined]
        self._buf = ""
        self._pos = 0
        self._base = 0  # file offset (characters) of _buf[0]
        self._eof = False
        self._incremental: codecs.IncrementalDecoder | None = None

    def _constant(self, token: str) -> float:
        self.non_finite = True
        return float(token)

    # --- the buffer -------------------------------------------------------------------------

    def _fill(self, want: int = CHUNK) -> bool:
        """Append at least one more chunk; False at the end of the file."""
        if self._eof:
            return False
        raw = self._handle.read(max(want, CHUNK))
        if self._incremental is None:
            # As json.loads does for bytes: UTF-8 (a BOM allowed), UTF-16 or UTF-32.
            encoding = json.detect_encoding(raw[:4]) if raw else "utf-8"
            self._incremental = codecs.getincrementaldecoder(encoding)("strict")
        try:
            text = self._incremental.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            raise JsonStreamError(f"bytes that are not text ({error.reason})", self._base) from None
        if not raw:
            self._eof = True
        if self._pos > len(self._buf) // 2:
            self._base += self._pos
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += text
        return bool(raw) or bool(text)

    def _peek(self) -> str:
        """The next character that is not whitespace ('' at the end)."""
        while True:
            self._pos = _WHITESPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def _expect(self, chars: str, what: str) -> str:
        char = self._peek()
        if not char or char not in chars:
            found = f"{char!r}" if char else "the end of the file"
            raise JsonStreamError(f"expected {what}, found {found}", self._base + self._pos)
        self._pos += 1
        return char

    def _value(self) -> Any:
        """Decode the value at the cursor, reading more until it is complete."""
        self._peek()
        while True:
            error: JsonStreamError | None
            try:
                value, end = self._scan(self._buf, self._pos)
            except StopIteration:
                error = JsonStreamError("expected a value", self._base + self._pos)
            except json.JSONDecodeError as decode_error:
                error = JsonStreamError(decode_error.msg, self._base + decode_error.pos)
            else:
                # A number that ends exactly at the end of the buffer may go on in the next chunk.
                if end < len(self._buf) or self._eof:
                    self._pos = end
                    return value
                error = None
            if len(self._buf) - self._pos > MAX_ELEMENT:
                raise JsonStreamError(
                    f"a value longer than {MAX_ELEMENT >> 20} M characters", self._base + self._pos
                )
            if not self._fill(len(self._buf) - self._pos):
                if error is None:  # pragma: no cover - eof is set when fill returns False
                    raise JsonStreamError("unexpected end of the file", self._base + self._pos)
                raise error

    # --- the structure ----------------------------------------------------------------------

    def members(self) -> Iterator[Member]:
        """Every member of the top-level object, in file order; checks that nothing follows."""
        self._expect("{", "an object ({) at the top")
        if self._peek() == "}":
            self._pos += 1
        else:
            while True:
                key = self._value()
                if not isinstance(key, str):
                    raise JsonStreamError("expected a member name", self._base + self._pos)
                self._expect(":", "':' after a member name")
                if key in self._stream_keys and self._peek() == "[":
                    self._pos += 1
                    member = ArrayMember(key, self)
                    yield member
                    member.skip()
                else:
                    yield ValueMember(key, self._value())
                if self._expect(",}", "',' or '}' after a member") == "}":
                    break
        if self._peek():
            raise JsonStreamError("extra data after the top-level object", self._base + self._pos)

    def _array_batches(self) -> Iterator[tuple[int, list[Any]]]:
        index = 0
        if self._peek() == "]":
            self._pos += 1
            return
        first = self._value()
        yield 0, [first]
        index = 1
        cut_pattern = self._cut_pattern(first)
        failures = 0
        while self._expect(",]", "',' or ']' between elements") == ",":
            batch = None
            if cut_pattern is not None and failures < 3:
                batch = self._try_batch(cut_pattern)
                if batch is None:
                    failures += 1
            if batch is None:
                batch = [self._value()]
            yield index, batch
            index += len(batch)

    def _cut_pattern(self, first: Any) -> re.Pattern[str] | None:
        """`},` followed by the first two keys of the array's first element, when it has them."""
        if not isinstance(first, dict) or len(first) < 2:
            return None
        keys = list(first)[:2]
        if not all(_PLAIN_KEY.match(k) for k in keys):
            return None
        a, b = (re.escape(json.dumps(k)) for k in keys)
        return re.compile(r"\}\s*,\s*(?=\{\s*" + a + r"\s*:[^,{\[]*,\s*" + b + r"\s*:)")

    def _try_batch(self, pattern: re.Pattern[str]) -> list[Any] | None:
        """Several elements from the cursor up to the last likely element end in the buffer."""
        buf = self._buf
        start = self._pos
        if len(buf) - start < CHUNK // 2 and not self._eof:
            self._fill()
            buf = self._buf
            start = self._pos
        last = None
        for match in pattern.finditer(buf, max(start, len(buf) - CHUNK)):
            last = match
        if last is None or last.start() <= start:
            return None
        end = last.start() + 1  # just after the element's closing brace
        try:
            batch = self._decoder.decode("[" + buf[start:end] + "]")
        except json.JSONDecodeError:
            return None
        if not isinstance(batch, list):  # pragma: no cover - "[...]" decodes to a list
            return None
        self._pos = end
        return batch
