"""The client boundary: Hyperliquid's price/size grid, kPEPE units, cloids, market orders,
venue errors mapped to our types, duplicate client ids."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core.errors import (
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from exchange_clients.hyperliquid.ids import CloidBook, to_cloid
from exchange_clients.hyperliquid.wire import order_error
from exchange_clients.types import OrderStatus, OrderType
from tests.exchange_clients.hyperliquid.helpers import (
    OWNER,
    connected,
    new_fake,
    next_event,
)

D = Decimal


def test_cloids_are_deterministic_16_byte_hex_and_round_trip() -> None:
    cloid = to_cloid("grid-m3x1k2-1")
    assert re.fullmatch(r"0x[0-9a-f]{32}", cloid)
    assert to_cloid("grid-m3x1k2-1") == cloid
    assert to_cloid("grid-m3x1k2-2") != cloid
    book = CloidBook()
    assert book.client_id(cloid) is None
    assert book.remember("grid-m3x1k2-1") == cloid
    assert book.client_id(cloid.upper().replace("0X", "0x")) == "grid-m3x1k2-1"


async def test_markets_follow_hyperliquid_meta() -> None:
    async with new_fake() as fake, connected(fake) as client:
        markets = await client.markets()
        assert set(markets) == {"BTC", "ETH", "PEPE"}  # OLD is delisted
        btc, pepe = markets["BTC"], markets["PEPE"]
        assert (btc.tick_size, btc.step_size, btc.min_notional) == (D(1), D("0.00001"), D(10))
        assert btc.max_leverage == 40
        # kPEPE: 1,000 PEPE per contract; mark 0.012 per contract -> tick 1e-6 / 1000.
        assert (pepe.contract_id, pepe.quantity_multiplier) == ("kPEPE", D(1000))
        assert (pepe.step_size, pepe.tick_size) == (D(1000), D("0.000000001"))


async def test_off_grid_prices_and_sizes_are_refused_before_anything_is_sent() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(InvalidOrder, match="off Hyperliquid's grid"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D("50000.5"), client_order_id="grid-1"
            )
        with pytest.raises(InvalidOrder, match="not a multiple"):
            await client.place_limit_order(
                "BTC", "buy", D("0.000001"), D("50000"), client_order_id="grid-2"
            )
        assert [r for r in fake.requests if r[0] == "/exchange"] == []
        size, price = await client.prepare_limit("BTC", "buy", D("0.0012345"), D("50000.5"))
        assert (size, price) == (D("0.00123"), D(50000))
        _, sell = await client.prepare_limit("ETH", "sell", D("0.5"), D("3000.123"))
        assert sell == D("3000.2")  # 5 significant figures, rounded up for a sell
        placed = await client.place_limit_order("BTC", "buy", size, price, client_order_id="grid-3")
        assert placed.status is OrderStatus.OPEN


async def test_k_coins_are_traded_in_base_units() -> None:
    async with new_fake() as fake, connected(fake) as client:
        size, price = await client.prepare_limit("PEPE", "buy", D(1_500_400), D("0.0000115"))
        assert (size, price) == (D(1_500_000), D("0.0000115"))
        placed = await client.place_limit_order("PEPE", "buy", size, price, client_order_id="pepe")
        resting = fake.user(OWNER).orders[int(placed.venue_order_id or 0)]
        assert (resting.coin, resting.orig, resting.px) == ("kPEPE", D(1500), D("0.0115"))
        [order] = await client.open_orders("PEPE")
        assert (order.size, order.price) == (size, price)


async def test_the_cloid_sent_is_ours_and_fills_carry_the_client_id() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fills = client.fills()
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59000), client_order_id="maker-1"
        )
        resting = fake.user(OWNER).orders[int(placed.venue_order_id or 0)]
        assert resting.cloid == to_cloid("maker-1")
        await fake.set_book("BTC", [(D(58900), D(1))], [(D(59000), D(1))])
        fill = await next_event(fills)
        assert (fill.client_order_id, fill.liquidity, fill.price) == ("maker-1", "maker", D(59000))
        assert fill.fee == (D(59000) * D("0.001") * D("0.00015")).quantize(D("0.000001"))


async def test_a_later_process_resolves_fills_once_it_names_the_client_id() -> None:
    async with new_fake() as fake:
        async with connected(fake) as first:
            await first.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="old-1"
            )
        async with connected(fake) as second:
            fills = second.fills()
            found = await second.order_status("BTC", client_order_id="old-1")
            assert (found.client_order_id, found.status) == ("old-1", OrderStatus.OPEN)
            await fake.set_book("BTC", [(D(58900), D(1))], [(D(59000), D(1))])
            fill = await next_event(fills)
            assert fill.client_order_id == "old-1"


async def test_fills_of_unknown_cloids_carry_no_client_id() -> None:
    async with new_fake() as fake:
        async with connected(fake) as first:
            await first.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="forgotten"
            )
        async with connected(fake) as second:
            fills = second.fills()
            await fake.set_book("BTC", [(D(58900), D(1))], [(D(59000), D(1))])
            fill = await next_event(fills)
            assert fill.client_order_id is None
            assert fill.venue_order_id is not None


async def test_market_orders_are_aggressive_iocs_on_the_grid() -> None:
    async with new_fake() as fake, connected(fake) as client:
        order = await client.place_market_order("BTC", "buy", D("0.002"), client_order_id="mkt")
        assert (order.status, order.filled_size, order.avg_fill_price) == (
            OrderStatus.FILLED,
            D("0.002"),
            D(60010),
        )
        sent = fake.user(OWNER).orders[int(order.venue_order_id or 0)]
        assert sent.tif == "Ioc"
        assert sent.px == D(63010)  # 60010 x 1.05, 5 significant figures, rounded down


async def test_venue_rejections_map_to_our_errors() -> None:
    async with new_fake(accounts={OWNER: D(100)}) as fake, connected(fake) as client:
        with pytest.raises(PostOnlyWouldCross, match="bbo was 59990@60010"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(60010), client_order_id="alo", post_only=True
            )
        with pytest.raises(InsufficientMargin, match="Insufficient margin to place order"):
            await client.place_limit_order("BTC", "buy", D("0.1"), D(59000), client_order_id="big")
        with pytest.raises(InvalidOrder, match=r"minimum value of \$10"):
            await client.place_limit_order(
                "BTC", "buy", D("0.0001"), D(59000), client_order_id="tiny"
            )
        with pytest.raises(OrderNotFound):
            await client.cancel_order("BTC", "424242")
        assert await client.open_orders() == []


async def test_a_client_id_is_never_sent_twice() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(PostOnlyWouldCross):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(60010), client_order_id="once", post_only=True
            )
        with pytest.raises(DuplicateClientOrderId):  # even a rejected id stays taken
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="once"
            )
        assert len([r for r in fake.requests if r[0] == "/exchange"]) == 1


async def test_leverage_is_remembered_per_asset_and_limited_by_the_venue() -> None:
    async with new_fake() as fake, connected(fake) as client:
        assert await client.get_leverage("ETH") == D(20)  # the venue's default
        assert await client.set_leverage("ETH", D(7)) == D(7)
        assert await client.get_leverage("ETH") == D(7)
        assert await client.get_leverage("BTC") == D(20)
        with pytest.raises(ExchangeError, match="updateLeverage refused") as refused:
            await client.set_leverage("ETH", D(26))  # maxLeverage 25
        assert not isinstance(refused.value, OrderRejected)
        with pytest.raises(InvalidOrder, match="whole number"):
            await client.set_leverage("ETH", D("2.5"))
        assert fake.user(OWNER).leverage == {"ETH": 7}
        await client.place_market_order("ETH", "buy", D("0.1"), client_order_id="lev")
        position = await client.position("ETH")
        assert position is not None
        assert position.leverage == D(7)
        assert position.margin == D("0.1") * D(3000) / 7


async def test_market_orders_read_back_as_market_orders_and_update_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        updates = client.order_updates()
        placed = await client.place_market_order("BTC", "buy", D("0.001"), client_order_id="m1")
        final = await next_event(updates, lambda o: o.status.is_final)
        assert (final.order_type, final.price, final.filled_size) == (
            OrderType.MARKET,
            None,
            D("0.001"),
        )
        status = await client.order_status("BTC", venue_order_id=placed.venue_order_id)
        assert (status.client_order_id, status.status, status.order_type) == (
            "m1",
            OrderStatus.FILLED,
            OrderType.MARKET,
        )
        assert status.avg_fill_price == D(60010)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Post only order would have immediately matched, bbo was 1.2345@1.2346.",
            PostOnlyWouldCross,
        ),
        ("Reduce only order would increase position.", ReduceOnlyRejected),
        ("Insufficient margin to place order.", InsufficientMargin),
        ("Price must be divisible by tick size.", InvalidOrder),
        ("Order must have minimum value of $10.", InvalidOrder),
        ("Order was never placed, already canceled, or filled.", OrderNotFound),
        ("Order could not immediately match against any resting orders.", OrderRejected),
        ("Something new the venue says.", OrderRejected),
    ],
)
def test_documented_error_strings_map_to_our_types(message: str, expected: type[Exception]) -> None:
    error = order_error(message, context="BTC buy")
    assert isinstance(error, expected)
    assert "\n" not in str(error)
    assert message in str(error)
