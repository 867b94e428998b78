"""A drawn book (funding data's order book around each row's mark) vouches for its levels
(:class:`~exchange_clients.paper.book.PlainLevels`) only when ``plain_snapshot`` would say the
same of them, and the paper book then answers exactly as it does for the same levels unvouched.
The prices are the definition's: checked against it, digit for digit. Its best levels alone
(``drawn_top``) are given only for a book it vouches for, and a paper book holding them answers
as one holding the whole book, drawing it only when read further."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from backtest.sources.funding import BookShape, drawn_book, drawn_top, market_for
from exchange_clients.market_data.events import BookSnapshotEvent, Level
from exchange_clients.order_book import plain_snapshot
from exchange_clients.paper.book import BookTop, PaperBook, PlainLevels
from exchange_clients.types import Market

D = Decimal
TS = datetime(2025, 1, 1, tzinfo=UTC)

TICKS = [D(1).scaleb(k) for k in range(-12, 3)] + [
    D("0.010"),  # a power of ten written with a trailing zero: not vouched for
    D("1.0"),
    D("0.5"),
    D("0.25"),
    D(5),
    D("1E+1"),
]
SPREADS = [D(2), D("2.5"), D("0.1"), D(50), D(5000), D("2E+1"), D(30000)]
DEPTHS = [D(250_000), D("1E+3"), D("0.5"), D(1)]
STEPS = [D(1).scaleb(k) for k in range(-6, 3)] + [D("0.5"), D("0.001")]


def definition(market: Market, mark: Decimal, shape: BookShape) -> tuple[list[Level], list[Level]]:
    """The drawn levels as the definition reads, written out plainly."""
    tick = market.tick_size
    half = mark * shape.spread_bps / D(20_000)
    bids: list[Level] = []
    asks: list[Level] = []
    for i in range(5):
        offset = half + 2 * half * D(i)
        bid = ((mark - offset) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask = ((mark + offset) / tick).to_integral_value(ROUND_CEILING) * tick
        if i and bid >= bids[-1][0]:
            bid = bids[-1][0] - tick
        if i and ask <= asks[-1][0]:
            ask = asks[-1][0] + tick
        if bid <= 0:
            break
        step = market.step_size
        size = max(step, (shape.depth_usd / mark / step).to_integral_value(ROUND_DOWN) * step)
        bids.append((bid, size))
        asks.append((ask, size))
    return bids, asks


def _texts(levels: tuple[Level, ...] | list[Level]) -> list[tuple[str, str]]:
    return [(str(price), str(size)) for price, size in levels]


def _market(tick: Decimal, step: Decimal) -> Market:
    return Market("X", "X", tick, step, step, D(0), D(20))


def _check(market: Market, mark: Decimal, shape: BookShape) -> bool:
    """Check one book; whether it was vouched for."""
    book = drawn_book("v", market, TS, mark, shape)
    bids, asks = definition(market, mark, shape)
    assert (_texts(book.bids), _texts(book.asks)) == (_texts(bids), _texts(asks))
    assert type(book.asks) is tuple
    vouched = type(book.bids) is PlainLevels
    if vouched:
        assert isinstance(book.bids, PlainLevels)
        assert book.bids.asks is book.asks
        assert plain_snapshot(tuple(bids), tuple(asks)) == book.bids.plain
    else:
        assert type(book.bids) is tuple
    # The paper book holding it answers as it does for the same levels given as plain tuples.
    ours, theirs = PaperBook("X"), PaperBook("X")
    ours.apply_snapshot(book.bids, book.asks, 7)
    theirs.apply_snapshot(tuple(bids), tuple(asks), 7)
    assert ours.pending is theirs.pending
    assert str(ours.feed_mid()) == str(theirs.feed_mid())
    for depth in (1, 3):
        assert [_texts(side) for side in ours.depth(depth)] == [
            _texts(side) for side in theirs.depth(depth)
        ]
    assert repr(ours.feed) == repr(theirs.feed)
    top = drawn_top(market, mark, shape)
    if top is not None:
        assert vouched
        _check_top(book, top)
    return vouched


def _check_top(book: BookSnapshotEvent, top: tuple[Level, Level]) -> None:
    """A paper book holding the best levels answers as one holding the book, and draws it only
    when something reads past them."""
    assert _texts(top) == _texts((book.bids[0], book.asks[0]))
    draws: list[BookSnapshotEvent] = []

    def draw() -> BookSnapshotEvent:
        draws.append(book)
        return book

    held, whole = PaperBook("X"), PaperBook("X")
    held.apply_top(BookTop(top[0], top[1], book.sequence, draw))
    whole.apply_snapshot(book.bids, book.asks, book.sequence)
    assert (held.pending, held.sequence) == (True, book.sequence)
    assert str(held.feed_mid()) == str(whole.feed_mid())
    assert [_texts(side) for side in held.depth(1)] == [_texts(side) for side in whole.depth(1)]
    assert not draws
    assert [_texts(side) for side in held.depth(3)] == [_texts(side) for side in whole.depth(3)]
    assert (len(draws), held.pending) == (1, True)  # drawn, and held as the whole one is
    assert repr(held.feed) == repr(whole.feed)
    assert len(draws) == 1


@settings(max_examples=600, deadline=None)
@given(
    coefficient=st.integers(1, 10**12),
    exponent=st.integers(-14, 4),
    tick=st.sampled_from(TICKS),
    spread=st.sampled_from(SPREADS),
    depth=st.sampled_from(DEPTHS),
    step=st.sampled_from(STEPS),
)
def test_a_drawn_book_vouches_only_for_what_plain_snapshot_says(
    coefficient: int,
    exponent: int,
    tick: Decimal,
    spread: Decimal,
    depth: Decimal,
    step: Decimal,
) -> None:
    mark = D(coefficient).scaleb(exponent)
    _check(_market(tick, step), mark, BookShape(spread, depth))


def test_listed_markets_are_vouched_for_and_the_odd_ones_are_not() -> None:
    """The bench's kind of data (6 significant digits, a listing from ``market_for``) is
    vouched for; a price that prints in exponent form, a tick that is not a power of ten, a
    context too short to be exact and a level moved a tick past the last are handled too."""
    shape = BookShape()
    marks = [D("1234.56"), D("0.123457"), D("31622.8"), D("7.5"), D("99999.9"), D("0.00123")]
    assert all(_check(market_for("X", mark), mark, shape) for mark in marks)
    assert all(drawn_top(market_for("X", mark), mark, shape) for mark in marks)
    # Half the spread (1E-7) coarser than the tick (1E-8): the definition's steps, unvouched.
    assert not _check(market_for("X", D("0.001")), D("0.001"), shape)
    assert _check(market_for("X", D("123457")), D("123457"), shape)  # tick 1
    assert not _check(market_for("X", D("1234570")), D("1234570"), shape)  # tick 1E+1
    assert not _check(market_for("X", D("1.23457E+6")), D("1.23457E+6"), shape)
    assert not _check(_market(D("0.25"), D(1)), D("100.5"), shape)
    assert not _check(_market(D("1E-12"), D(1)), D("1.2E-7"), shape)  # prices print 1.2E-7
    assert _check(_market(D("0.01"), D(1)), D("0.0000012"), shape)  # no level: nothing held
    moved = _market(D("0.1"), D(1))  # levels 2 bps apart, ticks 10: moved one past the last
    assert _check(moved, D("100.001"), shape)
    assert _texts(drawn_book("v", moved, TS, D("100.001"), shape).bids[:2]) == [
        ("99.9", "2499"),
        ("99.8", "2499"),
    ]
    with localcontext() as short:
        short.prec = 12
        assert not _check(market_for("X", D("1234.56")), D("1234.56"), shape)


def test_a_vouch_holds_only_for_the_asks_it_was_made_with() -> None:
    mark = D("1234.56")
    book = drawn_book("v", market_for("X", mark), TS, mark, BookShape())
    assert isinstance(book.bids, PlainLevels)
    held = PaperBook("X")
    held.apply_snapshot(book.bids, book.asks, 1)
    assert held.pending
    # Other asks (here worst first) are checked as always: plain_snapshot refuses them, so
    # the snapshot is loaded at once, as it always was.
    other = PaperBook("X")
    other.apply_snapshot(book.bids, tuple(reversed(book.asks)), 1)
    assert not other.pending
    assert [str(price) for price, _ in other.depth(5)[1]] == [str(price) for price, _ in book.asks]


def test_a_held_top_is_replaced_undrawn_and_a_failing_snapshot_draws_it_first() -> None:
    mark = D("1234.56")
    book = drawn_book("v", market_for("X", mark), TS, mark, BookShape())
    top = drawn_top(market_for("X", mark), mark, BookShape())
    assert top is not None
    draws: list[BookSnapshotEvent] = []

    def draw() -> BookSnapshotEvent:
        draws.append(book)
        return book

    held = PaperBook("X")
    held.apply_top(BookTop(top[0], top[1], book.sequence, draw))
    held.apply_snapshot(((D("90"), D("1")),), ((D("91"), D("1")),), 2)  # replaced, unread
    assert (held.feed_mid(), held.sequence) == (D("90.5"), 2)
    assert [_texts(side) for side in held.feed.depth(5)] == [[("90", "1")], [("91", "1")]]
    assert not draws
    # A snapshot loaded at once (not one plain_snapshot vouches for) loads what it replaces
    # first, as a held whole book would be: drawn, then replaced.
    held.apply_top(BookTop(top[0], top[1], book.sequence, draw))
    held.apply_snapshot(((D("90"), D("1")), (D("91"), D("1"))), ((D("92"), D("1")),), 3)
    assert len(draws) == 1
    assert [_texts(side) for side in held.feed.depth(5)] == [
        [("91", "1"), ("90", "1")],
        [("92", "1")],
    ]
