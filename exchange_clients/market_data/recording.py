"""Record any market feed to a compressed file, and replay it as a feed.

File format (version 1): gzip-compressed JSON lines. Line 1 is a header,
``{"format": "perpfleet-market-data", "version": 1, "venue": ..., "markets": {...}}``, with
every market's listing so a replay can serve ``markets()``; every further line is one event
(see :mod:`.codec`). gzip rather than lzma because a recorder runs beside a live feed: gzip
at level 6 costs a few microseconds per event, and market data still shrinks ~10x. The gzip
header holds no time and no name, so one stream always gives byte-identical files.

Writing and reading are plain buffered file I/O in the event loop: a line is a few hundred
bytes and the compressor works in 64 KiB blocks, so no call blocks for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from core.clock import Clock
from core.errors import UnknownSymbol
from exchange_clients.market_data.codec import (
    decode_event,
    decode_market,
    encode_event,
    encode_market,
)
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
    MarketFeed,
)
from exchange_clients.market_data.micros import SECOND, seconds_to_micros, to_micros
from exchange_clients.types import FundingRate, Market

FORMAT = "perpfleet-market-data"
FORMAT_VERSION = 1
COMPRESS_LEVEL = 6


class RecordingError(ValueError):
    """A recording cannot be used; the message names the file and the line."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {problem}")


class FeedRecorder:
    """Writes one venue's market events to ``path``; use as a context manager.

    Events of another venue are refused: a recording is one venue's feed, as a replay
    serves it.
    """

    def __init__(self, path: str | Path, venue: str, markets: dict[str, Market]) -> None:
        self.path = Path(path)
        self.venue = venue
        self.count = 0
        self._raw = self.path.open("wb")
        # No file name and no time in the gzip header: one stream, one byte sequence.
        self._file = gzip.GzipFile(
            filename="", mode="wb", compresslevel=COMPRESS_LEVEL, fileobj=self._raw, mtime=0
        )
        try:
            self._write_line(
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "venue": venue,
                    "markets": {symbol: encode_market(m) for symbol, m in markets.items()},
                }
            )
        except BaseException:
            self.close()
            raise

    def write(self, event: MarketEvent) -> None:
        if event.venue != self.venue:
            raise ValueError(
                f"{self.path}: recording {self.venue!r}, refusing an event of {event.venue!r}"
            )
        self._write_line(encode_event(event))
        self.count += 1

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._raw.close()

    def __enter__(self) -> FeedRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write_line(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")


async def record(feed: MarketFeed, path: str | Path, *, duration: float, clock: Clock) -> int:
    """Record ``feed`` from now for ``duration`` seconds of ``clock``; returns the event count.

    The recording holds what the feed emits until its events reach ``start + duration``
    (those stamped at or after it are left out), and it ends when the clock gets there even
    if the feed has gone quiet.
    """
    end = to_micros(clock.now()) + seconds_to_micros(duration)
    with FeedRecorder(path, feed.venue, feed.markets()) as recorder:

        async def copy() -> None:
            stream = feed.events()
            try:
                async for event in stream:
                    if to_micros(event.ts) >= end:
                        return
                    recorder.write(event)
            finally:
                await _close(stream)

        copier = asyncio.create_task(copy())
        timer = asyncio.create_task(clock.sleep(duration))
        try:
            await asyncio.wait((copier, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (copier, timer):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            with contextlib.suppress(asyncio.CancelledError):
                await copier
        return recorder.count


async def _close(stream: AsyncIterator[MarketEvent]) -> None:
    """Close an async generator stream now rather than whenever it is garbage-collected."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


class _Book:
    """The replayed book of one symbol, kept in step with the recorded events."""

    __slots__ = ("asks", "bids", "sequence", "ts")

    def __init__(self, snapshot: BookSnapshotEvent) -> None:
        self.bids = dict(snapshot.bids)
        self.asks = dict(snapshot.asks)
        self.sequence = snapshot.sequence
        self.ts = snapshot.ts

    def apply(self, delta: BookDeltaEvent) -> None:
        for side, changes in ((self.bids, delta.bids), (self.asks, delta.asks)):
            for price, size in changes:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
        self.sequence = delta.last_sequence
        self.ts = delta.ts

    def snapshot(self, venue: str, symbol: str) -> BookSnapshotEvent:
        return BookSnapshotEvent(
            venue=venue,
            symbol=symbol,
            ts=self.ts,
            bids=tuple(sorted(self.bids.items(), reverse=True)),
            asks=tuple(sorted(self.asks.items())),
            sequence=self.sequence,
        )


class ReplayFeed:
    """A recording served as a :class:`MarketFeed`, paced by ``clock``.

    ``speed=1.0`` replays at the recorded pace, ``speed=N`` N times faster, ``speed=None`` as
    fast as the consumer takes events (yielding to the event loop between timestamps).

    Timestamps: each ``events()`` stream starts at the clock's time ``S`` and moves every
    recorded time (``ts``, ``next_funding_time``) by ``S - origin``, ``origin`` being the
    first recorded event's ``ts``: the replayed market runs from ``S`` with the recorded
    spacing. An event is emitted when the clock reaches ``S + (recorded ts - origin) / speed``,
    so at speed 1 its ``ts`` is the clock time of its emission and a faster replay's market
    time runs ahead of the clock. Sequence numbers and trade ids are kept as recorded.

    ``snapshot()``/``funding()`` are the state after the last event a stream emitted (a new
    stream starts over with the recording's opening snapshots and funding); before any
    stream, the recording's opening state as if replayed from construction time.
    """

    def __init__(self, path: str | Path, clock: Clock, speed: float | None = 1.0) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive (or None for as fast as possible): {speed}")
        self.path = Path(path)
        self._clock = clock
        self._speed = speed
        self._venue, self._markets = self._read_header()
        self._origin = self._first_timestamp()
        self._books: dict[str, _Book] = {}
        self._funding: dict[str, FundingRate] = {}
        shift = to_micros(clock.now()) - self._origin
        for line, event in self._read_events(shift):
            if not isinstance(event, BookSnapshotEvent | FundingEvent):
                break
            self._apply(event, line)

    @property
    def venue(self) -> str:
        return self._venue

    def markets(self) -> dict[str, Market]:
        return dict(self._markets)

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        book = self._books.get(symbol)
        if book is None:
            raise UnknownSymbol(f"no book for {symbol!r} in {self.path}", venue=self._venue)
        return book.snapshot(self._venue, symbol)

    def funding(self, symbol: str) -> FundingRate:
        rate = self._funding.get(symbol)
        if rate is None:
            raise UnknownSymbol(f"no funding for {symbol!r} in {self.path}", venue=self._venue)
        return rate

    async def events(self) -> AsyncIterator[MarketEvent]:
        start = to_micros(self._clock.now())
        previous_ts: datetime | None = None
        for line, event in self._read_events(start - self._origin):
            if self._speed is None:
                if event.ts != previous_ts:
                    await asyncio.sleep(0)
                previous_ts = event.ts
            else:
                elapsed = to_micros(event.ts) - start
                await self._sleep_until(start + round(elapsed / self._speed))
            self._apply(event, line)
            yield event

    async def _sleep_until(self, due: int) -> None:
        while (remaining := due - to_micros(self._clock.now())) > 0:
            await self._clock.sleep(remaining / SECOND)

    def _apply(self, event: MarketEvent, line: int) -> None:
        if isinstance(event, BookSnapshotEvent):
            self._books[event.symbol] = _Book(event)
        elif isinstance(event, BookDeltaEvent):
            book = self._books.get(event.symbol)
            if book is None:
                raise RecordingError(self.path, line, f"{event.symbol} delta before its snapshot")
            if event.first_sequence > book.sequence + 1:
                raise RecordingError(
                    self.path,
                    line,
                    f"{event.symbol} delta starts at sequence {event.first_sequence} "
                    f"but the book is at {book.sequence}: events are missing",
                )
            book.apply(event)
        elif isinstance(event, FundingEvent):
            self._funding[event.symbol] = event.rate

    def _read_header(self) -> tuple[str, dict[str, Market]]:
        for line, record in self._read_lines():
            if record.get("format") != FORMAT:
                raise RecordingError(self.path, line, f"not a {FORMAT} recording (no header)")
            version = record.get("version")
            if version != FORMAT_VERSION:
                raise RecordingError(
                    self.path,
                    line,
                    f"unsupported format version {version!r} (this build reads {FORMAT_VERSION})",
                )
            venue, markets = record.get("venue"), record.get("markets")
            if not isinstance(venue, str) or not isinstance(markets, dict):
                raise RecordingError(self.path, line, "header needs a venue and markets")
            try:
                return venue, {s: decode_market(s, m) for s, m in markets.items()}
            except (ValueError, TypeError, AttributeError) as exc:
                raise RecordingError(self.path, line, f"bad market listing: {exc}") from None
        raise RecordingError(self.path, 1, "empty recording: no header")

    def _first_timestamp(self) -> int:
        for _, event in self._read_events(0):
            return to_micros(event.ts)
        raise RecordingError(self.path, 2, "recording holds no events")

    def _read_events(self, shift: int) -> Iterator[tuple[int, MarketEvent]]:
        lines = self._read_lines()
        next(lines)  # the header, checked on construction
        for line, record in lines:
            try:
                yield line, decode_event(record, self._venue, shift)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise RecordingError(self.path, line, str(exc)) from None

    def _read_lines(self) -> Iterator[tuple[int, dict[str, Any]]]:
        line = 0
        try:
            with gzip.open(self.path, "rt", encoding="utf-8") as file:
                for line, text in enumerate(file, start=1):
                    try:
                        record = json.loads(text)
                    except json.JSONDecodeError as exc:
                        raise RecordingError(self.path, line, f"not JSON: {exc}") from None
                    if not isinstance(record, dict):
                        raise RecordingError(self.path, line, "expected a JSON object")
                    yield line, record
        except (gzip.BadGzipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
            raise RecordingError(
                self.path, line + 1, f"corrupt or truncated file ({exc})"
            ) from None


__all__ = ["FORMAT", "FORMAT_VERSION", "FeedRecorder", "RecordingError", "ReplayFeed", "record"]
