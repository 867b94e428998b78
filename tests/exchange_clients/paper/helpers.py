"""A small hand-checkable market for the paper venue tests.

BTC at ~100 USD with a three-level book a side, so every expected number in the tests can be
worked out on paper: asks 1 @ 100.0, 2 @ 100.5, 3 @ 101.0; bids 1 @ 99.5, 2 @ 99.0, 3 @ 98.5
(mid 99.75). Max leverage 20, so the maintenance margin rate is 1/40 = 0.025.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchange_clients.paper.engine import PaperEngine
from exchange_clients.paper.profiles import PROFILES
from exchange_clients.types import (
    FundingRate,
    Market,
    OrderRequest,
    OrderType,
    Side,
    TimeInForce,
)

D = Decimal
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SYMBOL = "BTC"
MARKET = Market(
    symbol=SYMBOL,
    contract_id="BTC-PERP",
    tick_size=D("0.1"),
    step_size=D("0.01"),
    min_size=D("0.02"),
    min_notional=D("5"),
    max_leverage=D("20"),
)
BIDS = ((D("99.5"), D("1")), (D("99.0"), D("2")), (D("98.5"), D("3")))
ASKS = ((D("100.0"), D("1")), (D("100.5"), D("2")), (D("101.0"), D("3")))


class Now:
    """A clock the synchronous engine reads; tests move it by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)


def new_engine(venue: str = "paper", wallet: str = "10000", now: Now | None = None) -> PaperEngine:
    engine = PaperEngine(
        venue=venue,
        account="test",
        profile=PROFILES[venue],
        markets={SYMBOL: MARKET},
        wallet=D(wallet),
        now=now or Now(),
    )
    engine.apply_book_snapshot(SYMBOL, BIDS, ASKS, 1)
    return engine


def limit(
    side: Side,
    size: str,
    price: str,
    client_order_id: str,
    *,
    post_only: bool = False,
    reduce_only: bool = False,
    ioc: bool = False,
) -> OrderRequest:
    return OrderRequest(
        symbol=SYMBOL,
        side=side,
        size=D(size),
        order_type=OrderType.LIMIT,
        client_order_id=client_order_id,
        price=D(price),
        post_only=post_only,
        reduce_only=reduce_only,
        time_in_force=TimeInForce.IOC if ioc else TimeInForce.GTC,
    )


def market(
    side: Side, size: str, client_order_id: str, *, reduce_only: bool = False
) -> OrderRequest:
    return OrderRequest(
        symbol=SYMBOL,
        side=side,
        size=D(size),
        order_type=OrderType.MARKET,
        client_order_id=client_order_id,
        reduce_only=reduce_only,
        time_in_force=TimeInForce.IOC,
    )


def funding(
    rate: str, *, venue: str = "paper", hours: int = 1, at: datetime = START
) -> FundingRate:
    return FundingRate(
        venue=venue,
        symbol=SYMBOL,
        rate=D(rate),
        interval_hours=D(hours),
        next_funding_time=None,
        ts=at,
    )
