"""REST faults through the fake: 429 and 5xx on reads retried, an order whose answer is lost is
a timeout resolved by its client order id (never sent twice), and the venue's refusals mapped."""

from __future__ import annotations

import pytest

from core.errors import (
    DuplicateClientOrderId,
    InsufficientMargin,
    RateLimited,
    RequestTimeout,
    UnknownSymbol,
    VenueUnavailable,
)
from exchange_clients.edgex.wire import EdgexError, error_for
from exchange_clients.types import OrderStatus
from tests.exchange_clients.edgex.helpers import D, connected, next_event, running

CREATE = "/api/v2/private/order/createOrder"
ASSET = "/api/v2/private/account/getAccountAsset"


async def test_throttled_and_failing_reads_are_retried() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        fake.fail_next(1, status=429, path=ASSET)
        fake.fail_next(1, status=502, path=ASSET)
        assert (await client.balance()).wallet == D(10_000)
        assert fake.requests.count(("GET", ASSET)) == 3


async def test_a_5xx_that_persists_is_venue_unavailable() -> None:
    async with running() as (fake, _), connected(fake, streams=False, retries=1) as client:
        fake.fail_next(5, status=503, path=ASSET)
        with pytest.raises(VenueUnavailable):
            await client.positions()


async def test_a_lost_order_answer_is_a_timeout_resolved_by_client_id() -> None:
    async with running() as (fake, account), connected(fake, streams=False) as client:
        fake.fail_next(1, status=502, after_processing=True, path=CREATE)
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.002"), D(59000), client_order_id="lost-answer"
            )
        found = await client.order_status("BTC", client_order_id="lost-answer")
        assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.002"), D(59000))
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.002"), D(59000), client_order_id="lost-answer"
            )
        assert fake.requests.count(("POST", CREATE)) == 1
        assert len(account.orders) == 1


async def test_an_order_beyond_the_margin_is_insufficient_margin() -> None:
    async with running(cash=D(10)) as (fake, _), connected(fake, streams=False) as client:
        with pytest.raises(InsufficientMargin):
            await client.place_limit_order(
                "BTC", "buy", D("0.01"), D(59000), client_order_id="too-big"
            )
        assert fake.rejections == ["INSUFFICIENT_MARGIN"]


def test_refusals_map_to_our_errors_and_name_the_code() -> None:
    label = "POST /api/v2/private/order/createOrder"
    assert isinstance(
        error_for(200, "CONTRACT_NOT_FOUND", "x", venue="edgex", label=label), UnknownSymbol
    )
    assert isinstance(error_for(429, "HTTP 429", "", venue="edgex", label=label), RateLimited)
    other = error_for(200, "SOMETHING_NEW", "odd", venue="edgex", label=label)
    assert isinstance(other, EdgexError)
    assert other.code == "SOMETHING_NEW"
    assert "SOMETHING_NEW odd" in str(other)


async def test_an_id_another_process_already_used_is_a_duplicate() -> None:
    async with running() as (fake, account):
        async with connected(fake, streams=False) as first:
            await first.place_limit_order(
                "BTC", "buy", D("0.002"), D(59000), client_order_id="restarted-1"
            )
        async with connected(fake, streams=False) as second:  # a restarted process
            with pytest.raises(DuplicateClientOrderId):
                await second.place_limit_order(
                    "BTC", "buy", D("0.002"), D(58000), client_order_id="restarted-1"
                )
            found = await second.order_status("BTC", client_order_id="restarted-1")
            assert (found.price, found.status) == (D(59000), OrderStatus.OPEN)
        assert len(account.orders) == 1


async def test_an_immediate_order_is_polled_until_the_engine_has_matched_it() -> None:
    async with running() as (fake, _):
        fake.matching_delay = 0.2
        async with connected(fake, streams=False) as client:
            filled = await client.place_market_order("BTC", "buy", D("0.002"), client_order_id="m1")
            assert (filled.status, filled.filled_size) == (OrderStatus.FILLED, D("0.002"))
        async with connected(fake, streams=False, market_fill_wait=0) as impatient:
            pending = await impatient.place_market_order(
                "BTC", "buy", D("0.002"), client_order_id="m2"
            )
            assert (pending.status, pending.filled_size) == (OrderStatus.OPEN, 0)
            resting = await impatient.place_limit_order(
                "BTC", "buy", D("0.002"), D(59000), client_order_id="l1"
            )
            assert resting.status is OrderStatus.OPEN  # a resting order is never waited for


async def test_an_order_the_venue_does_not_list_yet_is_reported_accepted() -> None:
    async with running() as (fake, _), connected(fake, market_fill_wait=0.1) as client:
        fake.listing_delay = 0.5
        updates = client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D(59000), client_order_id="lagging"
        )
        assert (placed.status, placed.size, placed.price) == (
            OrderStatus.OPEN,
            D("0.002"),
            D(59000),
        )
        assert placed.venue_order_id
        streamed = await next_event(updates, lambda o: o.client_order_id == "lagging")
        assert streamed.venue_order_id == placed.venue_order_id  # the stream knows it already
        bought = await client.place_market_order("BTC", "buy", D("0.002"), client_order_id="lag-2")
        assert (bought.status, bought.filled_size) == (
            OrderStatus.OPEN,
            0,
        )  # waited 0.1 s, then gave up
        fake.listing_delay = 0
        assert (
            await client.order_status("BTC", client_order_id="lag-2")
        ).status is OrderStatus.FILLED
