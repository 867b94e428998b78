"""Venue economics and venue-side stops through the fake: the published fees of the account's
type, 24 h volume and open interest from orderBookDetails, and stop-loss orders on the wire,
resting, listed, triggered by the mark and cancelled by client id."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ReduceOnlyRejected
from exchange_clients.lighter.client import LighterClient
from exchange_clients.lighter.ids import client_order_index
from exchange_clients.types import FeeSchedule, OrderRequest, OrderStatus, OrderType
from testing.fakes.lighter import STANDARD, FakeLighter
from tests.exchange_clients.lighter.helpers import ACCOUNT, API_KEY, connected, new_fake
from tests.exchange_clients.waiting import next_event

D = Decimal


def stop(side: str, size: str, trigger: str, client_id: str, symbol: str = "BTC") -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side="sell" if side == "sell" else "buy",
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def test_fees_are_the_published_schedule_of_the_account_type() -> None:
    async with new_fake() as fake, connected(fake) as premium:
        assert await premium.fees("BTC") == FeeSchedule(D("0.00004"), D("0.00028"), "published")
    async with FakeLighter() as fake:
        fake.add_account(ACCOUNT, API_KEY, account_type=STANDARD)
        async with connected(fake) as standard:
            assert await standard.fees("ETH") == FeeSchedule(D(0), D(0), "published")
            fills = standard.fills()
            await standard.place_market_order("ETH", "buy", D("0.5"), client_order_id="free-1")
            assert (await next_event(fills)).fee == 0  # and the venue charges nothing


async def test_market_stats_are_daily_quote_volume_and_open_interest_at_the_mark() -> None:
    async with new_fake() as fake, connected(fake) as client:
        btc = fake.market("BTC")
        btc.daily_quote_volume, btc.open_interest = D("98765432.1"), D("1234.5")
        stats = await client.market_stats()
        assert sorted(stats) == ["BTC", "ETH"]
        assert stats["BTC"].volume_24h_usd == D("98765432.1")
        assert stats["BTC"].open_interest_usd == D("1234.5") * fake.mark(btc.market_id)
        assert stats["ETH"].volume_24h_usd == fake.market("ETH").daily_quote_volume


async def test_a_stop_loss_on_the_wire_as_the_sdk_builds_it() -> None:
    async with new_fake() as fake, connected(fake, market_slippage="0.01") as client:
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="long-1")
        placed = await client.place_order(stop("sell", "0.1", "59000", "stop-1"))
        (_, info) = fake.transactions[-1]
        assert (info["Type"], info["TimeInForce"], info["ReduceOnly"], info["IsAsk"]) == (
            2,
            0,
            1,
            1,
        )
        assert info["TriggerPrice"] == 590_000
        assert info["Price"] == 584_100  # 59000 * 0.99: the cap of the market order it becomes
        assert info["OrderExpiry"] > 0  # the SDK's default 28 days, filled in by the signer
        assert info["ClientOrderIndex"] == client_order_index("stop-1")
        assert (placed.order_type, placed.trigger_price, placed.price) == (
            OrderType.STOP_MARKET,
            D(59000),
            None,
        )
        assert (placed.status, placed.size, placed.reduce_only) == (
            OrderStatus.OPEN,
            D("0.1"),
            True,
        )


async def test_a_stop_rests_is_listed_and_cancels_by_client_id() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="long-2")
        await client.place_order(stop("sell", "0.1", "59000", "stop-2"))
        (listed,) = await client.open_orders()  # found through the pending order count
        assert (listed.client_order_id, listed.order_type, listed.trigger_price) == (
            "stop-2",
            OrderType.STOP_MARKET,
            D(59000),
        )
        status = await client.order_status("BTC", client_order_id="stop-2")
        assert status.status is OrderStatus.OPEN
        cancelled = await client.cancel_by_client_id("BTC", "stop-2")
        assert (cancelled.status, cancelled.order_type) == (
            OrderStatus.CANCELLED,
            OrderType.STOP_MARKET,
        )
        await fake.set_mark("BTC", D(50_000))
        position = await client.position("BTC")
        assert position is not None
        assert position.size == D("0.1")  # the cancelled stop did not fire
        assert await client.open_orders() == []


async def test_a_stop_fires_when_the_mark_falls_to_it_and_closes_the_position() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="long-3")
        fills, updates = client.fills(), client.order_updates()
        await client.place_order(stop("sell", "0.1", "59000", "stop-3"))
        await fake.set_mark("BTC", D("59000.1"))  # not yet
        assert (await client.position("BTC")) is not None
        await fake.set_mark("BTC", D(59_000))
        fill = await next_event(fills, lambda f: f.client_order_id == "stop-3")
        assert (fill.side, fill.size, fill.liquidity) == ("sell", D("0.1"), "taker")
        done = await next_event(
            updates, lambda o: o.client_order_id == "stop-3" and o.status.is_final
        )
        assert (done.status, done.order_type, done.trigger_price) == (
            OrderStatus.FILLED,
            OrderType.STOP_MARKET,
            D(59000),
        )
        assert await client.position("BTC") is None


async def test_a_buy_stop_fires_as_the_book_rises() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("ETH", "sell", D("1"), client_order_id="short-4")
        updates = client.order_updates()
        await client.place_order(stop("buy", "1", "3100", "stop-4", symbol="ETH"))
        await fake.set_book(
            "ETH", [(D("3150.00"), D(5))], [(D("3150.50"), D(5)), (D("3151.00"), D(5))]
        )
        done = await next_event(
            updates, lambda o: o.client_order_id == "stop-4" and o.status.is_final
        )
        assert done.status is OrderStatus.FILLED
        assert await client.position("ETH") is None


async def test_a_stop_whose_position_is_gone_is_cancelled_not_opened() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="long-5")
        updates = client.order_updates()
        await client.place_order(stop("sell", "0.1", "59000", "stop-5"))
        await client.place_market_order(
            "BTC", "sell", D("0.1"), client_order_id="flat-5", reduce_only=True
        )
        await fake.set_mark("BTC", D(58_000))
        done = await next_event(
            updates, lambda o: o.client_order_id == "stop-5" and o.status.is_final
        )
        assert (done.status, done.reject_reason) == (OrderStatus.CANCELLED, "reduce-only")
        assert await client.position("BTC") is None


async def test_a_stop_without_a_position_is_refused() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(ReduceOnlyRejected):
            await client.place_order(stop("sell", "0.1", "59000", "stop-6"))
        assert await client.open_orders() == []


def test_a_stop_that_is_not_reduce_only_cannot_be_asked_for() -> None:
    with pytest.raises(ValueError, match="reduce_only"):
        OrderRequest("BTC", "sell", D("0.1"), OrderType.STOP_MARKET, "s-7", trigger_price=D(1))
    assert LighterClient.supports_trigger_orders
