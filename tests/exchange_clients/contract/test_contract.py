"""The exchange client contract (DESIGN.md §4), checked identically for every venue."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from exchange_clients.base import (
    DuplicateClientOrderId,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    OrderStatus,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
    UnknownSymbol,
)
from exchange_clients.rounding import on_grid, round_price, round_size
from exchange_clients.types import FeeSchedule, Fill, Order, OrderRequest, OrderType
from tests.exchange_clients.contract.venue_harness import VenueHarness

_ids = itertools.count(1)


def new_id() -> str:
    return f"contract-{next(_ids):06d}"


async def passive_buy_price(venue: VenueHarness) -> Decimal:
    """A buy price well below the touch, on the grid: rests and never fills during a test."""
    bid, _ = await venue.client.best_bid_ask(venue.symbol)
    market = await venue.client.market(venue.symbol)
    return round_price(market, bid * Decimal("0.9"), "buy")


async def small_size(venue: VenueHarness, price: Decimal) -> Decimal:
    """The smallest grid size that clears the market's minimum size and notional, times two."""
    market = await venue.client.market(venue.symbol)
    size = max(market.min_size, market.step_size)
    while size * price < market.min_notional:
        size += market.step_size
    return round_size(market, size * 2)


async def test_markets_describe_tradable_grids(venue: VenueHarness) -> None:
    markets = await venue.client.markets()
    assert venue.symbol in markets
    for symbol, market in markets.items():
        assert market.symbol == symbol
        assert market.contract_id
        assert market.tick_size > 0
        assert market.step_size > 0
        assert market.min_notional >= 0
        assert market.max_leverage >= 1
    with pytest.raises(UnknownSymbol):
        await venue.client.market("NOT-A-COIN")


async def test_prepare_limit_rounds_to_the_grid_and_enforces_minimums(venue: VenueHarness) -> None:
    market = await venue.client.market(venue.symbol)
    bid, ask = await venue.client.best_bid_ask(venue.symbol)
    off_grid_price = bid - market.tick_size / 3
    size, price = await venue.client.prepare_limit(
        venue.symbol, "buy", await small_size(venue, bid) + market.step_size / 3, off_grid_price
    )
    assert on_grid(price, market.tick_size)
    assert on_grid(size, market.step_size)
    assert price <= off_grid_price  # a buy never rounds up
    _, sell_price = await venue.client.prepare_limit(
        venue.symbol, "sell", size, ask + market.tick_size / 3
    )
    assert sell_price >= ask
    with pytest.raises(InvalidOrder):
        await venue.client.prepare_limit(venue.symbol, "buy", market.step_size / 2, bid)


async def test_book_is_sorted_uncrossed_and_agrees_with_best_bid_ask(venue: VenueHarness) -> None:
    book = await venue.client.order_book(venue.symbol, depth=10)
    assert 0 < len(book.bids) <= 10
    assert 0 < len(book.asks) <= 10
    bid_prices = [price for price, _ in book.bids]
    ask_prices = [price for price, _ in book.asks]
    assert bid_prices == sorted(bid_prices, reverse=True)
    assert ask_prices == sorted(ask_prices)
    assert len(set(bid_prices)) == len(bid_prices)
    assert bid_prices[0] < ask_prices[0]
    assert all(size > 0 for _, size in book.bids + book.asks)
    assert await venue.client.best_bid_ask(venue.symbol) == (bid_prices[0], ask_prices[0])


async def test_resting_order_lifecycle_by_both_ids(venue: VenueHarness) -> None:
    client = venue.client
    price = await passive_buy_price(venue)
    size = await small_size(venue, price)
    client_id = new_id()

    placed = await client.place_limit_order(
        venue.symbol, "buy", size, price, client_order_id=client_id, post_only=True
    )
    assert placed.status is OrderStatus.OPEN
    assert (placed.client_order_id, placed.size, placed.price) == (client_id, size, price)
    assert placed.venue_order_id
    assert [o.client_order_id for o in await client.open_orders(venue.symbol)] == [client_id]

    by_venue_id = await client.order_status(venue.symbol, venue_order_id=placed.venue_order_id)
    by_client_id = await client.order_status(venue.symbol, client_order_id=client_id)
    assert by_venue_id.venue_order_id == by_client_id.venue_order_id == placed.venue_order_id
    assert by_client_id.status is OrderStatus.OPEN

    cancelled = await client.cancel_order(venue.symbol, placed.venue_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.filled_size == 0
    assert await client.open_orders(venue.symbol) == []
    finished = await client.order_status(venue.symbol, client_order_id=client_id)
    assert finished.status is OrderStatus.CANCELLED


async def test_cancel_by_client_id(venue: VenueHarness) -> None:
    price = await passive_buy_price(venue)
    client_id = new_id()
    await venue.client.place_limit_order(
        venue.symbol, "buy", await small_size(venue, price), price, client_order_id=client_id
    )
    cancelled = await venue.client.cancel_by_client_id(venue.symbol, client_id)
    assert (cancelled.client_order_id, cancelled.status) == (client_id, OrderStatus.CANCELLED)
    assert await venue.client.open_orders() == []


async def test_client_order_id_is_idempotent(venue: VenueHarness) -> None:
    price = await passive_buy_price(venue)
    size = await small_size(venue, price)
    client_id = new_id()
    await venue.client.place_limit_order(
        venue.symbol, "buy", size, price, client_order_id=client_id
    )
    with pytest.raises(DuplicateClientOrderId):
        await venue.client.place_limit_order(
            venue.symbol,
            "buy",
            size,
            price - (await venue.client.market(venue.symbol)).tick_size,
            client_order_id=client_id,
        )
    assert [o.client_order_id for o in await venue.client.open_orders()] == [client_id]
    await venue.client.cancel_by_client_id(venue.symbol, client_id)
    with pytest.raises(DuplicateClientOrderId):  # finished ids stay taken
        await venue.client.place_market_order(venue.symbol, "buy", size, client_order_id=client_id)


async def test_post_only_that_would_cross_is_rejected(venue: VenueHarness) -> None:
    _, ask = await venue.client.best_bid_ask(venue.symbol)
    client_id = new_id()
    with pytest.raises(PostOnlyWouldCross):
        await venue.client.place_limit_order(
            venue.symbol,
            "buy",
            await small_size(venue, ask),
            ask,
            client_order_id=client_id,
            post_only=True,
        )
    assert await venue.client.open_orders() == []


async def test_unknown_orders_are_reported_as_not_found(venue: VenueHarness) -> None:
    with pytest.raises(OrderNotFound):
        await venue.client.order_status(venue.symbol, client_order_id="never-sent")
    with pytest.raises(OrderNotFound):
        await venue.client.cancel_by_client_id(venue.symbol, "never-sent")


async def test_reduce_only_cannot_open_a_position(venue: VenueHarness) -> None:
    bid, _ = await venue.client.best_bid_ask(venue.symbol)
    with pytest.raises(ReduceOnlyRejected):
        await venue.client.place_market_order(
            venue.symbol,
            "sell",
            await small_size(venue, bid),
            client_order_id=new_id(),
            reduce_only=True,
        )
    assert await venue.client.position(venue.symbol) is None


async def test_market_round_trip_fills_stream_position_and_balance(venue: VenueHarness) -> None:
    client = venue.client
    _, ask = await client.best_bid_ask(venue.symbol)
    size = await small_size(venue, ask)
    before = await client.balance()
    fills = client.fills()
    updates = client.order_updates()
    open_id, close_id = new_id(), new_id()

    opened = await client.place_market_order(venue.symbol, "buy", size, client_order_id=open_id)
    assert opened.filled_size == size
    assert opened.status is OrderStatus.FILLED
    assert opened.avg_fill_price is not None
    assert opened.avg_fill_price >= ask  # a buy never beats the touch

    received: list[Fill] = []
    while sum(f.size for f in received) < size:
        received.append(await venue.next_event(fills, lambda f: f.client_order_id == open_id))
    assert sum(f.size for f in received) == size
    assert all(
        f.side == "buy" and f.symbol == venue.symbol and f.liquidity == "taker" for f in received
    )
    vwap = sum(f.price * f.size for f in received) / size
    assert vwap == opened.avg_fill_price
    final: Order = await venue.next_event(
        updates, lambda o: o.client_order_id == open_id and o.status.is_final
    )
    assert final.status is OrderStatus.FILLED

    position = await client.position(venue.symbol)
    assert position is not None
    assert position.size == size
    assert position.entry_price == opened.avg_fill_price
    fees = sum(f.fee for f in received)
    assert fees > 0
    after_open = await client.balance()
    assert after_open.wallet == before.wallet - fees
    assert after_open.margin_used > 0

    closed = await client.place_market_order(
        venue.symbol, "sell", size, client_order_id=close_id, reduce_only=True
    )
    assert closed.status is OrderStatus.FILLED
    assert await client.position(venue.symbol) is None
    fills.close()
    updates.close()


async def test_leverage_round_trip_and_limits(venue: VenueHarness) -> None:
    market = await venue.client.market(venue.symbol)
    assert await venue.client.set_leverage(venue.symbol, Decimal(3)) == Decimal(3)
    assert await venue.client.get_leverage(venue.symbol) == Decimal(3)
    with pytest.raises(ExchangeError):
        await venue.client.set_leverage(venue.symbol, market.max_leverage + 1)
    assert await venue.client.get_leverage(venue.symbol) == Decimal(3)


async def test_funding_rate_is_complete_and_per_hour_comparable(venue: VenueHarness) -> None:
    rate = await venue.client.funding_rate(venue.symbol)
    assert (rate.venue, rate.symbol) == (venue.client.name, venue.symbol)
    assert rate.interval_hours > 0
    assert rate.hourly_rate == rate.rate / rate.interval_hours
    assert rate.next_funding_time is not None
    assert rate.next_funding_time > venue.now()
    assert abs(rate.rate) < Decimal("0.05")  # a sane per-interval rate, not a percentage
    everything = await venue.client.funding_rates()
    assert everything[venue.symbol].rate == rate.rate


# --- venue economics (issue 16 item 3) ---------------------------------------------------------

MAX_SENSIBLE_FEE = Decimal("0.005")  # 0.5 % of notional: no perp venue charges more
MAX_SENSIBLE_REBATE = Decimal("-0.0005")


async def test_fees_are_a_sensible_schedule(venue: VenueHarness) -> None:
    fees = await venue.client.fees(venue.symbol)
    assert isinstance(fees, FeeSchedule)
    assert isinstance(fees.maker, Decimal)
    assert isinstance(fees.taker, Decimal)
    assert 0 < fees.taker <= MAX_SENSIBLE_FEE  # a fraction, not a percentage or basis points
    assert MAX_SENSIBLE_REBATE <= fees.maker <= fees.taker
    is_paper = venue.client.name.startswith("paper")
    assert (fees.source == "simulated") == is_paper
    with pytest.raises(UnknownSymbol):
        await venue.client.fees("NOT-A-COIN")


async def test_market_stats_cover_every_market(venue: VenueHarness) -> None:
    markets = await venue.client.markets()
    stats = await venue.client.market_stats()
    assert set(stats) == set(markets)
    for symbol, entry in stats.items():
        assert entry.symbol == symbol
        for figure in (entry.volume_24h_usd, entry.open_interest_usd):
            assert figure is None or (isinstance(figure, Decimal) and figure >= 0)
    traded = stats[venue.symbol]
    assert traded.volume_24h_usd is not None or traded.open_interest_usd is not None


# --- venue-side stops (issue 16 item 5) --------------------------------------------------------


async def open_long(venue: VenueHarness) -> tuple[Decimal, Decimal]:
    """A small long (size, mark) for a stop to protect."""
    bid, ask = await venue.client.best_bid_ask(venue.symbol)
    size = await small_size(venue, ask)
    await venue.client.place_market_order(venue.symbol, "buy", size, client_order_id=new_id())
    return size, (bid + ask) / 2


def stop_request(symbol: str, size: Decimal, trigger: Decimal, client_id: str) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side="sell",
        size=size,
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=trigger,
    )


async def stop_below(venue: VenueHarness, mark: Decimal, fraction: str) -> Decimal:
    market = await venue.client.market(venue.symbol)
    return round_price(market, mark * Decimal(fraction), "buy")


async def test_stop_market_rests_is_listed_and_cancels_by_client_id(venue: VenueHarness) -> None:
    client = venue.client
    if not client.supports_trigger_orders:
        pytest.skip(f"{client.name} has no trigger orders (its refusal is tested separately)")
    size, mark = await open_long(venue)
    trigger = await stop_below(venue, mark, "0.8")
    client_id = new_id()

    placed = await client.place_order(stop_request(venue.symbol, size, trigger, client_id))
    assert placed.status is OrderStatus.OPEN
    assert (placed.order_type, placed.trigger_price) == (OrderType.STOP_MARKET, trigger)
    assert placed.reduce_only
    assert placed.venue_order_id
    listed = [o for o in await client.open_orders(venue.symbol) if o.client_order_id == client_id]
    assert len(listed) == 1
    assert (listed[0].order_type, listed[0].trigger_price, listed[0].size) == (
        OrderType.STOP_MARKET,
        trigger,
        size,
    )
    status = await client.order_status(venue.symbol, client_order_id=client_id)
    assert (status.status, status.order_type) == (OrderStatus.OPEN, OrderType.STOP_MARKET)

    cancelled = await client.cancel_by_client_id(venue.symbol, client_id)
    assert (cancelled.client_order_id, cancelled.status) == (client_id, OrderStatus.CANCELLED)
    assert cancelled.filled_size == 0
    assert client_id not in {o.client_order_id for o in await client.open_orders()}
    position = await client.position(venue.symbol)
    assert position is not None
    assert position.size == size


async def test_stop_market_fires_when_the_mark_crosses(venue: VenueHarness) -> None:
    client = venue.client
    if not client.supports_trigger_orders:
        pytest.skip(f"{client.name} has no trigger orders (its refusal is tested separately)")
    if venue.move_mark is None:
        pytest.skip(f"the {client.name} harness cannot move the mark")
    size, mark = await open_long(venue)
    trigger = await stop_below(venue, mark, "0.97")
    client_id = new_id()
    fills = client.fills()
    updates = client.order_updates()
    await client.place_order(stop_request(venue.symbol, size, trigger, client_id))

    await venue.move_mark(venue.symbol, mark * Decimal("0.95"))
    received: list[Fill] = []
    while sum(f.size for f in received) < size:
        received.append(await venue.next_event(fills, lambda f: f.client_order_id == client_id))
    assert all(f.side == "sell" and f.liquidity == "taker" for f in received)
    final: Order = await venue.next_event(
        updates, lambda o: o.client_order_id == client_id and o.status.is_final
    )
    assert (final.status, final.filled_size) == (OrderStatus.FILLED, size)
    assert await client.position(venue.symbol) is None
    assert client_id not in {o.client_order_id for o in await client.open_orders()}
    fills.close()
    updates.close()


async def test_a_venue_without_triggers_refuses_a_stop(venue: VenueHarness) -> None:
    client = venue.client
    if client.supports_trigger_orders:
        pytest.skip(f"{client.name} supports trigger orders (tested above)")
    size, mark = await open_long(venue)
    trigger = await stop_below(venue, mark, "0.8")
    with pytest.raises(InvalidOrder):
        await client.place_order(stop_request(venue.symbol, size, trigger, new_id()))
    assert [o for o in await client.open_orders() if o.order_type is OrderType.STOP_MARKET] == []
