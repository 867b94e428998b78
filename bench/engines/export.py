"""One FeedRecorder recording of L2 updates written in each compared engine's input format.

The compared engines must see the same updates, so everything comes from one recording
(:mod:`backtest.record`, the seeded synthetic market). An *update* is one book message of the
recording - a snapshot or a delta of one symbol - and every output keeps that unit:

* ``ours.jsonl.gz``: the recording itself, header, snapshots and deltas only (its trades and
  funding lines are left out: the other engines get L2 data only, so ours does too);
* ``hftbacktest.npz``: hftbacktest's event rows (its ``event_dtype``: ``ev`` flags, exchange
  and local time in ns, price, quantity; ``ival`` carries the update's index so the rows of
  one update can be told apart), one row per level change, quantity 0 removing a level;
* ``nautilus.csv``: the fields of nautilus_trader's ``OrderBookDelta`` (action, side, price,
  size, flags, sequence, ts in ns), one row per level change, ``F_LAST`` on the last row of
  each update (nautilus publishes the buffered deltas of an update at that flag).

Within an update, removals are written before additions, so no engine ever sees a crossed
book the recording never held. A later snapshot is written as the level changes that turn
the book before it into it, so every engine applies deltas only. hftbacktest's and
nautilus's flag values are spelled here (neither package is installed in the product's
environment); each driver checks them against the installed engine before it runs.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from backtest.sources.recording import load_recording
from exchange_clients.market_data.codec import decode_event
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent
from exchange_clients.types import Market

# hftbacktest.types
HFT_DEPTH_EVENT = 1
HFT_EXCH_EVENT = 1 << 31
HFT_LOCAL_EVENT = 1 << 30
HFT_BUY_EVENT = 1 << 29
HFT_SELL_EVENT = 1 << 28
HFT_EVENT_DTYPE = np.dtype(
    [
        ("ev", "u8"),
        ("exch_ts", "i8"),
        ("local_ts", "i8"),
        ("px", "f8"),
        ("qty", "f8"),
        ("order_id", "u8"),
        ("ival", "i8"),
        ("fval", "f8"),
    ],
    align=True,
)
# nautilus_trader.model.enums BookAction / OrderSide, and RecordFlag.F_LAST (nautilus's data
# engine ends a buffered update at a delta whose flags *equal* F_LAST: no other flag is set)
NT_ADD, NT_UPDATE, NT_DELETE = 1, 2, 3
NT_BUY, NT_SELL = 1, 2
NT_F_LAST = 128
NAUTILUS_COLUMNS = ("ts_ns", "action", "side", "price", "size", "flags", "sequence")

EXPORT_VERSION = 2  # bumped whenever what is written changes: a kept export is then redone
OURS_FILE, HFT_FILE, NAUTILUS_FILE = "ours.jsonl.gz", "hftbacktest.npz", "nautilus.csv"
BOOK_LINES = ('"type":"snapshot"', '"type":"delta"')


@dataclass(frozen=True)
class Exported:
    """The three files and what they hold: ``updates`` book messages, ``changes`` level
    changes in total; the symbol's market listing and its first mid price."""

    ours: Path
    hftbacktest: Path
    nautilus: Path
    market: Market
    updates: int
    changes: int
    first_mid: Decimal


Change = tuple[bool, Decimal, Decimal, int]  # is_bid, price, size (0: removed), action


def _changes(
    event: BookSnapshotEvent | BookDeltaEvent, books: tuple[dict[Decimal, Decimal], ...]
) -> list[Change]:
    """The level changes of one update, applied to ``books`` (bids, asks) as they are listed."""
    out: list[Change] = []
    for is_bid, book, levels in ((True, books[0], event.bids), (False, books[1], event.asks)):
        if isinstance(event, BookSnapshotEvent):
            wanted = dict(levels)
            diff = [(p, Decimal(0)) for p in sorted(book) if p not in wanted]
            diff += [(p, s) for p, s in levels if book.get(p) != s]
        else:
            diff = list(levels)
        for price, size in diff:
            if size:
                action = NT_UPDATE if price in book else NT_ADD
                book[price] = size
            elif price in book:
                action = NT_DELETE
                del book[price]
            else:
                continue  # removing a level the book does not hold changes nothing
            out.append((is_bid, price, size, action))
    # Removals first: listed bids-then-asks, a new bid can momentarily cross an ask the same
    # update removes, and a book that resolves a cross itself (hftbacktest clears the crossed
    # side) would end the update with different levels than the recording's.
    out.sort(key=lambda change: change[2] != 0)
    return out


def _book_lines(recording: Path, symbol: str) -> Iterator[tuple[str, int, list[Change]]]:
    """(line, ts in ns, level changes) of each book update of ``symbol``, in order; the
    recording is validated first (:func:`load_recording` refuses a bad file in one line)."""
    venue = load_recording(recording).venue
    books: tuple[dict[Decimal, Decimal], ...] = ({}, {})
    with gzip.open(recording, "rt", encoding="utf-8") as file:
        next(file)
        for line in file:
            if not any(kind in line for kind in BOOK_LINES):
                continue
            record = json.loads(line)
            event = decode_event(record, venue)
            if event.symbol != symbol or not isinstance(event, BookSnapshotEvent | BookDeltaEvent):
                continue
            ts_ns = int(record["ts"]) * 1000  # recorded in microseconds
            yield line, ts_ns, _changes(event, books)


def export(recording: Path, out_dir: Path, symbol: str = "BTC") -> Exported:
    """Write the three inputs for ``symbol`` from ``recording`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    market = load_recording(recording).markets.get(symbol)
    if market is None:
        raise ValueError(f"{recording}: no {symbol} market in the recording")
    rows: list[tuple[int, int, int, float, float, int, int, float]] = []
    updates = changes = 0
    first_mid: Decimal | None = None
    ours, nautilus = out_dir / OURS_FILE, out_dir / NAUTILUS_FILE
    book_view: tuple[dict[Decimal, Decimal], ...] = ({}, {})
    with (
        gzip.open(recording, "rt", encoding="utf-8") as src,
        gzip.open(ours, "wt", encoding="utf-8") as ours_file,
        nautilus.open("w", newline="", encoding="utf-8") as nautilus_file,
    ):
        ours_file.write(next(src))  # the header: venue and markets
        writer = csv.writer(nautilus_file)
        writer.writerow(NAUTILUS_COLUMNS)
        for line, ts_ns, level_changes in _book_lines(recording, symbol):
            if not level_changes:
                continue  # an update that changes nothing is no update for any engine
            ours_file.write(line)
            for index, (is_bid, price, size, action) in enumerate(level_changes):
                last = index == len(level_changes) - 1
                side_flag = HFT_BUY_EVENT if is_bid else HFT_SELL_EVENT
                ev = HFT_EXCH_EVENT | HFT_LOCAL_EVENT | HFT_DEPTH_EVENT | side_flag
                rows.append((ev, ts_ns, ts_ns, float(price), float(size), 0, updates, 0.0))
                writer.writerow(
                    (
                        ts_ns,
                        action,
                        NT_BUY if is_bid else NT_SELL,
                        price,
                        size,
                        NT_F_LAST if last else 0,
                        updates + 1,
                    )
                )
                book = book_view[0 if is_bid else 1]
                if size:
                    book[price] = size
                else:
                    book.pop(price, None)
            changes += len(level_changes)
            updates += 1
            if first_mid is None and book_view[0] and book_view[1]:
                first_mid = (max(book_view[0]) + min(book_view[1])) / 2
    if first_mid is None:
        raise ValueError(f"{recording}: no two-sided {symbol} book in the recording")
    hft = out_dir / HFT_FILE
    np.savez_compressed(hft, data=np.array(rows, dtype=HFT_EVENT_DTYPE))
    return Exported(
        ours,
        hft,
        nautilus,
        market,
        updates,
        changes,
        first_mid,
    )
