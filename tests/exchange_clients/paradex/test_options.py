"""Every Paradex client option has an effect."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ExchangeError
from exchange_clients.paradex.client import ParadexClient
from exchange_clients.types import OrderStatus
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import connected, settings

D = Decimal


async def test_streams_off_opens_no_websocket_and_books_come_over_rest() -> None:
    async with FakeParadex() as fake, connected(fake, streams=False) as client:
        assert fake.ws_connection_count() == 0
        book = await client.order_book("BTC", depth=2)
        assert book.bids[0] == (D("60000.0"), D(2))
        assert book.sequence == fake.book_seq["BTC-USD-PERP"]


async def test_ws_ping_interval_is_the_websocket_heartbeat() -> None:
    async with FakeParadex() as fake, connected(fake, ws_ping_interval=7) as client:
        assert client.stream.ws._heartbeat == 7


async def test_order_ack_timeout_bounds_the_wait_for_a_decision() -> None:
    async with FakeParadex() as fake, connected(fake, order_ack_timeout=0) as client:
        # the fake decides at once, but with no time to wait the client reports what the
        # venue answered to the POST: the order is received, not yet decided
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="pending"
        )
        assert placed.status is OrderStatus.PENDING
        assert fake.requests.count(("GET", f"/v1/orders/{placed.venue_order_id}")) == 0
    async with FakeParadex() as fake, connected(fake) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="decided"
        )
        assert placed.status is OrderStatus.OPEN


def test_a_recv_window_under_10_ms_is_refused() -> None:
    fake = FakeParadex()
    with pytest.raises(ExchangeError, match="recv_window_ms"):
        ParadexClient(settings(fake, recv_window_ms=5))
