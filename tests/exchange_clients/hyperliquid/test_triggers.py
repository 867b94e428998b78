"""Venue-side stop-losses: a STOP_MARKET request is Hyperliquid's reduce-only trigger order,
resting on the venue until the mark crosses it, then executed as a market order whose fills and
updates arrive like any other; listed, queried and cancelled as a stop, also by a process that
did not place it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ConfigError, InvalidOrder, ReduceOnlyRejected
from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.hyperliquid.ids import to_cloid
from exchange_clients.types import Order, OrderRequest, OrderStatus, OrderType, Side
from testing.fakes.hyperliquid import FakeHyperliquid, FakeOrder
from tests.exchange_clients.hyperliquid.helpers import (
    OWNER,
    connected,
    new_fake,
    next_event,
    settings,
    settle,
)

D = Decimal


def stop(symbol: str, side: Side, size: Decimal, trigger: Decimal, client_id: str) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side=side,
        size=size,
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=trigger,
    )


def resting(fake: FakeHyperliquid, order: Order) -> FakeOrder:
    return fake.user(OWNER).orders[int(order.venue_order_id or 0)]


def exchange_requests(fake: FakeHyperliquid) -> int:
    return sum(1 for path, _ in fake.requests if path == "/exchange")


async def test_a_stop_rests_as_a_reduce_only_trigger_and_reads_back_as_a_stop() -> None:
    async with new_fake() as fake:
        async with connected(fake) as client:
            await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
            placed = await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-1"))
            assert (placed.status, placed.order_type, placed.trigger_price, placed.price) == (
                OrderStatus.OPEN,
                OrderType.STOP_MARKET,
                D(58000),
                None,
            )
            assert placed.reduce_only
            sent = resting(fake, placed)
            # The trigger order on the venue: our cloid, reduce-only, and the market order it
            # sends bounded at the trigger - 10 % (the SDK's bound: 52200).
            assert (sent.trigger_px, sent.px, sent.tpsl, sent.is_market) == (
                D(58000),
                D(52200),
                "sl",
                True,
            )
            assert (sent.reduce_only, sent.cloid) == (True, to_cloid("sl-1"))
            [listed] = await client.open_orders("BTC")
            assert (listed.client_order_id, listed.order_type, listed.trigger_price) == (
                "sl-1",
                OrderType.STOP_MARKET,
                D(58000),
            )
        # A later process knows nothing of it: the venue's order objects say it is a stop.
        async with connected(fake) as later:
            [seen] = await later.open_orders()
            assert (seen.order_type, seen.trigger_price, seen.price, seen.size) == (
                OrderType.STOP_MARKET,
                D(58000),
                None,
                D("0.01"),
            )
            status = await later.order_status("BTC", client_order_id="sl-1")
            assert (status.client_order_id, status.status, status.order_type) == (
                "sl-1",
                OrderStatus.OPEN,
                OrderType.STOP_MARKET,
            )
            assert status.reduce_only


async def test_a_stop_fires_only_when_the_mark_crosses_and_closes_the_position() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        fills = client.fills()
        updates = client.order_updates()
        placed = await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-2"))

        await fake.move_to("BTC", D(58500))  # above the trigger: nothing happens
        await settle()
        assert resting(fake, placed).status == "open"
        assert (await client.position("BTC")) is not None

        await fake.move_to("BTC", D(57000))
        fill = await next_event(fills, lambda f: f.client_order_id == "sl-2")
        assert (fill.side, fill.size, fill.liquidity) == ("sell", D("0.01"), "taker")
        assert fill.price == D(56990)  # the best bid of the book the mark moved to
        assert fill.venue_order_id == placed.venue_order_id
        final = await next_event(
            updates, lambda o: o.client_order_id == "sl-2" and o.status.is_final
        )
        assert (final.status, final.filled_size, final.order_type, final.trigger_price) == (
            OrderStatus.FILLED,
            D("0.01"),
            OrderType.STOP_MARKET,
            D(58000),
        )
        assert await client.position("BTC") is None
        assert await client.open_orders() == []
        status = await client.order_status("BTC", client_order_id="sl-2")
        assert (status.status, status.filled_size) == (OrderStatus.FILLED, D("0.01"))


async def test_a_short_is_protected_by_a_buy_stop_above() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("ETH", "sell", D("0.5"), client_order_id="short")
        fills = client.fills()
        placed = await client.place_order(stop("ETH", "buy", D("0.5"), D(3100), "sl-short"))
        assert resting(fake, placed).px == D(3410)  # trigger + 10 %
        await fake.move_to("ETH", D(3050))
        await settle()
        assert resting(fake, placed).status == "open"
        await fake.move_to("ETH", D(3120))
        fill = await next_event(fills, lambda f: f.client_order_id == "sl-short")
        assert (fill.side, fill.size) == ("buy", D("0.5"))
        assert await client.position("ETH") is None


async def test_a_stop_on_a_k_coin_is_sent_in_venue_units_and_cancels_by_venue_id() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("PEPE", "buy", D(1_500_000), client_order_id="pepe")
        placed = await client.place_order(
            stop("PEPE", "sell", D(1_500_000), D("0.0000115"), "sl-pepe")
        )
        sent = resting(fake, placed)
        # 1,500 kPEPE, trigger 0.0115 per kPEPE, bound 0.01035 (the SDK's, to 5 figures).
        assert (sent.orig, sent.trigger_px, sent.px) == (D(1500), D("0.0115"), D("0.01035"))
        [listed] = await client.open_orders("PEPE")
        assert (listed.size, listed.trigger_price) == (D(1_500_000), D("0.0000115"))
        cancelled = await client.cancel_order("PEPE", listed.venue_order_id or "")
        assert (cancelled.status, cancelled.order_type, cancelled.trigger_price) == (
            OrderStatus.CANCELLED,
            OrderType.STOP_MARKET,
            D("0.0000115"),
        )
        assert resting(fake, placed).status == "canceled"


async def test_a_stop_cancelled_by_client_id_never_fires() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        placed = await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-3"))
        cancelled = await client.cancel_by_client_id("BTC", "sl-3")
        assert (cancelled.client_order_id, cancelled.status, cancelled.filled_size) == (
            "sl-3",
            OrderStatus.CANCELLED,
            D(0),
        )
        assert cancelled.order_type is OrderType.STOP_MARKET
        assert await client.open_orders() == []
        await fake.move_to("BTC", D(57000))
        await settle()
        assert resting(fake, placed).status == "canceled"
        position = await client.position("BTC")
        assert position is not None
        assert position.size == D("0.01")


async def test_a_stop_that_is_not_reduce_only_is_refused_before_anything_is_sent() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(ValueError, match="only ever reduces a position"):
            await client.place_order(
                OrderRequest(
                    symbol="BTC",
                    side="sell",
                    size=D("0.01"),
                    order_type=OrderType.STOP_MARKET,
                    client_order_id="open-stop",
                    trigger_price=D(58000),
                )
            )
        assert exchange_requests(fake) == 0


async def test_a_stop_on_a_flat_position_is_refused_by_the_venue() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(ReduceOnlyRejected, match="Reduce only order would increase"):
            await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-flat"))
        assert await client.open_orders() == []
        assert exchange_requests(fake) == 1


async def test_a_stop_left_behind_a_closed_position_cancels_instead_of_opening_one() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        updates = client.order_updates()
        await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-orphan"))
        await client.place_market_order(
            "BTC", "sell", D("0.01"), client_order_id="close", reduce_only=True
        )
        fills = client.fills()
        await fake.move_to("BTC", D(57000))
        final = await next_event(
            updates, lambda o: o.client_order_id == "sl-orphan" and o.status.is_final
        )
        assert (final.status, final.filled_size) == (OrderStatus.CANCELLED, D(0))
        await settle()
        received = [await anext(fills) for _ in range(fills.pending())]
        assert [f for f in received if f.client_order_id == "sl-orphan"] == []
        assert await client.position("BTC") is None  # never a short


async def test_a_stop_already_through_the_mark_fires_at_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        fills = client.fills()
        await client.place_order(stop("BTC", "sell", D("0.01"), D(61000), "sl-late"))
        fill = await next_event(fills, lambda f: f.client_order_id == "sl-late")
        assert fill.size == D("0.01")
        assert await client.position("BTC") is None


async def test_stop_slippage_sets_the_bound_of_the_triggered_market_order() -> None:
    async with new_fake() as fake, connected(fake, stop_slippage="0.02") as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        placed = await client.place_order(stop("BTC", "sell", D("0.01"), D(58000), "sl-tight"))
        assert resting(fake, placed).px == D(56840)  # 58000 x 0.98
    with pytest.raises(ConfigError, match="stop_slippage must be between 0 and 1"):
        HyperliquidClient(settings(fake, stop_slippage="1.5"))


async def test_an_off_grid_trigger_price_is_refused_before_anything_is_sent() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        sent = exchange_requests(fake)
        with pytest.raises(InvalidOrder, match=r"trigger price 58000\.5 is off Hyperliquid.s grid"):
            await client.place_order(stop("BTC", "sell", D("0.01"), D("58000.5"), "sl-off"))
        assert exchange_requests(fake) == sent
