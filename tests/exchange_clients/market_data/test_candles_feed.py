"""Candles from Hyperliquid's public data (the fake): backfill, trade stream, watchdog."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchange_clients.hyperliquid.candles import HyperliquidMarketHistory
from exchange_clients.market_data.candle_feed import CandleCollector
from exchange_clients.market_data.candles import Candle, floor_time
from exchange_clients.market_data.live import LiveSourceSettings, PublicSource, public_source
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.waiting import until

D = Decimal


def history(fake: FakeHyperliquid, end: datetime, minutes: int) -> None:
    """``minutes`` 1m candles of BTC up to (and including) the minute of ``end``."""
    last = floor_time(end, "1m")
    for index in range(minutes, -1, -1):
        open_time = last - timedelta(minutes=index)
        price = D(60_000) + index
        fake.add_candle(
            "BTC",
            "1m",
            int(open_time.timestamp() * 1000),
            (price, price + 5, price - 5, price + 1, D("2.5")),
            trades=4,
        )


def collector_for(fake: FakeHyperliquid, saved: list[Candle], **options: object) -> CandleCollector:
    history_client = HyperliquidMarketHistory(base_url=fake.base_url)

    def source() -> PublicSource:
        settings = LiveSourceSettings(symbols=("BTC",), base_url=fake.base_url, ws_url=fake.ws_url)
        return public_source("hyperliquid", settings)

    async def backfill(asset: str, start: datetime, end: datetime) -> Sequence[Candle]:
        await history_client.open()
        try:
            return await history_client.candles(asset, "1m", start, end)
        finally:
            await history_client.close()

    async def sink(candles: Sequence[Candle]) -> None:
        saved.extend(candles)

    return CandleCollector(
        "hyperliquid",
        ["BTC"],
        source,
        backfill=backfill,
        on_candles=sink,
        **options,  # type: ignore[arg-type]
    )


async def test_backfill_reads_the_last_day_and_the_open_minute_continues_from_trades() -> None:
    now = datetime.now(UTC)
    saved: list[Candle] = []
    async with FakeHyperliquid() as fake:
        history(fake, now, 90)
        fake.add_candle(
            "BTC",
            "1m",
            int((now - timedelta(days=2)).timestamp() * 1000),
            (D(1), D(1), D(1), D(1), D(1)),
        )  # older than the backfill: not read
        collector = collector_for(fake, saved)
        await collector.start(now)
        try:
            minutes = collector.store.candles("BTC", "1m")
            assert len(minutes) == 90  # the 91st (this minute) is still open
            assert minutes[-1].close == D(60_002)
            assert minutes[0].open_time == floor_time(now, "1m") - timedelta(minutes=90)
            assert [c for c in saved if c.interval == "1m"] == list(minutes)  # all persisted
            assert len(collector.store.candles("BTC", "5m")) >= 17
            assert ("/info", "candleSnapshot") in fake.requests

            await until(lambda: any(m.get("type") == "trades" for m in fake.subscribe_messages))
            await fake.publish_trade("BTC", True, D("60100"), D("0.25"))
            builder = collector._builders["BTC"]
            await until(
                lambda: any(
                    c.high == D(60100)
                    for c in [builder.current, *collector.store.candles("BTC", "1m")[-1:]]
                    if c is not None
                )
            )
            # Two minutes on: the seeded minute and (if the trade fell after the minute turned)
            # the next are closed; the trade is in one of them, once.
            new = await collector.tick(floor_time(now, "1m") + timedelta(minutes=2))
            closed = [c for c in new if c.interval == "1m"]
            assert len(closed) == 2
            assert max(c.high for c in closed) == D(60100)
            assert sum((c.volume for c in closed), D(0)) == D("2.75")  # 2.5 backfilled + 0.25
            assert all(c in saved for c in closed)
        finally:
            await collector.stop()


async def test_the_watchdog_reconnects_the_stream_after_five_silent_minutes() -> None:
    now = datetime.now(UTC)
    async with FakeHyperliquid() as fake:
        collector = collector_for(fake, [])
        await collector.start(now)
        try:
            assert fake.ws_connections == 1
            await collector.tick(now + timedelta(minutes=4, seconds=59))
            assert collector.reconnects == 0
            await collector.tick(now + timedelta(minutes=5))
            assert collector.reconnects == 1
            assert collector.watchdog.alarms == 1
            assert fake.ws_connections == 2
            # Re-armed: the next alarm needs another five silent minutes.
            await collector.tick(now + timedelta(minutes=9))
            assert collector.reconnects == 1
        finally:
            await collector.stop()


async def test_asset_contexts_read_funding_and_open_interest() -> None:
    async with FakeHyperliquid() as fake:
        fake.market("BTC").funding = D("0.0015")
        fake.market("BTC").open_interest = D("1234.5")
        client = HyperliquidMarketHistory(base_url=fake.base_url)
        await client.open()
        try:
            contexts = await client.asset_contexts()
        finally:
            await client.close()
    assert contexts["BTC"].funding == D("0.0015")
    assert contexts["BTC"].open_interest == D("1234.5")
    assert contexts["ETH"].mark_price == D(3000)
