"""A scan's rejections write their reason when it is first read: the same text, equality and
hash as a reason given up front, and nothing written for a reason nobody reads."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from strategies.funding_arbitrage.opportunities import Rejection


def test_a_deferred_reason_reads_and_compares_as_the_written_one() -> None:
    written: list[str] = []

    def apr() -> str:
        written.append("apr")
        return "net APR 1% < min 5%"

    deferred = Rejection.deferred("BTC", "a", "b", ("spread too wide", apr), ("n",), ("a",))
    assert written == []  # built without writing it
    eager = Rejection("BTC", "a", "b", "spread too wide; net APR 1% < min 5%", ("n",), ("a",))
    assert deferred == eager
    assert hash(deferred) == hash(eager)
    assert deferred.reason == eager.reason
    assert deferred.reason == eager.reason
    assert written == ["apr"]  # written once
    assert repr(deferred) == repr(eager)
    assert deferred != Rejection("BTC", "a", "b", "spread too wide", ("n",), ("a",))


def test_a_rejection_cannot_be_changed() -> None:
    rejection = Rejection("BTC", "a", "b", "why")
    with pytest.raises(FrozenInstanceError):
        rejection.symbol = "ETH"
