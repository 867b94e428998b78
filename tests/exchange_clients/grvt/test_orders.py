"""Orders through the fake: what is signed and sent, time in force, rejections mapped to our
errors, the environment option deciding the chain id, refused stops, leverage and cancels."""

from __future__ import annotations

import pytest

from core.errors import InvalidOrder, OrderNotFound, ReduceOnlyRejected
from exchange_clients.grvt.ids import TOP_BIT, ClientIdCollision, ClientIdMap, to_u64
from exchange_clients.types import OrderRequest, OrderStatus, OrderType, TimeInForce
from tests.exchange_clients.grvt.helpers import D, connected, key_of, next_event, running


async def test_a_limit_order_carries_the_signed_fields_and_our_id_as_uint64() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.002"), D("59000.5"), client_order_id="o-1", post_only=True
        )
        assert (placed.status, placed.size, placed.price) == (
            OrderStatus.OPEN,
            D("0.002"),
            D("59000.5"),
        )
        order = next(iter(sub.orders.values()))
        assert order.client_order_id == str(to_u64("o-1"))
        assert (order.tif, order.post_only, order.size, order.price) == (
            "GOOD_TILL_TIME",
            True,
            D("0.002"),
            D("59000.5"),
        )
        assert fake.recovered_signers == [key_of(fake).signer]
        assert int(order.signature["expiration"]) > 29 * 24 * 3600 * 10**9


async def test_an_ioc_limit_takes_what_it_can_and_the_rest_is_cancelled() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        order = await client.place_order(
            OrderRequest(
                symbol="BTC",
                side="buy",
                size=D("3"),
                order_type=OrderType.LIMIT,
                client_order_id="ioc-1",
                price=D("60000.1"),
                time_in_force=TimeInForce.IOC,
            )
        )
        assert next(iter(sub.orders.values())).tif == "IMMEDIATE_OR_CANCEL"
        assert (order.status, order.filled_size) == (OrderStatus.CANCELLED, D(2))
        assert order.avg_fill_price == D("60000.1")


async def test_reduce_only_larger_than_the_position_is_rejected() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="open-1")
        with pytest.raises(ReduceOnlyRejected, match="FAIL_REDUCE_ONLY"):
            await client.place_market_order(
                "BTC", "sell", D("0.02"), client_order_id="close-1", reduce_only=True
            )


async def test_off_grid_sizes_are_refused_before_sending() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        sent = len(fake.requests)
        with pytest.raises(InvalidOrder, match="does not fit 9 decimals"):
            await client.place_limit_order(
                "BTC", "buy", D("0.0000000001"), D(59000), client_order_id="tiny"
            )
        assert len(fake.requests) == sent
        assert sub.orders == {}


def stop(size: str, trigger: int, client_id: str) -> OrderRequest:
    return OrderRequest(
        symbol="BTC",
        side="sell",
        size=D(size),
        order_type=OrderType.STOP_MARKET,
        client_order_id=client_id,
        reduce_only=True,
        trigger_price=D(trigger),
    )


async def test_a_stop_travels_as_a_mark_price_stop_loss_and_maps_back() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-1")
        placed = await client.place_order(stop("0.01", 50000, "stop-1"))
        order = next(o for o in sub.orders.values() if o.trigger is not None)
        assert order.trigger == {
            "trigger_type": "STOP_LOSS",
            "tpsl": {"trigger_by": "MARK", "trigger_price": "50000", "close_position": False},
        }
        assert (order.is_market, order.reduce_only, order.tif, order.price) == (
            True,
            True,
            "IMMEDIATE_OR_CANCEL",
            D(0),
        )
        assert fake.recovered_signers[-1] == key_of(fake).signer
        assert (placed.order_type, placed.trigger_price, placed.price) == (
            OrderType.STOP_MARKET,
            D(50000),
            None,
        )
        assert client.supports_trigger_orders


async def test_a_stop_larger_than_the_position_closes_only_the_position() -> None:
    async with running() as (fake, _), connected(fake) as client:
        updates = client.order_updates()
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long-2")
        await client.place_order(stop("0.01", 50000, "stop-2"))
        await client.place_market_order(
            "BTC", "sell", D("0.004"), client_order_id="part-close", reduce_only=True
        )
        await fake.set_mark_price("BTC_USDT_Perp", D(49000))
        final = await next_event(
            updates, lambda o: o.client_order_id == "stop-2" and o.status.is_final
        )
        assert (final.status, final.filled_size) == (OrderStatus.CANCELLED, D("0.006"))
        assert await client.position("BTC") is None


async def test_a_stop_that_would_open_a_position_is_refused() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        with pytest.raises(ReduceOnlyRejected):
            await client.place_order(stop("0.01", 50000, "stop-3"))
        assert [o.status for o in sub.orders.values()] == ["REJECTED"]


async def test_the_environment_option_decides_the_signed_chain() -> None:
    async with running() as (fake, _sub):
        fake.environment = "prod"
        async with connected(fake) as testnet_client:  # signs for chain 326
            with pytest.raises(Exception, match="code 2002"):
                await testnet_client.place_limit_order(
                    "BTC", "buy", D("0.001"), D(59000), client_order_id="env-1"
                )
        async with connected(fake, environment="prod") as prod_client:  # chain 325
            placed = await prod_client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="env-2"
            )
            assert placed.status is OrderStatus.OPEN
            assert prod_client.environment == "prod"


async def test_cancel_all_of_one_symbol_leaves_the_others() -> None:
    async with running() as (fake, _), connected(fake) as client:
        await client.place_limit_order("BTC", "buy", D("0.001"), D(59000), client_order_id="c-1")
        await client.place_limit_order("BTC", "buy", D("0.001"), D(58000), client_order_id="c-2")
        await client.place_limit_order("ETH", "buy", D("0.01"), D(2900), client_order_id="c-3")
        cancelled = await client.cancel_all("BTC")
        assert sorted(o.client_order_id for o in cancelled) == ["c-1", "c-2"]
        assert all(o.status is OrderStatus.CANCELLED for o in cancelled)
        assert [o.client_order_id for o in await client.open_orders()] == ["c-3"]
        with pytest.raises(OrderNotFound):
            await client.cancel_by_client_id("BTC", "c-1")


async def test_leverage_is_per_instrument_and_bounded_by_the_venue() -> None:
    async with running() as (fake, sub), connected(fake) as client:
        assert (await client.market("SOL")).max_leverage == 20
        assert await client.set_leverage("SOL", D(7)) == D(7)
        assert await client.get_leverage("BTC") == D(10)
        assert sub.leverage == {"SOL_USDT_Perp": D(7)}


def test_client_ids_map_into_the_upper_half_and_collisions_are_refused() -> None:
    assert to_u64("abc") >= TOP_BIT
    assert to_u64("abc") == to_u64("abc") != to_u64("abd")
    ids = ClientIdMap("grvt")
    value = ids.reserve("x-1")
    assert ids.ours(value) == "x-1"
    ids._ours[to_u64("x-2")] = "someone-else"
    with pytest.raises(ClientIdCollision, match="generate a new client order id"):
        ids.reserve("x-2")
