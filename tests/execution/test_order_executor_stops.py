"""Venue-side stops through the executor: journaled before they are sent (with their trigger),
replaced new-first, on the real paper venue (scripted book) and both databases.

Book (tests/exchange_clients/paper/helpers.py): bids 99.5/99.0/98.5, asks 100.0/100.5/101.0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from database.models import Order as OrderRow
from exchange_clients.types import Order, OrderRequest, OrderStatus, OrderType
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START, D
from tests.execution.test_order_executor import Rig, build_rig

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def rig(db_sessions: Sessions) -> AsyncIterator[Rig]:
    clock = ManualClock(START)
    async with build_rig(db_sessions, ScriptedFeed(clock), clock) as built:
        await built.client.place_market_order("BTC", "buy", D(2), client_order_id="long")
        yield built


async def rows(rig: Rig) -> list[tuple[object, ...]]:
    async with rig.sessions() as session:
        found = await session.scalars(
            select(OrderRow).where(OrderRow.purpose == "stop").order_by(OrderRow.id)
        )
        return [
            (r.order_type, r.side, r.trigger_price, r.size, r.status, r.reduce_only) for r in found
        ]


async def test_a_stop_is_journaled_with_its_trigger_before_it_is_sent(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_at_send: list[list[tuple[object, ...]]] = []
    send = rig.client.place_order

    async def place_order(request: OrderRequest) -> Order:
        seen_at_send.append(await rows(rig))
        return await send(request)

    monkeypatch.setattr(rig.client, "place_order", place_order)
    placed = await rig.executor.place_stop("BTC", "sell", D(2), D("97.0"), purpose="stop")
    assert placed is not None
    assert (placed.order_type, placed.status, placed.trigger_price) == (
        OrderType.STOP_MARKET,
        OrderStatus.OPEN,
        D("97.0"),
    )
    assert seen_at_send == [[("stop_market", "sell", D("97.0"), D(2), "pending", True)]]
    await rig.executor._tracker.flush()
    assert await rows(rig) == [("stop_market", "sell", D("97.0"), D(2), "open", True)]
    journaled = await rig.executor._journal.get(placed.client_order_id)
    assert journaled.as_order().trigger_price == D("97.0")


async def test_replace_places_the_new_stop_before_cancelling_the_old(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await rig.executor.place_stop("BTC", "sell", D(2), D("97.0"), purpose="stop")
    assert old is not None
    order_of_calls: list[str] = []
    tracker = rig.executor._tracker
    send, cancel = rig.client.place_order, rig.client.cancel_by_client_id

    async def place_order(request: OrderRequest) -> Order:
        order_of_calls.append(f"place {request.trigger_price}")
        assert len([o for o in await rig.client.open_orders() if o.trigger_price]) == 1
        return await send(request)

    async def cancel_by_client_id(symbol: str, client_order_id: str) -> Order:
        order_of_calls.append(f"cancel {client_order_id}")
        return await cancel(symbol, client_order_id)

    monkeypatch.setattr(rig.client, "place_order", place_order)
    monkeypatch.setattr(rig.client, "cancel_by_client_id", cancel_by_client_id)
    new = await rig.executor.replace_stop(
        old.client_order_id, "BTC", "sell", D(2), D("98.0"), purpose="stop"
    )
    assert new is not None
    assert order_of_calls == ["place 98.0", f"cancel {old.client_order_id}"]
    assert [(o.client_order_id, o.trigger_price) for o in await rig.client.open_orders()] == [
        (new.client_order_id, D("98.0"))
    ]
    await tracker.flush()
    assert await rows(rig) == [
        ("stop_market", "sell", D("97.0"), D(2), "cancelled", True),
        ("stop_market", "sell", D("98.0"), D(2), "open", True),
    ]


async def test_a_refused_replacement_leaves_the_old_stop_in_place(rig: Rig) -> None:
    old = await rig.executor.place_stop("BTC", "sell", D(2), D("97.0"), purpose="stop")
    assert old is not None
    # 99.9 is above the mark (99.75): the venue refuses a stop that would fire at once.
    new = await rig.executor.replace_stop(
        old.client_order_id, "BTC", "sell", D(2), D("99.9"), purpose="stop"
    )
    assert new is None
    assert [o.client_order_id for o in await rig.client.open_orders()] == [old.client_order_id]
    await rig.executor._tracker.flush()
    assert [row[4] for row in await rows(rig)] == ["open", "rejected"]
