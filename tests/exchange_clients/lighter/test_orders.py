"""Orders on the wire: integer scaling, order types and flags, market orders' worst price,
cancel-all as one batch, leverage as a margin fraction, refusals as our error types."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import (
    DuplicateClientOrderId,
    InsufficientMargin,
    InvalidOrder,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from exchange_clients.lighter.ids import client_order_index
from exchange_clients.types import OrderStatus, OrderType, TimeInForce
from tests.exchange_clients.lighter.helpers import ACCOUNT, connected, new_fake

D = Decimal


async def test_a_post_only_limit_order_on_the_wire() -> None:
    async with new_fake() as fake, connected(fake) as client:
        placed = await client.place_limit_order(
            "BTC", "sell", D("0.01234"), D("61234.5"), client_order_id="wire-1", post_only=True
        )
        ((tx_type, info),) = fake.transactions
        assert tx_type == 14
        assert (info["MarketIndex"], info["BaseAmount"], info["Price"]) == (1, 1234, 612345)
        assert (info["IsAsk"], info["Type"], info["TimeInForce"], info["ReduceOnly"]) == (
            1,
            0,
            2,
            0,
        )
        assert info["ClientOrderIndex"] == client_order_index("wire-1")
        assert info["AccountIndex"] == ACCOUNT
        assert (placed.status, placed.post_only, placed.size, placed.price) == (
            OrderStatus.OPEN,
            True,
            D("0.01234"),
            D("61234.5"),
        )


async def test_off_grid_size_or_price_is_refused_before_signing() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(InvalidOrder, match="more than 5 decimals"):
            await client.place_limit_order(
                "BTC", "buy", D("0.000001"), D(50_000), client_order_id="g1"
            )
        with pytest.raises(InvalidOrder, match="more than 1 decimals"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D("50000.05"), client_order_id="g2"
            )
        assert fake.transactions == []


async def test_a_market_order_is_ioc_with_a_bounded_worst_price() -> None:
    async with new_fake() as fake, connected(fake, market_slippage="0.01") as client:
        filled = await client.place_market_order("BTC", "buy", D("0.3"), client_order_id="mkt")
        ((_, info),) = fake.transactions
        assert (info["Type"], info["TimeInForce"], info["OrderExpiry"]) == (1, 0, 0)
        assert info["Price"] == 606_051  # best ask 60005.0 * 1.01, rounded up to the tick
        assert filled.status is OrderStatus.FILLED
        assert (filled.order_type, filled.time_in_force) == (OrderType.MARKET, TimeInForce.IOC)
        # 0.2 @ 60005 + 0.1 @ 60010: the book walked, the average exact.
        assert filled.avg_fill_price == (D("0.2") * 60005 + D("0.1") * 60010) / D("0.3")


async def test_sequencer_cancellations_are_our_errors() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(PostOnlyWouldCross):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(60_005), client_order_id="po", post_only=True
            )
        with pytest.raises(ReduceOnlyRejected):
            await client.place_market_order(
                "BTC", "sell", D("0.001"), client_order_id="ro", reduce_only=True
            )
        fake.accounts[ACCOUNT].collateral = D(10)
        with pytest.raises(InsufficientMargin):
            await client.place_limit_order("BTC", "buy", D("0.1"), D(50_000), client_order_id="mg")
        # Refused orders are finished on the venue: their ids stay taken there and here.
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50_000), client_order_id="po"
            )


async def test_the_venue_refuses_a_reused_client_order_index_from_another_process() -> None:
    async with new_fake() as fake:
        async with connected(fake) as first:
            await first.place_limit_order(
                "BTC", "buy", D("0.001"), D(50_000), client_order_id="dup"
            )
        async with connected(fake) as second:  # a restart: its own id set is empty
            with pytest.raises(InvalidOrder, match="21728"):
                await second.place_limit_order(
                    "BTC", "buy", D("0.001"), D(50_000), client_order_id="dup"
                )


async def test_cancel_all_is_one_batch_and_open_orders_span_markets() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_limit_order("BTC", "buy", D("0.001"), D(50_000), client_order_id="c1")
        await client.place_limit_order("BTC", "buy", D("0.001"), D(49_000), client_order_id="c2")
        await client.place_limit_order("ETH", "sell", D("0.01"), D(3_500), client_order_id="c3")
        assert sorted(o.client_order_id for o in await client.open_orders()) == ["c1", "c2", "c3"]
        cancelled = await client.cancel_all()
        assert sorted(o.client_order_id for o in cancelled) == ["c1", "c2", "c3"]
        assert all(o.status is OrderStatus.CANCELLED for o in cancelled)
        assert fake.requests.count("sendTxBatch") == 1
        assert [t for t, _ in fake.transactions[-3:]] == [15, 15, 15]
        assert await client.open_orders() == []


async def test_leverage_is_sent_as_an_initial_margin_fraction() -> None:
    async with new_fake() as fake, connected(fake) as client:
        assert await client.get_leverage("ETH") == D(20)  # the market default (500)
        assert await client.set_leverage("ETH", D(7)) == D(7)
        assert fake.transactions[-1][1]["InitialMarginFraction"] == 1428
        assert await client.get_leverage("ETH") == D(7)
        assert fake.accounts[ACCOUNT].imf[0] == 1428
        with pytest.raises(InvalidOrder, match=r"outside 1\.\.50"):
            await client.set_leverage("ETH", D(51))


async def test_positions_and_balance_follow_fills() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("ETH", "sell", D("1.0"), client_order_id="short")
        (position,) = await client.positions()
        assert (position.symbol, position.size, position.entry_price) == (
            "ETH",
            D("-1.0"),
            D("2999.50"),
        )
        assert position.mark_price == D("3000.00")
        assert position.unrealized_pnl == D("-0.50")
        balance = await client.balance()
        fee = D("2999.50") * D("1.0") * 280 / 1_000_000
        assert balance.wallet == D(100_000) - fee
        assert balance.margin_used == D("3000.00") * 500 / 10_000
