"""Funding arbitrage paper-traded on two live markets, through the real bot runtime.

paper_a follows the fake Binance's public data, paper_b the fake Hyperliquid's (books over
their WebSockets, funding from premiumIndex and metaAndAssetCtxs). Binance's longs pay far more
than Hyperliquid's, so the strategy shorts paper_a and longs paper_b; both legs fill against
the venues' real books, in the paper venues, and the pair is hedged.

Only where the live feeds connect is swapped: a paper venue's config cannot name other hosts
for its public source (api_url/ws_url are for real venues), so the runtime's ``live_feed`` is
pointed at the fakes; config loading, the runtime, the strategy, the executor and the paper
venues are the real ones.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from bot_runtime import setup
from bot_runtime.runtime import BotRuntime, RuntimeOptions
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source
from testing.fakes.binance import FakeBinance
from testing.fakes.hyperliquid import FakeHyperliquid
from trading_config.loader import load_config
from trading_config.schema import MarketDataConfig

D = Decimal
GUARD = 60.0  # guards a hang; not a speed assertion

CONFIG = """\
name: arb-paper-live-test
strategy:
  type: funding_arbitrage
  params:
    venues: [paper_a, paper_b]
    symbols: [BTC]
    target_margin_usd: 100
    max_leverage: 3
    max_positions: 1
    min_net_apr_pct: 20
    expected_hold_hours: 72
    min_volume_24h_usd: 0
    check_interval_seconds: 1
exchanges:
  paper_a:
    market_data:
      source: binance
      symbols: [BTC]
  paper_b:
    market_data:
      source: hyperliquid
      symbols: [BTC]
execution:
  default_mode: market
  max_slippage_pct: 0.5
"""


async def test_funding_arbitrage_opens_a_pair_between_two_live_paper_venues(
    tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "arb.yml"
    path.write_text(CONFIG)
    async with FakeBinance() as binance, FakeHyperliquid() as hyperliquid:
        hosts = {
            "binance": (binance.base_url, binance.ws_url),
            "hyperliquid": (hyperliquid.base_url, hyperliquid.ws_url),
        }

        def live_feed(market_data: MarketDataConfig) -> LiveFeed:
            base_url, ws_url = hosts[market_data.source]
            settings = LiveSourceSettings(
                symbols=market_data.symbols, base_url=base_url, ws_url=ws_url
            )
            return LiveFeed(public_source(market_data.source, settings))

        monkeypatch.setattr(setup, "live_feed", live_feed)
        # The same price on both venues; Binance's longs pay 0.2 % per 8 h (0.025 %/h),
        # Hyperliquid's shorts pay 0.001 %/h: short paper_a (Binance), long paper_b.
        await binance.set_book(
            "BTCUSDT",
            [("59990.0", "5"), ("59980.0", "5")],
            [("60010.0", "5"), ("60020.0", "5")],
        )
        binance.markets["BTCUSDT"].funding_rate = D("0.002")
        hyperliquid.market("BTC").funding = D("-0.00001")

        runtime = BotRuntime(load_config(path), RuntimeOptions(str(path)))
        await runtime.start()
        loop = asyncio.create_task(runtime._loop())
        try:
            paper_a, paper_b = runtime.clients["paper_a"], runtime.clients["paper_b"]

            async def hedged() -> bool:
                short, long = await paper_a.position("BTC"), await paper_b.position("BTC")
                return bool(
                    short is not None
                    and long is not None
                    and short.size < 0 < long.size
                    and long.size == -short.size
                )

            async def wait() -> None:
                while not await hedged():
                    assert not loop.done(), "the runtime stopped"
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(wait(), GUARD)
            short = await paper_a.position("BTC")
            assert short is not None
            # Sold into Binance's bids, bought from Hyperliquid's asks.
            assert short.entry_price == D("59990.0")
            long = await paper_b.position("BTC")
            assert long is not None
            assert long.entry_price == D(60_010)
        finally:
            runtime.request_stop("test over")
            await asyncio.wait_for(loop, GUARD)
            await runtime.shutdown()
