"""Matching rules of the paper engine, each with hand-computed expectations.

Book (helpers): asks 1 @ 100.0, 2 @ 100.5, 3 @ 101.0; bids 1 @ 99.5, 2 @ 99.0, 3 @ 98.5.
Profile ``paper``: maker 0.02 %, taker 0.05 %.
"""

from __future__ import annotations

import pytest

from core.errors import (
    DuplicateClientOrderId,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
    UnknownSymbol,
)
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.types import OrderRequest, OrderStatus, OrderType
from tests.exchange_clients.paper.helpers import SYMBOL, D, limit, market, new_engine


def fills_of(engine: PaperEngine) -> list[tuple[str, D, D, D, str]]:
    return [(f.side, f.price, f.size, f.fee, f.liquidity) for f in engine.drain().fills()]


# --- market and IOC orders -------------------------------------------------------------------


def test_market_order_walks_three_levels_and_cancels_what_the_book_cannot_fill() -> None:
    engine = new_engine()
    order = engine.place(market("buy", "7", "walk"))

    changes = engine.drain()
    assert [(f.fill_id, f.price, f.size, f.fee, f.liquidity) for f in changes.fills()] == [
        ("test:1-1", D("100.0"), D("1"), D("0.05"), "taker"),
        ("test:1-2", D("100.5"), D("2"), D("0.1005"), "taker"),
        ("test:1-3", D("101.0"), D("3"), D("0.1515"), "taker"),
    ]
    snapshot = order.snapshot()
    assert snapshot.status is OrderStatus.CANCELLED
    assert snapshot.filled_size == D("6")
    assert snapshot.avg_fill_price == D("604") / 6
    assert snapshot.fee_paid == D("0.302")
    # One update per matching step, not per level.
    assert [(u.status, u.filled_size) for u in changes.order_updates()] == [
        (OrderStatus.CANCELLED, D("6"))
    ]
    assert engine.balance().wallet == D("9999.698")
    assert engine.book_snapshot(SYMBOL, 10).asks == ()
    (position,) = engine.positions()
    assert (position.size, position.entry_price) == (D("6"), D("604") / 6)
    # The mark is the feed's mid; our own takes do not move it.
    assert position.mark_price == D("99.75")
    assert position.unrealized_pnl == D("598.5") - D("604")


def test_market_order_fully_filled() -> None:
    engine = new_engine()
    order = engine.place(market("buy", "3", "full")).snapshot()
    assert (order.status, order.filled_size, order.fee_paid) == (
        OrderStatus.FILLED,
        D("3"),
        D("0.1505"),
    )
    assert order.avg_fill_price == D("301") / 3


def test_taken_liquidity_stays_gone_until_the_feed_reports_the_level_again() -> None:
    engine = new_engine()
    first = engine.place(market("buy", "1", "a")).snapshot()
    second = engine.place(market("buy", "1", "b")).snapshot()
    assert (first.avg_fill_price, second.avg_fill_price) == (D("100.0"), D("100.5"))
    assert engine.book_snapshot(SYMBOL, 2).asks == ((D("100.5"), D("1")), (D("101.0"), D("3")))

    engine.apply_book_delta(SYMBOL, (), ((D("100.0"), D("1")),))
    third = engine.place(market("buy", "2", "c")).snapshot()
    # 100.0 is back; 100.5 still lacks what we took (the feed did not report it).
    assert third.avg_fill_price == (D("100.0") + D("100.5")) / 2


def test_ioc_limit_stops_at_its_price() -> None:
    engine = new_engine()
    order = engine.place(limit("buy", "5", "100.5", "ioc", ioc=True)).snapshot()
    assert (order.status, order.filled_size, order.avg_fill_price) == (
        OrderStatus.CANCELLED,
        D("3"),
        D("301") / 3,
    )
    assert engine.open_orders() == []


def test_ioc_limit_that_reaches_nothing_expires() -> None:
    engine = new_engine()
    order = engine.place(limit("buy", "1", "99.9", "ioc", ioc=True)).snapshot()
    assert (order.status, order.filled_size) == (OrderStatus.EXPIRED, D("0"))


def test_marketable_gtc_limit_takes_then_rests_the_rest() -> None:
    engine = new_engine()
    order = engine.place(limit("buy", "2", "100.0", "gtc"))
    assert fills_of(engine) == [("buy", D("100.0"), D("1"), D("0.05"), "taker")]
    assert (order.status, order.filled_size, order.queue_ahead) == (
        OrderStatus.PARTIALLY_FILLED,
        D("1"),
        D("0"),
    )
    assert engine.open_orders() == [order]


# --- post-only -------------------------------------------------------------------------------


def test_post_only_that_would_cross_is_rejected_and_creates_nothing() -> None:
    engine = new_engine()
    with pytest.raises(PostOnlyWouldCross, match=r"best ask 100\.0"):
        engine.place(limit("buy", "1", "100.0", "po", post_only=True))
    with pytest.raises(PostOnlyWouldCross, match=r"best bid 99\.5"):
        engine.place(limit("sell", "1", "99.5", "po", post_only=True))
    assert engine.open_orders() == []
    assert engine.drain().order_events == []
    # A rejected order does not exist, so its client order id is still free.
    resting = engine.place(limit("buy", "1", "99.9", "po", post_only=True))
    assert resting.status is OrderStatus.OPEN


# --- resting orders: queue, trades, book moves -----------------------------------------------


def test_trade_at_the_price_consumes_the_queue_first_then_through_trades_and_book_moves_fill() -> (
    None
):
    engine = new_engine()
    order = engine.place(limit("buy", "1", "99.5", "q"))
    assert order.queue_ahead == D("1")  # the book's size at 99.5 when placed
    engine.drain()

    engine.apply_trade(SYMBOL, D("99.5"), D("0.6"), "sell")
    assert (order.queue_ahead, order.filled_size) == (D("0.4"), D("0"))
    engine.apply_trade(SYMBOL, D("99.5"), D("5"), "buy")  # a buyer: does not reach our bid
    engine.apply_trade(SYMBOL, D("99.6"), D("5"), "sell")  # above our price
    assert (order.queue_ahead, order.filled_size) == (D("0.4"), D("0"))

    engine.apply_trade(SYMBOL, D("99.5"), D("0.9"), "sell")  # 0.4 ahead of us, 0.5 to us
    assert fills_of(engine) == [("buy", D("99.5"), D("0.5"), D("0.00995"), "maker")]
    assert (order.status, order.queue_ahead) == (OrderStatus.PARTIALLY_FILLED, D("0"))

    engine.apply_trade(SYMBOL, D("99.0"), D("0.3"), "sell")  # through our price
    assert fills_of(engine) == [("buy", D("99.5"), D("0.3"), D("0.00597"), "maker")]

    # The ask moving to our price is not through it ...
    engine.apply_book_delta(SYMBOL, ((D("99.5"), D("0")),), ((D("99.5"), D("1")),))
    assert order.filled_size == D("0.8")
    # ... below it is: the rest fills at our price, as maker.
    engine.apply_book_delta(SYMBOL, (), ((D("99.4"), D("1")),))
    assert fills_of(engine) == [("buy", D("99.5"), D("0.2"), D("0.00398"), "maker")]
    assert (order.status, order.fee_paid) == (OrderStatus.FILLED, D("0.0199"))
    assert engine.open_orders() == []


def test_resting_sell_mirrors_the_rules() -> None:
    engine = new_engine()
    order = engine.place(limit("sell", "1", "100.5", "s"))
    assert order.queue_ahead == D("2")
    engine.apply_trade(SYMBOL, D("100.5"), D("2.5"), "buy")
    engine.apply_trade(SYMBOL, D("101.0"), D("0.2"), "buy")
    engine.apply_book_delta(SYMBOL, ((D("100.6"), D("1")),), ())
    assert fills_of(engine) == [
        ("sell", D("100.5"), D("0.5"), D("0.01005"), "maker"),
        ("sell", D("100.5"), D("0.2"), D("0.00402"), "maker"),
        ("sell", D("100.5"), D("0.3"), D("0.00603"), "maker"),
    ]
    assert order.status is OrderStatus.FILLED
    (position,) = engine.positions()
    assert position.size == D("-1")


def test_queue_shrinks_with_the_level_but_not_when_it_grows() -> None:
    engine = new_engine()
    order = engine.place(limit("buy", "1", "99.0", "q"))
    assert order.queue_ahead == D("2")
    engine.apply_book_delta(SYMBOL, ((D("99.0"), D("0.5")),), ())
    assert order.queue_ahead == D("0.5")
    engine.apply_book_delta(SYMBOL, ((D("99.0"), D("4")),), ())  # newcomers queue behind us
    assert order.queue_ahead == D("0.5")
    engine.apply_book_snapshot(SYMBOL, ((D("98.0"), D("1")),), ((D("100.0"), D("1")),))
    assert order.queue_ahead == D("0")  # the level is gone: nobody is ahead


def test_our_orders_at_one_price_share_a_trade_in_time_priority() -> None:
    engine = new_engine()
    first = engine.place(limit("buy", "1", "99.5", "first"))  # 1 ahead
    engine.apply_book_delta(SYMBOL, ((D("99.5"), D("3")),), ())  # 2 more join behind it
    second = engine.place(limit("buy", "1", "99.5", "second"))  # 3 ahead
    engine.drain()

    engine.apply_trade(SYMBOL, D("99.5"), D("2.5"), "sell")
    # 1 of queue, then `first` fills 1; the last 0.5 goes to the queue ahead of `second`.
    assert (first.status, first.filled_size) == (OrderStatus.FILLED, D("1"))
    assert (second.filled_size, second.queue_ahead) == (D("0"), D("1.5"))
    assert sum(f.size for f in engine.drain().fills()) == D("1")


def test_a_trade_through_several_of_our_levels_fills_the_best_first_up_to_its_size() -> None:
    engine = new_engine()
    high = engine.place(limit("buy", "1", "99.5", "high"))
    low = engine.place(limit("buy", "1", "99.0", "low"))
    engine.apply_trade(SYMBOL, D("98.5"), D("1.5"), "sell")
    assert (high.filled_size, low.filled_size) == (D("1"), D("0.5"))


# --- reduce-only -----------------------------------------------------------------------------


def test_reduce_only_is_rejected_when_it_would_open_or_increase() -> None:
    engine = new_engine()
    with pytest.raises(ReduceOnlyRejected, match="would open or increase"):
        engine.place(market("sell", "1", "ro-flat", reduce_only=True))
    engine.place(market("buy", "1", "open"))
    with pytest.raises(ReduceOnlyRejected):
        engine.place(limit("buy", "1", "99.0", "ro-add", reduce_only=True))


def test_reduce_only_is_capped_to_the_position() -> None:
    engine = new_engine()
    engine.place(market("buy", "2", "open"))  # 1 @ 100.0 + 1 @ 100.5
    close = engine.place(market("sell", "5", "close", reduce_only=True)).snapshot()
    assert (close.size, close.filled_size, close.status) == (D("2"), D("2"), OrderStatus.FILLED)
    assert engine.positions() == []


def test_resting_reduce_only_orders_shrink_then_cancel_with_the_position() -> None:
    engine = new_engine()
    engine.place(market("buy", "2", "open"))
    wide = engine.place(limit("sell", "1.5", "105.0", "ro-1", reduce_only=True))
    narrow = engine.place(limit("sell", "1", "106.0", "ro-2", reduce_only=True))
    assert engine.balance().margin_used == D("2") * D("99.75") / 10  # the position only

    engine.place(market("sell", "1", "reduce"))
    assert (wide.size, wide.status) == (D("1"), OrderStatus.OPEN)
    assert (narrow.size, narrow.status) == (D("1"), OrderStatus.OPEN)

    engine.place(market("sell", "1", "flat"))
    assert (wide.status, narrow.status) == (OrderStatus.CANCELLED, OrderStatus.CANCELLED)
    assert engine.open_orders() == []


# --- ids and validation ----------------------------------------------------------------------


def test_duplicate_client_order_id_creates_nothing_even_after_the_order_finished() -> None:
    engine = new_engine()
    original = engine.place(limit("buy", "1", "99.0", "dup"))
    engine.drain()
    with pytest.raises(DuplicateClientOrderId):
        engine.place(market("buy", "1", "dup"))
    engine.cancel(SYMBOL, client_order_id="dup")
    with pytest.raises(DuplicateClientOrderId):
        engine.place(limit("buy", "1", "98.0", "dup"))
    assert [u.status for u in engine.drain().order_updates()] == [OrderStatus.CANCELLED]
    assert engine.order(SYMBOL, client_order_id="dup") is original
    assert engine.positions() == []


def test_liquidation_ids_are_reserved() -> None:
    with pytest.raises(InvalidOrder, match="reserved for liquidations"):
        new_engine().place(limit("buy", "1", "99.0", "liq-7"))


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (limit("buy", "0.015", "99.0", "v"), "not a multiple of the step 0.01"),
        (limit("buy", "1", "99.05", "v"), "not a multiple of the tick 0.1"),
        (limit("buy", "0.01", "99.0", "v"), "below the minimum 0.02"),
        (limit("buy", "0.05", "99.0", "v"), r"notional 4.950 USD is below the minimum 5"),
        # A market order's notional is judged at the touch: 0.05 x 99.5.
        (market("sell", "0.05", "v"), r"notional 4.975 USD is below the minimum 5"),
    ],
)
def test_orders_off_the_grid_or_below_the_minimums_are_invalid(
    request_: OrderRequest, problem: str
) -> None:
    engine = new_engine()
    with pytest.raises(InvalidOrder, match=problem):
        engine.place(request_)
    assert engine.drain().order_events == []


def test_unknown_symbol() -> None:
    engine = new_engine()
    request = OrderRequest("DOGE", "buy", D("1"), OrderType.MARKET, "x")
    with pytest.raises(UnknownSymbol):
        engine.place(request)


def test_cancel_returns_finished_orders_unchanged_and_rejects_unknown_ones() -> None:
    engine = new_engine()
    done = engine.place(market("buy", "1", "done"))
    engine.drain()
    assert engine.cancel(SYMBOL, venue_order_id=done.venue_order_id).status is OrderStatus.FILLED
    assert engine.drain().order_events == []
    with pytest.raises(OrderNotFound):
        engine.cancel(SYMBOL, client_order_id="never")
    with pytest.raises(OrderNotFound):  # the id exists, on another symbol
        engine.order("ETH", client_order_id="done")
