"""The data-freshness guard: no entry on a book that is old or was just resynced.

A scalper reading a five-level imbalance must not act on a book that stopped moving (a feed
that silently died, a stream stuck behind) nor on one rebuilt moments ago (after a resync the
first levels are a snapshot whose deltas have not yet confirmed it). The guard refuses
*entries* with :class:`~core.errors.DataStale`; exits never ask it.

What "age" means, with what the venue contract gives (:class:`BookSnapshot`): the older of
the snapshot's own timestamp and the moment this guard first saw the book's current sequence
number (a sequenced book that has not changed for ``max_age`` is stale even when the venue
client stamps every read with "now", as the paper venue does). The latter is measured at the
strategy's polls, so it errs young by at most one poll interval.

What "resynced" means: the venue client published :class:`Reconnected` (its streams came back
and resynced), or the book's sequence went backwards (a new snapshot stream), or a side of the
book was empty and is quoted again. The last is how a live feed's WebSocket drop reaches a
paper venue: its books are withdrawn (published empty) the moment the stream drops and come
back only once rebuilt from a fresh REST snapshot and the deltas after it, numbered on - no
Reconnected, no sequence going back. Entries resume ``quiet`` after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import DataStale
from exchange_clients.types import BookSnapshot


@dataclass
class _Seen:
    sequence: int | None
    changed_at: datetime


class BookFreshness:
    """Per-symbol freshness of one venue's books."""

    def __init__(self, max_age: timedelta, quiet: timedelta) -> None:
        self.max_age = max_age
        self.quiet = quiet
        self._seen: dict[str, _Seen] = {}
        self._resynced: dict[str, datetime] = {}
        self._venue_resynced: datetime | None = None
        self._withdrawn: set[str] = set()

    def reconnected(self, at: datetime) -> None:
        """The venue's streams reconnected and resynced at ``at`` (every symbol)."""
        if self._venue_resynced is None or at > self._venue_resynced:
            self._venue_resynced = at

    def observe(self, book: BookSnapshot, now: datetime) -> None:
        """Record ``book`` (call on every read, entries or not) so age and resyncs are known."""
        if not book.bids or not book.asks:
            self._withdrawn.add(book.symbol)
        elif book.symbol in self._withdrawn:
            self._withdrawn.discard(book.symbol)
            self._resynced[book.symbol] = now  # rebuilt after being withdrawn
        seen = self._seen.get(book.symbol)
        if seen is None:
            self._seen[book.symbol] = _Seen(book.sequence, min(book.ts, now))
            return
        if book.sequence is None or book.sequence == seen.sequence:
            return
        if seen.sequence is not None and book.sequence < seen.sequence:
            self._resynced[book.symbol] = now
        seen.sequence, seen.changed_at = book.sequence, now

    def check(self, book: BookSnapshot, now: datetime) -> None:
        """Raise :class:`DataStale` when ``book`` (observed already) is too old to enter on."""
        seen = self._seen.get(book.symbol)
        since = book.ts
        if seen is not None and book.sequence is not None:
            since = min(since, seen.changed_at)
        age = now - since
        if age > self.max_age:
            raise DataStale(
                f"{book.symbol} book unchanged for {age.total_seconds():g} s, "
                f"max_book_age_seconds is {self.max_age.total_seconds():g}"
            )
        resynced = [t for t in (self._resynced.get(book.symbol), self._venue_resynced) if t]
        if resynced:
            last = max(resynced)
            if now - last < self.quiet:
                raise DataStale(
                    f"{book.symbol} book resynced {(now - last).total_seconds():g} s ago, "
                    f"resync_quiet_seconds is {self.quiet.total_seconds():g}"
                )
