"""A paper book holds a snapshot as given until something needs it (:mod:`exchange_clients.
paper.book`): every answer must be the one a loaded book gives - same values, same digits -
and matching, liquidation and errors must happen when they did with books loaded at once."""

from __future__ import annotations

import pytest

from exchange_clients.market_data.events import BookSnapshotEvent
from exchange_clients.order_book import Level, OrderBook
from exchange_clients.paper.book import BookTop, PaperBook
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.types import OrderStatus
from tests.exchange_clients.paper.helpers import (
    ASKS,
    BIDS,
    START,
    SYMBOL,
    D,
    limit,
    market,
    new_engine,
)

Levels = tuple[Level, ...]

SNAPSHOTS: list[tuple[str, Levels, Levels, bool]] = [
    # name, bids, asks, held as given (False: loaded at once)
    ("helpers' book", BIDS, ASKS, True),
    (
        "mixed decimal places widen every price",
        ((D("99.5"), D("1")), (D("99"), D("2")), (D("98.125"), D("3"))),
        ((D("100.50"), D("1")), (D("101"), D("0.5"))),
        True,
    ),
    (
        "empty levels are skipped, but their places count",
        ((D("99.5"), D("0")), (D("99.25"), D("1"))),
        ((D("100.000"), D("0")), (D("100.5"), D("2"))),
        True,
    ),
    (
        "the best level with size, past empty ones, already at the book's places",
        ((D("99.5"), D("0")), (D("99.25"), D("1"))),
        ((D("100.5"), D("0")), (D("100.75"), D("2")), (D("101"), D("1"))),
        True,
    ),
    ("one side empty: no mid", ((D("99"), D("1")),), (), True),
    ("only empty levels", ((D("99"), D("0")),), ((D("100"), D("0")),), True),
    ("no levels at all", (), (), True),
    ("integral prices", ((D("64000"), D("0.5")),), ((D("64001"), D("0.25")),), True),
    (
        "worst first",
        ((D("98"), D("1")), (D("99"), D("1"))),
        ((D("101"), D("1")), (D("100"), D("1"))),
        False,
    ),
    (
        "a price twice: the later size wins",
        ((D("99"), D("1")), (D("99"), D("0"))),
        ((D("100"), D("1")),),
        False,
    ),
    ("exponent notation", ((D("1E+2"), D("1")),), ((D("1.1E+2"), D("1")),), False),
    ("tiny prices print as exponents", ((D("1E-7"), D("5")),), ((D("2E-7"), D("5")),), False),
    ("a crossed book is loaded as it is", ((D("101"), D("1")),), ((D("100"), D("1")),), True),
]


def _texts(levels: list[Level] | tuple[Level, ...]) -> list[tuple[str, str]]:
    """Levels as text: equal Decimals with different digits must not pass as the same."""
    return [(str(price), str(size)) for price, size in levels]


@pytest.mark.parametrize(
    ("bids", "asks", "held"), [case[1:] for case in SNAPSHOTS], ids=[case[0] for case in SNAPSHOTS]
)
def test_a_held_snapshot_answers_as_the_loaded_book_does(
    bids: Levels, asks: Levels, held: bool
) -> None:
    eager = OrderBook(SYMBOL)
    eager.apply_snapshot(bids, asks, 42)
    book = PaperBook(SYMBOL)
    book.apply_snapshot(list(bids), list(asks), 42)
    assert book.pending is held

    mid, eager_mid = book.feed_mid(), eager.mid()
    assert (str(mid), mid) == (str(eager_mid), eager_mid)
    assert book.sequence == 42
    for depth in (0, 1, 2, 10):
        ours, theirs = book.depth(depth), eager.depth(depth)
        assert [_texts(side) for side in ours] == [_texts(side) for side in theirs]
    assert book.pending is held  # none of those loaded it

    # Loading it (any match, take or delta does) gives the same books.
    assert repr(book.feed) == repr(eager)
    assert not book.pending
    assert [_texts(side) for side in book.paper.depth(10)] == [
        _texts(side) for side in eager.depth(10)
    ]


def test_a_snapshot_that_is_replaced_before_anyone_reads_it_is_never_loaded() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot(BIDS, ASKS, 1)
    book.apply_snapshot(((D("90"), D("1")),), ((D("91"), D("1")),), 2)
    assert book.feed_mid() == D("90.5")
    assert [_texts(side) for side in book.feed.depth(5)] == [[("90", "1")], [("91", "1")]]
    assert book.feed.sequence == 2


def test_a_delta_applies_on_top_of_a_held_snapshot() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot(BIDS, ASKS, 1)
    assert book.apply_update(((D("99.5"), D("0")),), ((D("99.8"), D("4")),), 2, 2)
    assert book.feed_mid() == (D("99.0") + D("99.8")) / 2
    assert book.depth(1) == ([(D("99.0"), D("2"))], [(D("99.8"), D("4"))])
    assert not book.apply_update((), (), 2, 2)  # stale, as on a loaded book


def test_a_malformed_snapshot_raises_when_applied_as_before() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot(BIDS, ASKS, 1)
    with pytest.raises(ValueError, match="negative size"):
        book.apply_snapshot(((D("99"), D("-1")),), ASKS, 2)
    assert book.feed.needs_resync  # the feed book is broken, as a loaded book would be
    assert book.paper.best_bid() == BIDS[0]  # the paper book kept the snapshot before


def _apply(engine: PaperEngine, bids: Levels, asks: Levels, sequence: int, load: bool) -> None:
    """Apply a snapshot; ``load``: load the books at once (as before snapshots were held)."""
    engine.apply_book_snapshot(SYMBOL, bids, asks, sequence)
    if load:
        assert engine.book_snapshot(SYMBOL, 0).sequence == sequence
        engine._symbols[SYMBOL].book.feed.best_bid()


def test_a_resting_order_fills_when_a_snapshot_moves_through_it_held_or_loaded() -> None:
    outcomes = []
    for load in (False, True):
        engine = new_engine()
        order = engine.place(limit("buy", "1", "99.0", "rest"))
        engine.drain()
        # The ask falls through our bid: the snapshot fills us when it is applied.
        _apply(engine, ((D("98.0"), D("1")),), ((D("98.5"), D("2")),), 2, load)
        fills = [(f.price, f.size, f.liquidity) for f in engine.drain().fills()]
        outcomes.append((fills, order.status, engine.balance()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == [(D("99.0"), D("1"), "maker")]
    assert outcomes[0][1] is OrderStatus.FILLED


def test_orders_quotes_and_the_mark_on_held_snapshots_match_loaded_ones() -> None:
    books: list[tuple[Levels, Levels]] = [
        (
            ((D("101.5"), D("2")), (D("101.0"), D("5"))),
            ((D("102.0"), D("1")), (D("102.5"), D("4"))),
        ),
        (((D("80.0"), D("3")),), ((D("80.5"), D("3")),)),
        (((D("80.25"), D("1")),), ((D("80.50"), D("2")), (D("81"), D("9")))),
    ]
    results = []
    for load in (False, True):
        engine = new_engine(wallet="1000")
        engine.place(market("buy", "1.5", "open"))
        seen = []
        for sequence, (bids, asks) in enumerate(books, start=2):
            _apply(engine, bids, asks, sequence, load)
            quote = engine.book_snapshot(SYMBOL, 1)
            seen.append(
                (
                    _texts(quote.bids),
                    _texts(quote.asks),
                    quote.sequence,
                    [
                        (str(p.mark_price), p.unrealized_pnl, p.liquidation_price)
                        for p in engine.positions()
                    ],
                    engine.balance(),
                )
            )
            engine.place(market("sell", "0.5", f"trim-{sequence}"))
        fills = [(f.price, f.size, f.fee) for f in engine.drain().fills()]
        results.append((seen, fills))
    assert results[0] == results[1]


def test_liquidation_on_a_held_snapshot_happens_when_it_did() -> None:
    results = []
    for load in (False, True):
        engine = new_engine(wallet="10")
        engine.set_leverage(SYMBOL, D("20"))
        engine.place(market("buy", "1", "open"))  # ~100 USD on 10 USD of collateral
        engine.drain()
        _apply(engine, ((D("90.0"), D("5")),), ((D("90.5"), D("5")),), 2, load)
        changes = engine.drain()
        results.append(
            (
                [(f.client_order_id or "", f.price, f.size) for f in changes.fills()],
                engine.positions(),
            )
        )
    assert results[0] == results[1]
    assert results[0][0]
    assert results[0][0][0][0].startswith("liq-")
    assert results[0][1] == []


def test_a_book_refreshed_by_its_best_levels_is_the_one_refreshed_whole() -> None:
    """``refresh_top``: the mark, the quote and an order on it are those of ``refresh_book``
    with the snapshot its top draws (drawn by the order, not by the quote)."""
    bids = ((D("99.75"), D("2")), (D("99.5"), D("3")))
    asks = ((D("100.25"), D("2")), (D("100.5"), D("3")))
    snapshot = BookSnapshotEvent("paper", SYMBOL, START, bids, asks, 9)
    draws: list[BookSnapshotEvent] = []

    def draw() -> BookSnapshotEvent:
        draws.append(snapshot)
        return snapshot

    results = []
    for by_top in (False, True):
        engine = new_engine()
        engine.apply_book_snapshot(SYMBOL, BIDS, ASKS, 1)
        if by_top:
            engine.refresh_top(SYMBOL, BookTop(bids[0], asks[0], 9, draw))
        else:
            engine.refresh_book(SYMBOL, bids, asks, 9)
        quote = engine.book_snapshot(SYMBOL, 1)
        read = (str(engine._symbols[SYMBOL].mark), _texts(quote.bids), _texts(quote.asks))
        drawn_by_quote = len(draws)
        engine.place(market("buy", "3", "take"))
        fills = [(f.price, f.size) for f in engine.drain().fills()]
        results.append((read, quote.sequence, drawn_by_quote, fills))
    assert results[0][:2] == results[1][:2]
    assert results[0][3] == results[1][3] == [(D("100.25"), D("2")), (D("100.5"), D("1"))]
    assert (results[1][2], len(draws)) == (0, 1)


def test_an_active_symbol_is_not_refreshed_by_its_best_levels() -> None:
    engine = new_engine()
    engine.apply_book_snapshot(SYMBOL, BIDS, ASKS, 1)
    engine.place(limit("buy", "1", "99.0", "rest"))

    def draw() -> BookSnapshotEvent:
        raise AssertionError("never drawn")

    with pytest.raises(ValueError, match="is active"):
        engine.refresh_top(SYMBOL, BookTop(BIDS[0], ASKS[0], 2, draw))
