"""Snapshots built by hand for the signal strategies' tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from exchange_clients.market_data.candles import INTERVALS, Candle
from strategies.signal_portfolio.signals import registry
from strategies.signal_portfolio.signals.registry import SignalStrategy
from strategies.signal_portfolio.signals.types import MarketSnapshot, PolymarketView

D = Decimal
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def candles(
    closes: Sequence[Decimal | str | int],
    interval: str = "5m",
    volumes: Sequence[Decimal | str | int] | None = None,
) -> tuple[Candle, ...]:
    step = INTERVALS[interval]
    start = NOW - step * len(closes)
    made = []
    previous = D(str(closes[0]))
    for index, close in enumerate(closes):
        price = D(str(close))
        volume = D(str(volumes[index])) if volumes is not None else D(1)
        made.append(
            Candle(
                "hyperliquid",
                "BTC",
                interval,
                start + step * index,
                previous,
                max(previous, price),
                min(previous, price),
                price,
                volume,
                1,
            )
        )
        previous = price
    return tuple(made)


def snapshot(
    *,
    price: str = "100",
    candles_by_interval: dict[str, tuple[Candle, ...]] | None = None,
    funding: str | None = None,
    open_interest: str | None = None,
    oi_history: Sequence[str] = (),
    up: str | None = None,
    liquidity: str = "50000",
    volume: str = "20000",
) -> MarketSnapshot:
    crowd = None
    if up is not None:
        crowd = PolymarketView(D(up), D(liquidity), D(volume), 2, NOW - timedelta(seconds=5))
    return MarketSnapshot(
        venue="paper",
        asset="BTC",
        ts=NOW,
        price=D(price),
        candles=candles_by_interval or {},
        funding_rate=D(funding) if funding is not None else None,
        open_interest=D(open_interest) if open_interest is not None else None,
        open_interest_history=tuple(D(x) for x in oi_history),
        polymarket=crowd,
    )


def strategy(name: str, **params: Any) -> SignalStrategy[Any]:
    return registry.build(name, params)
