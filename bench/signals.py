"""One tick of the signal portfolio: a market snapshot per asset and every signal strategy on it.

Three assets (BTC, ETH, SOL), each with a day of 1-minute candles (1,440, and the 288 5-minute
and 24 hourly ones aggregated from them by the real :class:`CandleStore`), funding, a day of
open-interest readings and a Polymarket view. A tick is what the bot does every
``evaluation_interval_seconds`` before any order: :meth:`MarketState.snapshot` per asset (the
one build all strategies share) and the seven strategies' ``evaluate`` on it. The data is
seeded so some strategies fire and others pass, as in a live market. Target: <= 2 ms a tick.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.harness import machine, median_seconds, report
from exchange_clients.base import ClientSettings
from exchange_clients.market_data.candles import Candle
from exchange_clients.paper.client import PaperExchangeClient
from strategies.signal_portfolio.market import DataHosts, MarketState
from strategies.signal_portfolio.params import SignalPortfolioParams
from strategies.signal_portfolio.signals import registry
from strategies.signal_portfolio.signals.types import PolymarketView

SEED = 19
ASSETS = {"BTC": Decimal(60_000), "ETH": Decimal(3_000), "SOL": Decimal(150)}
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TARGET_MS = 2.0


def market_state() -> MarketState:
    params = SignalPortfolioParams.model_validate(
        {
            "exchange": "paper",
            "assets": list(ASSETS),
            "signals": {name: {} for name in registry.registered()},
        }
    )
    client = PaperExchangeClient(ClientSettings(venue="paper"))
    state = MarketState(params, DataHosts(False, None, None), client)
    rng = random.Random(SEED)  # noqa: S311 - reproducible market data, not secrets
    for asset, start in ASSETS.items():
        price = start
        for minute in range(1440, 0, -1):
            step = price * Decimal(rng.randint(-20, 21)) / Decimal(10_000)
            close = (price + step).quantize(Decimal("0.01"))
            volume = Decimal(rng.randint(1, 400)) / 10
            candle = Candle(
                "hyperliquid",
                asset,
                "1m",
                NOW - timedelta(minutes=minute),
                price,
                max(price, close),
                min(price, close),
                close,
                volume,
                rng.randint(1, 50),
            )
            state.collector.store.add(candle)
            price = close
        state.funding[asset] = Decimal(rng.randint(-20, 20)) / Decimal(10_000)
        for _ in range(1440):
            state.open_interest[asset].append(Decimal(rng.randint(900, 1100)))
        up = Decimal(rng.randint(10, 90)) / 100
        state.crowd[asset] = PolymarketView(up, Decimal(50_000), Decimal(20_000), 3, NOW)
    return state


def main() -> None:
    sys.stdout.write(f"signal portfolio tick ({machine()})\n")
    state = market_state()
    strategies = [registry.build(name, {}) for name in registry.registered()]
    prices = {asset: state.collector.store.closes(asset, "1m", 1)[0] for asset in ASSETS}
    fired: list[int] = []

    def tick() -> None:
        count = 0
        for asset, price in prices.items():
            snapshot = state.snapshot(asset, price, NOW)
            for strategy in strategies:
                if strategy.evaluate(snapshot) is not None:
                    count += 1
        fired.append(count)

    def build_only() -> None:
        for asset, price in prices.items():
            state.snapshot(asset, price, NOW)

    seconds = median_seconds(tick, rounds=30, inner=10)
    report(
        f"tick: {len(ASSETS)} snapshots + {len(strategies)} strategies each",
        seconds,
        f"target <= {TARGET_MS} ms; {fired[-1]} of {len(ASSETS) * len(strategies)} evaluations "
        "signalled",
    )
    build = median_seconds(build_only, rounds=30, inner=10)
    report(f"of which the {len(ASSETS)} snapshot builds", build, f"{build / seconds:.0%} of a tick")


if __name__ == "__main__":
    main()
