"""FeedRecorder files (``*.jsonl.gz``, :mod:`exchange_clients.market_data.recording`) as
backtest data, at their recorded times (a replay would move them to "now")."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from backtest.sources.feed import DataError, VenueData
from exchange_clients.market_data.codec import decode_event, decode_market
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent, MarketEvent
from exchange_clients.market_data.recording import FORMAT, FORMAT_VERSION
from exchange_clients.types import Market

KEPT_LEVELS = 1_000_000
"""Book levels (about 100 bytes each once decoded, ~100 MB in all) up to which a recording's
events are kept in memory for the replay (:func:`load_recording`): a few hours of one busy
book (3 h of the synthetic BTC book every 0.25 s: 0.4 million)."""


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    line = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            for line, text in enumerate(file, start=1):
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{line}: not JSON ({exc})") from None
                if not isinstance(record, dict):
                    raise DataError(f"{path}:{line}: expected a JSON object")
                yield line, record
    except (gzip.BadGzipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}:{line + 1}: corrupt or truncated recording ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _header(path: Path) -> tuple[str, dict[str, Market]]:
    for line, record in _lines(path):
        if record.get("format") != FORMAT or record.get("version") != FORMAT_VERSION:
            raise DataError(
                f"{path}:{line}: not a {FORMAT} version {FORMAT_VERSION} recording "
                "(record one with FeedRecorder)"
            )
        venue, markets = record.get("venue"), record.get("markets")
        if not isinstance(venue, str) or not isinstance(markets, dict):
            raise DataError(f"{path}:{line}: the header needs a venue and markets")
        try:
            return venue, {s: decode_market(s, m) for s, m in markets.items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise DataError(f"{path}:{line}: bad market listing ({exc})") from None
    raise DataError(f"{path}: empty file, no header")


def load_recording(path: Path) -> VenueData:
    """The recording's data, its whole file checked first (JSON, events, time order, span).

    The events that pass, decoded, are kept for the replay when they hold at most
    :data:`KEPT_LEVELS` book levels in all: the replay then reads them from memory instead
    of decompressing, parsing and decoding the file a second time (about a tenth of an L2
    backtest). A bigger recording is read from the file again as it is replayed, so memory
    stays bounded whatever its length."""
    venue, markets = _header(path)

    def events() -> Iterator[MarketEvent]:
        lines = _lines(path)
        next(lines)
        previous: datetime | None = None
        for line, record in lines:
            try:
                event = decode_event(record, venue)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise DataError(f"{path}:{line}: {exc}") from None
            if previous is not None and event.ts < previous:
                raise DataError(f"{path}:{line}: events out of time order")
            previous = event.ts
            yield event

    first: datetime | None = None
    last: datetime | None = None
    kept: list[MarketEvent] | None = []
    levels = 0
    for event in events():  # one pass to validate the whole file and find its span
        first = first or event.ts
        last = event.ts
        if kept is not None:
            if isinstance(event, BookDeltaEvent | BookSnapshotEvent):
                levels += len(event.bids) + len(event.asks)
            if levels > KEPT_LEVELS:
                kept = None
            else:
                kept.append(event)
    if first is None or last is None:
        raise DataError(f"{path}: the recording holds no events")
    if kept is None:
        return VenueData(venue, markets, events, first, last, origin=str(path))
    replay = tuple(kept)
    return VenueData(
        venue, markets, lambda: iter(replay), first, last, origin=str(path), kept=replay
    )
