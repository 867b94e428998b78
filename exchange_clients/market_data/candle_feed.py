"""Candles of a few assets from a venue's public trade stream, backfilled, watched for silence.

:class:`CandleCollector` starts a :class:`~exchange_clients.market_data.live.PublicSource`
(the same public feed paper venues follow) and turns its trades into 1-minute candles, its
funding events into the latest funding per asset. At start the last ``backfill`` of history is
read from the venue's REST candles, so indicators have their periods from the first tick.

The owner calls :meth:`CandleCollector.tick` periodically (a bot's step): it closes the minutes
that ended, hands every new candle to ``on_candles`` (the bot stores them) and runs the
watchdog: when no trade-built candle arrived for ``stale_after`` (5 minutes by default), it
logs a warning and reconnects the source - a silently dead socket is the usual cause.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from core.logging_setup import get_logger
from exchange_clients.market_data.candles import Candle, CandleBuilder, CandleStore
from exchange_clients.market_data.events import FundingEvent, MarketEvent, TradeEvent
from exchange_clients.market_data.live import PublicSource
from exchange_clients.types import FundingRate

log = get_logger(__name__)

SourceFactory = Callable[[], PublicSource]
Backfill = Callable[[str, datetime, datetime], Awaitable[Sequence[Candle]]]
CandleSink = Callable[[Sequence[Candle]], Awaitable[None]]

STALE_AFTER = timedelta(minutes=5)


class CandleWatchdog:
    """Says when no candle built from real trades arrived for ``stale_after``."""

    def __init__(self, stale_after: timedelta = STALE_AFTER) -> None:
        self.stale_after = stale_after
        self.last_seen: datetime | None = None
        self.alarms = 0

    def arm(self, now: datetime) -> None:
        """Start (or restart, after a reconnect) the silence measurement from ``now``."""
        self.last_seen = now

    def saw(self, candle: Candle, now: datetime) -> None:
        if candle.trades > 0:
            self.last_seen = now

    def stale(self, now: datetime) -> bool:
        return self.last_seen is not None and now - self.last_seen >= self.stale_after


class CandleCollector:
    """1-minute candles (and their 5m/1h aggregates) of ``assets`` from one public source."""

    def __init__(
        self,
        venue: str,
        assets: Sequence[str],
        source_factory: SourceFactory,
        *,
        store: CandleStore | None = None,
        backfill: Backfill | None = None,
        backfill_period: timedelta = timedelta(hours=24),
        on_candles: CandleSink | None = None,
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self.venue = venue
        self.assets = tuple(assets)
        self.store = store or CandleStore()
        self.watchdog = CandleWatchdog(stale_after)
        self.reconnects = 0
        self._source_factory = source_factory
        self._source: PublicSource | None = None
        self._backfill = backfill
        self._backfill_period = backfill_period
        self._on_candles = on_candles
        self._builders = {asset: CandleBuilder(venue, asset) for asset in self.assets}
        self._funding: dict[str, FundingRate] = {}
        self._unsaved: list[Candle] = []
        self._now: datetime | None = None

    @property
    def funding(self) -> Mapping[str, FundingRate]:
        """The latest funding of each asset the source reported."""
        return self._funding

    async def start(self, now: datetime) -> None:
        """Backfill the last ``backfill_period``, then follow the trade stream."""
        self._now = now
        if self._backfill is not None:
            for asset in self.assets:
                history = await self._backfill(asset, now - self._backfill_period, now)
                self._seed(asset, history, now)
        await self._connect(now)
        await self._flush()

    async def stop(self) -> None:
        if self._source is not None:
            source, self._source = self._source, None
            await source.stop()
        await self._flush()

    def _seed(self, asset: str, history: Sequence[Candle], now: datetime) -> None:
        minutes = sorted((c for c in history if c.interval == "1m"), key=lambda c: c.open_time)
        for candle in minutes:
            if candle.close_time <= now:
                self._unsaved.extend(self.store.add(candle))
            else:
                self._builders[asset].seed(candle)  # the minute still open: trades continue it
        log.info("candles_backfilled", venue=self.venue, asset=asset, minutes=len(minutes))

    async def _connect(self, now: datetime) -> None:
        source = self._source_factory()
        await source.start(self._receive)
        self._source = source
        self.watchdog.arm(now)

    def _receive(self, event: MarketEvent) -> None:
        if isinstance(event, TradeEvent):
            builder = self._builders.get(event.symbol)
            if builder is not None:
                self._store(builder.add_trade(event.ts, event.price, event.size))
        elif isinstance(event, FundingEvent) and event.symbol in self._builders:
            self._funding[event.symbol] = event.rate

    def _store(self, closed: Sequence[Candle]) -> None:
        for candle in closed:
            if self._now is not None:
                self.watchdog.saw(candle, self._now)
            self._unsaved.extend(self.store.add(candle))

    async def tick(self, now: datetime) -> list[Candle]:
        """Close the minutes that ended by ``now``, persist new candles, watch for silence.
        The candles that were new since the last tick."""
        self._now = now
        for builder in self._builders.values():
            self._store(builder.close_due(now))
        if self.watchdog.stale(now):
            self.watchdog.alarms += 1
            log.warning(
                "no_candle_from_trades",
                venue=self.venue,
                silent_seconds=int((now - (self.watchdog.last_seen or now)).total_seconds()),
                action="reconnecting the trade stream",
            )
            await self._reconnect(now)
        return await self._flush()

    async def _reconnect(self, now: datetime) -> None:
        if self._source is not None:
            source, self._source = self._source, None
            with contextlib.suppress(Exception):
                await source.stop()
        self.reconnects += 1
        try:
            await self._connect(now)
        except Exception as exc:  # the venue is down: try again after another silence
            log.warning("candle_stream_reconnect_failed", venue=self.venue, error=str(exc))
            self.watchdog.arm(now)

    async def _flush(self) -> list[Candle]:
        new, self._unsaved = self._unsaved, []
        if new and self._on_candles is not None:
            await self._on_candles(new)
        return new
