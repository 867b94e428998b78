"""Client order ids: the format venues accept, unique, readable back."""

from __future__ import annotations

import random

import pytest

from execution.client_ids import MAX_LENGTH, ClientOrderIds, _base36


@pytest.mark.parametrize("number", [0, 1, 35, 36, 37, 1295, 1296, 1297, 46655, 46656, 36**7])
def test_base36_at_the_digit_boundaries(number: int) -> None:
    text = _base36(number)
    assert int(text, 36) == number
    assert text == "0" or not text.startswith("0")


def test_base36_reads_back_for_any_number() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        number = rng.randrange(0, 36**12)
        assert int(_base36(number), 36) == number


def test_ids_carry_the_tag_the_millisecond_stamp_and_the_sequence() -> None:
    ids = ClientOrderIds("Grid Bot #1", clock_ms=lambda: 1_764_800_000_123)
    first, second = ids.next(), ids.next()
    assert first == f"gridbot1-{_base36(1_764_800_000_123)}-0"
    assert second == f"gridbot1-{_base36(1_764_800_000_123)}-1"
    assert len(first) <= MAX_LENGTH


def test_a_bot_name_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        ClientOrderIds("---")
