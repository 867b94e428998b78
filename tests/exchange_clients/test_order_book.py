"""The L2 book: equal to a naive dict-and-sort book after every step, sequence rules, parsing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from fractions import Fraction
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import TradingError
from exchange_clients import order_book
from exchange_clients.order_book import (
    BookNeedsResync,
    CrossedBook,
    InsufficientDepth,
    Level,
    OrderBook,
    OrderBookError,
    SequenceGap,
    Side,
)

D = Decimal


# -- the reference: a dict per side, sorted at every query --------------------------------------


@dataclass(frozen=True)
class Step:
    """A snapshot or an update, fed as Decimals or as wire strings."""

    kind: Literal["snapshot", "update"]
    bids: list[Level]
    asks: list[Level]
    wire: bool


@dataclass
class NaiveBook:
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)

    def apply(self, step: Step) -> None:
        if step.kind == "snapshot":
            self.bids, self.asks = {}, {}
        for side, levels in ((self.bids, step.bids), (self.asks, step.asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def sorted_bids(self) -> list[Level]:
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[Level]:
        return sorted(self.asks.items())

    def walk(self, side: Side) -> list[Level]:
        return self.sorted_asks() if side == "buy" else self.sorted_bids()

    def fill_walk(self, side: Side, size: Decimal) -> list[Level]:
        taken = []
        for price, available in self.walk(side):
            if size == 0:
                break
            take = min(size, available)
            taken.append((price, take))
            size -= take
        return taken

    def average_fill_price(self, side: Side, size: Decimal) -> Decimal | None:
        taken = self.fill_walk(side, size)
        if sum(q for _, q in taken) < size:
            return None
        return sum(p * q for p, q in taken) / size

    def within_slippage(self, side: Side, pct: Decimal) -> list[Level]:
        levels = self.walk(side)
        if not levels:
            return []
        touch = Fraction(levels[0][0])
        if side == "buy":
            limit = touch * (1 + Fraction(pct) / 100)
            return [(p, q) for p, q in levels if p <= limit]
        limit = touch * (1 - Fraction(pct) / 100)
        return [(p, q) for p, q in levels if p >= limit]


# -- strategies: prices on a few tick grids, written with and without trailing zeros -------------

TICKS = [D("1"), D("0.5"), D("0.1"), D("0.01"), D("0.00000001")]


@st.composite
def prices(draw: st.DrawFn) -> Decimal:
    """A price near 100, on a grid coarse enough that levels collide, re-add and delete."""
    price = D(100) + draw(st.integers(-30, 30)) * draw(st.sampled_from(TICKS))
    padding = draw(st.integers(-1, 2))  # "100.5", "100.50", "100.500": one level
    if padding < 0:
        return price.normalize()  # 100 -> "1E+2", 110 -> "1.1E+2"
    exponent = price.as_tuple().exponent
    assert isinstance(exponent, int)
    return price.quantize(D(1).scaleb(exponent - padding))


sizes = st.one_of(
    st.just(D(0)),
    st.just(D("0.000")),
    st.integers(1, 5_000).map(lambda units: D(units).scaleb(-3)),
)
levels = st.lists(st.tuples(prices(), sizes), max_size=12)


def deep_levels(count: int, start: Decimal, step: Decimal) -> list[Level]:
    return [(start + i * step, D(i % 7 + 1)) for i in range(count)]


steps = st.one_of(
    st.builds(Step, st.just("snapshot"), levels, levels, st.booleans()),
    st.builds(Step, st.just("update"), levels, levels, st.booleans()),
    # The same prices on both sides: books that touch and cross.
    st.builds(lambda both, wire: Step("update", both, both, wire), levels, st.booleans()),
    st.builds(
        lambda n_bids, n_asks, wire: Step(
            "snapshot",
            deep_levels(n_bids, D("99.99"), D("-0.01")),
            deep_levels(n_asks, D("100.01"), D("0.01")),
            wire,
        ),
        st.integers(0, 2_500),
        st.integers(0, 2_500),
        st.booleans(),
    ),
)
query_sizes = st.integers(1, 20_000).map(lambda units: D(units).scaleb(-3))
slippages = st.sampled_from([D(0), D("0.01"), D("0.5"), D("1"), D("10"), D("150")])


def wire(levels: list[Level]) -> list[list[str]]:
    return [[str(price), str(size)] for price, size in levels]


def apply(book: OrderBook, step: Step) -> None:
    if step.kind == "snapshot" and step.wire:
        book.apply_wire_snapshot(wire(step.bids), wire(step.asks))
    elif step.kind == "snapshot":
        book.apply_snapshot(step.bids, step.asks)
    elif step.wire:
        assert book.apply_wire_update(wire(step.bids), wire(step.asks))
    else:
        assert book.apply_update(step.bids, step.asks)


def assert_same(book: OrderBook, ref: NaiveBook, size: Decimal, pct: Decimal) -> None:
    bids, asks = ref.sorted_bids(), ref.sorted_asks()
    assert book.best_bid() == (bids[0] if bids else None)
    assert book.best_ask() == (asks[0] if asks else None)
    assert book.levels("bid") == len(bids)
    assert book.levels("ask") == len(asks)
    for price in {p for p, _ in bids[:2] + asks[:2]} | {D("100.5"), D("100.50000001")}:
        assert book.size_at("bid", price) == ref.bids.get(price, 0)
        assert book.size_at("ask", price) == ref.asks.get(price, 0)
    for n in (0, 1, 3, 10_000):
        assert book.depth(n) == (bids[:n], asks[:n])
    assert book.is_crossed == bool(bids and asks and bids[0][0] >= asks[0][0])
    if bids and asks:
        assert book.mid() == (bids[0][0] + asks[0][0]) / 2
        assert book.spread() == asks[0][0] - bids[0][0]
    else:
        assert book.mid() is None
        assert book.spread() is None
    side: Side
    for side in ("buy", "sell"):
        assert book.fill_walk(side, size) == ref.fill_walk(side, size)
        expected = ref.average_fill_price(side, size)
        if expected is None:
            with pytest.raises(InsufficientDepth):
                book.average_fill_price(side, size)
        else:
            assert book.average_fill_price(side, size) == expected
        for band in [pct, *exact_slippages_to_levels(ref.walk(side)[:4])]:
            within = ref.within_slippage(side, band)
            assert book.notional_within_slippage(side, band) == sum(p * q for p, q in within)
            assert book.size_within_slippage(side, band) == sum(q for _, q in within)


def exact_slippages_to_levels(levels: list[Level]) -> list[Decimal]:
    """Slippages that put a level exactly on the edge of the band (when that is a decimal)."""
    bands = []
    with localcontext() as context:
        context.prec = 60
        context.traps[Inexact] = True
        for price, _ in levels[1:]:
            with suppress(Inexact):
                bands.append(abs(price - levels[0][0]) * 100 / levels[0][0])
    return bands


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(steps, min_size=1, max_size=20), size=query_sizes, pct=slippages)
def test_every_query_matches_a_naive_book_after_every_step(
    steps: list[Step], size: Decimal, pct: Decimal
) -> None:
    book, ref = OrderBook("TEST"), NaiveBook()
    for step in steps:
        apply(book, step)
        ref.apply(step)
        assert_same(book, ref, size, pct)
    assert_same(book.copy(), ref, size, pct)


@settings(max_examples=25, deadline=None)
@given(steps=st.lists(steps, min_size=1, max_size=8), size=query_sizes, pct=slippages)
def test_forgetting_remembered_price_texts_changes_nothing(
    steps: list[Step], size: Decimal, pct: Decimal
) -> None:
    """The text -> key memo is cleared when full; with room for 3 texts it is cleared often."""
    book, ref = OrderBook("TEST"), NaiveBook()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(order_book, "_REMEMBERED_TEXTS", 3)
        for step in steps:
            apply(book, step)
            ref.apply(step)
    assert_same(book, ref, size, pct)


# -- sequence rules --------------------------------------------------------------------------------

BID = [(D("100"), D("1"))]
ASK = [(D("101"), D("1"))]


def book_at(sequence: int | None) -> OrderBook:
    book = OrderBook("BTC")
    book.apply_snapshot(BID, ASK, sequence=sequence)
    return book


def test_stale_updates_are_dropped_and_change_nothing() -> None:
    book = book_at(100)
    assert not book.apply_update([(D("100"), D("9"))], [], first_sequence=90, last_sequence=100)
    assert not book.apply_update([(D("100"), D("9"))], [], first_sequence=95, last_sequence=99)
    assert book.best_bid() == (D("100"), D("1"))
    assert book.sequence == 100
    assert not book.needs_resync


def test_binance_spot_first_update_straddles_the_snapshot_then_updates_chain() -> None:
    book = book_at(100)
    assert book.apply_update([(D("100"), D("2"))], [], first_sequence=95, last_sequence=105)
    assert book.apply_update([(D("100"), D("3"))], [], first_sequence=106, last_sequence=110)
    assert book.sequence == 110
    assert book.best_bid() == (D("100"), D("3"))


def test_a_gap_raises_with_the_numbers_and_refuses_updates_until_a_snapshot() -> None:
    book = book_at(100)
    with pytest.raises(SequenceGap, match=r"expected first_sequence <= 101, received 102"):
        book.apply_update([(D("100"), D("2"))], [], first_sequence=102, last_sequence=103)
    assert book.needs_resync
    assert book.best_bid() == (D("100"), D("1"))  # the gapped message was not applied
    with pytest.raises(BookNeedsResync, match="sequence gap"):
        book.apply_update([], [], first_sequence=101, last_sequence=101)
    with pytest.raises(BookNeedsResync):
        book.apply_update([], [], first_sequence=50, last_sequence=60)  # even a stale one
    with pytest.raises(BookNeedsResync):
        book.apply_wire_update([], [])  # and one without sequence numbers
    book.apply_snapshot(BID, ASK, sequence=200)
    assert not book.needs_resync
    assert book.apply_update([(D("100"), D("5"))], [], first_sequence=201, last_sequence=201)


def test_backpack_chains_first_on_previous_last_plus_one() -> None:
    book = book_at(10)
    for first, last in ((11, 12), (13, 13), (14, 20)):
        assert book.apply_update([], ASK, first_sequence=first, last_sequence=last)
    with pytest.raises(SequenceGap, match="expected first_sequence <= 21, received 22"):
        book.apply_update([], ASK, first_sequence=22, last_sequence=25)


def test_binance_futures_pu_must_equal_the_last_update() -> None:
    book = book_at(100)
    # The first event after the snapshot straddles it: its pu is older than the snapshot.
    assert book.apply_update(BID, [], first_sequence=90, last_sequence=110, previous_sequence=89)
    assert book.apply_update(BID, [], first_sequence=113, last_sequence=120, previous_sequence=110)
    with pytest.raises(SequenceGap, match="expected previous_sequence 120, received 119"):
        book.apply_update(BID, [], first_sequence=125, last_sequence=130, previous_sequence=119)
    assert book.needs_resync


def test_pu_right_after_a_snapshot_may_equal_it_but_not_be_newer() -> None:
    assert book_at(100).apply_update(
        BID, [], first_sequence=101, last_sequence=105, previous_sequence=100
    )
    with pytest.raises(SequenceGap, match="expected previous_sequence 100, received 101"):
        book_at(100).apply_update(
            BID, [], first_sequence=102, last_sequence=105, previous_sequence=101
        )


def test_pu_older_than_the_book_is_a_gap_once_updates_have_chained() -> None:
    book = book_at(100)
    book.apply_update(BID, [], first_sequence=101, last_sequence=105, previous_sequence=100)
    with pytest.raises(SequenceGap):
        book.apply_update(BID, [], first_sequence=104, last_sequence=108, previous_sequence=103)


def test_without_sequence_numbers_every_update_applies() -> None:
    book = book_at(None)
    assert book.apply_update([(D("100"), D("2"))], [])
    assert book.apply_wire_update([["100", "3"]], [])
    assert book.sequence is None
    assert book.best_bid() == (D("100"), D("3"))


def test_a_book_without_a_sequence_takes_the_first_updates() -> None:
    book = book_at(None)
    assert book.apply_update(BID, [], first_sequence=500, last_sequence=510)
    assert book.sequence == 510
    with pytest.raises(SequenceGap):
        book.apply_update(BID, [], first_sequence=512, last_sequence=513)


def test_inconsistent_sequence_arguments_are_caller_bugs() -> None:
    with pytest.raises(ValueError, match="need last_sequence"):
        book_at(1).apply_update([], [], first_sequence=2)
    with pytest.raises(ValueError, match="after last_sequence"):
        book_at(1).apply_update([], [], first_sequence=5, last_sequence=4)


def test_invalidate_refuses_updates_until_the_next_snapshot() -> None:
    book = book_at(1)
    book.invalidate("depth stream reconnected")
    with pytest.raises(BookNeedsResync, match="depth stream reconnected"):
        book.apply_update([], [], first_sequence=2, last_sequence=2)
    book.apply_wire_snapshot([["100", "1"]], [], sequence=7)
    assert book.apply_update([], [], first_sequence=8, last_sequence=8)


def test_errors_are_trading_errors() -> None:
    for error in (SequenceGap, BookNeedsResync, CrossedBook, InsufficientDepth):
        assert issubclass(error, OrderBookError)
    assert issubclass(OrderBookError, TradingError)


# -- crossed books ---------------------------------------------------------------------------------


def test_a_crossing_update_is_applied_detectable_and_raises_on_request() -> None:
    book = book_at(1)
    assert not book.is_crossed
    assert book.apply_update([(D("101"), D("1"))], [], first_sequence=2, last_sequence=2)
    assert book.is_crossed  # touching counts
    assert book.spread() == 0
    with pytest.raises(CrossedBook, match=r"best bid 102 >= best ask 101"):
        book.apply_wire_update(
            [["102", "1"]], [], first_sequence=3, last_sequence=3, raise_on_cross=True
        )
    assert book.sequence == 3  # the book still holds what the venue sent
    assert book.spread() == D(-1)
    assert not book.needs_resync


def test_a_crossed_snapshot_raises_on_request() -> None:
    with pytest.raises(CrossedBook):
        OrderBook("BTC").apply_snapshot(ASK, BID, raise_on_cross=True)
    book = OrderBook("BTC")
    book.apply_wire_snapshot([["100", "1"]], [["100.5", "1"]], raise_on_cross=True)
    assert not book.is_crossed


# -- depth queries ---------------------------------------------------------------------------------


def test_insufficient_depth_says_how_much_there_is() -> None:
    book = OrderBook("BTC")
    book.apply_snapshot([], [(D("101"), D("1.5")), (D("102"), D("0.25"))])
    with pytest.raises(InsufficientDepth, match=r"cannot buy 2: only 1.75 available"):
        book.average_fill_price("buy", D(2))
    assert book.fill_walk("buy", D(2)) == [(D("101"), D("1.5")), (D("102"), D("0.25"))]
    assert book.average_fill_price("buy", D("1.75")) == (D("151.5") + D("25.5")) / D("1.75")
    with pytest.raises(InsufficientDepth, match="only 0 available"):
        book.average_fill_price("sell", D("0.1"))


def test_a_fill_stops_as_soon_as_it_is_complete() -> None:
    book = OrderBook("BTC")
    book.apply_snapshot([(D(100), D(1)), (D(99), D(1))], [])
    assert book.fill_walk("sell", D(1)) == [(D(100), D(1))]
    assert book.average_fill_price("sell", D("1.5")) == D("99.66666666666666666666666667")


def test_slippage_band_is_measured_from_the_touch_inclusive() -> None:
    book = OrderBook("BTC")
    book.apply_snapshot([(D(100), D(1)), (D(99), D(2)), (D("98.9"), D(4))], [(D(200), D(1))])
    assert book.size_within_slippage("sell", D(1)) == D(3)  # 99 is exactly 1% away
    assert book.notional_within_slippage("sell", D(1)) == D(298)
    assert book.size_within_slippage("sell", D("0.99")) == D(1)
    assert book.size_within_slippage("buy", D(0)) == D(1)


def test_empty_book() -> None:
    book = OrderBook("BTC")
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.mid() is None
    assert book.spread() is None
    assert book.depth(5) == ([], [])
    assert book.levels("bid") == book.levels("ask") == 0
    assert not book.is_crossed
    assert book.sequence is None
    assert book.fill_walk("buy", D(1)) == []
    assert book.notional_within_slippage("sell", D(1)) == 0
    assert book.size_within_slippage("buy", D(1)) == 0
    with pytest.raises(InsufficientDepth):
        book.average_fill_price("buy", D(1))
    assert book.apply_update([(D(100), D(0))], [(D(101), D(0))])  # removing nothing is fine
    assert book.depth(1) == ([], [])


def test_one_sided_book() -> None:
    book = OrderBook("BTC")
    book.apply_snapshot(BID, [])
    assert book.best_bid() == BID[0]
    assert book.mid() is None
    assert not book.is_crossed


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.fill_walk("Buy", D(1)), "side must be 'buy' or 'sell'"),
        (lambda b: b.fill_walk("buy", D(0)), "size must be > 0"),
        (lambda b: b.average_fill_price("sell", D(-1)), "size must be > 0"),
        (lambda b: b.size_within_slippage("buy", D(-1)), "max_slippage_pct must be >= 0"),
        (lambda b: b.levels("bids"), "side must be 'bid' or 'ask'"),
        (lambda b: b.size_at("buy", D(1)), "side must be 'bid' or 'ask'"),
        (lambda b: b.depth(-1), "depth must be >= 0"),
    ],
)
def test_bad_query_arguments_are_refused(call: Callable[[OrderBook], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(book_at(1))


def test_copy_is_independent() -> None:
    book = book_at(5)
    clone = book.copy()
    book.apply_update([(D("100"), D(0))], [], first_sequence=6, last_sequence=6)
    assert clone.best_bid() == BID[0]
    assert clone.sequence == 5
    assert clone.apply_update([], [(D("100.5"), D(1))], first_sequence=6, last_sequence=6)
    assert book.best_ask() == ASK[0]


# -- exact numbers ---------------------------------------------------------------------------------


def test_numbers_come_back_exactly_as_values() -> None:
    book = OrderBook("BTC")
    book.apply_snapshot([(D("0.1"), D("0.00000001"))], [(D("0.3"), D("7.10"))])
    bid = book.best_bid()
    assert bid == (D("0.1"), D("0.00000001"))
    assert str(bid[1]) == "1E-8"  # sizes are kept as given, not re-rounded
    assert book.best_ask() == (D("0.3"), D("7.1"))
    assert book.mid() == D("0.2")
    assert book.spread() == D("0.2")


def test_wire_levels_parse_exactly_and_trailing_zeros_name_the_same_level() -> None:
    book = OrderBook("BTC")
    book.apply_wire_snapshot([["64123.5", "0.015"]], [["64124.0", "0.00000001"]], sequence=1)
    assert book.best_ask() == (D("64124"), D("0.00000001"))
    assert book.apply_wire_update([["64123.50", "2.000"]], [["64124", "0.3"]])
    assert book.depth(5) == ([(D("64123.5"), D(2))], [(D("64124"), D("0.3"))])
    assert book.size_at("bid", D("64123.500")) == D(2)
    assert book.size_at("bid", D("64123.4")) == 0
    book.apply_wire_update([["64123.500", "0.000"]], [["64124.00000000", "0E-8"]])
    assert book.depth(5) == ([], [])


def test_finer_prices_widen_the_scale_and_keep_every_level() -> None:
    book = OrderBook("BTC")
    book.apply_wire_snapshot([["100", "1"], ["99.5", "1"]], [["101", "1"]])
    book.apply_wire_update([["99.75", "2"], ["99.00000001", "3"]], [["100.00000000001", "4"]])
    book.apply_update([(D("99.123456789012345678901234"), D(5))], [])
    assert [p for p, _ in book.depth(10)[0]] == [
        D("100"),
        D("99.75"),
        D("99.5"),
        D("99.123456789012345678901234"),
        D("99.00000001"),
    ]
    assert book.best_ask() == (D("100.00000000001"), D(4))


def test_prices_read_before_the_scale_widens_come_back_at_the_new_scale() -> None:
    book = OrderBook("BTC")
    book.apply_wire_snapshot([["100.5", "1"]], [["101", "1"]])
    assert [str(p) for p, _ in book.depth(1)[0]] == ["100.5"]  # read (and remembered)
    book.apply_wire_update([["99.25", "2"], ["10.05", "3"]], [])  # two places now
    # 10.05 has the key 100.5 had before: a price remembered across the widening would lie
    assert [str(p) for p, _ in book.depth(3)[0]] == ["100.50", "99.25", "10.05"]
    assert str(book.best_ask()[0]) == "101.00"  # type: ignore[index]


@pytest.mark.parametrize(
    "text", ["1E-7", "1e-7", "0.0000001", "+0.0000001", " 1E-7 ", "0.000_000_1"]
)
def test_every_spelling_decimal_accepts_is_one_level(text: str) -> None:
    book = OrderBook("PEPE")
    book.apply_wire_snapshot([["0.00000010", "5"]], [])
    book.apply_wire_update([[text, "1"]], [])
    assert book.depth(5)[0] == [(D("0.0000001"), D(1))]


@pytest.mark.parametrize(
    ("price", "size", "error"),
    [
        ("abc", "1", InvalidOperation),
        ("1.2.3", "1", InvalidOperation),
        ("100", "x", InvalidOperation),
        ("100", "NaN", InvalidOperation),
        ("NaN", "1", ValueError),
        ("1E+999999999", "1", ValueError),
        ("1E-31", "1", ValueError),
        ("0." + "0" * 30 + "1", "1", ValueError),
        ("100", "-1", ValueError),
    ],
)
def test_malformed_levels_raise_and_mark_the_book_for_resync(
    price: str, size: str, error: type[Exception]
) -> None:
    book = book_at(1)
    with pytest.raises(error):
        book.apply_wire_update([["100", "7"], [price, size]], [], first_sequence=2, last_sequence=2)
    assert book.needs_resync
    assert book.sequence == 1


def test_a_malformed_snapshot_leaves_an_empty_book_that_needs_resync() -> None:
    book = book_at(1)
    with pytest.raises(InvalidOperation):
        book.apply_wire_snapshot([["100", "1"], ["oops", "1"]], [], sequence=9)
    assert book.needs_resync
    assert book.depth(10) == ([], [])
    assert book.levels("bid") == 0
