"""Book deltas: the level changes between two snapshots of the same book.

Feeds that sample whole books (the synthetic market) publish what changed, as real venues
do; a consumer that applies every delta to its copy of the book holds exactly the sampled
book at every step, and the stream stays small when only a few levels move.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent, Levels

_REMOVED = Decimal(0)


def level_changes(before: Levels, after: Levels) -> Levels:
    """Levels of ``after`` that are new or resized, then levels of ``before`` now gone (size 0)."""
    old = dict(before)
    new = dict(after)
    changed = [(price, size) for price, size in after if old.get(price) != size]
    removed = [(price, _REMOVED) for price, _ in before if price not in new]
    return (*changed, *removed)


def book_delta(before: BookSnapshotEvent, after: BookSnapshotEvent) -> BookDeltaEvent | None:
    """The delta turning ``before`` into ``after``, or None when the book did not change.

    Its sequence range starts right after ``before`` and ends at ``after``'s sequence, so a
    skipped (empty) delta leaves no gap: the next one simply covers more numbers.
    """
    bids = level_changes(before.bids, after.bids)
    asks = level_changes(before.asks, after.asks)
    if not bids and not asks:
        return None
    return BookDeltaEvent(
        venue=after.venue,
        symbol=after.symbol,
        ts=after.ts,
        bids=bids,
        asks=asks,
        first_sequence=before.sequence + 1,
        last_sequence=after.sequence,
    )
