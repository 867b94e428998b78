"""``BaseExchangeClient.quote``: a venue without its own answers with its three reads, in order,
exactly as asking them one by one did (a funding scan's quote of one symbol)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import NoReturn

import pytest

from core.errors import UnknownSymbol, VenueUnavailable
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import (
    Balance,
    BookSnapshot,
    ClientSettings,
    FeeSchedule,
    FundingRate,
    Market,
    MarketStats,
    Order,
    OrderRequest,
    Position,
)

SYMBOL = "BTC"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
MARKET = Market(
    symbol=SYMBOL,
    contract_id="BTC-PERP",
    tick_size=Decimal("0.1"),
    step_size=Decimal("0.001"),
    min_size=Decimal("0.001"),
    min_notional=Decimal(10),
    max_leverage=Decimal(20),
)
FEES = FeeSchedule(maker=Decimal("0.0002"), taker=Decimal("0.0005"), source="published")


class LiveShapedClient(BaseExchangeClient):
    """A venue the way a live client is written: the abstract primitives only, every request
    recorded (no ``quote`` of its own)."""

    venue = "live_shaped"

    def __init__(self, book: BookSnapshot) -> None:
        super().__init__(ClientSettings(venue="live_shaped"))
        self.book = book
        self.asked: list[str] = []

    async def connect(self) -> None:
        self.asked.append("connect")

    async def disconnect(self) -> None:
        self.asked.append("disconnect")

    async def markets(self) -> dict[str, Market]:
        self.asked.append("markets")
        return {SYMBOL: MARKET}

    async def order_book(self, symbol: str, depth: int = 50) -> BookSnapshot:
        self.asked.append(f"order_book {symbol} {depth}")
        await self.market(symbol)
        return self.book

    async def funding_rate(self, symbol: str) -> FundingRate:
        self.asked.append(f"funding_rate {symbol}")
        await self.market(symbol)
        return FundingRate(
            venue=self.name,
            symbol=symbol,
            rate=Decimal("0.0001"),
            interval_hours=Decimal(8),
            next_funding_time=NOW,
            mark_price=Decimal("100.05"),
            ts=NOW,
        )

    async def fees(self, symbol: str) -> FeeSchedule:
        self.asked.append(f"fees {symbol}")
        return FEES

    async def market_stats(self) -> dict[str, MarketStats]:
        raise NotImplementedError

    async def place_order(self, request: OrderRequest) -> Order:
        raise NotImplementedError

    async def cancel_order(self, symbol: str, venue_order_id: str) -> Order:
        raise NotImplementedError

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        raise NotImplementedError

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        raise NotImplementedError

    async def order_status(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> NoReturn:
        raise NotImplementedError

    async def positions(self) -> list[Position]:
        raise NotImplementedError

    async def balance(self) -> Balance:
        raise NotImplementedError

    async def get_leverage(self, symbol: str) -> Decimal:
        raise NotImplementedError

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        raise NotImplementedError


def _book(bids: tuple[tuple[str, str], ...], asks: tuple[tuple[str, str], ...]) -> BookSnapshot:
    return BookSnapshot(
        symbol=SYMBOL,
        bids=tuple((Decimal(p), Decimal(s)) for p, s in bids),
        asks=tuple((Decimal(p), Decimal(s)) for p, s in asks),
        ts=NOW,
    )


async def test_the_default_quote_is_the_three_reads_in_order() -> None:
    client = LiveShapedClient(_book((("100.0", "1"),), (("100.1", "2"),)))
    funding, bid, ask, fees = await client.quote(SYMBOL)
    asked = client.asked
    client.asked = []
    one_by_one = (
        await client.funding_rate(SYMBOL),
        *(await client.best_bid_ask(SYMBOL)),
        await client.fees(SYMBOL),
    )
    assert (funding, bid, ask, fees) == one_by_one
    assert (bid, ask, fees) == (Decimal("100.0"), Decimal("100.1"), FEES)
    assert (
        asked
        == client.asked
        == [
            f"funding_rate {SYMBOL}",
            "markets",
            f"order_book {SYMBOL} 1",
            "markets",
            f"fees {SYMBOL}",
        ]
    )


async def test_the_default_quote_stops_at_the_first_read_that_fails() -> None:
    client = LiveShapedClient(_book((), (("100.1", "2"),)))  # no bid
    with pytest.raises(VenueUnavailable, match="empty on one side"):
        await client.quote(SYMBOL)
    assert f"fees {SYMBOL}" not in client.asked  # never asked: the book failed first
    client.asked = []
    with pytest.raises(UnknownSymbol):
        await client.quote("ETH")
    assert client.asked == ["funding_rate ETH", "markets"]
