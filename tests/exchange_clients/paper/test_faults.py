"""Every injected fault of the paper venue, as execution code will meet it."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import ManualClock
from core.errors import (
    DuplicateClientOrderId,
    OrderRejected,
    RequestTimeout,
    VenueUnavailable,
)
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.types import OrderStatus, TimeInForce
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import SYMBOL, D


async def test_latency_delays_every_request_on_the_clock(
    client: PaperExchangeClient, clock: ManualClock
) -> None:
    client.faults = FaultPlan(latency=2.0)
    request = asyncio.create_task(client.balance())
    await asyncio.sleep(0)  # the request starts waiting
    await clock.advance(1.9)
    assert not request.done()
    await clock.advance(0.1)
    assert (await request).wallet == D(10_000)


async def test_the_next_placements_are_rejected_and_create_nothing(
    client: PaperExchangeClient,
) -> None:
    client.faults = FaultPlan(reject_next=2)
    for _ in range(2):
        with pytest.raises(OrderRejected, match="fault injection"):
            await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="r")
    assert await client.open_orders() == []
    order = await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="r")
    assert order.status is OrderStatus.OPEN


async def test_random_rejections_are_seeded(client: PaperExchangeClient) -> None:
    def outcomes(seed: int) -> list[bool]:
        plan = FaultPlan(reject_probability=0.5, seed=seed)
        return [plan.rejects_placement() for _ in range(32)]

    assert outcomes(3) == outcomes(3)
    assert True in outcomes(3)
    assert False in outcomes(3)
    client.faults = FaultPlan(reject_probability=1.0)
    with pytest.raises(OrderRejected):
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="m")


async def test_a_timeout_after_landing_is_resolved_by_client_order_id(
    client: PaperExchangeClient,
) -> None:
    client.faults = FaultPlan(timeout_after_landing=1)
    with pytest.raises(RequestTimeout, match="the order landed"):
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="t")
    landed = await client.order_status(SYMBOL, client_order_id="t")
    assert (landed.status, landed.filled_size) == (OrderStatus.FILLED, D("1"))
    with pytest.raises(DuplicateClientOrderId):  # re-sending it would be a second order
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="t")
    position = await client.position(SYMBOL)
    assert position is not None
    assert position.size == D("1")


async def test_fill_ratio_makes_market_and_ioc_orders_partial(client: PaperExchangeClient) -> None:
    client.faults = FaultPlan(fill_ratio=D("0.5"))
    market = await client.place_market_order(SYMBOL, "buy", D("3"), client_order_id="m")
    assert (market.status, market.filled_size) == (OrderStatus.CANCELLED, D("1.5"))
    assert market.avg_fill_price == (D("100.0") + D("0.5") * D("100.5")) / D("1.5")
    ioc = await client.place_limit_order(
        SYMBOL, "sell", D("0.11"), D("99.0"), client_order_id="i", time_in_force=TimeInForce.IOC
    )
    assert ioc.filled_size == D("0.05")  # 0.055 rounded down to the step
    resting = await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.0"), client_order_id="g")
    assert resting.status is OrderStatus.OPEN  # GTC orders are not capped


async def test_disconnect_fails_requests_and_holds_events_until_reconnected(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    fills = client.fills()
    await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.5"), client_order_id="d")
    client.faults.disconnect()
    with pytest.raises(VenueUnavailable, match="connection lost"):
        await client.balance()
    with pytest.raises(VenueUnavailable):
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="m")

    feed.trade("99.0", "1", "sell")  # the venue keeps matching while we are away
    await feed.settled()
    assert fills.pending() == 0

    client.faults.reconnect()
    status = await client.order_status(SYMBOL, client_order_id="d")
    assert status.status is OrderStatus.FILLED
    assert fills.pending() == 1
    assert (await anext(fills)).client_order_id == "d"


async def test_a_leg_that_never_fills(client: PaperExchangeClient, feed: ScriptedFeed) -> None:
    client.faults = FaultPlan(never_fill={SYMBOL})
    await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.5"), client_order_id="rest")
    feed.trade("99.0", "5", "sell")
    await feed.settled()
    market = await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="m")
    assert (market.status, market.filled_size) == (OrderStatus.EXPIRED, D("0"))
    rest = await client.order_status(SYMBOL, client_order_id="rest")
    assert (rest.status, rest.filled_size) == (OrderStatus.OPEN, D("0"))
    assert await client.positions() == []

    client.faults.never_fill.clear()
    feed.trade("99.0", "5", "sell")
    await feed.settled()
    assert (await client.order_status(SYMBOL, client_order_id="rest")).status is OrderStatus.FILLED


async def test_silent_streams_drop_events_while_requests_still_answer(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    fills, updates = client.fills(), client.order_updates()
    client.faults = FaultPlan(silent_streams=True)
    await client.place_limit_order(SYMBOL, "buy", D("1"), D("99.5"), client_order_id="s")
    feed.trade("99.0", "1", "sell")
    await feed.settled()
    status = await client.order_status(SYMBOL, client_order_id="s")
    assert (status.status, status.filled_size) == (OrderStatus.FILLED, D("1"))
    assert (fills.pending(), updates.pending()) == (0, 0)

    client.faults.silent_streams = False  # what was dropped stays dropped; new events flow
    await client.place_market_order(SYMBOL, "sell", D("1"), client_order_id="after")
    assert fills.pending() == 1
    assert (await anext(fills)).client_order_id == "after"


async def test_a_venue_down_at_connect_refuses_the_connection(feed: ScriptedFeed) -> None:
    client = paper_client(feed, faults=FaultPlan(disconnected=True))
    with pytest.raises(VenueUnavailable, match="connection refused"):
        await client.connect()
    client.faults.reconnect()
    await client.connect()  # the same client connects once the venue answers
    assert (await client.balance()).wallet == D(10_000)
    await client.disconnect()
