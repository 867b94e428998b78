"""Binance USD-M: the account's fee tier, 24 h volume and open interest, and venue-side
stop-losses through the Algo Service - all against the fake Binance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from core.errors import AuthenticationFailed, InvalidOrder, OrderNotFound
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.types import (
    ClientSettings,
    FeeSchedule,
    OrderRequest,
    OrderStatus,
    OrderType,
)
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.binance_style.helpers import (
    API_KEY,
    API_SECRET,
    connected,
    eventually,
    hmac_settings,
    next_matching,
)

D = Decimal


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance() as venue:
        venue.add_account(api_key=API_KEY, api_secret=API_SECRET)
        yield venue


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[BinanceStyleClient]:
    async with connected(hmac_settings("binance", fake)) as connected_client:
        yield connected_client


def requests_to(fake: FakeBinance, path: str) -> int:
    return sum(1 for _, p in fake.requests if p == path)


def stop(client_id: str, trigger: str, size: str = "0.01", side: str = "sell") -> OrderRequest:
    return OrderRequest(
        symbol="BTC",
        side="sell" if side == "sell" else "buy",
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


# --- fees -----------------------------------------------------------------------------------


async def test_fees_are_the_accounts_tier_and_a_tier_change_shows_once_the_cache_lapses(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    assert await client.fees("BTC") == FeeSchedule(D("0.0002"), D("0.0005"), "account")
    fake.set_fees(fake.accounts[0], D("0.00016"), D("0.0004"))
    await client.fees("BTC")
    assert requests_to(fake, "/fapi/v1/commissionRate") == 1  # weight 20: kept an hour
    client._fees.ttl = 0  # the hour has passed
    assert await client.fees("BTC") == FeeSchedule(D("0.00016"), D("0.0004"), "account")
    # and the new tier is what fills are charged
    fills = client.fills()
    await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="fee-1")
    fill = await next_matching(fills, lambda f: f.client_order_id == "fee-1")
    assert fill.fee == fill.price * fill.size * D("0.0004")


async def test_fees_without_credentials_say_why(fake: FakeBinance) -> None:
    settings = ClientSettings(
        venue="binance", options={"base_url": fake.base_url, "ws_url": fake.ws_url}
    )
    async with connected(settings) as public:
        with pytest.raises(AuthenticationFailed, match="account's own tier"):
            await public.fees("BTC")


# --- market stats ---------------------------------------------------------------------------


async def test_stats_report_volume_and_open_interest_in_usd_bundled_contracts_included(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    stats = await client.market_stats()
    assert set(stats) == {"BTC", "ETH", "PEPE"}
    btc, pepe = stats["BTC"], stats["PEPE"]
    assert btc.volume_24h_usd == D("12500000000.50")
    btc_mark = fake.mark_price("BTCUSDT")
    assert btc.open_interest_usd == D("80000.125") * btc_mark
    # 1000PEPE: 4e9 contracts of 1,000 PEPE at the mark per 1,000 PEPE
    assert pepe.volume_24h_usd == D(350_000_000)
    assert pepe.open_interest_usd == D(4_000_000_000) * fake.mark_price("1000PEPEUSDT")
    assert pepe.open_interest_usd == D(4_000_000_000_000) * (fake.mark_price("1000PEPEUSDT") / 1000)


async def test_stats_are_cached_so_a_scan_does_not_fire_a_request_per_market(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    await client.market_stats()
    assert requests_to(fake, "/fapi/v1/openInterest") == 3  # one per listed market
    assert requests_to(fake, "/fapi/v1/ticker/24hr") == 1
    await client.market_stats()
    await client.market_stats()
    assert requests_to(fake, "/fapi/v1/openInterest") == 3
    assert requests_to(fake, "/fapi/v1/ticker/24hr") == 1
    # a trade here moves volume and open interest once the caches lapse
    await client.place_market_order("BTC", "buy", D("0.5"), client_order_id="oi-1")
    client._volumes.ttl = client._marks.ttl = client._open_interest.ttl = 0
    after = (await client.market_stats())["BTC"]
    assert after.open_interest_usd == (D("80000.125") + D("0.5")) * fake.mark_price("BTCUSDT")
    assert after.volume_24h_usd is not None
    assert after.volume_24h_usd > D("12500000000.50")


# --- venue-side stops -----------------------------------------------------------------------


async def test_the_order_endpoint_refuses_stops_as_binance_does_since_the_algo_migration(
    fake: FakeBinance,
) -> None:
    """The fake is faithful: a STOP_MARKET sent to /fapi/v1/order gets -4120."""
    from exchange_clients.binance_style.stops import stop_params

    async with connected(hmac_settings("binance", fake)) as client:
        market = await client.market("BTC")
        params = stop_params(stop("old-way", "60000"), market, "order")
        with pytest.raises(Exception, match="-4120"):
            await client.rest.signed("POST", "/fapi/v1/order", params)


async def test_a_stop_rests_in_the_algo_service_and_is_visible_and_cancellable_by_client_id(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-1")
    order = await client.place_order(stop("sl-1", "60000.0"))
    assert (order.order_type, order.trigger_price, order.status) == (
        OrderType.STOP_MARKET,
        D("60000.0"),
        OrderStatus.OPEN,
    )
    assert order.venue_order_id is not None
    assert order.venue_order_id.startswith("algo:")
    algo = next(iter(fake.accounts[0].algo_orders.values()))
    assert (algo.working_type, algo.reduce_only, algo.trigger) == ("MARK_PRICE", True, D(60000))
    assert requests_to(fake, "/fapi/v1/algoOrder") == 1

    listed = await client.open_orders("BTC")
    assert [(o.client_order_id, o.order_type, o.trigger_price) for o in listed] == [
        ("sl-1", OrderType.STOP_MARKET, D("60000.0"))
    ]
    assert (await client.order_status("BTC", client_order_id="sl-1")).status is OrderStatus.OPEN

    cancelled = await client.cancel_by_client_id("BTC", "sl-1")
    assert (cancelled.status, cancelled.order_type) == (
        OrderStatus.CANCELLED,
        OrderType.STOP_MARKET,
    )
    assert algo.status == "CANCELED"
    assert await client.open_orders("BTC") == []
    with pytest.raises(OrderNotFound):
        await client.cancel_order("BTC", order.venue_order_id)


async def test_a_stop_this_process_did_not_place_is_found_and_cancelled_by_client_id(
    fake: FakeBinance,
) -> None:
    async with connected(hmac_settings("binance", fake)) as first:
        await first.place_order(stop("sl-other", "60000.0"))
    async with connected(hmac_settings("binance", fake)) as second:  # e.g. after a restart
        found = await second.order_status("BTC", client_order_id="sl-other")
        assert (found.order_type, found.status) == (OrderType.STOP_MARKET, OrderStatus.OPEN)
        cancelled = await second.cancel_by_client_id("BTC", "sl-other")
        assert cancelled.status is OrderStatus.CANCELLED


async def test_a_stop_triggers_when_the_mark_crosses_and_fills_reduce_only_once(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    fills = client.fills()
    updates = client.order_updates()
    await client.place_market_order("BTC", "buy", D("0.02"), client_order_id="long-2")
    await next_matching(fills, lambda f: f.client_order_id == "long-2")
    placed = await client.place_order(stop("sl-2", "63000.0", size="0.05"))  # more than held

    await fake.set_mark_price("BTCUSDT", "63500")  # above the trigger: nothing happens
    assert fake.accounts[0].position("BTCUSDT").amount == D("0.02")
    await fake.set_mark_price("BTCUSDT", "62999.9")

    fill = await next_matching(fills, lambda f: f.client_order_id == "sl-2")
    assert (fill.side, fill.size, fill.venue_order_id) == ("sell", D("0.02"), placed.venue_order_id)
    final = await next_matching(
        updates, lambda o: o.client_order_id == "sl-2" and o.status.is_final
    )
    assert (final.order_type, final.status, final.filled_size, final.trigger_price) == (
        OrderType.STOP_MARKET,
        OrderStatus.FILLED,
        D("0.02"),
        D("63000.0"),
    )
    assert final.venue_order_id == placed.venue_order_id
    assert fake.accounts[0].position("BTCUSDT").amount == 0  # reduce-only: never flipped short
    status = await client.order_status("BTC", client_order_id="sl-2")
    assert (status.status, status.filled_size) == (OrderStatus.FILLED, D("0.02"))
    assert status.fee_paid == fill.fee
    await eventually(lambda: not fills.pending(), "no second copy of the fill")
    assert await client.open_orders("BTC") == []


async def test_a_triggered_stop_with_no_position_left_is_rejected_not_opened(
    client: BinanceStyleClient, fake: FakeBinance
) -> None:
    updates = client.order_updates()
    await client.place_order(stop("sl-flat", "63000.0"))
    await fake.set_mark_price("BTCUSDT", "62000")
    rejected = await next_matching(
        updates, lambda o: o.client_order_id == "sl-flat" and o.status.is_final
    )
    assert rejected.status is OrderStatus.REJECTED
    assert fake.accounts[0].position("BTCUSDT").amount == 0


async def test_a_stop_on_the_wrong_side_of_the_mark_is_refused(
    client: BinanceStyleClient,
) -> None:
    with pytest.raises(InvalidOrder, match="immediately trigger"):
        await client.place_order(stop("sl-bad", "65000.0"))  # a sell stop above the mark


def test_a_stop_that_could_add_to_a_position_cannot_even_be_asked_for() -> None:
    with pytest.raises(ValueError, match="reduce_only"):
        OrderRequest(
            symbol="BTC",
            side="sell",
            size=D("0.01"),
            order_type=OrderType.STOP_MARKET,
            client_order_id="sl-open",
            trigger_price=D(60000),
        )


async def test_cancel_all_cancels_stops_too(client: BinanceStyleClient, fake: FakeBinance) -> None:
    await client.place_limit_order("BTC", "buy", D("0.01"), D(50_000), client_order_id="lim-1")
    await client.place_order(stop("sl-3", "60000.0"))
    cancelled = await client.cancel_all("BTC")
    assert sorted(o.client_order_id for o in cancelled) == ["lim-1", "sl-3"]
    assert requests_to(fake, "/fapi/v1/algoOpenOrders") == 1
    assert await client.open_orders() == []
