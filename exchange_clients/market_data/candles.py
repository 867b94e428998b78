"""OHLCV candles: built from a trade stream, aggregated to longer intervals, kept in memory.

Signal strategies read candles, not trades: RSI on 5-minute closes, Bollinger bands on hourly
ones. The venue's trade stream is the source (every trade lands in the 1-minute candle of its
minute); a REST backfill (:mod:`exchange_clients.hyperliquid.candles`) seeds the last day at
start. 5-minute and hourly candles are aggregated from the 1-minute ones here, so a backfilled
minute and a streamed one are the same thing downstream.

A minute without trades still closes (flat at the previous close, volume 0): indicators count
candles, and a quiet market must not stretch RSI's 14 periods over an hour.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
}
"""The intervals kept, shortest first; every one is a whole number of minutes."""

MAX_GAP_FILL = 24 * 60
"""At most this many trade-less minutes are filled in one go (a longer silence is a gap)."""

_ZERO = Decimal(0)


def floor_time(ts: datetime, interval: str) -> datetime:
    """The open time of the ``interval`` candle holding ``ts`` (aligned to the epoch, UTC)."""
    step = int(INTERVALS[interval].total_seconds())
    seconds = int(ts.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, tz=ts.tzinfo)


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV candle of ``asset`` on ``venue``; ``open_time`` is aware UTC."""

    venue: str
    asset: str
    interval: str
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise ValueError(
                f"unknown candle interval {self.interval!r}: expected {list(INTERVALS)}"
            )
        if self.open_time.tzinfo is None:
            raise ValueError("a candle needs a timezone-aware open_time")
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            raise ValueError(
                f"candle {self.asset} {self.interval} {self.open_time.isoformat()}: "
                f"low {self.low} / high {self.high} do not bracket open {self.open} and close "
                f"{self.close}"
            )

    @property
    def close_time(self) -> datetime:
        return self.open_time + INTERVALS[self.interval]


class CandleBuilder:
    """The 1-minute candles of one asset, from its trades in time order.

    :meth:`add_trade` returns the minutes its trade closed (the open one, and flat fillers for
    silent minutes in between); :meth:`close_due` closes the open minute once the clock is past
    it, so a quiet market still produces candles.
    """

    def __init__(self, venue: str, asset: str) -> None:
        self.venue = venue
        self.asset = asset
        self._open: Candle | None = None
        self._last_close: Decimal | None = None
        self._last_closed_at: datetime | None = None

    @property
    def current(self) -> Candle | None:
        """The minute still open (None before the first trade)."""
        return self._open

    def seed(self, candle: Candle) -> None:
        """Continue from ``candle`` (a backfilled minute, possibly still open)."""
        if candle.interval != "1m":
            raise ValueError("a 1m builder is seeded with 1m candles")
        self._open = candle
        self._last_close = candle.close

    def add_trade(self, ts: datetime, price: Decimal, size: Decimal) -> list[Candle]:
        minute = floor_time(ts, "1m")
        closed: list[Candle] = []
        current = self._open
        if current is not None and minute < current.open_time:
            # A late trade of a closed minute: candles are final once closed.
            return closed
        if current is not None and minute > current.open_time:
            closed = self._close_until(minute)
            current = None
        if current is None:
            if self._last_closed_at is not None and minute < self._last_closed_at:
                return closed
            self._open = Candle(
                self.venue, self.asset, "1m", minute, price, price, price, price, size, 1
            )
        else:
            self._open = replace(
                current,
                high=max(current.high, price),
                low=min(current.low, price),
                close=price,
                volume=current.volume + size,
                trades=current.trades + 1,
            )
        return closed

    def close_due(self, now: datetime) -> list[Candle]:
        """Close every minute that ended by ``now`` (fillers included while no trade came)."""
        return self._close_until(floor_time(now, "1m"))

    def _close_until(self, minute: datetime) -> list[Candle]:
        """Close the open candle and fill silent minutes up to (not including) ``minute``."""
        closed: list[Candle] = []
        current = self._open
        if current is not None:
            if current.open_time >= minute:
                return closed
            closed.append(current)
            self._open = None
            self._last_close = current.close
            self._last_closed_at = current.close_time
        if self._last_close is None or self._last_closed_at is None:
            return closed
        start = self._last_closed_at
        missing = int((minute - start) / INTERVALS["1m"])
        if 0 < missing <= MAX_GAP_FILL:
            price = self._last_close
            for index in range(missing):
                open_time = start + INTERVALS["1m"] * index
                closed.append(
                    Candle(
                        self.venue, self.asset, "1m", open_time, price, price, price, price, _ZERO
                    )
                )
        if missing > 0:
            self._last_closed_at = minute
        return closed


def aggregate(candles: Iterable[Candle], interval: str, open_time: datetime) -> Candle:
    """One ``interval`` candle from the shorter ``candles`` inside it (in time order)."""
    parts = list(candles)
    if not parts:
        raise ValueError(f"no candles to aggregate into {interval} at {open_time.isoformat()}")
    first = parts[0]
    return Candle(
        first.venue,
        first.asset,
        interval,
        open_time,
        first.open,
        max(c.high for c in parts),
        min(c.low for c in parts),
        parts[-1].close,
        sum((c.volume for c in parts), _ZERO),
        sum(c.trades for c in parts),
    )


class CandleStore:
    """The newest ``capacity`` closed candles per asset and interval, in memory.

    1-minute candles go in through :meth:`add`; each completes the 5-minute and hourly
    candles it ends, which are stored too and returned (the caller persists them all).
    """

    def __init__(self, capacity: int = 1500) -> None:
        if capacity < 1:
            raise ValueError("a candle store keeps at least one candle per series")
        self.capacity = capacity
        self._series: dict[tuple[str, str], deque[Candle]] = {}
        self._pending: dict[tuple[str, str], list[Candle]] = {}

    def add(self, candle: Candle) -> list[Candle]:
        """Store a closed 1-minute candle; the candles stored (it and any it completed)."""
        if candle.interval != "1m":
            raise ValueError(
                f"the store takes 1m candles and aggregates them, not {candle.interval}"
            )
        series = self._deque(candle.asset, "1m")
        if series and candle.open_time <= series[-1].open_time:
            return []  # already stored (a backfill overlapping the stream)
        series.append(candle)
        stored = [candle]
        for interval in list(INTERVALS)[1:]:
            bucket = floor_time(candle.open_time, interval)
            key = (candle.asset, interval)
            pending = [c for c in self._pending.get(key, []) if c.open_time >= bucket]
            pending.append(candle)
            if candle.close_time >= bucket + INTERVALS[interval]:
                if pending[0].open_time == bucket:  # a bucket seen only in part is not stored
                    whole = aggregate(pending, interval, bucket)
                    self._deque(candle.asset, interval).append(whole)
                    stored.append(whole)
                pending = []
            self._pending[key] = pending
        return stored

    def candles(self, asset: str, interval: str) -> tuple[Candle, ...]:
        """The stored closed candles of ``asset`` at ``interval``, oldest first."""
        return tuple(self._series.get((asset, interval), ()))

    def latest(self, asset: str, interval: str) -> Candle | None:
        series = self._series.get((asset, interval))
        return series[-1] if series else None

    def closes(self, asset: str, interval: str, count: int) -> list[Decimal]:
        """The last ``count`` closes (fewer when fewer are stored)."""
        series = self._series.get((asset, interval), ())
        return [c.close for c in list(series)[-count:]] if count > 0 else []

    def _deque(self, asset: str, interval: str) -> deque[Candle]:
        key = (asset, interval)
        if key not in self._series:
            self._series[key] = deque(maxlen=self.capacity)
        return self._series[key]
