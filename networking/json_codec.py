"""JSON in and out of venues with money kept exact, and never nested deeper than a bound.

Venues send prices as strings (parsed by the client into ``Decimal``) or, sometimes, as
JSON numbers; a JSON number with a fraction or exponent is parsed straight into ``Decimal``
here, never through ``float``. Integers stay ``int`` (order ids, timestamps, sequences).

Depth: the standard parser recurses once per nesting level in C. A hostile (or broken)
document nested 100,000 deep either raises ``RecursionError`` or, when some library has raised
the interpreter's recursion limit (py_ecc sets 100000), overflows the C stack and kills the
process. :func:`loads` refuses anything nested deeper than :data:`MAX_DEPTH` with
:class:`JSONTooDeep` (a ``ValueError``, so callers that handle bad JSON handle it) before the
parser sees it. The check costs two ``count`` calls on ordinary messages: only a document with
more than ``MAX_DEPTH`` brackets in total is measured exactly, with string literals removed and
innermost pairs stripped once per level, all in C.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DEPTH = 256
"""Deepest nesting accepted; venue messages and control requests nest fewer than 10 levels."""

# check_depth keeps only brackets and quotes (in C: bytes.translate), all brackets as "[]".
_KEEP = b'[]{}"'
_DELETE = bytes(byte for byte in range(256) if byte not in _KEEP)
_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH` levels (refused unparsed)."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels refused")
        self.limit = limit


def check_depth(text: str | bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`JSONTooDeep` if ``text`` could make the parser nest deeper than ``limit``.

    Every step runs in C over the whole text (no per-character Python), because venue books
    with hundreds of levels take this path: ~25 us for a 12 kB, 600-array book.
    """
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= limit:
            return  # fewer openers than the limit: cannot be deeper
        data = text.encode("utf-8", "surrogatepass")
    else:
        if text.count(b"[") + text.count(b"{") <= limit:
            return
        data = text
    if b"\\" in data:  # escaped backslashes, then escaped quotes: neither delimits a string
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Brackets and quotes only. Adjacent quotes are an empty string or the gap between two
    # strings (nothing but deleted characters there), so removing them keeps the brackets
    # outside strings; quotes left enclose brackets inside strings, which are dropped.
    skeleton = data.translate(_SAME_BRACKETS, _DELETE).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[0::2])
    too_deep = b"[" * (limit + 1)
    # Each pass removes the innermost level; a balanced skeleton is empty after `depth` passes.
    for level in range(limit + 1):
        if too_deep in skeleton:
            break
        shorter = skeleton.replace(b"[]", b"")
        if shorter == skeleton:
            # What is left cannot be paired ("]]..[[" of malformed text): the parser would
            # still descend into every opener left before failing, so those count too.
            if level + skeleton.count(b"[") <= limit:
                return
            break
        skeleton = shorter
    raise JSONTooDeep(limit)


def loads(text: str | bytes) -> Any:
    """Parse ``text``; fractional numbers become ``Decimal``; too deep -> :class:`JSONTooDeep`."""
    check_depth(text)
    return json.loads(text, parse_float=Decimal)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` travels as its exact string."""
    return json.dumps(value, separators=(",", ":"), default=_default)
