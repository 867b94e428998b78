"""Money and tables as the messages show them: exact decimals, separators, pages under 4096."""

from __future__ import annotations

from decimal import Decimal

from telegram_bot_service.formatting import amount, duration, paginate, pre_pages, usd
from testing.fakes.telegram_api import parse_html


def test_usd_is_exact_with_separators() -> None:
    assert usd("1234567.885") == "1,234,567.88"  # half-even, on the Decimal, never a float
    assert usd(Decimal("0.1") + Decimal("0.2")) == "0.30"
    assert usd("-0.001") == "0.00"
    assert usd("13.2525", signed=True) == "+13.25"
    assert usd("-5", signed=True) == "-5.00"
    assert usd(None) == "-"
    assert usd(0.1) == "-"  # floats refused: they already lost the exact value
    assert usd("NaN") == "-"


def test_amounts_keep_their_digits() -> None:
    assert amount("66229.50") == "66,229.5"
    assert amount("0.00100") == "0.001"
    assert amount("1E+3") == "1,000"
    assert amount("2.50000000") == "2.5"


def test_durations() -> None:
    assert duration(45.9) == "45s"
    assert duration(750) == "12m 30s"
    assert duration(3725.0) == "1h 02m"
    assert duration(2 * 86400 + 3 * 3600) == "2d 3h"
    assert duration(None) == "-"


def test_pages_stay_under_the_limit_and_keep_every_line() -> None:
    lines = [f"line {i} <&> " + "x" * (i % 300) for i in range(500)]
    pages = pre_pages("<b>Title</b>", "\n".join(lines))
    assert len(pages) > 1
    visible = [parse_html(page) for page in pages]
    assert all(len(text) <= 4096 for text in visible)
    joined = "\n".join(text.split("\n", 1)[1] for text in visible)
    assert joined.splitlines() == lines
    assert paginate(["a" * 10_000], budget=4000) == [["a" * 4000], ["a" * 4000], ["a" * 2000]]
