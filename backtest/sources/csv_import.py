"""Bring-your-own data: one CSV file of trades, L2 snapshots, L2 deltas and funding.

Format (header row required; columns in any order; unused cells empty)::

    kind,ts,venue,symbol,side,price,size,sequence,rate,interval_hours

* ``ts``: ISO 8601 with a timezone (``2026-01-01T00:00:00Z``) or integer microseconds
  since the epoch; rows in time order.
* ``trade``: ``side`` is the taker's (``buy``/``sell``), ``price``, ``size``.
* ``snapshot``: one row per level, ``side`` ``bid``/``ask``, ``price``, ``size``,
  ``sequence``; the rows sharing (venue, symbol, ts, sequence) are one whole book.
* ``delta``: one row per changed level as for a snapshot, ``size`` 0 removing the level;
  rows sharing (venue, symbol, ts, sequence) are one update numbered ``sequence``.
* ``funding``: the ``rate`` charged at ``ts`` for ``interval_hours``, optional ``price`` (the
  mark). A symbol with funding rows and no book rows gets a book drawn around that mark.

Prices and sizes are decimals, read exactly. A symbol's tick and step are the finest
decimals its prices and sizes use. Parquet: not supported (pyarrow is not a dependency of the
project); convert to this CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from backtest.sources.feed import DataError, VenueData
from backtest.sources.funding import BookShape, FundingRow, funding_events, market_for, merge
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    Level,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.micros import from_micros
from exchange_clients.types import Market, Side

COLUMNS = (
    "kind",
    "ts",
    "venue",
    "symbol",
    "side",
    "price",
    "size",
    "sequence",
    "rate",
    "interval_hours",
)
REQUIRED = ("kind", "ts", "venue", "symbol")
KINDS = ("trade", "snapshot", "delta", "funding")


@dataclass
class _Symbol:
    events: list[MarketEvent] = field(default_factory=list)
    funding: list[FundingRow] = field(default_factory=list)
    price_exp: int = 0
    size_exp: int = 0
    last_price: Decimal | None = None
    has_book: bool = False


@dataclass
class _Group:
    kind: str
    venue: str
    symbol: str
    ts: datetime
    sequence: int
    bids: list[Level] = field(default_factory=list)
    asks: list[Level] = field(default_factory=list)


def _fail(path: Path, line: int, problem: str) -> DataError:
    return DataError(f"{path}:{line}: {problem}")


def _decimal(path: Path, line: int, row: dict[str, str], key: str) -> Decimal:
    text = (row.get(key) or "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _fail(path, line, f"{key} must be a decimal number, found {text!r}") from None
    if not value.is_finite():
        raise _fail(path, line, f"{key} must be finite, found {text!r}")
    return value


def _time(path: Path, line: int, text: str) -> datetime:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return from_micros(int(text))
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(path, line, f"ts {text!r}: expected ISO 8601 or microseconds") from None
    if ts.tzinfo is None:
        raise _fail(path, line, f"ts {text!r} has no timezone (add Z or +00:00)")
    return ts.astimezone(UTC)


def load_csv(path: Path, shape: BookShape) -> list[VenueData]:
    symbols: dict[tuple[str, str], _Symbol] = {}
    group: _Group | None = None
    previous: datetime | None = None

    def close_group() -> None:
        nonlocal group
        if group is None:
            return
        g, group = group, None
        s = symbols[(g.venue, g.symbol)]
        bids = tuple(sorted(g.bids, reverse=True))
        asks = tuple(sorted(g.asks))
        if g.kind == "snapshot":
            s.events.append(BookSnapshotEvent(g.venue, g.symbol, g.ts, bids, asks, g.sequence))
        else:
            s.events.append(
                BookDeltaEvent(g.venue, g.symbol, g.ts, bids, asks, g.sequence, g.sequence)
            )

    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise _fail(
                    path,
                    1,
                    f"missing column(s) {', '.join(missing)}: expected a header "
                    f"with {','.join(COLUMNS)}",
                )
            unknown = [c for c in header if c not in COLUMNS]
            if unknown:
                raise _fail(
                    path, 1, f"unknown column(s) {', '.join(unknown)}: expected {','.join(COLUMNS)}"
                )
            for line, row in enumerate(reader, start=2):
                kind = (row.get("kind") or "").strip()
                if kind not in KINDS:
                    raise _fail(path, line, f"kind {kind!r}: expected one of {', '.join(KINDS)}")
                ts = _time(path, line, row.get("ts") or "")
                if previous is not None and ts < previous:
                    raise _fail(path, line, "rows out of time order")
                previous = ts
                venue = (row.get("venue") or "").strip()
                symbol = (row.get("symbol") or "").strip()
                if not venue or not symbol:
                    raise _fail(path, line, "venue and symbol must not be empty")
                s = symbols.setdefault((venue, symbol), _Symbol())
                if kind == "funding":
                    close_group()
                    price = _decimal(path, line, row, "price") if row.get("price") else None
                    s.funding.append(
                        FundingRow(
                            ts,
                            _decimal(path, line, row, "rate"),
                            _decimal(path, line, row, "interval_hours"),
                            price if price is not None else s.last_price,
                        )
                    )
                    continue
                price = _decimal(path, line, row, "price")
                size = _decimal(path, line, row, "size")
                if price <= 0 or size < 0:
                    raise _fail(path, line, "price must be > 0 and size >= 0")
                s.price_exp = min(s.price_exp, int(price.normalize().as_tuple().exponent))
                if size:
                    s.size_exp = min(s.size_exp, int(size.normalize().as_tuple().exponent))
                s.last_price = price
                side: str = (row.get("side") or "").strip()
                if kind == "trade":
                    close_group()
                    if side not in ("buy", "sell") or size == 0:
                        raise _fail(path, line, "a trade needs side buy/sell and a size > 0")
                    taker: Side = "sell" if side == "sell" else "buy"
                    s.events.append(
                        TradeEvent(venue, symbol, ts, price, size, taker, f"csv-{line}")
                    )
                    continue
                if side not in ("bid", "ask"):
                    raise _fail(path, line, f"side {side!r}: book rows use bid or ask")
                sequence_text = (row.get("sequence") or "").strip()
                if not sequence_text.isdigit():
                    raise _fail(path, line, "book rows need an integer sequence")
                sequence = int(sequence_text)
                key = (kind, venue, symbol, ts, sequence)
                if (
                    group is None
                    or (group.kind, group.venue, group.symbol, group.ts, group.sequence) != key
                ):
                    close_group()
                    group = _Group(kind, venue, symbol, ts, sequence)
                    s.has_book = True
                (group.bids if side == "bid" else group.asks).append((price, size))
            close_group()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    if not symbols:
        raise DataError(f"{path}: no rows")
    venues: dict[str, dict[str, _Symbol]] = {}
    for (venue, symbol), s in symbols.items():
        venues.setdefault(venue, {})[symbol] = s
    return [_venue(path, venue, by_symbol, shape) for venue, by_symbol in sorted(venues.items())]


def _venue(path: Path, venue: str, by_symbol: dict[str, _Symbol], shape: BookShape) -> VenueData:
    markets: dict[str, Market] = {}
    streams: list[list[MarketEvent] | tuple[Market, list[FundingRow], bool]] = []
    notes: list[str] = []
    for symbol in sorted(by_symbol):
        s = by_symbol[symbol]
        price = s.last_price or next((r.mark_price for r in s.funding if r.mark_price), None)
        if price is None:
            raise DataError(f"{path}: {venue} {symbol} has neither prices nor a funding mark")
        if s.events:
            tick = Decimal(1).scaleb(s.price_exp)
            step = Decimal(1).scaleb(s.size_exp)
            markets[symbol] = Market(symbol, symbol, tick, step, step, Decimal(0), Decimal(20))
        else:
            markets[symbol] = market_for(symbol, price)
        if not s.has_book and s.funding:
            notes = [shape.note()]
        streams.append(s.events)
        streams.append((markets[symbol], s.funding, s.has_book))
    all_ts = [e.ts for s in by_symbol.values() for e in s.events[:1] + s.events[-1:]]
    all_ts += [r.funding_time for s in by_symbol.values() for r in s.funding[:1] + s.funding[-1:]]
    first, last = min(all_ts), max(all_ts)
    intervals = {int(r.interval_hours) for s in by_symbol.values() for r in s.funding}

    def events() -> Iterator[MarketEvent]:
        parts: list[Iterator[MarketEvent]] = []
        for item in streams:
            if isinstance(item, list):
                parts.append(iter(item))
            else:
                market, rows, has_book = item
                parts.append(funding_events(venue, market, rows, None if has_book else shape))
        return merge(parts)

    if notes:
        first = min(
            first,
            *(
                s.funding[0].funding_time - _interval(s.funding[0])
                for s in by_symbol.values()
                if s.funding and not s.has_book
            ),
        )
    return VenueData(
        venue,
        markets,
        events,
        first,
        last,
        funding_interval_hours=min(intervals) if intervals else None,
        origin=str(path),
        notes=notes,
    )


def _interval(row: FundingRow) -> timedelta:
    return timedelta(hours=float(row.interval_hours))
