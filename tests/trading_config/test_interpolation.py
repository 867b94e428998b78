"""``${VAR}`` expansion rules."""

from __future__ import annotations

import pytest

from trading_config.interpolation import InterpolationError, interpolate


@pytest.mark.parametrize(
    ("text", "env", "expected", "used"),
    [
        ("plain", {}, "plain", []),
        ("${A}", {"A": "1"}, "1", ["A"]),
        ("${A:-fallback}", {}, "fallback", ["A"]),
        ("${A:-fallback}", {"A": ""}, "", ["A"]),
        ("${A:-}", {}, "", ["A"]),
        ("x-${A}-${B:-b}", {"A": "a"}, "x-a-b", ["A", "B"]),
        ("$${A}", {"A": "1"}, "${A}", []),
        ("cost $5", {}, "cost $5", []),
    ],
)
def test_expands(text: str, env: dict[str, str], expected: str, used: list[str]) -> None:
    assert interpolate(text, env) == (expected, used)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "${MISSING}",
            "environment variable MISSING is not set (set it, or write ${MISSING:-default})",
        ),
        ("${1BAD}", "invalid variable reference '${1BAD}': expected ${NAME} or ${NAME:-default}"),
        ("${A", "unterminated '${' in '${A': expected ${VAR}"),
    ],
)
def test_rejects(text: str, message: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(text, {})
    assert str(caught.value) == message
