"""Market data for the paper venue and backtests: a seeded synthetic market, and recordings.

* :class:`SyntheticMarket` -- prices, books, trades and funding as pure functions of
  ``(seed, venue, symbol, time)``; :class:`SyntheticFeed` streams it on a clock.
* :class:`FeedRecorder` / :func:`record` -- any :class:`MarketFeed` to a gzip JSON-lines file;
  :class:`ReplayFeed` -- such a file served back as a feed, at real speed, x N or flat out.
"""

from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
    MarketFeed,
    TradeEvent,
)
from exchange_clients.market_data.recording import (
    FeedRecorder,
    RecordingError,
    ReplayFeed,
    record,
)
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS, SymbolModel
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket

__all__ = [
    "DEFAULT_SYMBOLS",
    "BookDeltaEvent",
    "BookSnapshotEvent",
    "FeedRecorder",
    "FundingEvent",
    "MarketEvent",
    "MarketFeed",
    "RecordingError",
    "ReplayFeed",
    "SymbolModel",
    "SyntheticFeed",
    "SyntheticMarket",
    "TradeEvent",
    "record",
]
