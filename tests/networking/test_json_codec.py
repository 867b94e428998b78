"""networking.json_codec: exact decimals, and a depth bound that holds whatever the recursion limit.

Why: a document nested 100,000 deep made the standard parser overflow the C stack (a segfault
of the whole bot) once py_ecc had raised the recursion limit to 100000; with the normal limit it
raised ``RecursionError``, which no caller expected. Both must become one ``ValueError`` that
names the bound.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from networking.json_codec import MAX_DEPTH, JSONTooDeep, check_depth, loads
from tests.helpers import PROJECT_ROOT


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_fractions_are_decimals_and_integers_stay_ints() -> None:
    assert loads('{"px": 0.1, "id": 7}') == {"px": Decimal("0.1"), "id": 7}


@pytest.mark.parametrize(
    "document",
    [
        nested(MAX_DEPTH + 1),
        nested(100_000).encode(),
        '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
        "[{" * 200 + "}]" * 200,  # both kinds alternating
        "[[]," * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1),  # siblings between openers
        "[" * 100_000,  # never closed: the parser would still descend
        '["\\\\", ' + "[" * 300 + "1" + "]" * 300 + "]",  # an escaped backslash before
    ],
    ids=["array", "bytes", "object", "mixed", "siblings", "unclosed", "escapes"],
)
def test_too_deep_is_refused_with_a_value_error_naming_the_bound(document: str | bytes) -> None:
    with pytest.raises(JSONTooDeep, match=f"JSON nested deeper than {MAX_DEPTH} levels refused"):
        loads(document)
    assert issubclass(JSONTooDeep, ValueError)


@pytest.mark.parametrize(
    "document",
    [
        nested(MAX_DEPTH),
        '["' + "[" * 1000 + '"]',  # brackets inside a string are text
        '["a\\"[[[[", ' + "[" * 10 + "]" * 10 + "]",  # an escaped quote does not end it
        '{"b": [' + ",".join(f'["{i}.5", "1"]' for i in range(2000)) + "]}",  # a deep book
    ],
    ids=["at-the-bound", "brackets-in-string", "escaped-quote", "big-book"],
)
def test_documents_within_the_bound_parse(document: str) -> None:
    check_depth(document)
    assert loads(document) is not None


def test_the_bound_holds_when_a_library_raised_the_recursion_limit() -> None:
    """In a child process: on today's failure mode the interpreter dies with SIGSEGV."""
    code = (
        "import sys\n"
        "sys.setrecursionlimit(100000)\n"
        "from networking.json_codec import JSONTooDeep, loads\n"
        "try:\n"
        "    loads('[' * 100000 + ']' * 100000)\n"
        "except JSONTooDeep as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"JSON nested deeper than {MAX_DEPTH} levels refused"
