"""Venue economics and venue-side stops through the fake: the account's fee tier, 24 h volume
and open interest, and reduce-only trigger orders resting, listed, triggered and cancelled."""

from __future__ import annotations

import pytest

from core.errors import ReduceOnlyRejected
from exchange_clients.backpack.client import BackpackClient
from exchange_clients.types import FeeSchedule, OrderRequest, OrderStatus, OrderType
from testing.fakes.backpack import FakeBackpack
from tests.exchange_clients.backpack.helpers import (
    API_KEY,
    OTHER_KEY,
    OTHER_SECRET,
    D,
    connected,
    running,
    settings,
)
from tests.exchange_clients.waiting import next_event, until


def stop(symbol: str, side: str, size: str, trigger: str, client_id: str) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side="sell" if side == "sell" else "buy",
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def test_fees_are_the_accounts_own_tier_in_basis_points() -> None:
    async with FakeBackpack() as fake:
        fake.add_account(API_KEY)
        fake.add_account(OTHER_KEY, maker_fee=D("-0.00005"), taker_fee=D("0.00032"))
        async with connected(fake) as base:
            assert await base.fees("BTC") == FeeSchedule(D("0.0002"), D("0.0005"), "account")
        vip = BackpackClient(settings(fake, OTHER_KEY, OTHER_SECRET))
        await vip.connect()
        try:
            assert await vip.fees("ETH") == FeeSchedule(D("-0.00005"), D("0.00032"), "account")
        finally:
            await vip.disconnect()


async def test_fills_are_charged_at_the_accounts_tier() -> None:
    async with FakeBackpack() as fake:
        fake.add_account(API_KEY, taker_fee=D("0.0003"))
        async with connected(fake) as client:
            fills = client.fills()
            await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="fee-1")
            fill = await next_event(fills)
            assert fill.fee == fill.price * fill.size * D("0.0003")


async def test_market_stats_are_quote_volume_and_open_interest_at_the_mark() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.volumes["ETH_USDC_PERP"] = D("123456.78")
        fake.open_interest["ETH_USDC_PERP"] = D("10.5")
        stats = await client.market_stats()
        assert sorted(stats) == ["BTC", "ETH", "PEPE"]  # perps only, by our symbol
        eth = stats["ETH"]
        mark = fake.mark_price("ETH_USDC_PERP")
        assert (eth.symbol, eth.volume_24h_usd, eth.open_interest_usd) == (
            "ETH",
            D("123456.78"),
            D("10.5") * mark,
        )
        # kPEPE: 9,876,543 contracts of 1,000 PEPE at the contract's mark price
        assert stats["PEPE"].open_interest_usd == D(9876543) * fake.mark_price("kPEPE_USDC_PERP")
        assert ("GET", "/api/v1/tickers") in fake.requests
        assert ("GET", "/api/v1/openInterest") in fake.requests


async def test_a_stop_rests_as_a_trigger_order_and_is_listed_as_stop_market() -> None:
    async with running() as (fake, account), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-1")
        placed = await client.place_order(stop("BTC", "sell", "0.01", "59000", "stop-1"))
        assert placed.order_type is OrderType.STOP_MARKET
        assert (placed.trigger_price, placed.size, placed.price) == (D(59000), D("0.01"), None)
        assert placed.status is OrderStatus.OPEN
        assert placed.reduce_only
        signed = next(s for s in fake.signing_strings if "triggerPrice" in s)
        assert "triggerBy=MarkPrice" in signed
        assert "triggerQuantity=0.01" in signed
        assert "&quantity=" not in signed  # triggerQuantity stands in for it
        (resting,) = [o for o in account.orders.values() if o.status == "TriggerPending"]
        assert resting.trigger_price == D(59000)
        (listed,) = await client.open_orders("BTC")
        assert (listed.client_order_id, listed.order_type, listed.trigger_price) == (
            "stop-1",
            OrderType.STOP_MARKET,
            D(59000),
        )
        status = await client.order_status("BTC", client_order_id="stop-1")
        assert (status.status, status.trigger_price) == (OrderStatus.OPEN, D(59000))
        assert account.position("BTC_USDC_PERP").amount == D("0.01")  # nothing executed


async def test_a_stop_fires_when_the_mark_crosses_and_closes_the_position() -> None:
    async with running() as (fake, account), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-2")
        updates, fills = client.order_updates(), client.fills()
        await client.place_order(stop("BTC", "sell", "0.01", "59000", "stop-2"))
        await fake.set_mark_price("BTC_USDC_PERP", D("59500"))  # not yet
        assert account.position("BTC_USDC_PERP").amount == D("0.01")
        await fake.set_mark_price("BTC_USDC_PERP", D("58999.9"))
        fill = await next_event(fills, lambda f: f.client_order_id == "stop-2")
        assert (fill.side, fill.size, fill.liquidity) == ("sell", D("0.01"), "taker")
        done = await next_event(
            updates, lambda o: o.client_order_id == "stop-2" and o.status is OrderStatus.FILLED
        )
        assert (done.order_type, done.trigger_price) == (OrderType.STOP_MARKET, D(59000))
        assert account.position("BTC_USDC_PERP").amount == 0
        final = await client.order_status("BTC", client_order_id="stop-2")
        assert (final.status, final.filled_size) == (OrderStatus.FILLED, D("0.01"))
        assert await client.open_orders("BTC") == []


async def test_a_stop_above_the_market_fires_as_the_price_rises() -> None:
    async with running() as (fake, account), connected(fake) as client:
        await client.place_market_order("ETH", "sell", D("0.5"), client_order_id="short-1")
        updates = client.order_updates()
        await client.place_order(stop("ETH", "buy", "0.5", "3100", "stop-3"))
        await fake.set_book(
            "ETH_USDC_PERP", [("3120.00", "40")], [("3120.01", "40"), ("3121.00", "40")]
        )
        await next_event(
            updates, lambda o: o.client_order_id == "stop-3" and o.status is OrderStatus.FILLED
        )
        assert account.position("ETH_USDC_PERP").amount == 0


async def test_a_stop_whose_position_is_gone_fails_instead_of_opening_one() -> None:
    async with running() as (fake, account), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-4")
        updates = client.order_updates()
        await client.place_order(stop("BTC", "sell", "0.01", "59000", "stop-4"))
        await client.place_market_order(
            "BTC", "sell", D("0.01"), client_order_id="flat-4", reduce_only=True
        )
        await fake.set_mark_price("BTC_USDC_PERP", D(58000))
        failed = await next_event(
            updates, lambda o: o.client_order_id == "stop-4" and o.status.is_final
        )
        assert failed.status is OrderStatus.REJECTED
        assert account.position("BTC_USDC_PERP").amount == 0


async def test_a_stop_is_cancelled_by_client_id() -> None:
    async with running() as (fake, account), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-5")
        await client.place_order(stop("BTC", "sell", "0.01", "59000", "stop-5"))
        cancelled = await client.cancel_by_client_id("BTC", "stop-5")
        assert (cancelled.status, cancelled.order_type) == (
            OrderStatus.CANCELLED,
            OrderType.STOP_MARKET,
        )
        await fake.set_mark_price("BTC_USDC_PERP", D(50000))
        await until(lambda: fake.mark_price("BTC_USDC_PERP") == D(50000))
        assert account.position("BTC_USDC_PERP").amount == D("0.01")  # the stop is gone
        assert await client.open_orders() == []


async def test_a_stop_without_a_position_to_reduce_is_refused() -> None:
    async with running() as (fake, account), connected(fake) as client:
        with pytest.raises(ReduceOnlyRejected):
            await client.place_order(stop("BTC", "sell", "0.01", "59000", "stop-6"))
        assert account.orders == {}


def test_a_stop_that_is_not_reduce_only_cannot_be_asked_for() -> None:
    with pytest.raises(ValueError, match="reduce_only"):
        OrderRequest(
            "BTC", "sell", D("0.01"), OrderType.STOP_MARKET, "stop-7", trigger_price=D(59000)
        )
    assert BackpackClient.supports_trigger_orders


async def test_the_fake_refuses_a_trigger_price_without_a_trigger_quantity() -> None:
    """The venue's rule ("Must specify both triggerPrice and triggerQuantity or neither"),
    checked on a signed request the client did not build."""
    async with running() as (fake, _), connected(fake) as client:
        with pytest.raises(Exception, match="triggerQuantity"):
            await client.rest.signed(
                "POST",
                "/api/v1/order",
                "orderExecute",
                {
                    "symbol": "BTC_USDC_PERP",
                    "side": "Ask",
                    "orderType": "Market",
                    "quantity": D("0.01"),
                    "triggerPrice": D(59000),
                },
                idempotent=False,
            )
