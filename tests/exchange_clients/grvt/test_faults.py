"""REST faults through the fake: 429 with Retry-After, 5xx on reads (retried) and on orders
(outcome unknown -> RequestTimeout, resolved by client order id), slow answers."""

from __future__ import annotations

import pytest

from core.errors import DuplicateClientOrderId, RequestTimeout, VenueUnavailable
from exchange_clients.types import OrderStatus
from tests.exchange_clients.grvt.helpers import D, connected, running

CREATE = "/full/v1/create_order"


async def test_throttled_requests_wait_and_go_through_once() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        fake.fail_next(2, status=429, retry_after=0.05, path=CREATE)
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59000), client_order_id="t-1"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count(CREATE) == 3
        assert len(sub.orders) == 1


async def test_a_5xx_on_a_read_is_retried_and_a_lasting_one_is_unavailable() -> None:
    async with running() as (fake, _), connected(fake, retries=1) as client:
        fake.fail_next(1, status=502, path="/full/v1/account_summary")
        assert (await client.balance()).wallet == D(10_000)
        fake.fail_next(5, status=503, path="/full/v1/positions")
        with pytest.raises(VenueUnavailable, match="HTTP 503"):
            await client.positions()


async def test_a_5xx_on_an_order_is_a_timeout_resolved_by_client_id() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        fake.fail_next(1, status=502, after_processing=True, path=CREATE)
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="u-1"
            )
        found = await client.order_status("BTC", client_order_id="u-1")
        assert (found.status, found.client_order_id) == (OrderStatus.OPEN, "u-1")
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="u-1"
            )
        assert len(sub.orders) == 1


async def test_slow_answers_raise_request_timeout() -> None:
    async with running() as (fake, _), connected(fake, timeout=0.3, retries=1) as client:
        fake.delay = 1.0
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="slow"
            )


async def test_streams_off_reads_books_over_rest_only() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        assert client.market_stream is None
        assert client.trade_stream is None
        assert fake.ws_connection_count == 0
        await client.order_book("BTC")
        await client.order_book("BTC")
        assert fake.requests.count("/full/v1/book") == 2


async def test_the_request_budget_option_is_applied() -> None:
    async with running() as (fake, _), connected(fake, rate_limit_per_minute=120) as client:
        limiter = client.transport.limiter
        assert limiter is not None
        assert limiter.rate == pytest.approx(2.0)
