"""REST faults: 429 (retried after Retry-After), 5xx on reads (retried) and on orders (outcome
unknown -> RequestTimeout, resolved by client order id)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DuplicateClientOrderId, RequestTimeout
from exchange_clients.types import OrderStatus
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import connected

D = Decimal


async def test_throttled_orders_are_retried_and_land_once() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        fake.fail_next(429, 2, path="/v1/orders")
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="throttled"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count(("POST", "/v1/orders")) == 3
        assert len(await client.open_orders()) == 1


async def test_a_5xx_on_a_read_is_retried() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        fake.fail_next(502, 2, path="/v1/balance")
        assert (await client.balance()).wallet == D(100_000)


async def test_a_5xx_after_an_order_landed_is_a_timeout_resolved_by_client_id() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        fake.fail_next(502, path="/v1/orders", after_processing=True)
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="unknown-outcome"
            )
        found = await client.order_status("BTC", client_order_id="unknown-outcome")
        assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.001"), D(59_000))
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="unknown-outcome"
            )
        assert fake.requests.count(("POST", "/v1/orders")) == 1  # never resent blindly
