"""The paper book is the feed book itself while nothing taken is outstanding
(:mod:`exchange_clients.paper.book`): after any mix of deltas, snapshots and takes it must give
the answers of the two books it replaced - one fed everything, one fed everything and the
takes - to the digit, and be one book again once the feed has reported every taken price."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from exchange_clients.order_book import BookSide, Level, OrderBook
from exchange_clients.paper.book import PaperBook
from exchange_clients.types import Side

SYMBOL = "BTC"


class TwoBooks:
    """The paper book as it was: a feed book and a paper book, both fed every level."""

    def __init__(self) -> None:
        self.feed = OrderBook(SYMBOL)
        self.paper = OrderBook(SYMBOL)

    def snapshot(self, bids: list[Level], asks: list[Level], sequence: int) -> None:
        self.feed.apply_snapshot(bids, asks, sequence)
        self.paper.apply_snapshot(bids, asks, sequence)

    def update(self, bids: list[Level], asks: list[Level], sequence: int) -> bool:
        if not self.feed.apply_update(bids, asks, first_sequence=sequence, last_sequence=sequence):
            return False
        self.paper.apply_update(bids, asks, first_sequence=sequence, last_sequence=sequence)
        return True

    def take(self, side: Side, levels: list[Level]) -> None:
        book_side: BookSide = "ask" if side == "buy" else "bid"
        changes = [(p, self.paper.size_at(book_side, p) - q) for p, q in levels]
        if side == "buy":
            self.paper.apply_update((), changes)
        else:
            self.paper.apply_update(changes, ())


def _levels(rng: random.Random, low: int, high: int, places: int) -> list[Level]:
    prices = rng.sample(range(low, high), rng.randint(0, 6))
    return [
        (Decimal(p).scaleb(-places), Decimal(rng.choice([0, 0, 1, 2, 3, 5])).scaleb(-1))
        for p in prices
    ]


def _answers(book: OrderBook) -> str:
    return repr((book.depth(1000), book.mid(), book.sequence))


@pytest.mark.parametrize("seed", range(40))
def test_the_shared_book_answers_as_two_books_did(seed: int) -> None:
    rng = random.Random(seed)
    ours, reference = PaperBook(SYMBOL), TwoBooks()
    sequence = 1
    bids = [(Decimal(p), Decimal(2)) for p in range(990, 1000)][::-1]
    asks = [(Decimal(p), Decimal(2)) for p in range(1001, 1011)]
    ours.apply_snapshot(bids, asks, sequence)
    reference.snapshot(bids, asks, sequence)
    was_apart = False
    for _ in range(300):
        roll = rng.random()
        places = rng.choice([0, 0, 0, 1])  # now and then a finer price widens the scale
        if roll < 0.6:
            sequence += 1
            scale = 10**places
            update = (
                _levels(rng, 985 * scale, 1000 * scale, places),
                _levels(rng, 1001 * scale, 1016 * scale, places),
            )
            assert ours.apply_update(*update, sequence, sequence) == reference.update(
                *update, sequence
            )
        elif roll < 0.95:
            side: Side = rng.choice(["buy", "sell"])
            size = Decimal(rng.randint(1, 60)).scaleb(-1)
            levels = ours.walk(side, size, None)
            assert levels == reference.paper.fill_walk(side, size)
            if levels:
                ours.take(side, levels)
                reference.take(side, levels)
        else:
            sequence += 1
            bids = _levels(rng, 985, 1000, 0)
            asks = _levels(rng, 1001, 1016, 0)
            bids.sort(reverse=True)
            asks.sort()
            ours.apply_snapshot(bids, asks, sequence)
            reference.snapshot(bids, asks, sequence)
        assert _answers(ours.feed) == _answers(reference.feed)
        assert _answers(ours.paper) == _answers(reference.paper)
        assert ours.depth(5) == reference.paper.depth(5)
        assert ours.feed_mid() == reference.feed.mid()
        # One book exactly when the two hold the same levels (the feed reported every
        # taken price again), or a snapshot came since.
        if not ours.shared:
            was_apart = True
            assert ours.paper is not ours.feed
        else:
            assert ours.paper is ours.feed
    assert was_apart


def test_a_take_parts_the_books_until_the_feed_reports_each_taken_price_again() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot(
        [(Decimal(99), Decimal(1)), (Decimal(98), Decimal(1))],
        [(Decimal(100), Decimal(1)), (Decimal(101), Decimal(1))],
        1,
    )
    assert book.shared
    book.take("buy", book.walk("buy", Decimal("1.5"), None))  # all of 100, half of 101
    assert not book.shared
    assert book.paper.depth(2)[1] == [(Decimal(101), Decimal("0.5"))]
    assert book.feed.depth(2)[1] == [(Decimal(100), Decimal(1)), (Decimal(101), Decimal(1))]
    book.apply_update((), [(Decimal(100), Decimal(3))], 2, 2)
    assert not book.shared  # 101 still differs
    assert book.paper.depth(2)[1] == [(Decimal(100), Decimal(3)), (Decimal(101), Decimal("0.5"))]
    book.apply_update((), [(Decimal(101), Decimal(0))], 3, 3)  # gone from the venue too
    assert book.shared
    assert book.paper.depth(2)[1] == [(Decimal(100), Decimal(3))]


def test_a_take_while_the_feed_needs_a_resync_still_applies() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot([(Decimal(99), Decimal(1))], [(Decimal(100), Decimal(2))], 1)
    with pytest.raises(Exception, match="sequence gap"):
        book.apply_update((), [(Decimal(100), Decimal(5))], 5, 5)
    assert book.feed.needs_resync
    book.take("buy", book.walk("buy", Decimal(1), None))
    assert book.paper.depth(1)[1] == [(Decimal(100), Decimal(1))]
    assert book.feed.depth(1)[1] == [(Decimal(100), Decimal(2))]


def test_a_malformed_snapshot_after_a_gap_leaves_a_paper_book_that_takes() -> None:
    book = PaperBook(SYMBOL)
    book.apply_snapshot([(Decimal(99), Decimal(1))], [(Decimal(100), Decimal(2))], 1)
    with pytest.raises(Exception, match="sequence gap"):
        book.apply_update((), [(Decimal(100), Decimal(5))], 5, 5)
    with pytest.raises(ValueError, match="negative size"):
        book.apply_snapshot([(Decimal(99), Decimal(-1))], [(Decimal(100), Decimal(2))], 6)
    assert book.feed.needs_resync
    assert book.paper.depth(1) == ([(Decimal(99), Decimal(1))], [(Decimal(100), Decimal(2))])
    book.take("buy", book.walk("buy", Decimal(1), None))
    assert book.paper.depth(1)[1] == [(Decimal(100), Decimal(1))]
