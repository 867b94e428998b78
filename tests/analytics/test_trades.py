"""FIFO trade reconstruction: exact Decimal results worked out by hand in each docstring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from analytics.records import FillRecord, RecordError
from analytics.trades import reconstruct

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def fill(minute: int, side: str, price: str, size: str, fee: str = "0", symbol: str = "BTC",
         venue: str = "paper") -> FillRecord:  # fmt: skip
    return FillRecord(
        ts=T0 + timedelta(minutes=minute),
        venue=venue,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        price=D(price),
        size=D(size),
        fee=D(fee),
    )


def test_one_round_trip_long() -> None:
    """Buy 2 @ 100 (fee 0.2), sell 2 @ 110 (fee 0.22): gross (110-100)*2 = 20, fees 0.42."""
    book = reconstruct([fill(0, "buy", "100", "2", "0.2"), fill(30, "sell", "110", "2", "0.22")])
    [trade] = book.trades
    assert (trade.direction, trade.size, trade.entry_price, trade.exit_price) == (
        "long",
        D("2"),
        D("100"),
        D("110"),
    )
    assert trade.gross_pnl == D("20")
    assert trade.fees == D("0.42")
    assert trade.net_pnl == D("19.58")
    assert trade.hold == timedelta(minutes=30)
    assert book.open_lots == {}


def test_short_round_trip_loses_when_price_rises() -> None:
    """Sell 1.5 @ 200, buy 1.5 @ 204: short loses (204-200)*1.5 = 6."""
    book = reconstruct([fill(0, "sell", "200", "1.5"), fill(5, "buy", "204", "1.5", "0.3")])
    [trade] = book.trades
    assert trade.direction == "short"
    assert trade.gross_pnl == D("-6.0")
    assert trade.net_pnl == D("-6.3")


def test_fifo_partial_closes_across_lots() -> None:
    """Lots: buy 1 @ 100 (fee 0.1), buy 3 @ 120 (fee 0.6). Sell 2 @ 130 (fee 0.4) closes the
    first lot whole (1 @ 100 -> gross 30, fees 0.1 + 0.4*1/2 = 0.3) and 1 of the second
    (1 @ 120 -> gross 10, fees 0.6*1/3 = 0.2 + the rest of the sell fee 0.2 = 0.4). Then
    sell 2 @ 110 (fee 0.2) closes the remaining 2 @ 120: gross -20, fees 0.4 + 0.2 = 0.6."""
    book = reconstruct(
        [
            fill(0, "buy", "100", "1", "0.1"),
            fill(1, "buy", "120", "3", "0.6"),
            fill(2, "sell", "130", "2", "0.4"),
            fill(3, "sell", "110", "2", "0.2"),
        ]
    )
    assert [(t.size, t.entry_price, t.gross_pnl, t.fees) for t in book.trades] == [
        (D("1"), D("100"), D("30"), D("0.3")),
        (D("1"), D("120"), D("10"), D("0.4")),
        (D("2"), D("120"), D("-20"), D("0.6")),
    ]
    one = T0 + timedelta(minutes=1)
    assert [t.opened_at for t in book.trades] == [T0, one, one]
    # every fee lands in exactly one trade
    assert sum(t.fees for t in book.trades) == D("1.3")
    assert book.open_lots == {}


def test_flip_closes_then_opens_the_other_side() -> None:
    """Long 1 @ 100; sell 3 @ 90 (fee 0.3) closes 1 (gross -10, fee share 0.1) and opens a
    short of 2 @ 90 carrying fee 0.2; buy 2 @ 80 closes it: gross (90-80)*2 = 20, fees 0.2."""
    book = reconstruct(
        [
            fill(0, "buy", "100", "1"),
            fill(10, "sell", "90", "3", "0.3"),
        ]
    )
    [closed] = book.trades
    assert (closed.direction, closed.gross_pnl, closed.fees) == ("long", D("-10"), D("0.1"))
    [lot] = book.open_lots[("paper", "BTC")]
    assert (lot.direction, lot.size, lot.price, lot.fee) == ("short", D("2"), D("90"), D("0.2"))
    assert book.position("paper", "BTC") == D("-2")

    book = reconstruct([fill(0, "buy", "100", "1"), fill(10, "sell", "90", "3", "0.3"),
                        fill(20, "buy", "80", "2")])  # fmt: skip
    assert [(t.direction, t.gross_pnl, t.fees) for t in book.trades] == [
        ("long", D("-10"), D("0.1")),
        ("short", D("20"), D("0.2")),
    ]
    assert book.trades[1].opened_at == T0 + timedelta(minutes=10)


def test_symbols_and_venues_are_separate_books() -> None:
    """A buy on one venue is not closed by a sell on another, nor of another symbol."""
    book = reconstruct(
        [
            fill(0, "buy", "100", "1", venue="a"),
            fill(1, "sell", "101", "1", venue="b"),
            fill(2, "sell", "50", "1", symbol="ETH", venue="a"),
        ]
    )
    assert book.trades == []
    assert book.position("a", "BTC") == D("1")
    assert book.position("b", "BTC") == D("-1")
    assert book.position("a", "ETH") == D("-1")


def test_fills_out_of_order_are_sorted_by_time() -> None:
    book = reconstruct([fill(5, "sell", "110", "1"), fill(0, "buy", "100", "1")])
    [trade] = book.trades
    assert (trade.direction, trade.gross_pnl) == ("long", D("10"))


def test_a_prorated_fee_that_does_not_divide_keeps_the_total_exact() -> None:
    """Buy 3 @ 10 with fee 1; three sells of 1: shares 1/3, then 1/3 of the rest, then the
    remainder - their sum is exactly 1 whatever the rounding of the thirds."""
    book = reconstruct(
        [fill(0, "buy", "10", "3", "1")] + [fill(i, "sell", "10", "1") for i in (1, 2, 3)]
    )
    assert len(book.trades) == 3
    assert sum(t.fees for t in book.trades) == D("1")


def test_bad_records_are_refused_with_the_field_named() -> None:
    with pytest.raises(RecordError, match="size 0"):
        fill(0, "buy", "100", "0")
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the mistake under test
    with pytest.raises(RecordError, match="no timezone"):
        FillRecord(naive, "paper", "BTC", "buy", D(1), D(1))
    with pytest.raises(RecordError, match="side"):
        fill(0, "hold", "100", "1")
