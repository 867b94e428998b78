"""REST faults through the fake: 429 + Retry-After, 5xx on reads (retried) and on orders
(outcome unknown -> RequestTimeout, resolved by client order id), slow answers."""

from __future__ import annotations

import pytest

from core.errors import DuplicateClientOrderId, RequestTimeout, VenueUnavailable
from exchange_clients.types import OrderStatus
from tests.exchange_clients.backpack.helpers import D, connected, running


async def test_throttled_requests_wait_for_retry_after_and_go_through_once() -> None:
    async with running() as (fake, account), connected(fake) as client:
        fake.fail_next(2, status=429, retry_after=0.05)
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59000), client_order_id="throttled"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count(("POST", "/api/v1/order")) == 3  # two 429s, never processed
        assert len(account.orders) == 1


async def test_a_5xx_on_a_read_is_retried() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fake.fail_next(2, status=502, path="/api/v1/capital/collateral")
        balance = await client.balance()
        assert balance.wallet == D(10_000)


async def test_a_5xx_that_persists_on_a_read_is_venue_unavailable() -> None:
    async with running() as (fake, _), connected(fake, retries=1) as client:
        fake.fail_next(5, status=503, path="/api/v1/position")
        with pytest.raises(VenueUnavailable, match="HTTP 503"):
            await client.positions()


async def test_a_5xx_on_an_order_is_a_timeout_resolved_by_client_id() -> None:
    async with running() as (fake, account), connected(fake) as client:
        fake.fail_next(1, status=502, after_processing=True, path="/api/v1/order")
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="unknown-outcome"
            )
        found = await client.order_status("BTC", client_order_id="unknown-outcome")
        assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.001"), D(59000))
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="unknown-outcome"
            )
        assert len(account.orders) == 1


async def test_slow_answers_raise_request_timeout() -> None:
    async with running() as (fake, _), connected(fake, timeout=0.3, retries=1) as client:
        fake.delay = 1.0
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="slow"
            )
        with pytest.raises(RequestTimeout):
            await client.positions()
        fake.delay = 0.0
        found = await client.order_status("BTC", client_order_id="slow")
        assert found.status is OrderStatus.OPEN


async def test_a_stream_that_cannot_reconnect_keeps_rest_working() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.order_book("BTC")
        await fake.drop_connections(refuse_for=30)
        book = await client.order_book("BTC", depth=3)  # answered from a REST snapshot
        assert book.best_bid == D("60000.0")
