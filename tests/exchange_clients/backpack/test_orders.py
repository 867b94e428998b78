"""Orders through the fake: clientId mapping and its collision guard, duplicate ids, error
mapping, cancels, finished orders from the history, markets, positions, balance, leverage."""

from __future__ import annotations

import itertools

import pytest

from core.errors import (
    ConfigError,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from exchange_clients.backpack.client import BackpackClient
from exchange_clients.backpack.ids import ClientIdCollision, ClientIdMap, to_u32
from exchange_clients.types import ClientSettings, OrderStatus
from tests.exchange_clients.backpack.helpers import D, connected, next_event, running


def colliding_ids() -> tuple[str, str]:
    """Two of our ids with the same Backpack clientId (a birthday search, ~80k hashes)."""
    seen: dict[int, str] = {}
    for n in itertools.count():
        candidate = f"collide-{n}"
        value = to_u32(candidate)
        if value in seen:
            return seen[value], candidate
        seen[value] = candidate
    raise AssertionError("unreachable")


def test_u32_mapping_is_deterministic_and_documented() -> None:
    # first 4 bytes of sha256("abc") = ba7816bf
    assert to_u32("abc") == 0xBA7816BF
    assert 0 <= to_u32("contract-000001") < 2**32
    ids = ClientIdMap()
    value = ids.reserve("abc")
    assert value == 0xBA7816BF
    assert ids.reserve("abc") == value  # the same id again is not a collision
    assert ids.ours(value) == "abc"
    assert ids.ours(str(value)) == "abc"
    assert ids.ours(12345) is None
    assert ids.ours("not-a-number") is None


def test_colliding_ids_are_refused_by_the_map() -> None:
    first, second = colliding_ids()
    ids = ClientIdMap()
    ids.reserve(first)
    with pytest.raises(ClientIdCollision, match="generate a new client order id"):
        ids.reserve(second)


async def test_a_colliding_id_is_never_sent() -> None:
    first, second = colliding_ids()
    async with running() as (fake, account), connected(fake) as client:
        await client.place_limit_order("BTC", "buy", D("0.001"), D(50000), client_order_id=first)
        sent = fake.requests.count(("POST", "/api/v1/order"))
        with pytest.raises(ClientIdCollision):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50000), client_order_id=second
            )
        assert fake.requests.count(("POST", "/api/v1/order")) == sent
        assert len(account.orders) == 1


async def test_orders_carry_the_mapped_client_id_and_map_back() -> None:
    async with running() as (fake, account), connected(fake) as client:
        updates = client.order_updates()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(50000), client_order_id="map-back-1"
        )
        (venue_order,) = account.orders.values()
        assert venue_order.client_id == to_u32("map-back-1")
        event = await next_event(updates)
        assert event.client_order_id == "map-back-1"
        listed = await client.open_orders("BTC")
        assert [o.client_order_id for o in listed] == ["map-back-1"]
        assert placed.venue_order_id == venue_order.order_id


async def test_a_duplicate_id_is_refused_locally_even_after_a_reject() -> None:
    async with running() as (fake, account), connected(fake) as client:
        _, ask = await client.best_bid_ask("BTC")
        with pytest.raises(PostOnlyWouldCross):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), ask, client_order_id="dup-1", post_only=True
            )
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50000), client_order_id="dup-1"
            )
        assert account.orders == {}


async def test_the_fake_accepts_a_reused_client_id_like_backpack() -> None:
    """Backpack does not treat ``clientId`` as unique: two processes (or a restart) reusing
    one create two orders, which is why our guard is per process and ids are never reused."""
    async with running() as (fake, account):
        async with connected(fake) as first:
            await first.place_limit_order(
                "BTC", "buy", D("0.001"), D(50000), client_order_id="re-1"
            )
        async with connected(fake) as second:
            await second.place_limit_order(
                "BTC", "buy", D("0.001"), D(49000), client_order_id="re-1"
            )
            assert len(account.orders) == 2
            newest = await second.order_status("BTC", client_order_id="re-1")
            assert newest.price == D(49000)


async def test_errors_map_to_our_types() -> None:
    async with running(wallet=D(100)) as (fake, _), connected(fake) as client:
        with pytest.raises(ReduceOnlyRejected):
            await client.place_market_order(
                "BTC", "sell", D("0.001"), client_order_id="ro-1", reduce_only=True
            )
        with pytest.raises(InsufficientMargin, match="INSUFFICIENT_MARGIN"):
            await client.place_limit_order("BTC", "buy", D("1"), D(59000), client_order_id="im-1")
        with pytest.raises(InvalidOrder, match="INVALID_PRICE"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D("59000.05"), client_order_id="px-1"
            )
        with pytest.raises(OrderNotFound):
            await client.cancel_order("BTC", "424242")


async def test_finished_orders_are_found_in_the_order_history() -> None:
    async with running() as (fake, _), connected(fake) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(50000), client_order_id="hist-1"
        )
        await client.cancel_by_client_id("BTC", "hist-1")
        by_client = await client.order_status("BTC", client_order_id="hist-1")
        by_venue = await client.order_status("BTC", venue_order_id=placed.venue_order_id)
        assert by_client.status is by_venue.status is OrderStatus.CANCELLED
        assert ("GET", "/wapi/v1/history/orders") in fake.requests


async def test_a_finished_order_of_another_process_is_found_by_client_id() -> None:
    async with running() as (fake, _):
        async with connected(fake) as first:
            await first.place_market_order("BTC", "buy", D("0.001"), client_order_id="other-1")
        async with connected(fake) as second:
            found = await second.order_status("BTC", client_order_id="other-1")
            assert (found.status, found.filled_size) == (OrderStatus.FILLED, D("0.001"))
            assert found.client_order_id == "other-1"


async def test_cancel_all_returns_the_cancelled_orders() -> None:
    async with running() as (fake, _), connected(fake) as client:
        for n in range(3):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50000 + n), client_order_id=f"all-{n}"
            )
        await client.place_limit_order("ETH", "buy", D("0.01"), D(2500), client_order_id="all-eth")
        cancelled = await client.cancel_all("BTC")
        assert sorted(o.client_order_id for o in cancelled) == ["all-0", "all-1", "all-2"]
        assert all(o.status is OrderStatus.CANCELLED for o in cancelled)
        assert [o.client_order_id for o in await client.open_orders()] == ["all-eth"]
        assert [o.client_order_id for o in await client.cancel_all()] == ["all-eth"]


async def test_markets_are_perps_only_with_k_contracts_in_base_units() -> None:
    async with running() as (fake, _), connected(fake) as client:
        markets = await client.markets()
        assert sorted(markets) == ["BTC", "ETH", "PEPE"]  # the BTC_USDC spot market is left out
        btc = markets["BTC"]
        assert (btc.contract_id, btc.tick_size, btc.step_size, btc.max_leverage) == (
            "BTC_USDC_PERP",
            D("0.1"),
            D("0.0001"),
            D(50),
        )
        pepe = markets["PEPE"]
        assert (pepe.contract_id, pepe.quantity_multiplier, pepe.max_leverage) == (
            "kPEPE_USDC_PERP",
            D(1000),
            D(10),
        )
        book = await client.order_book("PEPE", depth=1)
        assert book.best_bid == D("0.000012345")  # 0.012345 per 1,000 PEPE


async def test_positions_balance_and_account_wide_leverage() -> None:
    async with running() as (fake, account), connected(fake) as client:
        assert await client.set_leverage("ETH", D(5)) == D(5)
        assert await client.get_leverage("BTC") == D(5)  # account-wide
        assert account.leverage_limit == D(5)
        with pytest.raises(ExchangeError, match="whole number"):
            await client.set_leverage("BTC", D("2.5"))
        opened = await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="pos-1")
        (position,) = await client.positions()
        assert (position.symbol, position.size) == ("BTC", D("0.01"))
        assert position.entry_price == opened.avg_fill_price
        assert position.leverage == D(5)
        assert position.margin == position.notional / 5
        balance = await client.balance()
        assert balance.asset == "USDC"
        assert balance.margin_used == position.notional / 5
        assert balance.wallet == D(10_000) - sum(f.fee for f in account.fills)


def test_backpack_has_no_public_testnet() -> None:
    with pytest.raises(ConfigError, match="no public testnet"):
        BackpackClient(ClientSettings(venue="backpack", testnet=True))


async def test_without_streams_everything_is_answered_over_rest() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        assert client.stream is None
        book = await client.order_book("BTC", depth=2)
        assert book.bids == ((D("60000.0"), D(2)), (D("59999.9"), D(3)))
        assert book.asks == ((D("60000.1"), D(2)), (D("60000.2"), D(3)))
        assert fake.ws_connection_count == 0
