"""Orders through the client: Stark-signed at the venue's clock, decided before returning."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import InvalidOrder, PostOnlyWouldCross
from exchange_clients.types import OrderRequest, OrderStatus, OrderType
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import connected

D = Decimal


async def test_a_limit_order_carries_the_signed_scaled_values_and_rests() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.0013"), D("59000.1"), client_order_id="limit-1"
        )
        assert (placed.status, placed.size, placed.price) == (
            OrderStatus.OPEN,
            D("0.0013"),
            D("59000.1"),
        )
        assert fake.order_signatures_verified == 1
        (order,) = [o for a in fake.accounts.values() for o in a.orders.values()]
        assert (order.size, order.price, order.client_id) == (D("0.0013"), D("59000.1"), "limit-1")


async def test_a_market_order_fills_and_reports_its_average_price() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        filled = await client.place_market_order("BTC", "buy", D("3"), client_order_id="mkt-1")
        assert filled.status is OrderStatus.FILLED
        assert filled.avg_fill_price == (D("60000.1") * 2 + D("60000.2")) / 3


async def test_an_order_signed_too_long_ago_is_refused_by_recv_window() -> None:
    async with FakeParadex() as fake, connected(fake, recv_window_ms=50) as client:
        client.rest.clock_offset_ms -= 10_000  # our clock drifted 10 s behind since connect
        with pytest.raises(InvalidOrder, match="recv_window"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="late"
            )
        client.rest.clock_offset_ms += 10_000
        # refused outright: the id is free again
        await client.place_limit_order("BTC", "buy", D("0.001"), D(59_000), client_order_id="late")


async def test_a_stop_market_rests_untriggered_and_fires_on_the_mark() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="open")
        stop = await client.place_order(
            OrderRequest(
                "BTC",
                "sell",
                D("0.01"),
                OrderType.STOP_MARKET,
                "stop-1",
                reduce_only=True,
                trigger_price=D(55_000),
            )
        )
        (raw,) = [
            o for a in fake.accounts.values() for o in a.orders.values() if o.client_id == "stop-1"
        ]
        assert (raw.status, raw.order_type, raw.reduce_only) == ("UNTRIGGERED", "STOP_MARKET", True)
        assert (stop.status, stop.trigger_price) == (OrderStatus.OPEN, D(55_000))
        await fake.set_mark_price("BTC-USD-PERP", D(54_000))
        final = await client.order_status("BTC", client_order_id="stop-1")
        assert (final.status, final.filled_size) == (OrderStatus.FILLED, D("0.01"))
        assert await client.position("BTC") is None


async def test_invalid_client_ids_are_refused_before_sending() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        with pytest.raises(InvalidOrder, match="characters"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="a b"
            )
        assert ("POST", "/v1/orders") not in fake.requests


async def test_cancel_all_closes_every_open_order() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        for n in range(3):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000 - n), client_order_id=f"many-{n}"
            )
        cancelled = await client.cancel_all("BTC")
        assert sorted(o.client_order_id for o in cancelled) == ["many-0", "many-1", "many-2"]
        assert all(o.status is OrderStatus.CANCELLED for o in cancelled)
        assert await client.open_orders() == []


async def test_orders_and_cancels_decided_after_the_answer_are_waited_for() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        fake.decision_delay = 0.15  # the engine decides after answering, as Paradex does
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="slow"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count(("GET", f"/v1/orders/{placed.venue_order_id}")) >= 2
        with pytest.raises(PostOnlyWouldCross):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D("60000.1"), client_order_id="slow-po", post_only=True
            )
        cancelled = await client.cancel_by_client_id("BTC", "slow")
        assert cancelled.status is OrderStatus.CANCELLED


async def test_an_accepted_order_not_readable_yet_is_waited_for() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        fake.decision_delay = 0.05
        fake.unreadable_gets = 2
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="lagging"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.unreadable_gets == 0
